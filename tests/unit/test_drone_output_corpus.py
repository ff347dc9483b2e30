"""DRONE_OUTPUT corpus: tricky files merged with the plugin's keys keep every other byte.

Each case gives the file a runner (or an earlier step) left and, written out by hand, the bytes the
merge must keep: the file without the lines that set one of the plugin's keys. The merged file must
be exactly those bytes, then the plugin's lines. python-dotenv (the library the plugin parses with)
must read every other key back as it read it before, and the plugin's keys as written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.core import envfile
from plugin.run.outputs import drone_output_bytes

DIGEST = "sha256:" + "ab" * 32
PLUGIN = {
    "digest": DIGEST,
    "IMAGE_TAR_PATH": "/out/it's here.tar",  # a quote: written double-quoted
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
    "images": "r/team/app:1.0,r/team/app:latest",
    "tags": "1.0,latest",
    "skipped": "false",
}


def tail(newline: str = "\n") -> bytes:
    lines = [f"{k}={envfile.render_value(v)}{newline}" for k, v in PLUGIN.items()]
    return "".join(lines).encode()


@dataclass(frozen=True)
class Case:
    existing: bytes
    kept: bytes  # the existing bytes minus the plugin's keys, by hand
    newline: str = "\n"
    readable: bool = True  # python-dotenv reads every line of ``existing``


CORPUS = {
    "empty": Case(b"", b""),
    "issue-8-report": Case(
        b'my-dashed-key=dash\nMSG=fix #12 and #13\nQUOTED="first line\nsecond line"\n',
        b'my-dashed-key=dash\nMSG=fix #12 and #13\nQUOTED="first line\nsecond line"\n',
    ),
    "comments-and-blank-lines": Case(
        b"# header\n\n\nA=1\n  # indented comment\n\n", b"# header\n\n\nA=1\n  # indented comment\n\n"
    ),
    "export": Case(b'export A=1\nexport   B="two"\n', b'export A=1\nexport   B="two"\n'),
    "single-quoted-hash-and-dollar": Case(b"S='a # b $HOME'\n", b"S='a # b $HOME'\n"),
    "double-quoted-escapes": Case(
        b'E="tab\\there \\"q\\" \\\\ back \\n"\n', b'E="tab\\there \\"q\\" \\\\ back \\n"\n'
    ),
    "multi-line-single-quoted": Case(b"M='l1\nl2\n\nl4'\nAFTER=1\n", b"M='l1\nl2\n\nl4'\nAFTER=1\n"),
    "crlf": Case(b'A=1\r\nB="x"\r\ndigest=old\r\n', b'A=1\r\nB="x"\r\n', newline="\r\n"),
    "no-final-newline": Case(b"A=1", b"A=1\n"),
    "blank-lines-around-a-plugin-key": Case(b"A=1\n\n\ndigest=old\n\nB=2\n", b"A=1\n\n\n\nB=2\n"),
    "old-plugin-keys-replaced": Case(
        b'OTHER=keep\ndigest=sha256:old\nimage="old"\nLAST=1\n', b"OTHER=keep\nLAST=1\n"
    ),
    "exported-plugin-key": Case(b"export digest=old\n# c\n", b"# c\n"),
    "plugin-key-with-comment": Case(b"tags=1 # from before\nA=1\n", b"A=1\n"),
    "duplicate-other-keys": Case(b"A=1\nA=2\n", b"A=1\nA=2\n"),
    "spaces-around-equals": Case(b"  A = spaced  \nB= \n", b"  A = spaced  \nB= \n"),
    "value-with-equals": Case(b"URL=https://x/?a=b&c=d\n", b"URL=https://x/?a=b&c=d\n"),
    "unicode": Case("NAME=Zoë ☃\nZW=\u200b\n".encode(), "NAME=Zoë ☃\nZW=\u200b\n".encode()),
    "not-utf-8": Case(b"RAW=\xff\xfe\x80\nA=1\n", b"RAW=\xff\xfe\x80\nA=1\n"),
    "byte-order-mark": Case(b"\xef\xbb\xbfA=1\ndigest=x\n", b"\xef\xbb\xbfA=1\n"),
    "lines-python-dotenv-cannot-read": Case(
        b"not a binding\nK: yaml-style\nA=1\n", b"not a binding\nK: yaml-style\nA=1\n", readable=False
    ),
    "dots-and-slashes-in-keys": Case(b"a.b=1\npath/key=2\n", b"a.b=1\npath/key=2\n"),
    "empty-values": Case(b"EMPTY=\nQ=\"\"\nS=''\n", b"EMPTY=\nQ=\"\"\nS=''\n"),
    "key-without-value": Case(b"LONELY\nA=1\n", b"LONELY\nA=1\n"),
    "long-value": Case(b"BIG=" + b"x" * 100_000 + b"\n", b"BIG=" + b"x" * 100_000 + b"\n"),
    "value-that-looks-like-ours": Case(b"NOTE=digest=sha256:00\n", b"NOTE=digest=sha256:00\n"),
    "whitespace-only-lines": Case(b"\t\n \t \nA=1\n", b"\t\n \t \nA=1\n"),
    "comments-after-quoted-values": Case(b"A=\"v\" # note\nB='w' #n\n", b"A=\"v\" # note\nB='w' #n\n"),
    "harness-base64-value": Case(b"OUT=__B64__aGVsbG8=\n", b"OUT=__B64__aGVsbG8=\n"),
    "old-mac-line-endings": Case(b"A=1\rB=2\r", b"A=1\rB=2\r"),
    "plugin-key-inside-another-value": Case(
        b'NOTE="text\ndigest=inside\n"\n', b'NOTE="text\ndigest=inside\n"\n'
    ),
    "keys-differ-in-case": Case(b"DIGEST=keep\nDigest=keep\n", b"DIGEST=keep\nDigest=keep\n"),
    "every-plugin-key-from-a-previous-run": Case(b"A=1\n" + tail() + b"B=2\n", b"A=1\nB=2\n"),
}


def read(data: bytes) -> dict[str, str | None]:
    """python-dotenv's own reading (no interpolation)."""
    return dotenv_values(stream=io.StringIO(envfile.decode(data)), interpolate=False)


def merged(existing: bytes) -> bytes:
    text = envfile.merge(envfile.decode(existing), PLUGIN)
    return envfile.encode(text)


class TestCorpus:
    def test_the_corpus_has_at_least_twenty_files(self):
        assert len(CORPUS) >= 20

    @pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
    def test_every_other_byte_is_kept_and_ours_come_last(self, case: Case):
        assert merged(case.existing) == case.kept + tail(case.newline)

    @pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
    def test_python_dotenv_reads_the_same_values(self, case: Case):
        before, after = read(case.existing), read(merged(case.existing))
        assert {k: v for k, v in after.items() if k not in PLUGIN} == {
            k: v for k, v in before.items() if k not in PLUGIN
        }
        assert {k: after[k] for k in PLUGIN} == PLUGIN

    @pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
    def test_merging_twice_changes_nothing(self, case: Case):
        once = merged(case.existing)
        assert merged(once) == once

    def test_the_file_on_disk_is_merged_the_same_way(self, tmp_path):
        path = tmp_path / "out.env"
        case = CORPUS["issue-8-report"]
        path.write_bytes(case.existing)
        assert drone_output_bytes(path, PLUGIN) == case.kept + tail()


class TestRenderValue:
    """The form of each plugin value: the one every reader (godotenv forks, python-dotenv) reads the same."""

    @pytest.mark.parametrize(
        ("value", "rendered"),
        [
            ("sha256:00", "'sha256:00'"),
            ("", "''"),
            ('a b # c $HOME "q"', "'a b # c $HOME \"q\"'"),
            ("two\nlines", "'two\nlines'"),
            ("it's", '"it\'s"'),
        ],
    )
    def test_forms(self, value, rendered):
        assert envfile.render_value(value) == rendered

    def test_a_value_no_form_carries_gets_godotenvs_escapes(self):
        """A quote together with a backslash, dollar or double quote: joho/godotenv's Marshal escaping."""
        assert envfile.render_value("it's $x") == '"it\'s \\$x"'
        assert envfile.render_value("back\\slash") == '"back\\\\slash"'
        assert not envfile.representable("it's $x")
        assert not envfile.representable("back\\slash")

    def test_keys_are_checked(self):
        with pytest.raises(ValueError, match="not a dotenv key"):
            envfile.render_line("bad key", "v")


class TestRandomFiles:
    """Whatever bytes the file holds, the merge keeps them and never fails."""

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=400))
    def test_random_bytes_are_kept(self, existing: bytes):
        out = merged(existing)
        parsed = envfile.parse(envfile.decode(existing))
        kept = parsed.bom + "".join(envfile._kept(parsed, PLUGIN))
        assert out.startswith(envfile.encode(kept))
        assert out.endswith(tail(envfile._newline_of(kept)))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.sampled_from([c.existing for c in CORPUS.values()]), max_size=4))
    def test_concatenated_corpus_files_keep_other_keys(self, parts: list[bytes]):
        existing = b"".join(p if p.endswith((b"\n", b"\r")) or not p else p + b"\n" for p in parts)
        before, after = read(existing), read(merged(existing))
        assert {k: v for k, v in after.items() if k not in PLUGIN} == {
            k: v for k, v in before.items() if k not in PLUGIN
        }

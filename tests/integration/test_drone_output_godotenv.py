"""DRONE_OUTPUT as the runners read it: joho/godotenv itself (Debian's golang-github-joho-godotenv-dev,
the library's latest release, 1.5.1), run on the files the plugin's merge writes.

The unit corpus (tests/unit/test_drone_output_corpus.py) checks every kept byte and python-dotenv's
reading; here the real Go library reads the same files: the plugin's keys come back exactly as the
plugin meant them, every other key as godotenv read it before the plugin ran, and a file godotenv
refuses because of a line another step wrote is refused with or without the plugin's lines.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.core import envfile
from tests.support.godotenv import GodotenvReader, build_reader
from tests.unit.test_drone_output_corpus import CORPUS, PLUGIN, Case, merged

pytestmark = pytest.mark.integration

# Text an environment (and so a digest, tag, image name or path) can hold: no NUL, no lone surrogate.
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40
)


@pytest.fixture(scope="module")
def godotenv(tmp_path_factory: pytest.TempPathFactory) -> GodotenvReader:
    return build_reader(tmp_path_factory.mktemp("godotenv"))


def others(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k not in PLUGIN}


class TestTheCorpus:
    @pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
    def test_godotenv_reads_our_keys_as_written_and_the_others_as_before(
        self, godotenv: GodotenvReader, case: Case
    ) -> None:
        before, kept, after = (
            godotenv.read(case.existing),
            godotenv.read(case.kept),
            godotenv.read(merged(case.existing)),
        )
        if kept.values is None:  # a line another step wrote: the runner refuses the file with or without us
            assert after.values is None, after
            return
        assert after.values is not None, after.error
        assert {k: after.values.get(k) for k in PLUGIN} == PLUGIN
        assert others(after.values) == others(kept.values)
        if before.values is not None:
            assert others(after.values) == others(before.values)

    def test_the_corpus_has_files_godotenv_reads_and_files_it_refuses(self, godotenv: GodotenvReader) -> None:
        """Both branches above are taken (the dashed key of issue 8's report is one godotenv refuses)."""
        readings = {name: godotenv.read(case.existing) for name, case in CORPUS.items()}
        refused = sorted(name for name, reading in readings.items() if reading.values is None)
        assert "issue-8-report" in refused
        assert len(refused) < len(CORPUS) / 2, refused


class TestAnyValue:
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(values=st.lists(TEXT.filter(envfile.representable), min_size=1, max_size=60))
    def test_every_representable_value_reads_back_exactly(
        self, godotenv: GodotenvReader, values: list[str]
    ) -> None:
        """The forms the plugin writes its values in (single or double quotes, nothing to unescape)."""
        data = "".join(envfile.render_line(f"K{i}", v) for i, v in enumerate(values)).encode()
        reading = godotenv.read(data)
        assert reading.values == {f"K{i}": v for i, v in enumerate(values)}, reading.error

    @pytest.mark.parametrize(
        "value",
        ["sha256:" + "ab" * 32, "/out/it's here.tar", 'a "b" # c', "two\nlines", "", " pad ", "$HOME"],
    )
    def test_the_forms_of_the_unit_tests(self, godotenv: GodotenvReader, value: str) -> None:
        assert godotenv.read(envfile.render_line("K", value).encode()).values == {"K": value}

    @pytest.mark.parametrize("value", ["a\\", "it's \\", "'\""])
    def test_godotenv_misreads_its_own_escapes_before_a_closing_quote(
        self, godotenv: GodotenvReader, value: str
    ) -> None:
        """Why the plugin refuses a PLUGIN_TAR_PATH that is not representable before the build: for such a
        value the only form left is godotenv's own Marshal escaping, which godotenv 1.5.1 itself does
        not read back when a backslash or an escaped quote comes just before the closing quote."""
        assert not envfile.representable(value)
        assert godotenv.read(envfile.render_line("K", value).encode()).values != {"K": value}

"""Dotenv files, read with python-dotenv's parser: PLUGIN_ENV_FILE, and the DRONE_OUTPUT merge.

The runners read ``DRONE_OUTPUT`` with godotenv (Harness's lite-engine: its fork ``harness/godotenv``;
Drone: ``joho/godotenv``). python-dotenv's grammar is close to godotenv's but not the same (see
docs/outputs.md), so the merge never re-renders a line it did not write: python-dotenv's parser
gives every binding with the exact text it came from, and every line that does not set one of the
plugin's keys is written back byte for byte (comments, blank lines, ``export``, quotes, multi-line
values, bytes that are not UTF-8). The plugin's own lines are written in the one form that godotenv
(both forks) and python-dotenv read to the same value.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dotenv.parser import Binding, parse_stream

from plugin.core.log import get_logger

log = get_logger("plugin.core.envfile")
BOM = "\ufeff"
# The keys the plugin writes; godotenv (harness) reads [A-Za-z0-9_.-/] keys, joho/godotenv no `-` or `/`.
PLUGIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NEWLINES = ("\n", "\r")


@dataclass(frozen=True)
class Parsed:
    """A dotenv text as python-dotenv parses it: a byte-order mark, then bindings that add up to the text."""

    bom: str
    bindings: list[Binding]

    @property
    def errors(self) -> list[int]:
        """Line numbers python-dotenv could not read (kept as they are)."""
        return [line_of(b) for b in self.bindings if b.error]

    def values(self) -> dict[str, str | None]:
        """Key → value as python-dotenv reads it (no interpolation); the last binding of a key wins."""
        return {b.key: b.value for b in self.bindings if b.key is not None}


def line_of(binding: Binding) -> int:
    """The line a binding starts on (its original text begins with the blank lines before it)."""
    text = binding.original.string
    blank = text[: len(text) - len(text.lstrip())]
    return binding.original.line + len(re.findall(r"\r\n|\n|\r", blank))


def parse(text: str) -> Parsed:
    """Parse ``text``: the BOM plus ``"".join`` of the bindings' originals is ``text`` again, exactly."""
    bom = BOM if text.startswith(BOM) else ""
    bindings = list(parse_stream(io.StringIO(text[len(bom) :])))
    return Parsed(bom, bindings)


def decode(data: bytes) -> str:
    """Bytes to text that encodes back to the same bytes, UTF-8 or not (surrogate escapes)."""
    return data.decode("utf-8", errors="surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


# -- writing the plugin's lines ------------------------------------------------------------------


def _single_quoted(value: str) -> bool:
    """godotenv takes single-quoted text literally; python-dotenv too when it holds no backslash."""
    return "'" not in value and "\\" not in value and "\r" not in value


def _double_quoted(value: str) -> bool:
    """Without backslash, quote or dollar, a double-quoted value has nothing to unescape or expand."""
    return not any(c in value for c in '\\"$\r')


def _godotenv_escaped(value: str) -> str:
    """godotenv's Marshal escaping (backslash, quote, dollar, newline), for a value neither quoting form
    carries. No reader is sure to read it back: joho/godotenv 1.5.1 itself misreads a backslash or an
    escaped quote just before the closing quote (tests/integration/test_drone_output_godotenv.py), so
    the one free-text value, IMAGE_TAR_PATH, is refused before the build when it would need this."""
    escaped = re.sub(r'([\\"$])', r"\\\1", value)
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


def representable(value: str) -> bool:
    """True when godotenv (both forks) and python-dotenv read the written line back as ``value``."""
    return _single_quoted(value) or _double_quoted(value)


def render_value(value: str) -> str:
    """The value as it is written after ``KEY=``: single quotes, else double quotes, else godotenv escapes."""
    if _single_quoted(value):
        return f"'{value}'"
    if _double_quoted(value):
        return f'"{value}"'
    return _godotenv_escaped(value)


def render_line(key: str, value: str, newline: str = "\n") -> str:
    if not PLUGIN_KEY.fullmatch(key):
        raise ValueError(f"not a dotenv key the runners read: {key!r}")
    if not representable(value):
        log.warning("outputs.value_escaped", key=key, hint="a dotenv reader may not read it back as written")
    return f"{key}={render_value(value)}{newline}"


# -- merging ----------------------------------------------------------------------------------------


def _newline_of(text: str) -> str:
    """The file's own line ending (CRLF when its first line ends so), for the lines the plugin adds."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _join(bom: str, kept: Iterable[str], values: Mapping[str, str]) -> str:
    text = bom + "".join(kept)
    newline = _newline_of(text)
    if text and not text.endswith(_NEWLINES):
        text += newline
    return text + "".join(render_line(k, v, newline) for k, v in values.items())


def _blank_lines_before(binding: Binding) -> str:
    """The whole blank lines a binding's text starts with (python-dotenv counts them in the binding)."""
    text = binding.original.string
    blank = text[: len(text) - len(text.lstrip())]
    end = max(blank.rfind("\n"), blank.rfind("\r"))
    return blank[: end + 1]


def _kept(parsed: Parsed, values: Mapping[str, str]) -> list[str]:
    """Every binding's text, but only the blank lines before a binding of one of ``values``' keys."""
    return [b.original.string if b.key not in values else _blank_lines_before(b) for b in parsed.bindings]


def merge(existing: str, values: Mapping[str, str]) -> str:
    """``existing`` with every binding of a key in ``values`` removed and ``values`` appended.

    Every other character is kept. Appending (rather than replacing in place) makes the plugin's
    values the last ones, which is what every reader keeps. If removing a binding would change how
    python-dotenv reads any other key (a pathological quoting that spans lines), nothing is removed.
    """
    parsed = parse(existing)
    merged = _join(parsed.bom, _kept(parsed, values), values)
    others_before = {k: v for k, v in parsed.values().items() if k not in values}
    after = parse(merged)
    if {k: v for k, v in after.values().items() if k not in values} != others_before:
        merged = _join(parsed.bom, (b.original.string for b in parsed.bindings), values)
        after = parse(merged)
    if parsed.errors:
        log.warning(
            "outputs.drone_output_unreadable_lines",
            lines=parsed.errors,
            hint="kept as they are; godotenv may refuse the whole file because of them",
        )
    read_back = after.values()
    unread = sorted(k for k, v in values.items() if read_back.get(k) != v)
    if unread:
        log.warning("outputs.drone_output_values_unreadable", keys=unread)
    return merged


# -- PLUGIN_ENV_FILE -------------------------------------------------------------------------------


def read_pairs(text: str) -> tuple[dict[str, str], list[int]]:
    """KEY=VALUE pairs of a dotenv text (no interpolation), and the lines that are not pairs."""
    values: dict[str, str] = {}
    bad: list[int] = []
    for binding in parse(text).bindings:
        if binding.error or (binding.key is not None and binding.value is None):
            bad.append(line_of(binding))
        elif binding.key is not None and binding.value is not None:
            values[binding.key] = binding.value
    return values, bad

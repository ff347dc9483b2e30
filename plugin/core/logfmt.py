"""How log events look: short human lines by default, JSON lines on request.

A human line is ``HH:MM:SS LEVEL a sentence  key=value ...  (event.id)``; long lists, dicts and
multi-line values follow on indented lines. A list of dicts (records, e.g. the tags with what made
each) reads as ``first value (other values)`` per record: ``1.0 (PLUGIN_TAGS), latest (PLUGIN_TAGS)``;
JSON lines keep the structured value. Colour only on a terminal, never with ``NO_COLOR``,
always with ``FORCE_COLOR`` (for CI log viewers that render ANSI). Both renderers run after the
Redactor, so what they print is already masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

from plugin.core.events import SENTENCES

_LEVELS = {"debug": "DEBUG", "info": "INFO ", "warning": "WARN ", "error": "ERROR", "critical": "ERROR"}
_COLOURS = {"debug": "2", "info": "32", "warning": "33", "error": "1;31", "critical": "1;31"}
_EVENT_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
_FIELD = re.compile(r"\{(\w+)\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_PLAIN = re.compile(r"[^\s\"'=]+")
_INDENT = " " * 15  # under the sentence: "HH:MM:SS LEVEL "
_INLINE_LIMIT = 100  # a list longer than this (as text) goes on its own line


def use_colour(stream: TextIO, env: Mapping[str, str]) -> bool:
    """ANSI colour: never with NO_COLOR, always with FORCE_COLOR, else only on a terminal."""
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, Mapping):
        return _record(value)
    if isinstance(value, list | tuple):
        return ", ".join(_scalar(v) for v in value)
    return str(value)


def _record(value: Mapping[str, Any]) -> str:
    """A dict inside a list (or another dict) as ``first value (other values)``, never a Python repr."""
    parts = [_scalar(v) for v in value.values() if v is not None and v not in ("", [], {})]
    if not parts:
        return ""
    head, *rest = parts
    return f"{head} ({'; '.join(rest)})" if rest else head


def _inline_list(value: list[Any] | tuple[Any, ...]) -> str:
    """A short list on the key=value line: ``a,b``; records (dicts) ``a (x), b (y)``."""
    sep = ", " if any(isinstance(v, Mapping) for v in value) else ","
    return sep.join(_scalar(v) for v in value)


def _quoted(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else json.dumps(text)


def sentence(event: str, fields: Mapping[str, Any]) -> tuple[str, set[str]]:
    """The event's sentence with its fields filled in, and the names of the fields it used."""
    template = SENTENCES.get(event)
    if template is None:
        return event, set()
    used: set[str] = set()

    def optional(match: re.Match[str]) -> str:
        names = _FIELD.findall(match[1])
        return match[1] if all(fields.get(n) is not None for n in names) else ""

    def fill(match: re.Match[str]) -> str:
        used.add(match[1])
        value = fields.get(match[1])
        return "?" if value is None else _scalar(value)

    return _FIELD.sub(fill, _OPTIONAL.sub(optional, template)), used


class HumanRenderer:
    """A structlog renderer for people: time, level, sentence, key=value details, then the event id."""

    def __init__(self, colour: bool = False) -> None:
        self.colour = colour

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and text else text

    def __call__(self, _logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        fields = dict(event_dict)
        event = str(fields.pop("event", ""))
        level = str(fields.pop("level", method))
        stamp = str(fields.pop("timestamp", ""))[11:19]
        text, used = sentence(event, fields)
        first, *rest = text.splitlines() or [""]
        details, more = self._details({k: v for k, v in fields.items() if k not in used})
        head = (
            f"{self._paint('2', stamp)} {self._paint(_COLOURS.get(level, '0'), _LEVELS.get(level, 'INFO '))} "
        )
        tail = "  ".join(
            part
            for part in (details, self._paint("2", f"({event})") if _EVENT_ID.fullmatch(event) else "")
            if part
        )
        lines = [head + first] + [f"{_INDENT}{r}" for r in rest]
        if tail and rest:  # a multi-line sentence: the details follow it
            lines.append(_INDENT + tail)
        elif tail:
            lines[0] += "  " + tail
        return "\n".join(lines + more)

    def _details(self, fields: Mapping[str, Any]) -> tuple[str, list[str]]:
        """Inline ``key=value`` pairs, and the lines that follow for long or nested values."""
        inline: list[str] = []
        lines: list[str] = []
        for key, value in fields.items():
            if value is None or value in ([], {}):
                continue
            name = self._paint("2", key)
            if isinstance(value, Mapping):
                pairs = ", ".join(f"{k} {_scalar(v)}" for k, v in value.items())
                lines.append(f"{_INDENT}{name}: {pairs}")
            elif isinstance(value, str) and "\n" in value:
                lines.append(f"{_INDENT}{name}:")
                lines += [f"{_INDENT}  {part}" for part in value.rstrip("\n").splitlines()]
            elif isinstance(value, list | tuple) and len(_inline_list(value)) > _INLINE_LIMIT:
                lines += [f"{_INDENT}{name}: {_scalar(item)}" for item in value]
            elif isinstance(value, list | tuple):
                inline.append(f"{name}={_quoted(_inline_list(value))}")
            else:
                inline.append(f"{name}={_quoted(_scalar(value))}")
        return " ".join(inline), lines


class JsonRenderer:
    """One JSON object per line: timestamp, level, event id, the sentence as ``message``, then the fields."""

    def __call__(self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> str:
        fields = dict(event_dict)
        head = {k: fields.pop(k) for k in ("timestamp", "level", "event") if k in fields}
        text, _ = sentence(str(head.get("event", "")), fields)
        return json.dumps({**head, "message": text, **fields}, default=str)

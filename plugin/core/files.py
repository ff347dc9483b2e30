"""Reading the files that settings name: regular files only, bounded in size, every failure a ConfigError.

A FIFO or a device (``/dev/zero``, ``/dev/stdin``) is refused rather than read, so no setting can hang
the plugin or fill its memory. Text is UTF-8 (a byte-order mark is dropped). The message names the
variable and says what was wrong: missing, a directory, unreadable, too large, not UTF-8.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from plugin.core.errors import ConfigError

MAX_BYTES = 1 << 20  # policies, Docker configs, env files, tags, CA files: all far smaller


class _Keep:
    """Marker: show the path as the variable's value (the default)."""


KEEP = _Keep()


def _problem(variable: str, shown: str | None, what: str, reason: str) -> ConfigError:
    return ConfigError.single(variable, shown, f"{what} ({reason})")


def _reason(exc: OSError | ValueError) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def check_regular(path: str, variable: str, *, what: str, shown: str | _Keep | None = KEEP) -> os.stat_result:
    """The file's stat when ``path`` is an existing regular file; otherwise ConfigError."""
    value = path if isinstance(shown, _Keep) else shown
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise _problem(variable, value, what, _reason(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise _problem(variable, value, what, "Is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise _problem(variable, value, what, "not a regular file")
    return info


def read_bytes(
    path: str, variable: str, *, what: str, limit: int = MAX_BYTES, shown: str | _Keep | None = KEEP
) -> bytes:
    """The whole file, at most ``limit`` bytes; ConfigError naming ``variable`` for any failure."""
    value = path if isinstance(shown, _Keep) else shown
    info = check_regular(path, variable, what=what, shown=value)
    if info.st_size > limit:
        raise _problem(variable, value, what, f"larger than {limit} bytes")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise _problem(variable, value, what, _reason(exc)) from None
    if len(data) > limit:
        raise _problem(variable, value, what, f"larger than {limit} bytes")
    return data


def decode_text(data: bytes, variable: str, *, what: str, shown: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _problem(variable, shown, what, f"not UTF-8 text: byte {exc.start} is invalid") from None


def read_text(
    path: str, variable: str, *, what: str, limit: int = MAX_BYTES, shown: str | _Keep | None = KEEP
) -> str:
    """The file as UTF-8 text (see ``read_bytes``)."""
    value = path if isinstance(shown, _Keep) else shown
    data = read_bytes(path, variable, what=what, limit=limit, shown=value)
    return decode_text(data, variable, what=what, shown=value)


def parse_json(text: str, variable: str, *, where: str, shown: str | None) -> Any:
    """JSON text; the error names the position only, never the text (it may hold credentials)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise ConfigError.single(variable, shown, f"valid JSON ({where}: {reason})") from None
    except (ValueError, RecursionError) as exc:  # a number of more than 4300 digits; nesting too deep
        why = "nested too deeply" if isinstance(exc, RecursionError) else "a number too long"
        raise ConfigError.single(variable, shown, f"valid JSON ({where}: {why})") from None

"""Logging: structlog set up explicitly, with a Redactor that no secret value gets past.

Events are dotted names with fields (``ecr.token``, ``build.exit``), shown to people as sentences
(``plugin.core.logfmt``, ``plugin.core.events``) or as JSON lines (PLUGIN_LOG_JSON). Logs go to stderr so that
stdout stays free for the JSON that ``plan`` and ``prepare`` print. The builder's own output is not
logged through here: ``plugin.exec.runner`` streams it, passing each line through the same Redactor.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from plugin.core.logfmt import HumanRenderer, JsonRenderer, use_colour

MASK = "***"
# Field names whose values are masked whatever they hold.
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|credential|private_key|auth$|^auth_)", re.I)
_MIN_SECRET_LEN = 3  # shorter values would mask ordinary text ("a", "1")


class Redactor:
    """Holds every secret value seen so far and masks it in strings, lists and dicts.

    Secrets are added as they appear: settings secrets, the ECR password, STS credentials.
    It is a structlog processor too: ``__call__(logger, method, event_dict)``.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Remember secret values (and their obvious encodings) so that they are masked from now on."""
        with self._lock:
            for value in values:
                if not value or len(value) < _MIN_SECRET_LEN:
                    continue
                self._secrets.add(value)
                # A multi-line secret (a PEM key) also leaks line by line.
                self._secrets.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 8)
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, value) if pattern else value

    def value(self, value: Any, key: str | None = None) -> Any:
        """Redact any JSON-like value; values under secret-looking keys are masked whole."""
        if key is not None and _SECRET_KEY.search(key) and isinstance(value, str) and value:
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self.text(str(value))

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            event_dict[key] = self.value(event_dict[key], None if key == "event" else key)
        return event_dict


REDACTOR = Redactor()


def redact(value: Any) -> Any:
    """Redact with the process-wide Redactor."""
    return REDACTOR.value(value)


def _renderer(json_lines: bool, stream: TextIO, colour: bool | None) -> Any:
    if json_lines:
        return JsonRenderer()
    return HumanRenderer(use_colour(stream, os.environ) if colour is None else colour)


# Libraries that log through the standard logging module: botocore logs request headers (the session
# token among them) at DEBUG. They stay at WARNING whatever PLUGIN_LOG_LEVEL says.
QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer")


def configure(
    level: str = "info", json_lines: bool = False, stream: TextIO | None = None, colour: bool | None = None
) -> None:
    """Set up structlog: level filter, time, exception formatting, Redactor, then the renderer.

    Human lines by default (colour on a terminal, see ``plugin.core.logfmt.use_colour``), JSON lines when
    ``json_lines`` (PLUGIN_LOG_JSON).
    """
    out = stream or sys.stderr
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    processors: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        REDACTOR,
        _renderer(json_lines, out, colour),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


def redacted_argv(argv: Iterable[str]) -> list[str]:
    return [REDACTOR.text(a) for a in argv]

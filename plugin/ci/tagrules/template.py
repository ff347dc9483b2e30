"""The Handlebars subset that tag rules use: ``{{name}}`` and ``{{helper 'arg' key='value'}}``.

Templates are parsed when the settings are read, so a syntax error or an unknown expression is a
configuration error naming the rule (exit 2), not a surprise at run time. Rendering asks a resolver
for each expression; a resolver raises :class:`MissingInput` when the CI context lacks what the
expression needs (no commit SHA, not a branch build...), and the rule is then skipped with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from plugin.ci.tagrules.moment import FormatError, check, format_date

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARAM = re.compile(r"""\s*(?:([A-Za-z_][A-Za-z0-9_]*)=)?(?:'([^']*)'|"([^"]*)"|(\S+))""")
_OFFSET = re.compile(r"(?:UTC)?([+-])([0-9]{1,2})(?::?([0-9]{2}))?")
DATE_HELPERS = frozenset({"date", "commit_date"})


class TemplateError(ValueError):
    """A template that cannot work: bad syntax, an unknown expression, a bad date format or zone."""


class MissingInput(Exception):
    """The CI context does not have what an expression needs; the message says what is missing."""


@dataclass(frozen=True)
class Expr:
    """One ``{{...}}``: a name, its quoted arguments and its key='value' options."""

    name: str
    args: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()

    def option(self, key: str, default: str) -> str:
        return next((v for k, v in self.options if k == key), default)


Part = str | Expr


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and expressions, in order."""

    source: str
    parts: tuple[Part, ...]

    @property
    def names(self) -> set[str]:
        return {p.name for p in self.parts if isinstance(p, Expr)}

    @property
    def is_literal(self) -> bool:
        return not self.names

    def is_only(self, name: str) -> bool:
        """The whole template is one ``{{name}}`` (metadata-action's test for ``{{raw}}``)."""
        return len(self.parts) == 1 and isinstance(self.parts[0], Expr) and self.parts[0].name == name

    def render(self, resolve: Callable[[Expr], str]) -> str:
        return "".join(p if isinstance(p, str) else resolve(p) for p in self.parts)


def _expression(body: str) -> Expr:
    text = body.strip()
    name = _NAME.match(text)
    if not name:
        raise TemplateError(f"'{{{{{body}}}}}' is not an expression")
    rest = text[name.end() :]
    args: list[str] = []
    options: list[tuple[str, str]] = []
    for found in _PARAM.finditer(rest):
        key, single, double, bare = found.groups()
        if bare is not None:
            raise TemplateError(f"'{bare}' in '{{{{{body}}}}}' must be quoted ('...')")
        value = single if single is not None else double
        if key:
            options.append((key, value))
        else:
            args.append(value)
    return Expr(name.group(), tuple(args), tuple(options))


def parse(source: str) -> Template:
    """Split ``source`` into text and expressions; refuse an unclosed ``{{``."""
    parts: list[Part] = []
    rest = source
    while "{{" in rest:
        before, _, after = rest.partition("{{")
        body, closed, rest = after.partition("}}")
        if not closed:
            raise TemplateError(f"'{{{{' without '}}}}' in {source!r}")
        if before:
            parts.append(before)
        parts.append(_expression(body))
    if rest:
        parts.append(rest)
    return Template(source, tuple(parts))


def zone(name: str) -> tzinfo:
    """A moment-timezone name (IANA, e.g. Asia/Tokyo), UTC, or a fixed offset such as +09:00."""
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    fixed = _OFFSET.fullmatch(name)
    if fixed:
        sign, hours, minutes = fixed.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta >= timedelta(hours=24):
            raise TemplateError(f"time zone {name!r}: the offset is 24 hours or more")
        return timezone(-delta if sign == "-" else delta)
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - only for a named zone (tag rules), not every run

    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise TemplateError(
            f"time zone {name!r} is unknown here (an IANA name such as Asia/Tokyo, UTC, or an offset "
            "such as +09:00)"
        ) from None


def check_names(template: Template, allowed: Iterable[str], where: str) -> None:
    """Every expression is one ``where`` can use, with the arguments it takes."""
    allowed = set(allowed)
    for part in template.parts:
        if not isinstance(part, Expr):
            continue
        if part.name not in allowed:
            known = ", ".join(f"{{{{{n}}}}}" for n in sorted(allowed))
            raise TemplateError(f"{where}: unknown expression {{{{{part.name}}}}} (known here: {known})")
        if part.name in DATE_HELPERS:
            _check_date(part, where)
        elif part.args or part.options:
            raise TemplateError(f"{where}: {{{{{part.name}}}}} takes no arguments")


def _check_date(part: Expr, where: str) -> None:
    if len(part.args) != 1:
        raise TemplateError(f"{where}: {{{{{part.name} 'FORMAT'}}}} takes one quoted moment format")
    unknown = [k for k, _ in part.options if k != "tz"]
    if unknown:
        raise TemplateError(f"{where}: unknown {{{{{part.name}}}}} option {unknown[0]!r} (only tz=)")
    try:
        check(part.args[0])
    except FormatError as exc:
        raise TemplateError(f"{where}: {exc}") from None
    zone(part.option("tz", "UTC"))


def render_date(part: Expr, when: datetime) -> str:
    """``{{date 'FORMAT' tz='ZONE'}}`` for the instant ``when``."""
    return format_date(when.astimezone(zone(part.option("tz", "UTC"))), part.args[0])

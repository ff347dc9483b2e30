"""Reading PLUGIN_TAG_RULES and PLUGIN_TAG_FLAVOR: metadata-action's `tags` and `flavor` syntax.

One rule a line, comma-separated ``key=value`` fields (CSV: quote a field that holds a comma),
``#`` starts a comment line. A line without ``type=`` is ``type=raw``; a bare field is the ``value``.
When a CI hands a YAML list over as one comma-joined line (Drone and Harness do), a new rule starts
at every ``type=`` field. Every problem is found here, before anything runs, and names its line.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from plugin.ci.tagrules.names import FLAVOR_VARIABLE, RULES_VARIABLE, lines
from plugin.ci.tagrules.template import DATE_HELPERS, Template, TemplateError, check_names, parse
from plugin.core.errors import Problem

PRIORITIES = {
    "schedule": 1000,
    "semver": 900,
    "pep440": 900,
    "match": 800,
    "edge": 700,
    "ref": 600,
    "raw": 200,
    "sha": 100,
}
GLOBALS = frozenset({"branch", "tag", "sha", "base_ref", "is_default_branch", *DATE_HELPERS})
VERSION_FIELDS = frozenset({"raw", "version", "major", "minor", "patch"})
_COMMON = frozenset({"enable", "priority", "prefix", "suffix"})
_OWN = {
    "schedule": {"pattern"},
    "semver": {"pattern", "value"},
    "pep440": {"pattern", "value"},
    "match": {"pattern", "group", "value"},
    "edge": {"branch"},
    "ref": {"event"},
    "raw": {"value"},
    "sha": {"format"},
}
_CHOICES = {("ref", "event"): ("branch", "tag", "pr"), ("sha", "format"): ("short", "long")}
_DEFAULTS = {
    "schedule": {"pattern": "nightly"},
    "match": {"group": "0"},
    "sha": {"prefix": "sha-", "format": "short"},
}
_REGEX_LITERAL = re.compile(r"/(.+)/([a-z]*)", re.S)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "u": 0}
_BOOL = {"true": True, "false": False}


class RuleError(ValueError):
    """A rule that cannot work; the message says what to change."""


@dataclass(frozen=True)
class Rule:
    """One parsed rule: its type, attributes (defaults filled in), templates and where it was written."""

    type: str
    attrs: dict[str, str]
    line: int
    text: str
    priority: int
    templates: dict[str, Template] = field(default_factory=dict)
    regex: re.Pattern[str] | None = None

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.text}"

    def has(self, name: str) -> bool:
        return name in self.attrs


@dataclass(frozen=True)
class Flavor:
    """metadata-action's flavor: when to add `latest`, and a prefix / suffix for rules without their own."""

    latest: str = "auto"
    prefix: Template = field(default_factory=lambda: parse(""))
    suffix: Template = field(default_factory=lambda: parse(""))
    prefix_latest: bool = False
    suffix_latest: bool = False


def _fields(text: str) -> list[str]:
    try:
        rows = list(csv.reader([text], skipinitialspace=True))
    except csv.Error as exc:
        raise RuleError(f"not comma-separated key=value fields ({exc})") from None
    return [f.strip() for f in (rows[0] if rows else []) if f.strip()]


def _entries(text: str) -> Iterator[tuple[int, str, list[str] | RuleError]]:
    """(line number, the rule's text, its fields or why they cannot be read), comments skipped."""
    for number, raw in enumerate(lines(text), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            fields = _fields(line)
        except RuleError as exc:
            yield number, line, exc
            continue
        starts = [i for i, f in enumerate(fields) if f.partition("=")[0].strip().lower() == "type"]
        if len(starts) <= 1:
            yield number, line, fields
            continue
        bounds = [*starts, len(fields)] if starts[0] == 0 else [0, *starts, len(fields)]
        for begin, end in itertools.pairwise(bounds):
            part = fields[begin:end]
            yield number, ",".join(part), part


def _attributes(fields: list[str]) -> tuple[str, dict[str, str]]:
    kind = "raw"
    attrs: dict[str, str] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        key, value = (key.strip().lower(), value.strip()) if sep else ("value", item.strip())
        if key == "type":
            kind = value.lower()
            if kind not in PRIORITIES:
                raise RuleError(f"unknown type={value!r} (one of {', '.join(PRIORITIES)})")
            continue
        if key in attrs:
            raise RuleError(f"{key}= is given twice")
        attrs[key] = value
    return kind, attrs


def _templates(kind: str, attrs: dict[str, str]) -> dict[str, Template]:
    """The attributes that are templates, parsed and checked against the expressions each may use."""
    allowed: dict[str, frozenset[str]] = {
        "enable": frozenset({"is_default_branch"}),
        "prefix": GLOBALS,
        "suffix": GLOBALS,
        "value": GLOBALS,
    }
    if kind in ("schedule", "semver", "pep440"):  # match's pattern is a regular expression
        allowed["pattern"] = GLOBALS | VERSION_FIELDS if kind != "schedule" else GLOBALS
    templates: dict[str, Template] = {}
    try:
        for key, names in allowed.items():
            if key in attrs:
                templates[key] = parse(attrs[key])
                check_names(templates[key], names, f"{key}=")
    except TemplateError as exc:
        raise RuleError(str(exc)) from None
    return templates


def _check_attributes(kind: str, attrs: dict[str, str]) -> None:
    unknown = sorted(set(attrs) - _COMMON - _OWN[kind])
    if unknown:
        allowed = ", ".join(f"{a}=" for a in sorted(_COMMON | _OWN[kind]))
        raise RuleError(f"type={kind} has no {unknown[0]}= (it takes {allowed})")
    needed = {"semver": "pattern", "pep440": "pattern", "match": "pattern", "ref": "event"}.get(kind)
    if needed and not attrs.get(needed):
        raise RuleError(f"type={kind} needs {needed}=")
    if kind == "raw" and not attrs.get("value"):
        raise RuleError("type=raw needs a value (value=TAG, or the tag alone)")
    for (owner, key), choices in _CHOICES.items():
        if owner == kind and attrs.get(key) not in choices:
            raise RuleError(f"{key}={attrs.get(key, '')!r}: expected one of {', '.join(choices)}")


def _check_enable(attrs: dict[str, str], templates: dict[str, Template]) -> None:
    enable = templates["enable"]
    if enable.is_literal and attrs["enable"].lower() not in _BOOL:
        raise RuleError(f"enable={attrs['enable']!r}: expected true, false or {{{{is_default_branch}}}}")
    if not enable.is_literal and not enable.is_only("is_default_branch"):
        raise RuleError("enable= takes true, false or {{is_default_branch}} alone")


def _regex(attrs: dict[str, str]) -> re.Pattern[str]:
    pattern, flags = attrs["pattern"], 0
    literal = _REGEX_LITERAL.fullmatch(pattern)
    if literal:
        pattern = literal[1]
        for flag in literal[2]:
            if flag not in _REGEX_FLAGS:
                raise RuleError(f"pattern= flag {flag!r} is not supported (i, m, s, u)")
            flags |= _REGEX_FLAGS[flag]
    try:
        compiled = re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError) as exc:
        raise RuleError(f"pattern= is not a regular expression ({exc})") from None
    group = attrs["group"]
    if not (group.isascii() and group.isdigit()) or int(group) > compiled.groups:
        raise RuleError(f"group={group!r}: the pattern has groups 0 to {compiled.groups}")
    return compiled


def parse_rule(number: int, text: str, fields: list[str]) -> Rule:
    """One rule from its fields; RuleError says what is wrong with it."""
    kind, given = _attributes(fields)
    attrs = {"enable": "true", **_DEFAULTS.get(kind, {}), **given}
    if kind == "ref" and attrs.get("event") == "pr":
        attrs.setdefault("prefix", "pr-")
    _check_attributes(kind, attrs)
    templates = _templates(kind, attrs)
    _check_enable(attrs, templates)
    priority = attrs.get("priority", str(PRIORITIES[kind]))
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", priority):
        raise RuleError(f"priority={priority!r}: expected a whole number")
    regex = _regex(attrs) if kind == "match" else None
    return Rule(kind, attrs, number, text, int(priority), templates, regex)


def parse_rules(text: str | None) -> tuple[list[Rule], list[Problem]]:
    """Every rule of PLUGIN_TAG_RULES, and a problem (naming the line) for each one that cannot work."""
    rules: list[Rule] = []
    problems: list[Problem] = []
    for number, line, fields in _entries(text or ""):
        try:
            if isinstance(fields, RuleError):
                raise fields
            rules.append(parse_rule(number, line, fields))
        except RuleError as exc:
            problems.append(Problem(RULES_VARIABLE, line, f"line {number}: {exc}"))
    return rules, problems


def _flavor_entry(flavor: dict[str, str | bool | Template], fields: list[str]) -> None:
    last = ""
    for item in fields:
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise RuleError(f"{item!r} is not key=value")
        if key == "latest":
            if value not in ("auto", "true", "false"):
                raise RuleError(f"latest={value!r}: expected auto, true or false")
            flavor["latest"] = value
        elif key in ("prefix", "suffix"):
            try:
                template = parse(value)
                check_names(template, GLOBALS, f"{key}=")
            except TemplateError as exc:
                raise RuleError(str(exc)) from None
            flavor[key], last = template, key
        elif key == "onlatest":
            if value not in _BOOL or not last:
                raise RuleError("onlatest= takes true or false, after prefix= or suffix=")
            flavor[f"{last}_latest"] = _BOOL[value]
        else:
            raise RuleError(f"unknown {key}= (latest=, prefix=, suffix=, onlatest=)")


def parse_flavor(text: str | None) -> tuple[Flavor, list[Problem]]:
    """PLUGIN_TAG_FLAVOR (lines or commas of latest=, prefix=, suffix=, onlatest=), with its problems."""
    values: dict[str, str | bool | Template] = {}
    problems: list[Problem] = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            _flavor_entry(values, _fields(line))
        except RuleError as exc:
            problems.append(Problem(FLAVOR_VARIABLE, line, f"line {number}: {exc}"))
    return Flavor(**values), problems  # type: ignore[arg-type]  # keys and types are set above

"""Evaluating the tag rules against a build, the way docker/metadata-action does.

Rules run by priority (highest first; the order written breaks ties). Each enabled rule that applies
to this build gives one value: the rule's own prefix and suffix (or the flavor's, when the rule has
none), then every run of characters a tag cannot hold replaced by ``-`` (``+`` is kept here:
PLUGIN_TAG_PLUS decides about it later). The first value decides ``latest`` (flavor ``latest=auto``:
a semver/pep440 release, a match, or ``type=ref,event=tag``), which comes last. A rule that does not
apply, or whose input the CI did not give, is skipped with the reason, never turned into an empty tag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from plugin.ci.tagrules.names import FLAVOR_VARIABLE, RULES_VARIABLE, TagOrigin
from plugin.ci.tagrules.refs import DEFAULT_BRANCH_VARIABLES, SHA_VARIABLES, RefContext
from plugin.ci.tagrules.rules import Flavor, Rule
from plugin.ci.tagrules.template import DATE_HELPERS, Expr, MissingInput, Template, render_date
from plugin.ci.tagrules.versions import Version, parse_pep440, parse_semver

_INVALID = re.compile(r"[^A-Za-z0-9._+-]+")


class Skip(Exception):
    """This rule gives no tag for this build; the message says why."""


@dataclass
class RuleTags:
    """What the rules gave: tags in order with their origins, and the rules skipped with reasons."""

    tags: list[tuple[str, TagOrigin]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def sanitize(value: str) -> str:
    """metadata-action's tag sanitizing, keeping `+` for PLUGIN_TAG_PLUS to decide."""
    return _INVALID.sub("-", value)


def _globals(ctx: RefContext, expr: Expr) -> str:
    name = expr.name
    if name in DATE_HELPERS:
        return render_date(expr, ctx.date)
    if name == "is_default_branch":
        answer = ctx.is_default_branch()
        if answer is None:
            raise MissingInput(
                f"{{{{is_default_branch}}}}: the default branch is unknown ({DEFAULT_BRANCH_VARIABLES})"
            )
        return "true" if answer else "false"
    value = {"branch": ctx.branch, "tag": ctx.tag, "sha": ctx.short_sha, "base_ref": ctx.base_ref}[name]
    if not value:
        why = {
            "branch": "not a branch build",
            "tag": "not a tag build",
            "sha": f"the commit SHA is unknown ({SHA_VARIABLES})",
            "base_ref": "not a pull request build with a known target branch",
        }[name]
        raise MissingInput(f"{{{{{name}}}}} is empty: {why}")
    return value


def _render(template: Template, ctx: RefContext, version: Version | None = None) -> str:
    def resolve(expr: Expr) -> str:
        if version is not None and expr.name in ("raw", "version", "major", "minor", "patch"):
            return version.field(expr.name)
        return _globals(ctx, expr)

    return template.render(resolve)


def _version(rule: Rule, ctx: RefContext, parser: Callable[[str], Version | None]) -> Version:
    if rule.attrs.get("value"):
        raw = _render(rule.templates["value"], ctx)
    elif ctx.tag is not None:
        raw = ctx.tag.replace("/", "-")
    else:
        raise Skip(_not_a_tag(ctx))
    found = parser(raw)
    if found is None:
        what = "a semantic version (https://semver.org)" if rule.type == "semver" else "a PEP 440 version"
        raise Skip(f"{raw!r} is not {what}")
    return found


def _not_a_tag(ctx: RefContext) -> str:
    if ctx.foreign_tag is not None:
        return f"git tag {ctx.foreign_tag!r} is not for service {ctx.service!r}"
    return f"not a git tag build ({ctx.describe()})"


def _versioned(rule: Rule, ctx: RefContext, parser: Callable[[str], Version | None]) -> tuple[str, bool]:
    version = _version(rule, ctx, parser)
    pattern = rule.templates["pattern"]
    if version.unstable:  # pre-releases only ever give the version itself (or {{raw}})
        return (version.raw if pattern.is_only("raw") else version.version), False
    return _render(pattern, ctx, version), True


def _match(rule: Rule, ctx: RefContext) -> tuple[str, bool]:
    if rule.attrs.get("value"):
        raw = _render(rule.templates["value"], ctx)
    elif ctx.tag is not None:
        raw = ctx.tag
    else:
        raise Skip(_not_a_tag(ctx))
    if rule.regex is None:  # pragma: no cover - parse_rule compiles every match pattern
        raise Skip("pattern= was not compiled")
    found = rule.regex.search(raw)
    if not found:
        raise Skip(f"pattern {rule.attrs['pattern']!r} does not match {raw!r}")
    group = found.group(int(rule.attrs["group"]))
    if group is None:
        raise Skip(f"group {rule.attrs['group']} of {rule.attrs['pattern']!r} is empty for {raw!r}")
    return group, True


def _ref(rule: Rule, ctx: RefContext) -> tuple[str, bool]:
    event = rule.attrs["event"]
    value = {"branch": ctx.branch, "tag": ctx.tag, "pr": ctx.pr}[event]
    if value is None:
        if event == "tag":
            raise Skip(_not_a_tag(ctx))
        raise Skip(f"not a {'pull request' if event == 'pr' else 'branch'} build ({ctx.describe()})")
    return value, event == "tag"


def _edge(rule: Rule, ctx: RefContext) -> tuple[str, bool]:
    if ctx.branch is None:
        raise Skip(f"not a branch build ({ctx.describe()})")
    edge = rule.attrs.get("branch") or ctx.default_branch
    if not edge:
        raise Skip(f"the default branch is unknown ({DEFAULT_BRANCH_VARIABLES}); set branch=")
    if ctx.branch != edge:
        raise Skip(f"branch {ctx.branch!r} is not {edge!r}")
    return "edge", False


def _schedule(rule: Rule, ctx: RefContext) -> tuple[str, bool]:
    if ctx.event != "schedule":
        raise Skip(f"not a scheduled build ({ctx.describe()})")
    return _render(rule.templates["pattern"], ctx), False


def _sha(rule: Rule, ctx: RefContext) -> tuple[str, bool]:
    if not ctx.sha:
        raise Skip(f"the commit SHA is unknown ({SHA_VARIABLES})")
    return (ctx.short_sha or ctx.sha) if rule.attrs["format"] == "short" else ctx.sha, False


def _raw(rule: Rule, ctx: RefContext) -> tuple[str, bool]:
    return _render(rule.templates["value"], ctx), False


_BY_TYPE: dict[str, Callable[[Rule, RefContext], tuple[str, bool]]] = {
    "schedule": _schedule,
    "semver": lambda rule, ctx: _versioned(rule, ctx, parse_semver),
    "pep440": lambda rule, ctx: _versioned(rule, ctx, parse_pep440),
    "match": _match,
    "edge": _edge,
    "ref": _ref,
    "raw": _raw,
    "sha": _sha,
}


def _affixed(rule: Rule, flavor: Flavor, ctx: RefContext, value: str) -> str:
    prefix = rule.templates["prefix"] if rule.has("prefix") else flavor.prefix
    suffix = rule.templates["suffix"] if rule.has("suffix") else flavor.suffix
    return f"{_render(prefix, ctx)}{value}{_render(suffix, ctx)}"


def _enabled(rule: Rule, ctx: RefContext) -> bool:
    return _render(rule.templates["enable"], ctx).lower() == "true"


def evaluate(rules: list[Rule], flavor: Flavor, ctx: RefContext) -> RuleTags:
    """The tags the rules give for this build (metadata-action's order), and the rules skipped."""
    out = RuleTags()
    latest: bool | None = None
    first: Rule | None = None
    for rule in sorted(rules, key=lambda r: -r.priority):
        try:
            if not _enabled(rule, ctx):
                gives = "" if rule.templates["enable"].is_literal else " gives false"
                raise Skip(f"disabled (enable={rule.attrs['enable']}{gives})")
            value, auto = _BY_TYPE[rule.type](rule, ctx)
            tag = sanitize(_affixed(rule, flavor, ctx, value))
        except (Skip, MissingInput) as why:
            out.skipped.append({"rule": rule.label, "reason": str(why)})
            continue
        if not value or not tag:
            out.skipped.append({"rule": rule.label, "reason": "the value is empty"})
            continue
        out.tags.append((tag, TagOrigin(RULES_VARIABLE, rule.label)))
        if latest is None:
            latest = auto if flavor.latest == "auto" else flavor.latest == "true"
            first = rule
    if latest and first is not None:
        try:
            out.tags.append((_latest(flavor, ctx), _latest_origin(flavor, first)))
        except MissingInput as why:
            out.skipped.append({"rule": f"{FLAVOR_VARIABLE} latest", "reason": str(why)})
    return out


def _latest(flavor: Flavor, ctx: RefContext) -> str:
    prefix = _render(flavor.prefix, ctx) if flavor.prefix_latest else ""
    suffix = _render(flavor.suffix, ctx) if flavor.suffix_latest else ""
    return sanitize(f"{prefix}latest{suffix}")


def _latest_origin(flavor: Flavor, first: Rule) -> TagOrigin:
    if flavor.latest == "true":
        return TagOrigin(FLAVOR_VARIABLE, "latest=true")
    return TagOrigin(FLAVOR_VARIABLE, f"latest=auto, after {first.label}")

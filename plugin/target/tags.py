"""Tag resolution: explicit tags, the .tags file, auto-tag from the git ref, semver expansion, suffix,
then the tags of PLUGIN_TAG_RULES (plugin/ci/tagrules, docs/tags.md) after them.

Every final tag is checked against the OCI tag grammar before anything is built. Registries refuse
`+` (semver build metadata), which the anchors produce: PLUGIN_TAG_PLUS decides whether it is
replaced by `-` (default) or rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from plugin.ci.context import CIContext
from plugin.ci.tagrules import RefContext, TagOrigin, has_rules, ref_context, service_name, step_context
from plugin.config.settings import Settings
from plugin.core.errors import ConfigError, Problem
from plugin.core.files import read_text

OCI_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
# coreos/go-semver, as the anchors' auto-tag uses it: X.Y.Z[-pre][+meta], leading zeros kept.
_GO_SEMVER = re.compile(
    r"(?P<major>[0-9]+)\.(?P<minor>[0-9]+)\.(?P<patch>[0-9]+)(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<meta>[0-9A-Za-z.-]+))?"
)
# golang.org/x/mod/semver, as kaniko's expand_tag uses it: shorthand v1 and v1.2 allowed without pre/build.
_NUM = r"(?:0|[1-9][0-9]*)"
_IDENT = r"[0-9A-Za-z-]+"
_MOD_SEMVER = re.compile(
    rf"v(?P<major>{_NUM})(?:\.(?P<minor>{_NUM})(?:\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+(?P<build>{_IDENT}(?:\.{_IDENT})*))?)?)?"
)


@dataclass
class TagResult:
    """The final tags, or why the build is skipped (auto-tag on a branch that is not the default)."""

    tags: list[str] = field(default_factory=list)
    source: str = "PLUGIN_TAGS"
    skip_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    origins: dict[str, TagOrigin] = field(default_factory=dict)  # per tag, when not `source`
    skipped: list[dict[str, str]] = field(default_factory=list)  # rules (or auto-tag) that gave no tag

    def origin(self, tag: str) -> TagOrigin:
        return self.origins.get(tag) or TagOrigin(self.source)

    def sources(self) -> list[dict[str, Any]]:
        """Each final tag with the variable (and rule) that made it, for the plan and the log."""
        return [{"tag": tag, **self.origin(tag).to_json()} for tag in self.tags]


def use_default_tag(ref: str, default_branch: str) -> bool:
    """The auto-tag gate: a tag ref, or a push to the default branch."""
    if ref.startswith("refs/tags/"):
        return True
    return ref.removeprefix("refs/heads/") == default_branch


def default_tags(ref: str) -> list[str]:
    """Tags for a ref: `latest` for branches; X, X.Y, X.Y.Z (0.Y, 0.Y.Z for 0.x) for semver tags."""
    if not ref.startswith("refs/tags/"):
        return ["latest"]
    text = ref.removeprefix("refs/tags/").removeprefix("v")
    match = _GO_SEMVER.fullmatch(text)
    if not match:
        raise ConfigError.single(
            "DRONE_COMMIT_REF", ref, "a git tag that is a semantic version X.Y.Z (auto-tag)"
        )
    if match["pre"] or match["meta"]:
        return [text]
    major, minor, patch = match["major"], match["minor"], match["patch"]
    if int(major) == 0:
        return [f"{major}.{minor}", f"{major}.{minor}.{patch}"]
    return [major, f"{major}.{minor}", f"{major}.{minor}.{patch}"]


def with_suffix(tags: list[str], suffix: str | None) -> list[str]:
    if not suffix:
        return tags
    return [suffix if t == "latest" else f"{t}-{suffix}" for t in tags]


def expand_tag(tag: str) -> list[str]:
    """kaniko's expand_tag: v1.2.3 gives 1, 1.2, 1.2.3; pre-releases and non-semver tags pass as they are."""
    candidate = tag.replace("_", "-")
    if not candidate.startswith("v"):
        candidate = "v" + candidate
    match = _MOD_SEMVER.fullmatch(candidate)
    if not match:
        return [tag]
    if match["pre"]:
        return [candidate[1:]]
    build = f"+{match['build']}" if match["build"] else ""
    major, minor, patch = match["major"], match["minor"] or "0", match["patch"] or "0"
    return [f"{major}{build}", f"{major}.{minor}{build}", f"{major}.{minor}.{patch}{build}"]


def read_tags_file(path: Path) -> list[str]:
    """The tags in a ``.tags`` file (commas or lines); an unreadable file is a ConfigError naming it."""
    text = read_text(str(path), str(path), what="a readable tags file", shown=None)
    return [t.strip() for t in re.split(r"[,\n]", text) if t.strip()]


def _dedupe(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def _explicit(settings: Settings, workdir: Path, env: Mapping[str, str], fallback: bool = True) -> TagResult:
    if settings.tags:
        # Name the variable the user set: PLUGIN_TAGS wins, PLUGIN_TAG is its alias.
        alias_only = env.get("PLUGIN_TAG", "").strip() and not env.get("PLUGIN_TAGS", "").strip()
        return TagResult(list(settings.tags), "PLUGIN_TAG" if alias_only else "PLUGIN_TAGS")
    tags_file = workdir / ".tags"
    if tags_file.is_file():
        found = read_tags_file(tags_file)
        if found:
            return TagResult(found, str(tags_file))
    return TagResult(["latest"] if fallback else [], "PLUGIN_TAGS")


def _auto(settings: Settings, ctx: CIContext) -> TagResult:
    ref = ctx.commit_ref or (f"refs/tags/{ctx.tag}" if ctx.tag else "")
    branch = ctx.repo_branch or ""
    if not use_default_tag(ref, branch):
        reason = (
            f"auto-tag: {ref} is not a tag nor the default branch {branch or '(DRONE_REPO_BRANCH unset)'}"
        )
        return TagResult([], "DRONE_COMMIT_REF", skip_reason=reason)
    return TagResult(with_suffix(default_tags(ref), settings.auto_tag_suffix), "DRONE_COMMIT_REF")


def _validate(result: TagResult, plus: str) -> TagResult:
    problems: list[Problem] = []
    final: list[str] = []
    origins: dict[str, TagOrigin] = {}
    for tag in result.tags:
        origin = result.origin(tag)
        fixed = tag
        if "+" in tag and plus == "replace":
            fixed = tag.replace("+", "-")
            result.notes.append(f"tag {tag!r} has '+', which registries refuse: pushed as {fixed!r}")
        if OCI_TAG.fullmatch(fixed):
            final.append(fixed)
            origins.setdefault(fixed, origin)
            continue
        hint = (
            " ('+' is refused by registries; PLUGIN_TAG_PLUS=replace turns it into '-')"
            if "+" in fixed
            else ""
        )
        made_by = f" (made by {origin.detail})" if origin.detail else ""
        problems.append(
            Problem(origin.variable, tag, f"a valid tag [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}{hint}{made_by}")
        )
    if problems:
        raise ConfigError(problems)
    result.tags = _dedupe(final)
    result.origins = origins
    return result


def _with_rules(result: TagResult, settings: Settings, refs: RefContext) -> TagResult:
    """The rules' tags after the explicit or auto tags (duplicates dropped later, first one kept)."""
    from plugin.ci.tagrules.engine import evaluate  # noqa: PLC0415 - with PLUGIN_TAG_RULES only
    from plugin.ci.tagrules.rules import parse_flavor, parse_rules  # noqa: PLC0415 - with PLUGIN_TAG_RULES only

    rules, problems = parse_rules(settings.tag_rules)
    flavor, flavor_problems = parse_flavor(settings.tag_flavor)
    if problems or flavor_problems:
        raise ConfigError(problems + flavor_problems)
    made = evaluate(rules, flavor, refs)
    if result.skip_reason:
        result.skipped.append({"rule": "PLUGIN_AUTO_TAG", "reason": result.skip_reason})
    origins = {tag: result.origin(tag) for tag in result.tags}
    for tag, origin in made.tags:
        origins.setdefault(tag, origin)
    tags = result.tags + [tag for tag, _ in made.tags]
    skipped = result.skipped + made.skipped
    reason = None if tags else f"no tag for this build: no tag rule applies ({refs.describe()})"
    return TagResult(tags, result.source, reason, result.notes, origins, skipped)


def resolve_tags(
    settings: Settings,
    ctx: CIContext,
    workdir: Path | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> TagResult:
    """The final tag list for this run (or a skip reason), validated against the OCI grammar.

    Explicit tags (or the auto tags) first, then the rules' tags; a git tag of another service
    (PLUGIN_TAG_SERVICE) skips the run.
    """
    env = env or {}
    rules = has_rules(settings.tag_rules)
    service = service_name(settings.tag_service)
    # DOCKER_METADATA_SHORT_SHA_LENGTH (in env) concerns the rules only.
    refs = ref_context(ctx, env if rules else {}, service=service, event=settings.tag_event, now=now)
    if refs.foreign_tag is not None:
        reason = f"git tag {refs.foreign_tag!r} is not for service {service!r} (PLUGIN_TAG_SERVICE)"
        return TagResult([], "PLUGIN_TAG_SERVICE", skip_reason=reason)
    ctx = step_context(ctx, refs)
    if settings.auto_tag:
        result = _auto(settings, ctx)
        if result.skip_reason and not rules:
            return result
    else:
        result = _explicit(settings, workdir or Path.cwd(), env, fallback=not rules)
        if settings.expand_tag:
            result.tags = [t for tag in result.tags for t in expand_tag(tag)]
    if rules:
        result = _with_rules(result, settings, refs)
        if result.skip_reason:
            return result
    return _validate(result, settings.tags_plus)

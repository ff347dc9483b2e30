"""Tag rules as rich as docker/metadata-action's, from any CI's context (docs/tags.md).

    rules.py     PLUGIN_TAG_RULES / PLUGIN_TAG_FLAVOR parsed; every problem names its line
    refs.py      the build as the rules see it (event, branch / tag / pull request, SHA, date)
    engine.py    rules evaluated in priority order; tags with the rule that made each, rules skipped
    template.py  the {{expression}} subset; moment.py its date formats; versions.py semver, PEP 440

Everything here is pure: no processes, no network, the clock only when the CI gives no build time.
"""

from __future__ import annotations

import re
from typing import Any

from plugin.ci.tagrules.engine import RuleTags, TagOrigin, evaluate, sanitize
from plugin.ci.tagrules.refs import RefContext, event_kind, ref_context, step_context
from plugin.ci.tagrules.rules import FLAVOR_VARIABLE, RULES_VARIABLE, Flavor, Rule, parse_flavor, parse_rules
from plugin.ci.tagrules.rules import lines as rule_lines
from plugin.core.errors import Problem

SERVICE_VARIABLE = "PLUGIN_TAG_SERVICE"
_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def has_rules(text: str | None) -> bool:
    """PLUGIN_TAG_RULES holds a rule (a value of only blank and # comment lines is no rules at all)."""
    return any(line.strip() and not line.strip().startswith("#") for line in rule_lines(text or ""))


def service_name(text: str | None) -> str | None:
    """PLUGIN_TAG_SERVICE without surrounding slashes (None when unset)."""
    name = (text or "").strip().strip("/")
    return name or None


def setting_problems(rules: str | None, flavor: str | None, service: str | None) -> list[Problem]:
    """Everything wrong with the tag-rule settings, each naming its variable and line."""
    problems = parse_rules(rules)[1] + parse_flavor(flavor)[1]
    name = service_name(service)
    if service is not None and (name is None or not _SERVICE.fullmatch(name)):
        problems.append(
            Problem(SERVICE_VARIABLE, service, "a service name: letters, digits, '.', '_', '-' and '/'")
        )
    return problems


def setting_warnings(
    rules: str | None, flavor: str | None, event: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """Tag-rule settings that do nothing as set: the flavor or the event without any rule."""
    unused = [name for name, value in ((FLAVOR_VARIABLE, flavor), ("PLUGIN_TAG_EVENT", event)) if value]
    if has_rules(rules):
        return []
    return [("settings.not_used", {"variable": v, "hint": "only PLUGIN_TAG_RULES uses it"}) for v in unused]


__all__ = [
    "FLAVOR_VARIABLE",
    "RULES_VARIABLE",
    "SERVICE_VARIABLE",
    "Flavor",
    "RefContext",
    "Rule",
    "RuleTags",
    "TagOrigin",
    "evaluate",
    "event_kind",
    "has_rules",
    "parse_flavor",
    "parse_rules",
    "ref_context",
    "sanitize",
    "service_name",
    "setting_problems",
    "setting_warnings",
    "step_context",
]

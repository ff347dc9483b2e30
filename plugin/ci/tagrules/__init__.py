"""Tag rules as rich as docker/metadata-action's, from any CI's context (docs/tags.md).

    names.py     what every run needs without the rules: the variables, TagOrigin, has_rules
    rules.py     PLUGIN_TAG_RULES / PLUGIN_TAG_FLAVOR parsed; every problem names its line
    refs.py      the build as the rules see it (event, branch / tag / pull request, SHA, date)
    engine.py    rules evaluated in priority order; tags with the rule that made each, rules skipped
    template.py  the {{expression}} subset; moment.py its date formats; versions.py semver, PEP 440

Everything here is pure: no processes, no network, the clock only when the CI gives no build time.
The package itself exports what every run uses; rules, engine and templates are imported from their
modules, and only when PLUGIN_TAG_RULES or PLUGIN_TAG_FLAVOR is set (they load ``csv`` and the date
and version grammars: about 5 ms of every start otherwise).
"""

from __future__ import annotations

import re
from typing import Any

from plugin.ci.tagrules.names import (
    FLAVOR_VARIABLE,
    RULES_VARIABLE,
    SERVICE_VARIABLE,
    TagOrigin,
    has_rules,
    service_name,
)
from plugin.ci.tagrules.refs import RefContext, event_kind, ref_context, step_context
from plugin.core.errors import Problem

_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def setting_problems(rules: str | None, flavor: str | None, service: str | None) -> list[Problem]:
    """Everything wrong with the tag-rule settings, each naming its variable and line."""
    problems: list[Problem] = []
    if rules or flavor:
        from plugin.ci.tagrules.rules import parse_flavor, parse_rules  # noqa: PLC0415 - only with rules: csv, templates

        problems += parse_rules(rules)[1] + parse_flavor(flavor)[1]
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
    "RefContext",
    "TagOrigin",
    "event_kind",
    "has_rules",
    "ref_context",
    "service_name",
    "setting_problems",
    "setting_warnings",
    "step_context",
]

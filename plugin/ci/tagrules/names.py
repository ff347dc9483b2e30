"""What every run needs of the tag rules without loading them: the variables' names, where a tag came
from (``TagOrigin``), and whether there are rules at all. The parser, the templates and the engine
(``csv``, date formats, version grammars) are imported only when PLUGIN_TAG_RULES or
PLUGIN_TAG_FLAVOR is set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

RULES_VARIABLE = "PLUGIN_TAG_RULES"
FLAVOR_VARIABLE = "PLUGIN_TAG_FLAVOR"
SERVICE_VARIABLE = "PLUGIN_TAG_SERVICE"


@dataclass(frozen=True)
class TagOrigin:
    """Where a final tag came from: the variable, and the rule (or other detail) within it."""

    variable: str
    detail: str | None = None

    def to_json(self) -> dict[str, str]:
        return {"source": self.variable, **({"rule": self.detail} if self.detail else {})}


def lines(text: str) -> list[str]:
    """The rule lines: the text's lines, or the items of a JSON list of strings (a CI may pass a YAML
    list setting that way)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return [i.replace("\n", " ") for i in items]
    return text.splitlines()


def has_rules(text: str | None) -> bool:
    """PLUGIN_TAG_RULES holds a rule (a value of only blank and # comment lines is no rules at all)."""
    return any(line.strip() and not line.strip().startswith("#") for line in lines(text or ""))


def service_name(text: str | None) -> str | None:
    """PLUGIN_TAG_SERVICE without surrounding slashes (None when unset)."""
    name = (text or "").strip().strip("/")
    return name or None

"""The eight boolean spellings (true/false, 1/0, yes/no, on/off, any case), in one place.

The settings model parses booleans with :func:`parse_bool` (``plugin.config.types``); the entrypoint
and the AWS worker read PLUGIN_PLAN_ONLY, PLUGIN_LOG_JSON and PLUGIN_AWS_WORKER before pydantic is
loaded, with the same spellings. No import beyond the standard library.
"""

from __future__ import annotations

from typing import Any

TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})


def parse_bool(value: Any) -> Any:
    """Strict boolean parsing: anything but the eight spellings is an error."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError("expected a boolean: true/false, 1/0, yes/no or on/off")

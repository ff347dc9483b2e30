"""Loading the settings: ``load_settings(env)`` is the only way in.

It loads PLUGIN_ENV_FILE first, applies the anchors' per-builder rules (plugin.config.anchors),
validates every variable at once, runs the checks that involve more than one setting
(plugin.config.checks), and returns the model with the warnings to log (unknown variables, ambiguous
meanings). Bad input raises ``ConfigError`` naming every bad variable, its masked value and what was
expected.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from plugin.config.anchors import builder_from_env, drop_for_builder
from plugin.config.checks import cross_field_problems, meaning_warnings
from plugin.config.settings import (
    Settings,
    aliases,
    boolean_variables,
    field_docs,
    from_mapping,
    is_secret,
    known_variables,
)
from plugin.core import envfile
from plugin.core.errors import ConfigError, Problem
from plugin.core.files import read_text
from plugin.core.log import MASK, REDACTOR

# Variables read outside the model (the CI context) that still start with PLUGIN_.
_OTHER_KNOWN = frozenset({"PLUGIN_SETTINGS"})


@dataclass
class Loaded:
    """The validated settings, the environment they came from, and warnings to log."""

    settings: Settings
    env: dict[str, str]
    warnings: list[tuple[str, dict[str, Any]]]


def read_env_file(path: str) -> dict[str, str]:
    """PLUGIN_ENV_FILE, read with python-dotenv's grammar (as godotenv.Load reads it; no expansion)."""
    text = read_text(path, "PLUGIN_ENV_FILE", what="a readable dotenv file")
    values, bad = envfile.read_pairs(text)
    if bad:
        raise ConfigError.single("PLUGIN_ENV_FILE", path, f"KEY=VALUE lines (line {bad[0]} is not)")
    return values


def _with_env_file(env: Mapping[str, str]) -> dict[str, str]:
    merged = {k: v for k, v in env.items()}
    path = merged.get("PLUGIN_ENV_FILE")
    if path:
        for key, value in read_env_file(path).items():
            if not merged.get(key):  # variables already set win, as with godotenv.Load
                merged[key] = value
    return merged


def _unknown_warnings(env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    known = known_variables()
    plugin_known = [k for k in known if k.startswith("PLUGIN_")]
    out: list[tuple[str, dict[str, Any]]] = []
    for name in sorted(env):
        if not name.startswith("PLUGIN_") or name in known or name in _OTHER_KNOWN:
            continue
        close = difflib.get_close_matches(name, plugin_known, n=1, cutoff=0.6)
        out.append(("settings.unknown_variable", {"variable": name, "closest": close[0] if close else None}))
    return out


def _set_alias(info: FieldInfo, env: Mapping[str, str]) -> str | None:
    return next((a for a in aliases(info) if env.get(a)), None)


def _problems(error: ValidationError, env: Mapping[str, str]) -> list[Problem]:
    by_alias = known_variables()
    problems: list[Problem] = []
    for err in error.errors(include_input=False, include_url=False):
        loc = str(err["loc"][0]) if err["loc"] else ""
        name = by_alias.get(loc, loc)
        info = Settings.model_fields.get(name)
        variable = (_set_alias(info, env) if info else None) or loc
        raw = env.get(variable)
        shown = MASK if raw is not None and info is not None and is_secret(info) else raw
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append(Problem(variable, shown, message))
    return problems


def _partial_problems(
    error: ValidationError, values: Mapping[str, str], env: Mapping[str, str], reported: list[Problem]
) -> list[Problem]:
    """Cross-field problems of the variables that did validate, so that one error names every bad variable."""
    by_alias = known_variables()
    locs = {str(e["loc"][0]) for e in error.errors(include_input=False) if e["loc"]}
    names = {by_alias.get(loc, loc) for loc in locs}
    dropped = {a for n in names if n in Settings.model_fields for a in aliases(Settings.model_fields[n])}
    try:
        partial = from_mapping({k: v for k, v in values.items() if k not in dropped})
    except ValidationError:  # pragma: no cover - every failing field was dropped
        return []
    seen = {p.variable for p in reported}
    return [p for p in cross_field_problems(partial, env) if p.variable not in seen]


def _register_secrets(env: Mapping[str, str]) -> None:
    """Register the raw value of every secret variable before validation, so no path can print it."""
    for doc in field_docs():
        if doc.secret:
            REDACTOR.add(*(env.get(v) for v in doc.variables))


def _nul_problems(env: Mapping[str, str]) -> list[Problem]:
    """A NUL character (possible only from PLUGIN_ENV_FILE: the OS environment cannot hold one) would
    reach a path, an argv or a child's environment, where it cannot be."""
    secret = {v for doc in field_docs() if doc.secret for v in doc.variables}
    return [
        Problem(name, MASK if name in secret else value, "text without a NUL character")
        for name, value in sorted(env.items())
        if "\x00" in value
    ]


def load_settings(env: Mapping[str, str] | None = None) -> Loaded:
    """Validate the environment into Settings; raise ConfigError listing every bad variable."""
    merged = _with_env_file(os.environ if env is None else env)
    _register_secrets(merged)
    nul = _nul_problems(merged)
    if nul:
        raise ConfigError(nul)
    merged, dropped = drop_for_builder(merged, boolean_variables(), builder_from_env(merged))
    values = {k: v for k, v in merged.items() if v.strip() != ""}
    try:
        settings = from_mapping(values)
    except ValidationError as exc:
        problems = _problems(exc, merged)
        raise ConfigError(problems + _partial_problems(exc, values, merged, problems)) from None
    problems = cross_field_problems(settings, merged)
    if problems:
        raise ConfigError(problems)
    warnings = dropped + _unknown_warnings(merged) + meaning_warnings(settings, merged)
    return Loaded(settings, merged, warnings)

"""Builder versions: which settings a given builder version understands, checked before anything runs.

Fields that need a newer builder carry ``Requires(builder, version, what)`` (plugin.config.flags). With
the version of the builder in use known, ``version_problems`` names every such setting the user set
that this version lacks; the run stops with exit 2 before any AWS call or process. An unknown
version checks nothing (the builder itself refuses an unknown flag).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from plugin.config.flags import Requires, field_requirements
from plugin.config.settings import Settings, aliases
from plugin.core.errors import Problem

_VERSION = re.compile(r"v?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?")

Version = tuple[int, int, int]


def parse_version(text: str | None) -> Version | None:
    """``v1.28.3-23-g6bcc93443`` or ``Kaniko version :  v1.24.0`` -> (1, 28, 3); None when absent."""
    match = _VERSION.search(text or "")
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def _is_set(value: Any) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return value not in (None, False, "", [], 0)


def _variable(name: str, env: Mapping[str, str]) -> str:
    names = aliases(Settings.model_fields[name])
    return next((n for n in names if env.get(n)), names[0] if names else name)


def requirements(builder: str) -> dict[str, list[Requires]]:
    """Field name -> what it requires of ``builder`` (only fields that require anything)."""
    out: dict[str, list[Requires]] = {}
    for name, info in Settings.model_fields.items():
        needs = [r for r in field_requirements(info) if r.builder == builder]
        if needs:
            out[name] = needs
    return out


def version_problems(
    settings: Settings, env: Mapping[str, str], builder: str, version: str | None
) -> list[Problem]:
    """Every set field that ``builder`` at ``version`` lacks, as a Problem naming the variable."""
    found = parse_version(version)
    if found is None:
        return []
    problems = []
    for name, needs in requirements(builder).items():
        if not _is_set(getattr(settings, name)):
            continue
        for need in needs:
            wanted = parse_version(need.version)
            if wanted is not None and found < wanted:
                problems.append(
                    Problem(
                        _variable(name, env),
                        None,
                        f"needs {builder} {need.version} or newer ({need.what}); this {builder} is {version}",
                    )
                )
    return problems


def unchecked(settings: Settings, builder: str) -> list[str]:
    """The set fields whose requirement could not be checked (the version is unknown)."""
    return [name for name in requirements(builder) if _is_set(getattr(settings, name))]

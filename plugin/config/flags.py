"""Settings fields carry their builder-flag mapping as data; ``flag_argv`` turns a model into argv."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

KANIKO = frozenset({"kaniko"})
DOCKER = frozenset({"docker"})
BUILDX = frozenset({"buildx"})
DOCKER_BUILDX = DOCKER | BUILDX
KANIKO_BUILDX = KANIKO | BUILDX
ALL = KANIKO | DOCKER | BUILDX
BUILDERS = ("kaniko", "docker", "buildx")

Style = Literal["value", "switch", "repeat", "tristate"]


@dataclass(frozen=True)
class Flag:
    """How one field becomes argv for some builders.

    ``value``: ``--flag=<v>`` when set; ``switch``: ``--flag`` when true; ``repeat``: ``--flag=<v>`` per
    list item; ``tristate``: ``--flag=true|false`` only when the user set it. ``template`` formats the
    value (``"{}h"`` turns hours into a Go duration).
    """

    name: str
    builders: frozenset[str]
    style: Style = "value"
    template: str = "{}"

    def render(self, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, SecretStr):  # pragma: no cover - a test forbids Flags on secrets
            raise TypeError(f"{self.name}: secret values never go on argv")
        if self.style == "switch":
            return [self.name] if value else []
        if self.style == "tristate":
            return [f"{self.name}={'true' if value else 'false'}"]
        if self.style == "repeat":
            return [f"{self.name}={self.template.format(v)}" for v in value]
        if value in ("", 0):
            return []
        return [f"{self.name}={self.template.format(value)}"]


@dataclass(frozen=True)
class Uses:
    """Which builders read a field that has no direct flag (hand-written logic uses it)."""

    builders: frozenset[str]


@dataclass(frozen=True)
class Requires:
    """A field that only a newer builder understands: ``Requires("kaniko", "1.28.0", "--secret")``.

    Setting the field with an older builder is refused before anything runs, naming the variable,
    ``what`` it needs and the version found (plugin.config.versions).
    """

    builder: str
    version: str
    what: str


@dataclass(frozen=True)
class Compare:
    """What each builder does with a supply-chain setting: one row of the builder comparison that
    docs/settings.md renders (plugin.config.docs)."""

    kaniko: str
    docker: str
    buildx: str


def field_comparison(field: FieldInfo) -> Compare | None:
    return next((m for m in field.metadata if isinstance(m, Compare)), None)


def field_requirements(field: FieldInfo) -> list[Requires]:
    return [m for m in field.metadata if isinstance(m, Requires)]


def field_flags(field: FieldInfo) -> list[Flag]:
    return [m for m in field.metadata if isinstance(m, Flag)]


def field_builders(field: FieldInfo) -> frozenset[str]:
    """Every builder that reads this field, from its Flag and Uses markers (default: all of them)."""
    found: set[str] = set()
    for marker in field.metadata:
        if isinstance(marker, Flag | Uses):
            found |= marker.builders
    return frozenset(found) if found else ALL


def flag_argv(settings: BaseModel, builder: str, only: Iterable[str] | None = None) -> list[str]:
    """The argv of every field that maps straight onto a flag of ``builder``, in field order."""
    wanted = set(only) if only is not None else None
    argv: list[str] = []
    for name, field in type(settings).model_fields.items():
        if wanted is not None and name not in wanted:
            continue
        for flag in field_flags(field):
            if builder in flag.builders:
                argv += flag.render(getattr(settings, name))
    return argv

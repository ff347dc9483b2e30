"""The settings model: every PLUGIN_* variable of the three anchor plugins, in one flat, typed model.

``plugin.config.load.load_settings(env)`` is the only way in (PLUGIN_ENV_FILE, the anchors' rules,
every problem at once). Here: the model, which reads the mapping ``from_mapping`` gives it, and what
the docs, ``--help`` and the checks ask of its fields (variables, secrets, booleans).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from plugin.config.anchors import KANIKO_EXECUTOR
from plugin.config.fieldsets.aws import AwsFields
from plugin.config.fieldsets.build import BuildFields, PluginFields, TargetFields
from plugin.config.fieldsets.docker import BuildxFields, DaemonFields, DockerBuildFields
from plugin.config.fieldsets.kaniko import KanikoFields
from plugin.config.fieldsets.supply import SupplyChainFields
from plugin.core.booleans import parse_bool

_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("plugin_environment", default=None)


class MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading the mapping given to ``from_mapping`` (else
    os.environ)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        given = _ENVIRONMENT.get()
        return super()._load_env_vars() if given is None else dict(given)


class Settings(
    PluginFields,
    SupplyChainFields,
    BuildxFields,
    DockerBuildFields,
    DaemonFields,
    KanikoFields,
    AwsFields,
    TargetFields,
    BuildFields,
    BaseSettings,
):
    """Every setting of the plugin; each field names its variables, type, default and meaning."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True, extra="ignore", case_sensitive=True, validate_default=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, MappingEnvSource(settings_cls))

    def secret_values(self) -> list[str]:
        return [v.get_secret_value() for v in self._secrets() if v.get_secret_value()]

    def _secrets(self) -> Iterator[SecretStr]:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                yield value

    def effective_builder(self, executor: str = KANIKO_EXECUTOR) -> str:
        """The builder to run: PLUGIN_BUILDER, else kaniko where its executor exists, else docker."""
        if self.builder:
            return self.builder
        return "kaniko" if os.path.exists(executor) else "docker"

    def effective_build_args(self) -> list[str]:
        return list(self.build_args_new if self.multiple_build_args else self.build_args)


@dataclass(frozen=True)
class FieldDoc:
    """What the docs say of one field: its variables, type, default, builders and meaning."""

    name: str
    variables: tuple[str, ...]
    secret: bool
    info: FieldInfo = field(compare=False)


def aliases(info: FieldInfo) -> tuple[str, ...]:
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(a) for a in alias.choices)
    return (str(alias),) if alias else ()


def is_secret(info: FieldInfo) -> bool:
    return "SecretStr" in repr(info.annotation)


def is_boolean(info: FieldInfo) -> bool:
    return any(getattr(m, "func", None) is parse_bool for m in info.metadata)


@functools.cache
def boolean_variables() -> frozenset[str]:
    """Every variable of a boolean field (tri-state ones included)."""
    return frozenset(v for doc in field_docs() if is_boolean(doc.info) for v in doc.variables)


@functools.cache
def field_docs() -> tuple[FieldDoc, ...]:
    """Every field's docs, computed once per process (a run reads them three times; the fields are fixed)."""
    return tuple(
        FieldDoc(name, aliases(info), is_secret(info), info) for name, info in Settings.model_fields.items()
    )


def known_variables() -> dict[str, str]:
    """Every variable the model reads, mapped to its field name."""
    return {var: doc.name for doc in field_docs() for var in doc.variables}


def from_mapping(values: Mapping[str, str]) -> Settings:
    """The model validated from ``values`` instead of os.environ (pydantic's ValidationError if invalid)."""
    token = _ENVIRONMENT.set(values)
    try:
        return Settings()
    finally:
        _ENVIRONMENT.reset(token)

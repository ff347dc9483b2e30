"""Where the image goes: registry host(s), repository name, final tags and full image references."""

from __future__ import annotations

from dataclasses import dataclass, field

from plugin.config.hosts import RegistryHost, split_repo, strip_scheme
from plugin.config.settings import Settings


def derived_registry(account: str, region: str) -> str:
    """The private ECR host of an account in a region (China regions use amazonaws.com.cn).

    An account that is not 12 digits only gets this far with PLUGIN_NO_PUSH (plugin.config.checks refuses it
    otherwise): the host is then only a name in the image references.
    """
    try:
        return RegistryHost.for_account(account, region).host
    except ValueError:
        return f"{account}.dkr.ecr.{region}.amazonaws.com"


@dataclass(frozen=True)
class Target:
    """Registry host (None: taken from the ECR token's endpoint at run time), repository and tags."""

    registry: str | None
    repository: str
    tags: tuple[str, ...]
    extra_registries: tuple[str, ...] = field(default=())

    @property
    def registries(self) -> tuple[str, ...]:
        main = (self.registry,) if self.registry else ()
        return main + tuple(r for r in self.extra_registries if r != self.registry)

    def image(self, registry: str | None = None) -> str:
        host = registry or self.registry or "<registry>"
        return f"{host}/{self.repository}"

    def destinations(self, tags: tuple[str, ...] | list[str] | None = None) -> list[str]:
        """Full references: every registry and every tag, main registry first."""
        chosen = self.tags if tags is None else tuple(tags)
        hosts = self.registries or ("<registry>",)
        return [f"{self.image(host)}:{tag}" for host in hosts for tag in chosen]

    def with_registry(self, registry: str) -> Target:
        return Target(registry, self.repository, self.tags, self.extra_registries)

    def with_tags(self, tags: list[str]) -> Target:
        return Target(self.registry, self.repository, tuple(tags), self.extra_registries)


def resolve_target(settings: Settings, tags: list[str]) -> Target:
    registry = strip_scheme(settings.registry) if settings.registry else None
    if registry is None and settings.account:
        registry = derived_registry(settings.account, settings.region)
    registry, repository = split_repo(settings.repo or "", registry)
    extra = tuple(strip_scheme(r) for r in settings.extra_registries)
    return Target(registry, repository, tuple(tags), extra)


def cache_repository(settings: Settings, repository: str) -> str:
    """The kaniko cache repository: PLUGIN_CACHE_REPO (registry prefix stripped) or <repo>-cache."""
    if settings.cache_repo:
        registry = strip_scheme(settings.registry) if settings.registry else None
        return split_repo(settings.cache_repo, registry)[1]
    return f"{repository}-cache"

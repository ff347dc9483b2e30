"""What a run is, decided from the settings and the CI context before any AWS call or process: the
builder (and what it refuses), the source date, the tags and the target; and what the run asks of
ECR for the main repository and the cache repositories. ``plan`` prints it (plugin.run.plan); a run
acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plugin.aws.repositories import RepositorySpec
from plugin.ci.context import CIContext
from plugin.config.load import Loaded
from plugin.config.settings import Settings
from plugin.core.errors import ConfigError
from plugin.core.log import get_logger
from plugin.target.destinations import Target, cache_repository, resolve_target
from plugin.target.tags import TagResult, resolve_tags

log = get_logger("plugin.run.resolve")


@dataclass
class Resolved:
    """Settings plus everything derived from them before any AWS call: context, tags, target."""

    loaded: Loaded
    ctx: CIContext
    tags: TagResult
    target: Target
    builder: str

    @property
    def settings(self) -> Settings:
        return self.loaded.settings


def resolve(loaded: Loaded, workdir: Path | None = None) -> Resolved:
    builder = loaded.settings.effective_builder()
    if builder == "buildx":
        _check_buildx(loaded)
    else:
        _check_attestations(loaded, builder)
    ctx = _with_source_date(loaded.settings, CIContext.from_env(loaded.env), builder, workdir)
    tags = resolve_tags(loaded.settings, ctx, workdir, loaded.env)
    for skipped in tags.skipped:
        log.info("tags.rule_skipped", **skipped)
    if not tags.skip_reason:
        log.info("tags.resolved", tags=tags.sources())
    target = resolve_target(loaded.settings, tags.tags)
    return Resolved(loaded, ctx, tags, target, builder)


def _with_source_date(settings: Settings, ctx: CIContext, builder: str, workdir: Path | None) -> CIContext:
    """The context with the build's source date, when one is asked for (plugin.target.sourcedate)."""
    from plugin.target.sourcedate import SourceDate, resolve_source_date, wanted  # noqa: PLC0415 - git reader

    if not wanted(settings):
        return ctx
    found = resolve_source_date(settings, ctx, workdir)
    if found is None and builder == "buildx":
        found = SourceDate(0, "none found")
        log.warning("reproducible.no_source_date", hint="set PLUGIN_SOURCE_DATE_EPOCH; 0 (1970) is used")
    if found is None:
        return ctx
    log.info("reproducible.source_date", epoch=found.epoch, date=found.iso, origin=found.origin)
    return ctx.model_copy(update={"source_date": found.epoch, "source_date_origin": found.origin})


def _check_buildx(loaded: Loaded) -> None:
    """Refuse what the buildx builder cannot do honestly; name what it leaves unused."""
    from plugin.builders.buildx import buildx_problems, buildx_warnings  # noqa: PLC0415 - its builder only

    problems = buildx_problems(loaded.settings)
    if problems:
        raise ConfigError(problems)
    for event, fields in buildx_warnings(loaded.settings, loaded.env):
        log.warning(event, **fields)


def _check_attestations(loaded: Loaded, builder: str) -> None:
    """PLUGIN_PROVENANCE / PLUGIN_SBOM are buildx-only: refused by name with the other builders; so are
    annotations and PLUGIN_REPRODUCIBLE with docker."""
    from plugin.builders.buildx_checks import attestation_problems_elsewhere  # noqa: PLC0415 - as needed
    from plugin.builders.docker_checks import supply_problems  # noqa: PLC0415 - as needed

    problems = attestation_problems_elsewhere(loaded.settings, builder)
    problems += supply_problems(loaded.settings, builder)
    if problems:
        raise ConfigError(problems)


def repository_spec(settings: Settings, name: str) -> RepositorySpec:
    """What the user asked of the main repository (None: leave untouched)."""
    return RepositorySpec(
        name=name,
        create=settings.create_repository,
        scan_on_push=settings.scan_on_push,
        tag_mutability=settings.tag_mutability,
        encryption=settings.encryption,
        kms_key=settings.kms_key,
        lifecycle_policy=settings.lifecycle_policy,
        repository_policy=settings.repository_policy,
    )


def cache_specs(settings: Settings, target: Target) -> list[RepositorySpec]:
    """The cache repositories (kaniko's, buildx's registry cache), created like the main one (no policies)."""
    builder = settings.effective_builder()
    if builder == "kaniko":
        names = [cache_repository(settings, target.repository)] if settings.enable_cache else []
    elif builder == "buildx":
        from plugin.builders.buildx_cache import cache_repositories  # noqa: PLC0415 - its builder only

        names = cache_repositories(settings, target)
    else:
        names = []
    s = settings
    return [
        RepositorySpec(name, create=s.create_repository, encryption=s.encryption, kms_key=s.kms_key)
        for name in names
    ]

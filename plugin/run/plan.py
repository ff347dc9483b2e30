"""The plan document: what a run would do, computed without AWS calls or processes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugin.aws.repositories import RepositorySpec, plan_actions
from plugin.builders.kaniko import EXECUTOR, KanikoRun, kaniko_plan
from plugin.ci.context import CIContext
from plugin.config.hosts import RegistryHost
from plugin.config.load import Loaded
from plugin.config.settings import Settings
from plugin.core.errors import ConfigError
from plugin.core.log import get_logger
from plugin.exec.rundir import plan_dir
from plugin.exec.steps import Plan
from plugin.target.destinations import Target, cache_repository, resolve_target
from plugin.target.tags import TagResult, resolve_tags

log = get_logger("plugin.run.plan")


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
    from plugin.target.sourcedate import SourceDate, resolve_source_date, wanted  # noqa: PLC0415

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
    from plugin.builders.buildx_checks import attestation_problems_elsewhere  # noqa: PLC0415
    from plugin.builders.docker_checks import supply_problems  # noqa: PLC0415

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


def builder_plan(r: Resolved, env: Mapping[str, str], **kwargs: Any) -> Plan:
    if r.builder == "kaniko":
        if r.settings.push_only:  # the tarball goes over the registry API: no process at all
            return Plan("kaniko", [])
        kwargs.setdefault("run", KanikoRun(str(plan_dir("kaniko", env))))
        return kaniko_plan(r.settings, r.ctx, r.target, env, **kwargs)
    if r.builder == "buildx":
        from plugin.builders.buildx import buildx_plan  # noqa: PLC0415 - imported only for its builder

        return buildx_plan(r.settings, r.ctx, r.target, env, **kwargs)
    from plugin.builders.docker import docker_plan  # noqa: PLC0415 - imported only for its builder

    return docker_plan(r.settings, r.ctx, r.target, env, **kwargs)


def ecr_actions(r: Resolved) -> list[dict[str, Any]]:
    s = r.settings
    if s.no_push:
        from plugin.run.pull_logins import login_hosts  # noqa: PLC0415 - it imports the AWS layer

        pull = "ecr:GetAuthorizationToken (pull login; a failure is a warning)"
        return [
            {"registry": h or "<registry from the token endpoint>", "actions": [pull]} for h in login_hosts(r)
        ]
    out = []
    for host in r.target.registries or ("<registry from the token endpoint>",):
        parsed = RegistryHost.parse_or_none(host)
        public = bool(parsed and parsed.public)
        actions = plan_actions(
            repository_spec(s, r.target.repository), public=public, check_tags=s.skip_push_if_tag_exists
        )
        if host == (r.target.registry or host):
            for cache in cache_specs(s, r.target):
                actions[-1:-1] = plan_actions(cache, public=public)[:-1]
        out.append({"registry": host, "actions": actions})
    return out


def plan_document(r: Resolved) -> dict[str, Any]:
    """The JSON that `plan` prints: builder, registry, repository, tags, destinations, ECR actions, steps."""
    doc: dict[str, Any] = {
        "builder": r.builder,
        "registry": r.target.registry,
        "repository": r.target.repository,
        "tags": list(r.target.tags),
        "destinations": r.target.destinations() if r.target.tags else [],
        "extra_registries": list(r.target.extra_registries),
        "tag_sources": r.tags.sources(),
    }
    if r.tags.skipped:
        doc["tag_rules_skipped"] = r.tags.skipped
    if r.tags.skip_reason:
        doc.update(skip=r.tags.skip_reason, ecr=[], steps=[])
        return doc
    doc["ecr"] = ecr_actions(r)
    doc["steps"] = builder_plan(r, r.loaded.env).to_json()
    if r.settings.cosign_private_key is not None and not r.settings.no_push:
        from plugin.run.signing import plan_steps  # noqa: PLC0415 - only when signing

        signing = plan_steps(r.settings, r.target, r.loaded.env, "<run dir>/docker-config")
        doc["sign"] = [step.to_json() for step in signing]
    if r.ctx.source_date is not None:
        doc["source_date"] = {"epoch": r.ctx.source_date, "origin": r.ctx.source_date_origin}
    if r.builder == "kaniko" and r.settings.push_only:
        doc["push_tarball"] = {"source": r.settings.source_tar_path, "destinations": doc["destinations"]}
    elif r.builder == "kaniko":
        doc["executor"] = kaniko_executor(r)
    if r.tags.notes:
        doc["notes"] = r.tags.notes
    return doc


def kaniko_executor(r: Resolved) -> dict[str, Any]:
    """The executor, its version when KANIKO_VERSION says it (a run asks the executor otherwise), and
    the run directory; settings that this version lacks are refused here too (exit 2)."""
    from plugin.config.versions import unchecked, version_problems  # noqa: PLC0415 - kaniko only

    version = (r.loaded.env.get("KANIKO_VERSION") or "").strip() or None
    problems = version_problems(r.settings, r.loaded.env, "kaniko", version)
    if problems:
        raise ConfigError(problems)
    needs = unchecked(r.settings, "kaniko")
    return {
        "path": EXECUTOR,
        "version": version or ("asked at run time (`executor version`)" if needs else None),
        "needs_version": needs,
        "run_dir": str(plan_dir("kaniko", r.loaded.env)),
    }

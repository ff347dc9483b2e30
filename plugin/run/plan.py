"""The plan document that ``plan`` prints: what a run would do (tags, destinations, ECR calls, the
builder's steps, signing), computed without AWS calls or processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.aws.repositories import plan_actions
from plugin.builders.kaniko import EXECUTOR, KanikoRun, kaniko_plan
from plugin.config.hosts import RegistryHost
from plugin.core.errors import ConfigError
from plugin.exec.rundir import PLAN_NAME, plan_dir
from plugin.exec.steps import Plan
from plugin.run.builder_outputs import builder_outputs, for_builder
from plugin.run.pull_logins import login_hosts
from plugin.run.resolve import Resolved, cache_specs, repository_spec


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
    # the builder writes the tarball (and kaniko's OCI layout) beside the user's path; moved there on success
    written = builder_outputs(r.settings, r.builder, PLAN_NAME)
    doc["steps"] = builder_plan(for_builder(r, written), r.loaded.env).to_json()
    if written:
        doc["builder_outputs"] = [out.to_json() for out in written]
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
    run_dir = str(plan_dir("kaniko", r.loaded.env))
    doc: dict[str, Any] = {
        "path": EXECUTOR,
        "version": version or ("asked at run time (`executor version`)" if needs else None),
        "needs_version": needs,
        "run_dir": run_dir,
    }
    produced = KanikoRun(run_dir).produced(r.settings)
    if produced:  # kaniko writes them in the run dir; they are moved to these paths with the outputs
        doc["output_files"] = produced
    return doc

"""docker: settings → dockerd, cache pulls, build, tag, save, push and purge argv lists (pure).

The plugin starts its own dockerd (unless PLUGIN_DAEMON_OFF) and talks to it through DOCKER_HOST.
Registry credentials reach the docker CLI through a per-run DOCKER_CONFIG, never through argv.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from plugin.builders.common import build_arg_env, build_args, labels, secret_args, source_date_args
from plugin.builders.dockerd import DaemonOptions, daemon_step
from plugin.ci.context import CIContext
from plugin.config.flags import flag_argv
from plugin.config.settings import Settings
from plugin.exec.steps import Plan, Step
from plugin.target.destinations import Target

DOCKER = "docker"


@dataclass(frozen=True)
class DockerRun:
    """Where this run's files live: the per-run DOCKER_CONFIG, the SSH key file, the local image name."""

    docker_config: str = "/tmp/build-push-ecr/docker-config"  # noqa: S108 - a placeholder for `plan`
    ssh_key_path: str = "/tmp/build-push-ecr/ssh/id_key"  # noqa: S108
    temp_tag: str = ""

    def local_image(self) -> str:
        return self.temp_tag or "build-push-ecr:plan"


def new_temp_tag() -> str:
    return f"build-push-ecr-{uuid.uuid4().hex[:12]}:build"


def daemon_options(settings: Settings, target: Target, run_dir: str | None = None) -> DaemonOptions:
    """The anchors' daemon settings; PLUGIN_INSECURE marks the push registries insecure."""
    mirrors = tuple(dict.fromkeys(([settings.mirror] if settings.mirror else []) + settings.registry_mirrors))
    extra: dict[str, str] = {"run_dir": run_dir} if run_dir else {}
    return DaemonOptions(
        storage_driver=settings.storage_driver,
        storage_path=settings.storage_path,
        mirrors=mirrors,
        bip=settings.bip,
        mtu=settings.mtu,
        dns=tuple(settings.custom_dns),
        dns_search=tuple(settings.custom_dns_search),
        ipv6=settings.ipv6,
        experimental=settings.experimental,
        insecure_registries=target.registries if settings.insecure else (),
        debug=settings.debug,
        extra_args=tuple(settings.daemon_args),
        **extra,
    )


def uses_buildkit(settings: Settings) -> bool:
    """BuildKit, except for squash, which only the classic builder does."""
    return not (settings.squash and settings.experimental)


def build_argv(
    settings: Settings,
    ctx: CIContext,
    env: Mapping[str, str],
    run: DockerRun,
    now: datetime | None = None,
    *,
    target: Target | None = None,
) -> list[str]:
    argv = [DOCKER, "build", f"--file={settings.dockerfile}", f"--tag={run.local_image()}"]
    if settings.squash and settings.experimental:
        argv.append("--squash")
    argv += flag_argv(settings, "docker")
    argv += [f"--cache-from={ref}" for ref in settings.cache_from]
    argv += [f"--build-arg={a}" for a in build_args(settings, ctx, env) + source_date_args(settings, ctx)]
    argv += secret_args(settings, run.ssh_key_path)
    argv += [f"--label={lbl}" for lbl in labels(settings, ctx, "docker", now, target)]
    return [*argv, settings.context]


def _push_only_source(settings: Settings, target: Target) -> str:
    return settings.source_image or f"{target.repository}:{target.tags[0]}"


def _build_steps(
    settings: Settings,
    ctx: CIContext,
    target: Target,
    env: Mapping[str, str],
    *,
    run: DockerRun,
    step_env: dict[str, str],
    now: datetime | None,
) -> tuple[list[Step], str]:
    """The steps that produce the local image, and its name: cache pulls + build, or push-only's source."""
    if settings.push_only:
        load = [Step("load", (DOCKER, "load", f"--input={settings.source_tar_path}"), env=step_env)]
        return (load if settings.source_tar_path else []), _push_only_source(settings, target)
    steps = [
        Step("cache-from", (DOCKER, "pull", ref), env=step_env, allow_failure=True)
        for ref in settings.cache_from
    ]
    # Build-arg values from the environment go in the CLI's env, never its argv (plan steps' env wins).
    build_env = {
        **build_arg_env(settings, ctx, env),
        **step_env,
        "DOCKER_BUILDKIT": "1" if uses_buildkit(settings) else "0",
    }
    steps.append(Step("build", tuple(build_argv(settings, ctx, env, run, now, target=target)), env=build_env))
    return steps, run.local_image()


def _publish_steps(
    settings: Settings, source: str, destinations: list[str], step_env: dict[str, str]
) -> list[Step]:
    """Tag every destination, save the tarball when asked, push unless told not to, then purge."""
    steps = [Step("tag", (DOCKER, "tag", source, ref), env=step_env) for ref in destinations]
    if settings.tar_path and destinations:
        steps.append(
            Step("save", (DOCKER, "save", f"--output={settings.tar_path}", *destinations), env=step_env)
        )
    if not settings.no_push:
        steps += [Step("push", (DOCKER, "push", ref), env=step_env) for ref in destinations]
    if settings.purge and not settings.push_only:
        rmi = (DOCKER, "rmi", "--force", source, *destinations)
        steps.append(Step("purge", rmi, env=step_env, allow_failure=True))
        if not settings.daemon_off:
            steps.append(
                Step("purge", (DOCKER, "system", "prune", "--force"), env=step_env, allow_failure=True)
            )
    return steps


def docker_plan(
    settings: Settings,
    ctx: CIContext,
    target: Target,
    env: Mapping[str, str],
    *,
    run: DockerRun | None = None,
    daemon: DaemonOptions | None = None,
    push_tags: list[str] | None = None,
    now: datetime | None = None,
) -> Plan:
    """dockerd (unless off), cache-from pulls, build, one tag + push per destination, save, purge."""
    run = run or DockerRun()
    daemon = daemon or daemon_options(settings, target, "/tmp/build-push-ecr/dockerd")  # noqa: S108
    step_env = {"DOCKER_CONFIG": run.docker_config}
    plan = Plan("docker")
    if not settings.daemon_off:
        step_env["DOCKER_HOST"] = daemon.docker_host
        plan.add(daemon_step(daemon))
    steps, source = _build_steps(settings, ctx, target, env, run=run, step_env=step_env, now=now)
    plan.steps += steps + _publish_steps(settings, source, target.destinations(push_tags), step_env)
    return plan

"""kaniko: settings → the executor argv (pure). kaniko builds and pushes in one process."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from plugin.builders.common import build_args, labels
from plugin.context import CIContext
from plugin.flags import flag_argv
from plugin.plan import Plan, Step
from plugin.settings import Settings
from plugin.target import Target, cache_repository

EXECUTOR = "/kaniko/executor"
DIGEST_FILE = "/kaniko/digest-file"


def executor_argv(
    settings: Settings,
    ctx: CIContext,
    target: Target,
    env: Mapping[str, str],
    *,
    digest_file: str = DIGEST_FILE,
    push_tags: list[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Every kaniko-related setting as executor flags; only flags kaniko has (see builder-flags.md)."""
    argv = [EXECUTOR, f"--dockerfile={settings.dockerfile}", f"--context=dir://{settings.context}"]
    if not settings.no_push or settings.tar_path:
        argv += [f"--destination={d}" for d in target.destinations(push_tags)]
    argv += [f"--build-arg={a}" for a in build_args(settings, ctx, env)]
    argv += [f"--label={lbl}" for lbl in labels(settings, ctx, "kaniko", now)]
    argv += flag_argv(settings, "kaniko")
    if settings.enable_cache:
        argv.append(
            f"--cache-repo={target.registry or '<registry>'}/{cache_repository(settings, target.repository)}"
        )
    if settings.skip_tls_verify_registry:
        argv += [f"--skip-tls-verify-registry={host}" for host in target.registries]
    argv.append(f"--digest-file={digest_file}")
    return argv


def kaniko_plan(
    settings: Settings,
    ctx: CIContext,
    target: Target,
    env: Mapping[str, str],
    *,
    digest_file: str = DIGEST_FILE,
    docker_config: str = "/kaniko/.docker",
    push_tags: list[str] | None = None,
    aws_env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Plan:
    """One step: the executor, with DOCKER_CONFIG and (when the builder needs them) AWS credentials in env."""
    step_env = {"DOCKER_CONFIG": docker_config, **(aws_env or {})}
    argv = executor_argv(settings, ctx, target, env, digest_file=digest_file, push_tags=push_tags, now=now)
    return Plan("kaniko", [Step("build", tuple(argv), env=step_env)])

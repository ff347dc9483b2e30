"""kaniko: settings → the executor argv (pure). kaniko builds and pushes in one process.

Every file of a run (the Docker config, the digest file) is in the run directory under the kaniko
directory (plugin.exec.rundir), which kaniko neither snapshots nor deletes between stages. The digest
files the user names (PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE, PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE) are
written there too, and moved to the user's paths with the other outputs once the run succeeded. Build-arg
values taken from the environment and build secrets reach the executor through its environment
(``--build-arg NAME``, ``--secret id=ID,env=NAME``), never its argv.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugin.builders.common import (
    annotation_args,
    build_arg_env,
    build_args,
    labels,
    secret_flags,
    source_date_args,
)
from plugin.ci.context import CIContext
from plugin.config.flags import flag_argv
from plugin.config.settings import Settings
from plugin.exec.rundir import KANIKO_DIR, PLAN_NAME
from plugin.exec.steps import Plan, Step
from plugin.target.destinations import Target, cache_repository

EXECUTOR = f"{KANIKO_DIR}/executor"
# Settings naming files kaniko writes: kaniko writes them in the run directory (under these names),
# the plugin stages them to the user's paths with the other outputs (all or nothing).
OUTPUT_FILES = {
    "image_name_with_digest_file": "image-name-with-digest",
    "image_name_tag_with_digest_file": "image-name-tag-with-digest",
}


@dataclass(frozen=True)
class KanikoRun:
    """Where this run's files live: everything below one run directory under the kaniko directory."""

    run_dir: str = f"{KANIKO_DIR}/{PLAN_NAME}"

    @property
    def docker_config(self) -> str:
        return str(Path(self.run_dir) / "docker-config")

    @property
    def digest_file(self) -> str:
        return str(Path(self.run_dir) / "digest")

    def output_file(self, field: str) -> str:
        """Where kaniko writes the file the setting ``field`` names (staged to that path afterwards)."""
        return str(Path(self.run_dir) / OUTPUT_FILES[field])

    def produced(self, settings: Settings) -> dict[str, str]:
        """Each output file the settings name -> where kaniko writes it in the run directory."""
        return {path: self.output_file(f) for f in OUTPUT_FILES if (path := getattr(settings, f))}


def secret_args(settings: Settings) -> list[str]:
    """kaniko's --secret: ids and where the value is (an env name or a file path), never the value."""
    return secret_flags(settings, typed=True)


def executor_argv(
    settings: Settings,
    ctx: CIContext,
    target: Target,
    env: Mapping[str, str],
    *,
    run: KanikoRun | None = None,
    push_tags: list[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Every kaniko-related setting as executor flags; only flags kaniko has (see builder-flags.md)."""
    run = run or KanikoRun()
    argv = [EXECUTOR, f"--dockerfile={settings.dockerfile}", f"--context=dir://{settings.context}"]
    if not settings.no_push or settings.tar_path:
        argv += [f"--destination={d}" for d in target.destinations(push_tags)]
    argv += [f"--build-arg={a}" for a in build_args(settings, ctx, env) + source_date_args(settings, ctx)]
    argv += [f"--label={lbl}" for lbl in labels(settings, ctx, "kaniko", now, target)]
    argv += secret_args(settings)
    argv += [f"--annotation={a}" for a in annotation_args(settings, ctx, now, target)]
    redirected = {f: run.output_file(f) for f in OUTPUT_FILES if getattr(settings, f)}
    argv += flag_argv(settings.model_copy(update=redirected) if redirected else settings, "kaniko")
    if settings.enable_cache:
        argv.append(
            f"--cache-repo={target.registry or '<registry>'}/{cache_repository(settings, target.repository)}"
        )
    if settings.skip_tls_verify_registry:
        argv += [f"--skip-tls-verify-registry={host}" for host in target.registries]
    argv.append(f"--digest-file={run.digest_file}")
    return argv


def kaniko_plan(
    settings: Settings,
    ctx: CIContext,
    target: Target,
    env: Mapping[str, str],
    *,
    run: KanikoRun | None = None,
    push_tags: list[str] | None = None,
    aws_env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Plan:
    """One step: the executor, with DOCKER_CONFIG, build-arg values and (if needed) AWS credentials in env."""
    run = run or KanikoRun()
    step_env = {**build_arg_env(settings, ctx, env), "DOCKER_CONFIG": run.docker_config, **(aws_env or {})}
    argv = executor_argv(settings, ctx, target, env, run=run, push_tags=push_tags, now=now)
    return Plan("kaniko", [Step("build", tuple(argv), env=step_env)])

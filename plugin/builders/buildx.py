"""buildx: settings → dockerd, optional builder create, ONE ``docker buildx build`` and its rm (pure).

BuildKit pushes every destination itself (``--push``), so a multi-platform list in PLUGIN_PLATFORM
works. The digest comes from the ``--metadata-file`` that buildx writes. Cache specs may hold
Harness's credential placeholders; the real values replace them (``buildx_cache``) and are
registered with the Redactor, but they still go on the buildx argv, which is buildx's only
interface for them. Registry logins never do: buildx shares the per-run Docker config's
credentials with BuildKit for each build. What a created builder gets besides flags (its
buildkitd.toml, a preloaded BuildKit image) is in ``buildkitd``; refusals and warnings are in
``buildx_checks``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from plugin.builders.buildkitd import CONFIGURABLE_DRIVERS, generated_config, loaded_buildkit
from plugin.builders.buildx_cache import cache_from_specs, cache_to_specs, created_driver
from plugin.builders.buildx_checks import buildx_problems, buildx_warnings
from plugin.builders.common import (
    annotation_args,
    build_arg_env,
    build_args,
    labels,
    secret_args,
    source_date_args,
)
from plugin.builders.docker import DockerRun, daemon_options, docker_plan
from plugin.builders.dockerd import DaemonOptions, daemon_step
from plugin.ci.context import CIContext
from plugin.config.flags import flag_argv
from plugin.config.settings import Settings
from plugin.exec.steps import Plan, Step
from plugin.target.destinations import Target

DOCKER = "docker"
_PLAN_DIR = "/tmp/build-push-ecr"  # noqa: S108 - placeholders shown by `plan`; a run uses its run dir
# Every Flag-marked field but cache_to, whose specs need the placeholder work in buildx_cache.
_MARKED_FIELDS = tuple(name for name in Settings.model_fields if name != "cache_to")
# PLUGIN_SINGLE_MANIFEST's output: one image manifest with Docker's media types (as docker and kaniko push).
SINGLE_MANIFEST_OUTPUT = "--output=type=image,push=true,oci-mediatypes=false"
REWRITE_TIMESTAMP = "rewrite-timestamp=true"
PROVENANCE_MODES = {"false": "false", "true": "true", "min": "mode=min", "max": "mode=max"}

__all__ = ["BuildxRun", "buildx_plan", "buildx_problems", "buildx_warnings", "created_driver"]


@dataclass(frozen=True)
class BuildxRun:
    """Where this run's files live, and the name of the builder a run creates."""

    docker_config: str = f"{_PLAN_DIR}/docker-config"
    ssh_key_path: str = f"{_PLAN_DIR}/ssh/id_key"
    metadata_file: str = f"{_PLAN_DIR}/metadata.json"
    builder: str = "build-push-ecr-plan"
    buildkitd_config: str = f"{_PLAN_DIR}/buildkitd.toml"


def new_builder_name() -> str:
    return f"build-push-ecr-{uuid.uuid4().hex[:12]}"


def builder_name(settings: Settings, run: BuildxRun) -> str | None:
    """The --builder to use: PLUGIN_BUILDER_NAME, else the created builder, else the engine's default."""
    if settings.builder_name:
        return settings.builder_name
    return run.builder if created_driver(settings) else None


def writes_config(settings: Settings, target: Target, ctx: CIContext) -> bool:
    """Whether the run writes its own buildkitd.toml (generated tables for a builder that reads one)."""
    return created_driver(settings) in CONFIGURABLE_DRIVERS and bool(generated_config(settings, target, ctx))


def pushes(step: Step) -> bool:
    """A build step that pushes (``--push``, or PLUGIN_SINGLE_MANIFEST's image output with push=true)."""
    return step.name in ("build", "export") and any(
        a == "--push" or (a.startswith("--output=") and "push=true" in a) for a in step.argv
    )


def output_args(settings: Settings) -> list[str]:
    """--push (one plain manifest for PLUGIN_SINGLE_MANIFEST); without a push: the tarball, or --load.

    PLUGIN_REPRODUCIBLE adds the exporter's ``rewrite-timestamp=true`` (layer times clamped to
    SOURCE_DATE_EPOCH), which needs the image output spelled out instead of --push.
    """
    rewrite = f",{REWRITE_TIMESTAMP}" if settings.reproducible else ""
    if not settings.no_push:
        if settings.single_manifest:
            return [SINGLE_MANIFEST_OUTPUT + rewrite]
        return [f"--output=type=image,push=true{rewrite}"] if rewrite else ["--push"]
    if settings.tar_path and settings.buildx_output_format:
        return [f"--output=type={settings.buildx_output_format},dest={settings.tar_path}{rewrite}"]
    if settings.tar_path or settings.buildx_load:
        return ["--load"]
    return []


def attestation_args(settings: Settings) -> list[str]:
    """PLUGIN_PROVENANCE, PLUGIN_SBOM (with PLUGIN_SBOM_GENERATOR); none at all for a single manifest.

    PLUGIN_REPRODUCIBLE turns BuildKit's default provenance off: it records when the build ran, so
    the index that carries it would differ from build to build (PLUGIN_PROVENANCE still wins).
    """
    if settings.single_manifest:
        return ["--provenance=false", "--sbom=false"]
    out = []
    if settings.reproducible and not settings.provenance:
        out.append("--provenance=false")  # BuildKit's default provenance holds the build's times
    if settings.provenance:
        value = settings.provenance.strip()
        out.append(f"--provenance={PROVENANCE_MODES.get(value.lower(), value)}")
    if settings.sbom:
        generator = settings.sbom_generator
        out.append(f"--sbom=generator={generator}" if generator else "--sbom=true")
    return out


def build_argv(
    settings: Settings,
    ctx: CIContext,
    env: Mapping[str, str],
    destinations: list[str],
    run: BuildxRun,
    *,
    target: Target,
    output: list[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """The one ``docker buildx build``; only flags of builder-flags.md's buildx table."""
    argv = [DOCKER, "buildx", "build", f"--file={settings.dockerfile}"]
    builder = builder_name(settings, run)
    argv += [f"--builder={builder}"] if builder else []
    argv += [f"--tag={ref}" for ref in destinations]
    argv += output_args(settings) if output is None else output
    argv.append(f"--metadata-file={run.metadata_file}")
    argv += attestation_args(settings) if output is None else []
    argv += settings.buildx_options + settings.buildx_options_semicolon
    argv += flag_argv(settings, "buildx", only=_MARKED_FIELDS)
    argv += [f"--cache-from={spec}" for spec in cache_from_specs(settings, target)]
    argv += [f"--cache-to={spec}" for spec in cache_to_specs(settings, target)] if output is None else []
    argv += [f"--build-arg={a}" for a in build_args(settings, ctx, env) + source_date_args(settings, ctx)]
    argv += secret_args(settings, run.ssh_key_path)
    argv += [f"--label={lbl}" for lbl in labels(settings, ctx, "buildx", now, target)]
    argv += [f"--annotation={a}" for a in annotation_args(settings, ctx, now, target)]
    return [*argv, settings.context]


def driver_opts(settings: Settings, ctx: CIContext, driver: str) -> list[str]:
    """PLUGIN_BUILDER_DRIVER_OPTS_NEW (else _OPTS), the BuildKit image, the proxies for a container.

    The image: PLUGIN_BUILDKIT_VERSION, else an ``image=`` the user gave, else the loaded buildkit.tar's.
    """
    opts = list(settings.builder_driver_opts_new or settings.builder_driver_opts)
    loaded = loaded_buildkit(settings) if driver == "docker-container" else None
    if settings.buildkit_version:
        opts = [o for o in opts if not o.startswith("image=")] + [f"image={settings.buildkit_version}"]
    elif loaded and not any(o.startswith("image=") for o in opts):
        opts.append(f"image={loaded[1]}")
    if driver == "docker-container":
        opts += [csv_field(f"env.{name}={value}") for name, value in ctx.proxies.items()]
    return opts


def csv_field(value: str) -> str:
    """buildx reads each --driver-opt as CSV: a value with a comma (no_proxy lists) must be quoted."""
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def create_argv(settings: Settings, name: str, driver: str, opts: list[str], config: str | None) -> list[str]:
    """``docker buildx create --use``: a builder of its own for this run (flags of buildx create)."""
    argv = [DOCKER, "buildx", "create", "--use", f"--name={name}", f"--driver={driver}"]
    argv += [f"--driver-opt={o}" for o in opts]
    if config:
        argv.append(f"--buildkitd-config={config}")
    timeouts = [
        f"--{flag}={value}"
        for flag, value in (
            ("tls-handshake-timeout", settings.buildkit_tls_handshake_timeout),
            ("response-header-timeout", settings.buildkit_response_header_timeout),
        )
        if value
    ]
    if timeouts:
        argv.append(f"--buildkitd-flags={' '.join(timeouts)}")
    if driver == "remote" and settings.builder_remote_conn:
        argv.append(settings.builder_remote_conn)
    return argv


def _builder_steps(
    settings: Settings, ctx: CIContext, target: Target, run: BuildxRun, step_env: dict[str, str]
) -> tuple[list[Step], list[Step]]:
    """Load the BuildKit image, create (and, when both option sets are given, the anchor's fallback
    create) and the final rm."""
    driver = created_driver(settings)
    if driver is None:
        return [], []
    name = builder_name(settings, run) or run.builder
    config = run.buildkitd_config if writes_config(settings, target, ctx) else settings.builder_config
    loaded = loaded_buildkit(settings) if driver == "docker-container" else None
    steps = [Step("buildkit-load", (DOCKER, "load", f"--input={loaded[0]}"), env=step_env)] if loaded else []
    first = create_argv(settings, name, driver, driver_opts(settings, ctx, driver), config)
    if settings.builder_driver_opts_new and settings.builder_driver_opts:
        old = settings.model_copy(update={"builder_driver_opts_new": []})
        fallback = create_argv(settings, name, driver, driver_opts(old, ctx, driver), config)
        steps.append(Step("builder", tuple(first), env=step_env, allow_failure=True))
        steps.append(Step("builder-fallback", tuple(fallback), env=step_env))
    else:
        steps.append(Step("builder", tuple(first), env=step_env))
    remove = Step("builder-rm", (DOCKER, "buildx", "rm", name), env=step_env, allow_failure=True)
    return steps, [remove]


def _tar_steps(
    settings: Settings,
    ctx: CIContext,
    *,
    env: Mapping[str, str],
    destinations: list[str],
    run: BuildxRun,
    target: Target,
    step_env: dict[str, str],
    now: datetime | None,
) -> list[Step]:
    """The tarball: docker save of the loaded (or, on the docker driver, pushed) image, or an export."""
    if not settings.tar_path or not destinations:
        return []
    if settings.no_push and settings.buildx_output_format:
        return []  # the build's own --output wrote it
    if settings.no_push or created_driver(settings) is None:
        save = (DOCKER, "save", f"--output={settings.tar_path}", *destinations)
        return [Step("save", save, env=step_env)]
    fmt = settings.buildx_output_format or "docker"
    export = replace(run, metadata_file=f"{run.metadata_file}.export")
    rewrite = f",{REWRITE_TIMESTAMP}" if settings.reproducible else ""
    out = [f"--output=type={fmt},dest={settings.tar_path}{rewrite}"]
    argv = build_argv(settings, ctx, env, destinations, export, target=target, output=out, now=now)
    return [Step("export", tuple(argv), env=step_env)]


def buildx_plan(
    settings: Settings,
    ctx: CIContext,
    target: Target,
    env: Mapping[str, str],
    *,
    run: BuildxRun | None = None,
    daemon: DaemonOptions | None = None,
    push_tags: list[str] | None = None,
    now: datetime | None = None,
) -> Plan:
    """dockerd (unless off), builder create, one buildx build that pushes every tag, tarball, builder rm."""
    run = run or BuildxRun()
    daemon = daemon or daemon_options(settings, target, f"{_PLAN_DIR}/dockerd")
    if settings.push_only:  # nothing to build: the docker builder's load, tag and push
        pushed = docker_plan(
            settings, ctx, target, env, run=DockerRun(run.docker_config), daemon=daemon, push_tags=push_tags
        )
        return Plan("buildx", pushed.steps)
    step_env = {"DOCKER_CONFIG": run.docker_config}
    plan = Plan("buildx")
    if not settings.daemon_off:
        step_env["DOCKER_HOST"] = daemon.docker_host
        plan.add(daemon_step(daemon))
    destinations = target.destinations(push_tags)
    create, remove = _builder_steps(settings, ctx, target, run, step_env)
    build_env = {
        **build_arg_env(settings, ctx, env),  # bare --build-arg NAME values: env, never argv
        **step_env,
        "BUILDKIT_PROGRESS": env.get("BUILDKIT_PROGRESS") or "plain",
    }
    argv = build_argv(settings, ctx, env, destinations, run, target=target, now=now)
    build = Step("build", tuple(argv), env=build_env)
    tar = _tar_steps(
        settings, ctx, env=env, destinations=destinations, run=run, target=target, step_env=build_env, now=now
    )
    plan.steps += [*create, build, *tar, *remove]
    return plan

"""buildx: settings → dockerd, optional builder create, ONE ``docker buildx build`` and its rm (pure).

BuildKit pushes every destination itself (``--push``), so a multi-platform list in PLUGIN_PLATFORM
works. The digest comes from the ``--metadata-file`` that buildx writes. Cache specs may hold
Harness's credential placeholders; the real values replace them here and are registered with the
Redactor, but they still go on the buildx argv, which is buildx's only interface for them.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugin.builders.common import build_arg_env, build_args, labels, secret_args
from plugin.builders.docker import DockerRun, daemon_options, docker_plan
from plugin.context import CIContext
from plugin.daemon import DaemonOptions, daemon_step
from plugin.errors import Problem
from plugin.flags import flag_argv
from plugin.log import REDACTOR
from plugin.plan import Plan, Step
from plugin.settings import Settings
from plugin.target import Target

DOCKER = "docker"
_PLAN_DIR = "/tmp/build-push-ecr"  # noqa: S108 - placeholders shown by `plan`; a run uses its run dir
OUTPUT_FORMATS = ("docker", "oci", "tar")
AWS_PLACEHOLDER = "harness_placeholder_aws_creds"
GCP_PLACEHOLDER = "harness_placeholder_gcp_creds"
AZURE_PLACEHOLDER = "harness_placeholder_azure_creds"
# Cache-spec attribute → settings field, for `<attr>=harness_placeholder_azure_creds`.
AZURE_ATTRIBUTES = {
    "account_key": "azure_account_key",
    "secret_access_key": "azure_account_key",
    "tenant_id": "azure_tenant_id",
    "client_id": "azure_client_id",
    "client_secret": "azure_client_secret",
    "oidc_token": "azure_oidc_token",
}
# Every Flag-marked field but cache_to, whose specs need the placeholder work below.
_MARKED_FIELDS = tuple(name for name in Settings.model_fields if name != "cache_to")


@dataclass(frozen=True)
class BuildxRun:
    """Where this run's files live, and the name of the builder a run creates."""

    docker_config: str = f"{_PLAN_DIR}/docker-config"
    ssh_key_path: str = f"{_PLAN_DIR}/ssh/id_key"
    metadata_file: str = f"{_PLAN_DIR}/metadata.json"
    builder: str = "build-push-ecr-plan"


def new_builder_name() -> str:
    return f"build-push-ecr-{uuid.uuid4().hex[:12]}"


def _inline_only(specs: list[str]) -> bool:
    return all(re.search(r"(^|,)type=inline(,|$)", spec) for spec in specs)


def created_driver(settings: Settings) -> str | None:
    """The driver of the builder this run creates, or None to build on the engine's own (docker driver).

    As buildx-ecr: PLUGIN_CACHE_TO needs a container builder (the docker driver cannot export a
    cache), so it turns an unset or `docker` driver into `docker-container`; an inline cache can stay.
    """
    driver = settings.builder_driver
    if driver and driver != "docker":
        return driver
    if settings.cache_to and not _inline_only(settings.cache_to):
        return "docker-container"
    return None


def builder_name(settings: Settings, run: BuildxRun) -> str | None:
    """The --builder to use: PLUGIN_BUILDER_NAME, else the created builder, else the engine's default."""
    if settings.builder_name:
        return settings.builder_name
    return run.builder if created_driver(settings) else None


def _secret(settings: Settings, field: str) -> str:
    value = getattr(settings, field)
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return str(text or "")


def _fill(spec: str, attr: str, placeholder: str, value: str) -> str:
    """Replace ``attr=placeholder`` with ``attr=value``, or drop the pair when there is no value."""
    pair = f"{attr}={placeholder}"
    if pair not in spec:
        return spec
    if value:
        REDACTOR.add(value)
        return spec.replace(pair, f"{attr}={value}")
    return ",".join(part for part in spec.split(",") if part != pair)


def cache_spec(settings: Settings, spec: str) -> str:
    """One --cache-from/--cache-to spec with the Harness placeholders filled, then the anchor's suffixes."""
    spec = _fill(spec, "secret_access_key", AWS_PLACEHOLDER, _secret(settings, "s3_secret_key"))
    spec = _fill(spec, "access_key_id", AWS_PLACEHOLDER, _secret(settings, "s3_access_key"))
    gcp = _secret(settings, "gcp_json_key")
    gcp_b64 = base64.b64encode(gcp.encode()).decode() if gcp else ""
    spec = _fill(spec, "gcp_json_key", GCP_PLACEHOLDER, gcp_b64)
    for attr, field in AZURE_ATTRIBUTES.items():
        spec = _fill(spec, attr, AZURE_PLACEHOLDER, _secret(settings, field))
    parts = spec.split(",")
    if settings.path_style and "type=s3" in parts and not any(p.startswith("use_path_style=") for p in parts):
        spec += ",use_path_style=true"
    if settings.cache_tls_insecure and "tls_insecure_skip_verify=true" not in parts:
        spec += ",tls_insecure_skip_verify=true"
    return spec


def output_args(settings: Settings) -> list[str]:
    """--push; without a push: --output to the tarball, or --load (for --load + docker save, or asked)."""
    if not settings.no_push:
        return ["--push"]
    if settings.tar_path and settings.buildx_output_format:
        return [f"--output=type={settings.buildx_output_format},dest={settings.tar_path}"]
    if settings.tar_path or settings.buildx_load:
        return ["--load"]
    return []


def build_argv(
    settings: Settings,
    ctx: CIContext,
    env: Mapping[str, str],
    destinations: list[str],
    run: BuildxRun,
    *,
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
    argv += settings.buildx_options + settings.buildx_options_semicolon
    argv += flag_argv(settings, "buildx", only=_MARKED_FIELDS)
    argv += [f"--cache-from={cache_spec(settings, s)}" for s in settings.cache_from]
    argv += [f"--cache-to={cache_spec(settings, s)}" for s in settings.cache_to]
    argv += [f"--build-arg={a}" for a in build_args(settings, ctx, env)]
    argv += secret_args(settings, run.ssh_key_path)
    argv += [f"--label={lbl}" for lbl in labels(settings, ctx, "buildx", now)]
    return [*argv, settings.context]


def driver_opts(settings: Settings, ctx: CIContext, driver: str) -> list[str]:
    """PLUGIN_BUILDER_DRIVER_OPTS_NEW (else _OPTS), the BuildKit image, the proxies for a container."""
    opts = list(settings.builder_driver_opts_new or settings.builder_driver_opts)
    if settings.buildkit_version:
        opts = [o for o in opts if not o.startswith("image=")] + [f"image={settings.buildkit_version}"]
    if driver == "docker-container":
        opts += [f"env.{name}={value}" for name, value in ctx.proxies.items()]
    return opts


def create_argv(settings: Settings, name: str, driver: str, opts: list[str]) -> list[str]:
    """``docker buildx create --use``: a builder of its own for this run (flags of buildx create)."""
    argv = [DOCKER, "buildx", "create", "--use", f"--name={name}", f"--driver={driver}"]
    argv += [f"--driver-opt={o}" for o in opts]
    if settings.builder_config:
        argv.append(f"--buildkitd-config={settings.builder_config}")
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
    settings: Settings, ctx: CIContext, run: BuildxRun, step_env: dict[str, str]
) -> tuple[list[Step], list[Step]]:
    """Create (and, when both option sets are given, the anchor's fallback create) and the final rm."""
    driver = created_driver(settings)
    if driver is None:
        return [], []
    name = builder_name(settings, run) or run.builder
    first = create_argv(settings, name, driver, driver_opts(settings, ctx, driver))
    create = [Step("builder", tuple(first), env=step_env)]
    if settings.builder_driver_opts_new and settings.builder_driver_opts:
        old = settings.model_copy(update={"builder_driver_opts_new": []})
        fallback = create_argv(settings, name, driver, driver_opts(old, ctx, driver))
        create = [Step("builder", tuple(first), env=step_env, allow_failure=True)]
        create.append(Step("builder-fallback", tuple(fallback), env=step_env))
    remove = Step("builder-rm", (DOCKER, "buildx", "rm", name), env=step_env, allow_failure=True)
    return create, [remove]


def _tar_steps(
    settings: Settings,
    ctx: CIContext,
    *,
    env: Mapping[str, str],
    destinations: list[str],
    run: BuildxRun,
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
    export = BuildxRun(run.docker_config, run.ssh_key_path, f"{run.metadata_file}.export", run.builder)
    out = [f"--output=type={fmt},dest={settings.tar_path}"]
    argv = build_argv(settings, ctx, env, destinations, export, output=out, now=now)
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
    create, remove = _builder_steps(settings, ctx, run, step_env)
    build_env = {
        **build_arg_env(settings, ctx, env),  # bare --build-arg NAME values: env, never argv
        **step_env,
        "BUILDKIT_PROGRESS": env.get("BUILDKIT_PROGRESS") or "plain",
    }
    build = Step("build", tuple(build_argv(settings, ctx, env, destinations, run, now=now)), env=build_env)
    tar = _tar_steps(settings, ctx, env=env, destinations=destinations, run=run, step_env=build_env, now=now)
    plan.steps += [*create, build, *tar, *remove]
    return plan


def _explicit(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())


def buildx_problems(settings: Settings) -> list[Problem]:
    """Settings this builder refuses, each naming its variable (see docs/buildx.md)."""
    problems: list[Problem] = []
    if settings.bake_file:
        problems.append(Problem("PLUGIN_BAKE_FILE", settings.bake_file, "not supported: see docs/buildx.md"))
    if settings.bake_options:
        options = ";".join(settings.bake_options)
        problems.append(Problem("PLUGIN_BAKE_OPTIONS", options, "not supported: see docs/buildx.md"))
    if settings.buildkit_inherit_auth:
        problems.append(
            Problem(
                "PLUGIN_BUILDKIT_INHERIT_AUTH",
                "true",
                "not supported: it would put AWS credentials on the buildx command line (see docs/buildx.md)",
            )
        )
    fmt = settings.buildx_output_format
    if fmt and fmt not in OUTPUT_FORMATS:
        problems.append(Problem("PLUGIN_BUILDX_OUTPUT_FORMAT", fmt, f"one of {', '.join(OUTPUT_FORMATS)}"))
    if created_driver(settings) == "remote" and not settings.builder_remote_conn:
        problems.append(
            Problem("PLUGIN_BUILDER_REMOTE_CONN", None, "the BuildKit endpoint (required with driver remote)")
        )
    return problems


def _unused(variable: str, hint: str) -> tuple[str, dict[str, Any]]:
    return ("buildx.setting_not_used", {"variable": variable, "hint": hint})


def _builder_warnings(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """Builder settings that only a created builder reads."""
    out: list[tuple[str, dict[str, Any]]] = []
    if created_driver(settings) is None:
        for variable, value in (
            ("PLUGIN_BUILDER_CONFIG", settings.builder_config),
            ("PLUGIN_BUILDER_DRIVER_OPTS", settings.builder_driver_opts),
            ("PLUGIN_BUILDER_DRIVER_OPTS_NEW", settings.builder_driver_opts_new),
            ("PLUGIN_BUILDKIT_VERSION", settings.buildkit_version),
            ("PLUGIN_BUILDKIT_TLS_HANDSHAKE_TIMEOUT", settings.buildkit_tls_handshake_timeout),
            ("PLUGIN_BUILDKIT_RESPONSE_HEADER_TIMEOUT", settings.buildkit_response_header_timeout),
        ):
            if value:
                out.append(_unused(variable, "only used when a builder is created (PLUGIN_BUILDER_DRIVER)"))
    if settings.builder_remote_conn and created_driver(settings) != "remote":
        out.append(_unused("PLUGIN_BUILDER_REMOTE_CONN", "only with PLUGIN_BUILDER_DRIVER=remote"))
    return out


def buildx_warnings(settings: Settings, env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Settings that are valid but do nothing with this builder: each is named, never silently dropped."""
    out = _builder_warnings(settings)
    checks = (
        ("PLUGIN_CACHE_METRICS_FILE", bool(settings.cache_metrics_file), "cache metrics are not written"),
        (
            "PLUGIN_USE_LOADED_BUILDKIT",
            _explicit(env, "PLUGIN_USE_LOADED_BUILDKIT") and settings.use_loaded_buildkit,
            "this image ships no buildkit.tar; a container builder pulls its BuildKit image",
        ),
        ("PLUGIN_BUILDKIT_ASSETS_DIR", bool(settings.buildkit_assets_dir), "no buildkit.tar in this image"),
        ("PLUGIN_SQUASH", settings.squash, "docker build only; buildx build has no such flag"),
        ("PLUGIN_COMPRESS", settings.compress, "docker build only; buildx build has no such flag"),
        (
            "PLUGIN_BUILDX_LOAD",
            settings.buildx_load and not settings.no_push,
            "only with PLUGIN_NO_PUSH: a pushed build is not loaded",
        ),
        (
            "PLUGIN_BUILDX_OUTPUT_FORMAT",
            bool(settings.buildx_output_format) and not settings.tar_path,
            "only with PLUGIN_TAR_PATH",
        ),
        (
            "PLUGIN_PLATFORM",
            "," in (settings.platform or "") and created_driver(settings) is None,
            "a platform list needs PLUGIN_BUILDER_DRIVER=docker-container (or an engine with the "
            "containerd image store); the docker driver refuses it",
        ),
    )
    return out + [_unused(variable, hint) for variable, hit, hint in checks if hit]

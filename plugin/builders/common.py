"""What every builder shares: build arguments (plain, from env, proxies) and labels."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from plugin.builders.oci_labels import annotation_values, as_args, label_values
from plugin.ci.context import CIContext
from plugin.config.settings import Settings
from plugin.core.log import REDACTOR
from plugin.target.destinations import Target


def _arg_key(arg: str) -> str:
    return arg.split("=", 1)[0].strip().lower()


def from_env_names(name: str) -> list[str]:
    """The build-arg names one PLUGIN_BUILD_ARGS_FROM_ENV entry gives: as written, then upper-cased.

    plugins/ecr and buildx-ecr pass both (``MyVar`` and ``MYVAR``), so a Dockerfile's ``ARG MyVar`` and
    ``ARG MYVAR`` both get the value; an all-upper name is passed once.
    """
    return list(dict.fromkeys((name, name.upper())))


def from_env_value(name: str, env: Mapping[str, str]) -> str | None:
    """The value of a PLUGIN_BUILD_ARGS_FROM_ENV entry: from ``name``, ``NAME``, then ``HARNESS_NAME``."""
    for candidate in (name, name.upper(), f"HARNESS_{name.upper()}"):
        if env.get(candidate):
            return env[candidate]
    return None


def _register_proxy_password(url: str) -> None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return
    REDACTOR.add(password)


def _env_values(settings: Settings, ctx: CIContext, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(NAME, value) of every build argument whose value comes from the environment, in argv order:
    PLUGIN_BUILD_ARGS_FROM_ENV, then the proxies that no build argument already sets.

    Values taken from the environment are registered as secrets: they often carry tokens.
    """
    out: list[tuple[str, str]] = []
    user_keys = {arg.split("=", 1)[0].strip() for arg in settings.effective_build_args()}
    for name in settings.build_args_from_env:
        value = from_env_value(name, env)
        if value is None or user_keys & {name, name.upper(), f"HARNESS_{name.upper()}"}:
            continue  # unset, or the user's own PLUGIN_BUILD_ARGS entry wins (as with the anchors)
        REDACTOR.add(value)
        out += [(key, value) for key in from_env_names(name)]
    given = {key.lower() for key in user_keys} | {key.lower() for key, _ in out}
    for name, value in ctx.proxies.items():
        if name in given:
            continue
        _register_proxy_password(value)
        out += [(name, value), (name.upper(), value)]
    return out


def build_args(settings: Settings, ctx: CIContext, env: Mapping[str, str]) -> list[str]:
    """``--build-arg`` values: the user's KEY=VALUE, then a bare NAME for each value taken from the
    environment (PLUGIN_BUILD_ARGS_FROM_ENV, proxies). docker, buildx and kaniko read a bare NAME's
    value from their own environment (``build_arg_env``), so those values, which often carry tokens or
    proxy passwords, never appear on a command line.
    """
    return settings.effective_build_args() + list(
        dict.fromkeys(name for name, _ in _env_values(settings, ctx, env))
    )


def build_arg_env(settings: Settings, ctx: CIContext, env: Mapping[str, str]) -> dict[str, str]:
    """The builder's environment for the bare ``--build-arg NAME`` entries of ``build_args``."""
    return dict(_env_values(settings, ctx, env))


def labels(
    settings: Settings,
    ctx: CIContext,
    builder: str,
    now: datetime | None = None,
    target: Target | None = None,
) -> list[str]:
    """Auto labels (docker/buildx), PLUGIN_OCI_LABELS, PLUGIN_LABEL_SCHEMA, then PLUGIN_CUSTOM_LABELS;
    one value per key, the user's winning (plugin.builders.oci_labels)."""
    repository, tags = (target.repository, target.tags) if target else ("", ())
    return as_args(label_values(settings, ctx, builder, repository=repository, tags=tags, now=now))


def annotation_args(
    settings: Settings, ctx: CIContext, now: datetime | None = None, target: Target | None = None
) -> list[str]:
    """PLUGIN_OCI_ANNOTATIONS' keys and PLUGIN_ANNOTATIONS (which win), for ``--annotation``."""
    repository, tags = (target.repository, target.tags) if target else ("", ())
    return as_args(annotation_values(settings, ctx, repository=repository, tags=tags, now=now))


def source_date_args(settings: Settings, ctx: CIContext) -> list[str]:
    """The SOURCE_DATE_EPOCH build argument, when the build has a source date (plugin.target.sourcedate) and
    PLUGIN_BUILD_ARGS does not already set it."""
    given = {_arg_key(arg) for arg in settings.effective_build_args()}
    if ctx.source_date is None or "source_date_epoch" in given:
        return []
    return [f"SOURCE_DATE_EPOCH={ctx.source_date}"]


def secret_flags(settings: Settings, *, typed: bool = False) -> list[str]:
    """``--secret`` of PLUGIN_SECRET, PLUGIN_SECRETS_FROM_ENV and PLUGIN_SECRETS_FROM_FILE: ids and where
    each value is (an env name or a file path), never the value. ``typed`` adds ``type=env|file``
    (kaniko's syntax; BuildKit's takes it from the key)."""
    env_type, file_type = (",type=env", ",type=file") if typed else ("", "")
    out = [f"--secret={settings.secret}"] if settings.secret else []
    for item in settings.secrets_from_env:
        ident, _, name = item.partition("=")
        out.append(f"--secret=id={ident.strip()},env={name.strip()}{env_type}")
    for item in settings.secrets_from_file:
        ident, _, path = item.partition("=")
        out.append(f"--secret=id={ident.strip()},src={path.strip()}{file_type}")
    return out


def secret_args(settings: Settings, ssh_key_path: str) -> list[str]:
    """BuildKit secrets (spec, from env, from file) and the SSH key file: names and paths, never values."""
    out = secret_flags(settings)
    if settings.ssh_agent_key:
        out.append(f"--ssh=default={ssh_key_path}")
    return out

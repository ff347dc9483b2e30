"""What a created BuildKit builder is given besides flags: its buildkitd.toml and, optionally, its image.

buildkitd.toml: BuildKit does not read dockerd's ``--insecure-registry`` or ``--registry-mirror``, so
the plugin writes those settings as ``[registry."<host>"]`` tables itself (PLUGIN_INSECURE,
PLUGIN_INSECURE_REGISTRY, PLUGIN_MIRROR, PLUGIN_REGISTRY_MIRRORS, HARNESS_CA_PATH), merged under the
user's PLUGIN_BUILDER_CONFIG (the user's keys win). buildx copies the file (and any CA file it names)
into the builder. Registry *credentials* never go here: buildx hands BuildKit the logins of the
per-run Docker config for each build.

The BuildKit image: as buildx-ecr does, a ``buildkit.tar`` with a ``version.json`` naming the image
(``{"buildkit_version": "<image>"}``) in PLUGIN_BUILDKIT_ASSETS_DIR (default /buildkit) is loaded into
the engine, so the docker-container driver needs no registry to start.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from plugin.ci.context import CIContext
from plugin.config.hosts import strip_scheme
from plugin.config.settings import Settings
from plugin.core.errors import ConfigError
from plugin.target.destinations import Target

DOCKER_HUB = "docker.io"
DEFAULT_ASSETS_DIR = "/buildkit"
CONFIG_VARIABLE = "PLUGIN_BUILDER_CONFIG"
# Drivers whose daemon buildx starts, so that --buildkitd-config reaches it.
CONFIGURABLE_DRIVERS = ("docker-container", "kubernetes")


# -- registry tables -------------------------------------------------------------------------------


def _mirror(value: str) -> tuple[str, bool]:
    """``https://mirror.example/path`` -> (``mirror.example/path``, plain HTTP?)."""
    return strip_scheme(value), value.strip().lower().startswith("http://")


def registry_tables(settings: Settings, target: Target, ctx: CIContext) -> dict[str, dict[str, Any]]:
    """``[registry."<host>"]`` tables from the plugin's settings (empty when none applies).

    ``http = true`` with ``insecure = true`` is BuildKit's equivalent of dockerd's insecure registry:
    HTTPS without certificate checks, falling back to plain HTTP.
    """
    tables: dict[str, dict[str, Any]] = {}

    def entry(host: str) -> dict[str, Any]:
        return tables.setdefault(host, {})

    insecure = list(target.registries) if settings.insecure else []
    for host in insecure + [strip_scheme(h) for h in settings.insecure_registry]:
        entry(host).update(http=True, insecure=True)
    given = [*([settings.mirror] if settings.mirror else []), *settings.registry_mirrors]
    mirrors = list(dict.fromkeys(_mirror(m) for m in given))
    if mirrors:
        entry(DOCKER_HUB)["mirrors"] = [host for host, _ in mirrors]
        for host, plain in mirrors:
            if plain:
                entry(host.split("/", 1)[0])["http"] = True
    if ctx.ca_path:
        base = [strip_scheme(settings.base_registry)] if settings.base_registry else []
        for host in [*target.registries, *base, DOCKER_HUB, *(h.split("/", 1)[0] for h, _ in mirrors)]:
            entry(host)["ca"] = [ctx.ca_path]
    return tables


def generated_config(settings: Settings, target: Target, ctx: CIContext) -> dict[str, Any]:
    """The buildkitd.toml content the plugin contributes (``{}`` when nothing applies)."""
    tables = registry_tables(settings, target, ctx)
    return {"registry": tables} if tables else {}


def merge(lower: Mapping[str, Any], upper: Mapping[str, Any]) -> dict[str, Any]:
    """``upper`` wins; tables are merged key by key, at every depth."""
    out = dict(lower)
    for key, value in upper.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_user_config(path: str) -> dict[str, Any]:
    """PLUGIN_BUILDER_CONFIG as TOML; a missing or invalid file is a configuration error (exit 2)."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError.single(
            CONFIG_VARIABLE, path, f"a readable buildkitd TOML file ({exc.strerror})"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError.single(CONFIG_VARIABLE, path, f"a valid buildkitd TOML file ({exc})") from None


def buildkitd_toml(settings: Settings, target: Target, ctx: CIContext) -> str:
    """The file the builder gets: the generated tables, under the user's PLUGIN_BUILDER_CONFIG."""
    user = load_user_config(settings.builder_config) if settings.builder_config else {}
    header = (
        "# buildkitd.toml written by build-push-ecr (generated registry tables < PLUGIN_BUILDER_CONFIG)\n"
    )
    return header + dumps(merge(generated_config(settings, target, ctx), user))


# -- TOML ------------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's; DEL must be escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return None


def _value(value: Any) -> str:
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _write_table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any], header: str) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping) and not _table_array(v)]
    nested = [(k, v) for k, v in table.items() if isinstance(v, Mapping) or _table_array(v)]
    if header and (scalars or not nested or header.startswith("[[")):
        lines += ["", header] if lines else [header]
    lines += [f"{_key(k)} = {_value(v)}" for k, v in scalars]
    for key, value in nested:
        sub = (*path, key)
        dotted = ".".join(_key(k) for k in sub)
        if isinstance(value, Mapping):
            _write_table(lines, sub, value, f"[{dotted}]")
        else:
            for item in value:
                _write_table(lines, sub, item, f"[[{dotted}]]")


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text for ``data`` as tomllib returns it (tables, arrays of tables, scalars, dates)."""
    lines: list[str] = []
    _write_table(lines, (), data, "")
    return "\n".join(lines) + "\n" if lines else ""


# -- the loaded BuildKit image ---------------------------------------------------------------------


def assets_dir(settings: Settings) -> Path:
    return Path(settings.buildkit_assets_dir or DEFAULT_ASSETS_DIR)


def loaded_buildkit(settings: Settings) -> tuple[Path, str] | None:
    """(buildkit.tar, its image name) when the assets directory holds both and loading is on."""
    if not settings.use_loaded_buildkit:
        return None
    folder = assets_dir(settings)
    tarball, version = folder / "buildkit.tar", folder / "version.json"
    try:
        image = json.loads(version.read_text(encoding="utf-8")).get("buildkit_version")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(image, str) or not image.strip() or not tarball.is_file():
        return None
    return tarball, image.strip()

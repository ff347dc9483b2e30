"""A per-run Docker config directory: existing config < PLUGIN_CONFIG < registry logins, written atomically.

Credentials go into ``config.json`` (mode 0600, directory 0700) and never onto an argv
(no ``docker login -p``). Every password written is registered with the Redactor first.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plugin.core.atomic import write_atomic
from plugin.core.errors import ConfigError, RunError
from plugin.core.files import parse_json, read_text
from plugin.core.log import REDACTOR, get_logger

log = get_logger("plugin.registry.dockerconfig")
CONFIG_VARIABLE = "PLUGIN_CONFIG"
# The docker CLI keys Docker Hub credentials by this v1 URL, whatever name the user gave.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v2/", DOCKER_HUB_KEY}
)

JsonObject = dict[str, Any]


def auth_key(host: str) -> str:
    """The ``auths`` key the docker CLI looks up for a registry host."""
    return DOCKER_HUB_KEY if host in _HUB_ALIASES else host


def encode_auth(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def _config_where(base: str) -> tuple[str, str]:
    """PLUGIN_CONFIG's JSON text and where it came from: inline JSON (``{`` or ``[``), else a file."""
    text = base.strip()
    if text.startswith(("{", "[")):
        return text, "inline JSON"
    # The value may be mistyped JSON holding credentials: never shown, not even as a path.
    data = read_text(text, CONFIG_VARIABLE, what="a Docker config JSON object or a readable file", shown=None)
    return data, f"file {text}"  # it is a file: the value is a path, not mistyped credentials


def load_base(base: str) -> JsonObject:
    """PLUGIN_CONFIG: inline JSON when it starts with ``{`` (or ``[``), else the path of a JSON file."""
    text, where = _config_where(base)
    data = parse_json(text, CONFIG_VARIABLE, where=where, shown=None)
    if not isinstance(data, dict):
        raise ConfigError.single(
            CONFIG_VARIABLE, None, f"a JSON object ({where} holds a {type(data).__name__})"
        )
    return data


def existing_config(env: Mapping[str, str]) -> tuple[Path, str] | None:
    """The user's Docker config to merge (DOCKER_CONFIG, /kaniko/.docker, ~/.docker) and what names it."""
    for variable, folder in (
        ("DOCKER_CONFIG", env.get("DOCKER_CONFIG")),
        ("/kaniko/.docker/config.json", "/kaniko/.docker"),
        ("~/.docker/config.json", os.path.expanduser("~/.docker")),
    ):
        if folder and os.path.lexists(os.path.join(folder, "config.json")):
            return Path(folder) / "config.json", variable
    return None


def load_existing(path: Path, variable: str = "DOCKER_CONFIG") -> JsonObject:
    """The user's Docker config as a JSON object; a bad one is a ConfigError naming ``variable``."""
    shown = str(path)
    text = read_text(shown, variable, what="a readable Docker config file", shown=shown)
    data = parse_json(text, variable, where=shown, shown=shown)
    if not isinstance(data, dict):
        raise ConfigError.single(variable, shown, f"a JSON object ({shown} holds a {type(data).__name__})")
    return data


def merge(lower: JsonObject, upper: JsonObject) -> JsonObject:
    """``upper`` wins; object values (``auths``, ``credHelpers``, ...) are merged one level deep."""
    out = dict(lower)
    for key, value in upper.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _register_secrets(config: JsonObject) -> None:
    """Mask every credential the config holds: auth strings, their passwords, identity tokens."""
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return
    for entry in auths.values():
        if not isinstance(entry, dict):
            continue
        REDACTOR.add(entry.get("password"), entry.get("identitytoken"), entry.get("registrytoken"))
        auth = entry.get("auth")
        if isinstance(auth, str) and auth:
            REDACTOR.add(auth)
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                REDACTOR.add(base64.b64decode(auth, validate=True).decode().partition(":")[2])


def _let_logins_win(config: JsonObject, hosts: set[str]) -> None:
    """A credential store or helper would be asked instead of our logins: drop those for our hosts.

    ``credsStore`` applies to every registry (and names a helper the plugin's image rarely has), so it
    is dropped whenever the plugin logs in anywhere; ``credHelpers`` entries go for our hosts only.
    """
    if hosts and config.pop("credsStore", None) is not None:
        log.warning("dockerconfig.creds_store_dropped", reason="it would hide the ECR login")
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for host in hosts & set(helpers):
            del helpers[host]
            log.info("dockerconfig.cred_helper_dropped", registry=host)


def _keep_cli_plugins(config: JsonObject, folder: Path) -> None:
    """CLI plugins (docker-buildx) installed in the user's config directory stay visible to the docker
    CLI through ``cliPluginsExtraDirs`` once DOCKER_CONFIG points at the per-run directory."""
    if not folder.is_dir():
        return
    extra = config.get("cliPluginsExtraDirs")
    dirs = [str(d) for d in extra] if isinstance(extra, list) else []
    config["cliPluginsExtraDirs"] = list(dict.fromkeys([*dirs, str(folder)]))


def write_docker_config(
    config_dir: Path,
    auths: dict[str, tuple[str, str]],
    base: str | None = None,
    existing: Path | None = None,
) -> Path:
    """Write ``config_dir/config.json`` and return its path; point ``DOCKER_CONFIG`` at ``config_dir``.

    Merge order: the ``existing`` config file (if present) < ``base`` (PLUGIN_CONFIG) < ``auths``
    (registry host -> (username, password)).
    """
    for username, password in auths.values():
        REDACTOR.add(password, encode_auth(username, password))
    config = load_existing(existing) if existing is not None and existing.exists() else {}
    if existing is not None:
        _keep_cli_plugins(config, existing.parent / "cli-plugins")
    if base:
        config = merge(config, load_base(base))
    logins = {auth_key(host): {"auth": encode_auth(u, p)} for host, (u, p) in auths.items()}
    config = merge(config, {"auths": logins})
    config.setdefault("auths", {})
    _let_logins_win(config, set(logins))
    _register_secrets(config)
    try:
        config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(config_dir, 0o700)
        path = config_dir / "config.json"
        write_atomic(path, (json.dumps(config, indent="\t") + "\n").encode(), 0o600)
    except OSError as err:
        raise RunError(f"cannot write the Docker config in {config_dir}: {err.strerror or err}") from err
    return path

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
import tempfile
from pathlib import Path
from typing import Any

from plugin.errors import ConfigError, RunError
from plugin.log import REDACTOR, get_logger

log = get_logger("plugin.dockerconfig")
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


def _load_base(base: str) -> JsonObject:
    """PLUGIN_CONFIG: inline JSON when it starts with ``{``, else the path of a JSON file."""
    text = base.strip()
    if text.startswith("{"):
        where = "inline JSON"
    else:
        where = f"file {text}"
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError.single(
                CONFIG_VARIABLE, None, f"a Docker config JSON object or a readable file ({err.strerror})"
            ) from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        # The value may hold credentials: name the position only, never the text.
        expected = f"valid JSON ({where}: {err.msg} at line {err.lineno} column {err.colno})"
        raise ConfigError.single(CONFIG_VARIABLE, None, expected) from None
    if not isinstance(data, dict):
        raise ConfigError.single(
            CONFIG_VARIABLE, None, f"a JSON object ({where} holds a {type(data).__name__})"
        )
    return data


def _load_existing(path: Path) -> JsonObject:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as err:
        raise RunError(f"cannot read the Docker config {path}: {err}") from None
    if not isinstance(data, dict):
        raise RunError(f"cannot read the Docker config {path}: not a JSON object")
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


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    config = _load_existing(existing) if existing is not None else {}
    if existing is not None:
        _keep_cli_plugins(config, existing.parent / "cli-plugins")
    if base:
        config = merge(config, _load_base(base))
    logins = {auth_key(host): {"auth": encode_auth(u, p)} for host, (u, p) in auths.items()}
    config = merge(config, {"auths": logins})
    config.setdefault("auths", {})
    _let_logins_win(config, set(logins))
    _register_secrets(config)
    try:
        config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(config_dir, 0o700)
        path = config_dir / "config.json"
        _write_atomic(path, (json.dumps(config, indent="\t") + "\n").encode(), 0o600)
    except OSError as err:
        raise RunError(f"cannot write the Docker config in {config_dir}: {err.strerror or err}") from err
    return path

"""cosign signing by digest after the push, the same for every builder (plugins/ecr's PLUGIN_COSIGN_*).

- The key (PLUGIN_COSIGN_PRIVATE_KEY: PEM text, or a path to the file) and its password reach cosign
  through its environment only (``--key env://COSIGN_PRIVATE_KEY``, ``COSIGN_PASSWORD``), never argv.
  The key's form is checked with the other local inputs (exit 2, also for ``plan``); before any AWS
  call a run asks cosign for the public key, which proves the password (exit 2 naming it) and that
  cosign is there.
- After the push, ``cosign sign --yes --key env://COSIGN_PRIVATE_KEY [flags] <registry>/<repo>@<digest>``
  runs once per registry (not per tag: the signature belongs to the digest), with the run's Docker
  config for the registry login. A registry that PLUGIN_INSECURE / PLUGIN_INSECURE_REGISTRY /
  PLUGIN_SKIP_TLS_VERIFY mark gets cosign's --allow-insecure-registry (and --allow-http-registry);
  loopback registries need nothing (cosign falls back to plain HTTP there by itself).
- A failed signature fails the run (exit 1); the message says that the image was pushed, unsigned,
  and, as with every failed run, no outputs are written. Signed, the outputs name the signature.

cosign 2.x uploads every signature to the public Rekor log by default; the plugin keeps that default
(plugins/ecr's, and what ``cosign verify`` expects). ``PLUGIN_COSIGN_PARAMS=--tlog-upload=false``
keeps signatures private. Keyless signing (Fulcio/Rekor and an OIDC identity) is not offered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from plugin.config.cosign import KEY_VARIABLE, PARAMS_VARIABLE, PASSWORD_VARIABLE, enabled, params
from plugin.core.errors import ConfigError, RunError
from plugin.core.files import read_text
from plugin.core.log import MASK, REDACTOR, get_logger
from plugin.exec.steps import Step

if TYPE_CHECKING:
    from plugin.config.settings import Settings
    from plugin.exec.runner import Runner
    from plugin.target.destinations import Target

log = get_logger("plugin.run.signing")
KANIKO_COSIGN = "/kaniko/cosign"  # Dockerfile.kaniko: cosign on the relocated glibc under /kaniko
KEY_REF = "env://COSIGN_PRIVATE_KEY"
KEY_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_KEY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class SigningKey:
    """The key's PEM text (never printed) and where it came from (the variable, or the file)."""

    pem: str = field(repr=False)
    source: str


@dataclass(frozen=True)
class Signature:
    """One registry's signature: the image signed (by digest), cosign's ``.sig`` reference, and the
    digest of that signature manifest when the registry says it."""

    image: str
    reference: str
    digest: str | None = None

    def as_output(self) -> dict[str, str]:
        out = {"image": self.image, "signature": self.reference}
        return out | ({"digest": self.digest} if self.digest else {})


# -- the key ------------------------------------------------------------------------------------------


def _check_pem(text: str, variable: str, shown: str) -> None:
    match = _PEM.search(text)
    if match is None:
        hint = "" if "\n" in text or os.path.exists(text) else " (or a path to a file holding it)"
        raise ConfigError.single(variable, shown, f"a cosign private key in PEM form{hint}")
    kind = match[1]
    if kind not in KEY_TYPES:
        raise ConfigError.single(
            variable,
            shown,
            f"an encrypted cosign key (-----BEGIN {KEY_TYPES[0]}-----, from cosign generate-key-pair), "
            f"not {kind}; cosign import-key-pair --key <file> converts a PEM key",
        )
    try:
        document = json.loads(base64.b64decode("".join(match[2].split()), validate=True))
    except (binascii.Error, ValueError):
        document = None
    if not isinstance(document, dict) or not {"kdf", "cipher", "ciphertext"} <= set(document):
        raise ConfigError.single(
            variable, shown, "a cosign key whose body is cosign's (kdf, cipher, ciphertext)"
        )


def load_key(settings: Settings) -> SigningKey | None:
    """The key's text (from the variable, or the file it names), checked; None when not set."""
    if not enabled(settings):
        return None
    assert settings.cosign_private_key is not None  # noqa: S101 - enabled() checked it
    value = settings.cosign_private_key.get_secret_value().strip()
    if "\n" not in value and "\\n" in value:  # a key stored with its newlines escaped
        value = value.replace("\\n", "\n").strip()
        REDACTOR.add(value)
    if "-----BEGIN" in value:
        _check_pem(value, KEY_VARIABLE, MASK)
        return SigningKey(value, KEY_VARIABLE)
    text = read_text(value, KEY_VARIABLE, what="a cosign key file", limit=_KEY_LIMIT)
    REDACTOR.add(text.strip())
    _check_pem(text, KEY_VARIABLE, value)
    return SigningKey(text.strip(), value)


# -- the cosign command ---------------------------------------------------------------------------------


def cosign_binary(env: Mapping[str, str]) -> str | None:
    """``/kaniko/cosign`` in the kaniko image, else ``cosign`` on PATH."""
    if os.path.isfile(KANIKO_COSIGN) and os.access(KANIKO_COSIGN, os.X_OK):
        return KANIKO_COSIGN
    return shutil.which("cosign", path=env.get("PATH") or os.defpath)


def insecure_flags(settings: Settings, host: str) -> list[str]:
    """cosign's flags for a registry the user marked insecure; none for loopback or TLS registries."""
    from plugin.registry.api import is_loopback  # noqa: PLC0415 - the registry client, when signing only

    if is_loopback(host):
        return []
    flags = []
    if settings.insecure or host in settings.insecure_registry or settings.skip_tls_verify:
        flags.append("--allow-insecure-registry")
    if settings.insecure or host in settings.insecure_registry:
        flags.append("--allow-http-registry")
    return [f for f in flags if not any(p.split("=", 1)[0] == f for p in params(settings))]


def signature_tag(digest: str) -> str:
    """cosign's tag for the signatures of ``digest``: ``sha256-<hex>.sig``."""
    return digest.replace(":", "-", 1) + ".sig"


def sign_step(settings: Settings, binary: str, host: str, image: str, env: dict[str, str]) -> Step:
    argv = (
        binary,
        "sign",
        "--yes",
        f"--key={KEY_REF}",
        *insecure_flags(settings, host),
        *params(settings),
        image,
    )
    return Step("sign", argv, env=env)


def cosign_env(key: SigningKey, settings: Settings, docker_config: Path, run_dir: Path) -> dict[str, str]:
    """The key, its password (empty for a key made without one), the run's Docker config, and a
    sigstore cache inside the run directory (kaniko keeps it under /kaniko)."""
    password = settings.cosign_password.get_secret_value() if settings.cosign_password else ""
    return {
        "COSIGN_PRIVATE_KEY": key.pem,
        "COSIGN_PASSWORD": password,
        "DOCKER_CONFIG": str(docker_config),
        "TUF_ROOT": str(run_dir / "sigstore"),
    }


def plan_steps(settings: Settings, target: Target, env: Mapping[str, str], docker_config: str) -> list[Step]:
    """What ``plan`` shows: one sign step per registry, the digest still unknown."""
    if not enabled(settings) or settings.no_push:
        return []
    binary = cosign_binary(env) or "cosign"
    secrets = {"COSIGN_PRIVATE_KEY": MASK, "COSIGN_PASSWORD": MASK, "DOCKER_CONFIG": docker_config}
    return [
        sign_step(settings, binary, host, f"{host}/{target.repository}@<digest>", secrets)
        for host in target.registries or ("<registry>",)
    ]


def _last_line(runner: Runner) -> str:
    return next((line.strip() for line in reversed(runner.last_lines) if line.strip()), "")


def _fingerprint(pem: str) -> str | None:
    match = _PEM.search(pem)
    if match is None:
        return None
    try:
        der = base64.b64decode("".join(match[2].split()), validate=True)
    except binascii.Error:
        return None
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


@dataclass
class Signer:
    """Signs what a run pushed; made (and its key and password proven) before any AWS call."""

    settings: Settings
    key: SigningKey
    binary: str

    def check(self, runner: Runner, run_dir: Path) -> None:
        """``cosign public-key``: cosign runs and the password opens the key (else exit 2 naming it)."""
        public = run_dir / "cosign.pub"
        env = cosign_env(self.key, self.settings, run_dir / "docker-config", run_dir)
        step = Step(
            "sign-check", (self.binary, "public-key", f"--key={KEY_REF}", f"--outfile={public}"), env=env
        )
        status = runner.run(step)
        if status != 0:
            why = _last_line(runner)
            if "decrypt" in why:
                raise ConfigError.single(
                    PASSWORD_VARIABLE,
                    MASK if self.settings.cosign_password else None,
                    f"the password of {KEY_VARIABLE} (cosign could not decrypt the key)",
                )
            raise RunError(
                f"cosign could not read {KEY_VARIABLE} (exit {status})" + (f": {why}" if why else "")
            )
        text = public.read_text(encoding="utf-8") if public.is_file() else ""
        log.info("sign.key", fingerprint=_fingerprint(text), cosign=self.binary)

    def sign(
        self,
        runner: Runner,
        target: Target,
        digest: str,
        auths: Mapping[str, tuple[str, str]],
        docker_config: Path,
    ) -> list[dict[str, str]]:
        """Sign ``<registry>/<repo>@<digest>`` in every registry (the outputs' entries); RunError (exit 1)
        on the first failure. ``docker_config`` is the run's, inside its run directory."""
        env = cosign_env(self.key, self.settings, docker_config, docker_config.parent)
        done: list[Signature] = []
        for host in target.registries:
            image = f"{host}/{target.repository}@{digest}"
            status = runner.run(sign_step(self.settings, self.binary, host, image, env))
            if status != 0:
                raise RunError(_failure(image, status, _last_line(runner), target, done))
            reference = f"{host}/{target.repository}:{signature_tag(digest)}"
            found = _signature_digest(host, target.repository, digest, auths.get(host))
            log.info("sign.signed", image=image, signature=reference, digest=found)
            done.append(Signature(image, reference, found))
        return [s.as_output() for s in done]


def _signature_digest(host: str, repository: str, digest: str, auth: tuple[str, str] | None) -> str | None:
    from plugin.registry.api import manifest_digest  # noqa: PLC0415 - the registry client, when signing only

    try:
        return manifest_digest(host, repository, signature_tag(digest), auth)
    except RunError as exc:  # cosign may not upload (--upload=false), or the registry is not https
        log.debug("sign.signature_not_read", reason=exc.message)
        return None


def _failure(image: str, status: int, why: str, target: Target, done: list[Signature]) -> str:
    pushed = ", ".join(target.destinations())
    message = f"cosign could not sign {image} (exit {status})" + (f": {why}" if why else "")
    message += f". The image itself was pushed ({pushed}) and is NOT signed"
    if done:
        message += f" in this registry (signed in {', '.join(s.image for s in done)})"
    message += "; no outputs were written"
    if "rekor" in why.lower() or "tlog" in why.lower() or "log/entries" in why:
        message += (
            ". cosign uploads signatures to the Rekor transparency log by default: set "
            f"{PARAMS_VARIABLE}=--tlog-upload=false where Rekor cannot be reached or is not wanted"
        )
    return message


def prepare_signer(settings: Settings, env: Mapping[str, str]) -> Signer | None:
    """The signer of a run that pushes and signs: its key read and cosign found (RunError if missing)."""
    if settings.no_push:
        return None
    key = load_key(settings)
    if key is None:
        return None
    binary = cosign_binary(env)
    if binary is None:
        raise RunError(
            f"{KEY_VARIABLE} is set but cosign is not on PATH (nor at {KANIKO_COSIGN}): use the plugin's "
            "image, which ships cosign, or add cosign to yours"
        )
    return Signer(settings, key, binary)

"""HARNESS_CA_PATH: trust a corporate CA (a TLS-intercepting proxy) in every HTTPS client of the run.

The anchor installed the CA into the OS trust store. Here the CA is appended to a copy of the bundle
already in use, and the run points ``SSL_CERT_FILE`` (OpenSSL, Python, and Go programs: dockerd, the
docker CLI, kaniko) and ``AWS_CA_BUNDLE`` (boto3) at that copy; children inherit both. Nothing on the
machine is changed, and the user's own ``SSL_CERT_FILE`` / ``AWS_CA_BUNDLE`` stay part of the bundle.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from plugin.core.errors import ConfigError
from plugin.core.files import read_bytes
from plugin.core.log import get_logger

log = get_logger("plugin.aws.trust")
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
VARIABLE = "HARNESS_CA_PATH"


def base_bundle(env: MutableMapping[str, str]) -> tuple[Path, str]:
    """The bundle in use now, and what named it: the user's SSL_CERT_FILE / AWS_CA_BUNDLE, the system's,
    else botocore's."""
    import ssl  # noqa: PLC0415 - only with HARNESS_CA_PATH (ssl is about 8 ms of the run path)

    candidates = [
        (env.get("SSL_CERT_FILE"), "SSL_CERT_FILE"),
        (env.get("AWS_CA_BUNDLE"), "AWS_CA_BUNDLE"),
        (ssl.get_default_verify_paths().cafile, "the system's CA bundle"),
    ]
    for candidate, source in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate), source
    from botocore.httpsession import DEFAULT_CA_BUNDLE  # noqa: PLC0415 - `plan` never imports botocore

    return Path(DEFAULT_CA_BUNDLE), "botocore's CA bundle"


def load_ca(ca_path: str) -> bytes:
    """HARNESS_CA_PATH's certificates, checked to be PEM that OpenSSL loads (before any network call)."""
    ca = read_bytes(ca_path, VARIABLE, what="a readable PEM file")
    if _PEM_BEGIN not in ca:
        raise ConfigError.single(VARIABLE, ca_path, "a PEM certificate (-----BEGIN CERTIFICATE-----)")
    import ssl  # noqa: PLC0415 - only with HARNESS_CA_PATH (ssl is about 8 ms of the run path)

    try:
        ssl.create_default_context(cadata=ca.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
        why = _ssl_reason(exc)
        raise ConfigError.single(VARIABLE, ca_path, f"PEM certificates OpenSSL can load ({why})") from None
    return ca


def _ssl_reason(exc: Exception) -> str:
    """OpenSSL's own words (its reason code, else its message without the C source position)."""
    if isinstance(exc, UnicodeDecodeError):  # its own .reason ("ordinal not in range") says less
        return "not ASCII text"
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason)
    text = str(exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], str) else exc)
    return text.split(" (_ssl.c:", 1)[0].strip() or type(exc).__name__


def trust_ca(ca_path: str, run_dir: Path, env: MutableMapping[str, str]) -> Path:
    """Write base bundle + the CA into ``run_dir`` and point SSL_CERT_FILE and AWS_CA_BUNDLE at it."""
    ca = load_ca(ca_path)
    base, source = base_bundle(env)
    try:
        bundle_text = base.read_bytes().rstrip(b"\n")
    except OSError as exc:
        if source in ("SSL_CERT_FILE", "AWS_CA_BUNDLE"):
            raise ConfigError.single(source, str(base), f"a readable CA bundle ({exc.strerror})") from None
        raise ConfigError.single(
            VARIABLE, ca_path, f"{source} ({base}) readable, to add the CA to ({exc.strerror})"
        ) from None
    bundle = run_dir / "ca-bundle.pem"
    bundle.write_bytes(bundle_text + b"\n" + ca.strip() + b"\n")
    bundle.chmod(0o644)
    env["SSL_CERT_FILE"] = env["AWS_CA_BUNDLE"] = str(bundle)
    log.info("trust.ca_added", ca=ca_path, bundle=str(bundle))
    return bundle


def trust_from_context(ca_path: str | None, run_dir: Path) -> None:
    """Apply HARNESS_CA_PATH to this process (and so to every child) when it is set; once per run dir."""
    if ca_path and os.environ.get("SSL_CERT_FILE") != str(run_dir / "ca-bundle.pem"):
        trust_ca(ca_path, run_dir, os.environ)

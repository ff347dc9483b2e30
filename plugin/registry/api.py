"""The registry's own view of a pushed image: the manifest digest of a tag, over the registry HTTP API.

ECR and Debian's docker-registry both accept HTTP Basic auth with the credentials of the Docker
config; loopback registries are spoken to over plain HTTP, as the Docker engine does.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from plugin.core.errors import RunError
from plugin.registry.dockerconfig import encode_auth

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def transient_http_error(exc: BaseException) -> bool:
    """A registry answer worth another try: 5xx, 429, a dropped connection, a timeout."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code == 429
    return isinstance(exc, urllib.error.URLError | TimeoutError | ConnectionError)


# Every registry API call: a few quick tries on 5xx, 429, resets and timeouts, then the error itself.
registry_retry = retry(
    retry=retry_if_exception(transient_http_error),
    stop=stop_after_attempt(4),
    wait=wait_random_exponential(multiplier=0.2, max=3),
    reraise=True,
)


def api_base(host: str, repository: str) -> str:
    """``<scheme>://<host>/v2/<repository>``: https, or plain http on loopback as the engine does."""
    scheme = "http" if is_loopback(host) else "https"
    return f"{scheme}://{host}/v2/{repository}"


def auth_headers(auth: tuple[str, str] | None) -> dict[str, str]:
    """HTTP Basic auth with the Docker config's credentials (ECR and docker-registry accept it)."""
    return {"Authorization": f"Basic {encode_auth(*auth)}"} if auth else {}


@registry_retry
def _head(url: str, auth: tuple[str, str] | None) -> str | None:
    headers = {"Accept": MANIFEST_TYPES, **auth_headers(auth)}
    request = urllib.request.Request(url, method="HEAD", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - https, or http on loopback
        digest: str | None = response.headers.get("Docker-Content-Digest")
        return digest


def manifest_digest(host: str, repository: str, tag: str, auth: tuple[str, str] | None) -> str:
    """The digest the registry serves for repository:tag; RunError naming the image otherwise."""
    url = f"{api_base(host, repository)}/manifests/{tag}"
    try:
        digest = _head(url, auth)
    except urllib.error.HTTPError as exc:
        raise RunError(f"registry {host} answered {exc.code} for {repository}:{tag}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise RunError(f"registry {host} cannot be reached for {repository}:{tag}: {exc}") from None
    if not digest:
        raise RunError(f"registry {host} gave no digest for {repository}:{tag}")
    return digest


INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
ATTESTATION = "attestation-manifest"  # vnd.docker.reference.type of BuildKit's attestation manifests


@dataclass(frozen=True)
class Manifest:
    """What a tag points to, as the registry serves it: media type, digest and, for an index, the
    digest of each platform's image manifest (attestation manifests left out)."""

    media_type: str
    digest: str
    platforms: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def platform_of(entry: dict[str, Any]) -> str | None:
    """``os/arch[/variant]`` of an index entry; None for an attestation manifest or no platform."""
    annotations = entry.get("annotations") or {}
    platform = entry.get("platform") or {}
    if annotations.get("vnd.docker.reference.type") == ATTESTATION:
        return None
    parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
    if not parts[0] or not parts[1] or "unknown" in parts[:2]:
        return None
    return "/".join(p for p in parts if p)


@registry_retry
def _get(url: str, auth: tuple[str, str] | None) -> tuple[str, str | None, bytes]:
    headers = {"Accept": MANIFEST_TYPES, **auth_headers(auth)}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - https, or http on loopback
        media_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip()
        return media_type, response.headers.get("Docker-Content-Digest"), response.read()


def manifest(host: str, repository: str, tag: str, auth: tuple[str, str] | None) -> Manifest:
    """The manifest repository:tag points to (GET), with per-platform digests for an index."""
    url = f"{api_base(host, repository)}/manifests/{tag}"
    try:
        media_type, digest, body = _get(url, auth)
    except urllib.error.HTTPError as exc:
        raise RunError(f"registry {host} answered {exc.code} for {repository}:{tag}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise RunError(f"registry {host} cannot be reached for {repository}:{tag}: {exc}") from None
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise RunError(f"registry {host} served no JSON manifest for {repository}:{tag}")
    media_type = media_type or str(document.get("mediaType") or "")
    digest = digest or "sha256:" + hashlib.sha256(body).hexdigest()
    platforms: dict[str, str] = {}
    if media_type in INDEX_TYPES:
        for entry in document.get("manifests") or []:
            name = platform_of(entry)
            if name and entry.get("digest"):
                platforms.setdefault(name, str(entry["digest"]))
    return Manifest(media_type, digest, platforms)

"""The registry's own view of a pushed image: the manifest digest of a tag, over the registry HTTP API.

ECR and Debian's docker-registry both accept HTTP Basic auth with the credentials of the Docker
config; loopback registries are spoken to over plain HTTP, as the Docker engine does.
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.error
import urllib.request

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from plugin.errors import RunError

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


@retry(
    retry=retry_if_exception(transient_http_error),
    stop=stop_after_attempt(4),
    wait=wait_random_exponential(multiplier=0.2, max=3),
    reraise=True,
)
def _head(url: str, auth: tuple[str, str] | None) -> str | None:
    request = urllib.request.Request(url, method="HEAD", headers={"Accept": MANIFEST_TYPES})  # noqa: S310
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - https, or http on loopback
        digest: str | None = response.headers.get("Docker-Content-Digest")
        return digest


def manifest_digest(host: str, repository: str, tag: str, auth: tuple[str, str] | None) -> str:
    """The digest the registry serves for repository:tag; RunError naming the image otherwise."""
    scheme = "http" if is_loopback(host) else "https"
    url = f"{scheme}://{host}/v2/{repository}/manifests/{tag}"
    try:
        digest = _head(url, auth)
    except urllib.error.HTTPError as exc:
        raise RunError(f"registry {host} answered {exc.code} for {repository}:{tag}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise RunError(f"registry {host} cannot be reached for {repository}:{tag}: {exc}") from None
    if not digest:
        raise RunError(f"registry {host} gave no digest for {repository}:{tag}")
    return digest

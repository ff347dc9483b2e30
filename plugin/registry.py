"""The registry's own view of a pushed image: the manifest digest of a tag, over the registry HTTP API.

ECR and Debian's docker-registry both accept HTTP Basic auth with the credentials of the Docker
config; loopback registries are spoken to over plain HTTP, as the Docker engine does.
"""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from plugin.dockerconfig import encode_auth
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

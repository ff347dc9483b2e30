"""Session fixtures for real services on loopback: a test dockerd and an htpasswd-protected registry.

Each is started in a temp dir, waited for with a bound, and always torn down. When a binary is
missing the tests that need it are skipped with the reason, except in CI (``CI`` set), where a
missing binary is a failure: CI must install what the tests need (``scripts/install-deps.sh``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from plugin.exec.mounts import unmount_all
from tests.support.stack import ServiceError, running_dockerd, running_registry
from tests.support.stack import wait_for as stack_wait_for

DOCKERD = "dockerd"
REGISTRY = "/usr/bin/docker-registry"
HTPASSWD = "htpasswd"
ECR_USER = "AWS"
ECR_PASSWORD = "123456789012-auth-token"  # what moto's ECR token decodes to


def in_ci() -> bool:
    """CI=true (any value but empty, 0, false or no): a missing part of a test fails, never skips."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(*programs: str, root: bool = False) -> None:
    """Skip (outside CI) or fail (in CI) when a program is missing or root is needed.

    Programs are looked up on PATH and in the sbin folders (debootstrap and dockerd live there, and a
    non-login root shell may not have them on PATH).
    """
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    missing = [p for p in programs if shutil.which(p, path=search) is None]
    why = ""
    if missing:
        why = f"missing {', '.join(missing)} (run scripts/install-deps.sh)"
    elif root and os.geteuid() != 0:
        why = "needs root"
    if not why:
        return
    if in_ci():
        pytest.fail(f"CI: {why}", pytrace=False)
    pytest.skip(why)


def wait_for(
    check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[bytes], log: Path
) -> None:
    """stack.wait_for as a test failure (with the service log) rather than an exception."""
    try:
        stack_wait_for(check, what, proc, log, timeout)
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)


def unmount_below(root: str) -> None:
    """Unmount what dockerd left below ``root`` (``<exec-root>/netns/default``): the plugin's own code."""
    unmount_all(root)


# -- dockerd ------------------------------------------------------------------------------------


def short_tempdir(prefix: str) -> str:
    """A temp dir in /tmp: pytest's tmp paths can exceed the 107-byte unix socket path limit."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


@pytest.fixture(scope="session")
def dockerd_engine() -> Iterator[str]:
    """A test dockerd (no bridge, no iptables); yields its DOCKER_HOST. RUN steps need --network host."""
    require(DOCKERD, root=True)
    base = Path(short_tempdir("t-dockerd-"))
    try:
        with running_dockerd(base) as host:
            yield host
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    """A running registry with basic auth; helpers read it through the HTTP API."""

    host: str
    username: str
    password: str

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _get(self, path: str, timeout: float = 10, **headers: str) -> requests.Response:
        return requests.get(
            f"{self.url}{path}", auth=(self.username, self.password), headers=headers, timeout=timeout
        )

    def manifest_response(self, repository: str, reference: str, accept: str) -> requests.Response:
        """The registry's answer to a GET of ``repository:reference``'s manifest (any status)."""
        return self._get(f"/v2/{repository}/manifests/{reference}", timeout=20, Accept=accept)

    def tags(self, repository: str) -> list[str]:
        """The repository's tags, sorted ([] if the repository does not exist)."""
        response = self._get(f"/v2/{repository}/tags/list")
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return sorted(response.json().get("tags") or [])

    def digest(self, repository: str, reference: str) -> str | None:
        """The manifest digest of ``repository:reference`` (None if absent)."""
        accept = ", ".join(
            [
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.index.v1+json",
            ]
        )
        response = self.manifest_response(repository, reference, accept)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.headers.get("Docker-Content-Digest")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Debian's docker-registry on 127.0.0.1:<free port> with htpasswd user AWS (the moto ECR token)."""
    require(REGISTRY, HTPASSWD)
    try:
        with running_registry(tmp_path_factory.mktemp("registry"), ECR_USER, ECR_PASSWORD) as proc:
            yield Registry(host=proc.host, username=proc.username, password=proc.password)
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)

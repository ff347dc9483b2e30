"""Registry logins in the Docker config format (``{"auths": {host: {"auth": base64(user:password)}}}``).

Tools the tests run themselves (skopeo, cosign) get their credentials from such a file, never on their
command line: the tests that prove no secret is on any process's argv scan every /proc/*/cmdline on the
machine, which includes other test runs' tools.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

Logins = Mapping[str, tuple[str, str]]  # registry host -> (username, password)


def docker_config_json(logins: Logins) -> str:
    """The Docker config document holding ``logins``."""
    auths = {
        host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        for host, (user, password) in logins.items()
    }
    return json.dumps({"auths": auths})


@contextmanager
def auth_file(logins: Logins) -> Iterator[Path]:
    """A temporary auth file (mode 0600) with ``logins``, for skopeo's ``--authfile``; removed after."""
    fd, name = tempfile.mkstemp(prefix="registry-auth-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(docker_config_json(logins))
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def skopeo_copy(source: str, destination: str, logins: Logins) -> None:
    """``skopeo copy`` between plain-HTTP (loopback) registries; the logins reach it in an auth file."""
    with auth_file(logins) as path:
        argv = [
            "skopeo",
            "copy",
            "--insecure-policy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"--authfile={path}",
            source,
            destination,
        ]
        subprocess.run(argv, check=True, capture_output=True)


def docker_build_push(
    engine: str,
    context: Path,
    image: str,
    login: tuple[str, str],
    config: Path,
    *build_flags: str,
    buildkit: bool,
) -> None:
    """``docker build`` + ``docker push`` of ``image`` on the engine at ``engine``; the login to the image's
    registry is in a Docker config made in ``config`` (with ``buildkit``: DOCKER_BUILDKIT=1, else 0)."""
    config.mkdir()
    (config / "config.json").write_text(docker_config_json({image.partition("/")[0]: login}))
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DOCKER_HOST": engine,
        "DOCKER_CONFIG": str(config),
        "DOCKER_BUILDKIT": "1" if buildkit else "0",
    }
    for argv in (["build", *build_flags, f"--tag={image}", str(context)], ["push", image]):
        done = subprocess.run(
            ["/usr/bin/docker", *argv], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr

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

"""Session fixtures of the image tests: the engine on the build's cached data root, moto, a workspace."""

from __future__ import annotations

import fcntl
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.contexts import example_app
from tests.support.e2e import LOCK_TIMEOUT, WORK, Engine
from tests.support.services import require
from tests.support.stack import ServiceError, running_dockerd, running_moto


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """A dockerd on the build script's cached data root, holding the script's lock while it runs."""
    require("dockerd", "debootstrap", "/usr/bin/docker", root=True)
    WORK.mkdir(parents=True, exist_ok=True)
    with (WORK / "docker.lock").open("w") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{WORK / 'docker.lock'} is held by another build", pytrace=False)
                time.sleep(1)
        base = Path(tempfile.mkdtemp(prefix="e2e-dockerd-", dir="/tmp"))  # short: socket path limit
        try:
            with running_dockerd(base, WORK / "docker") as host:
                yield Engine(host)
        except ServiceError as exc:
            pytest.fail(str(exc), pytrace=False)
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/app with its static busybox: the runner's workspace (/drone/src)."""
    return example_app(tmp_path_factory.mktemp("workspace"))


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    try:
        with running_moto() as url:
            yield url
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)

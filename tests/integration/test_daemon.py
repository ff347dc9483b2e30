"""The plugin's Dockerd against the real dockerd: starts, answers, fails clearly, stops clean."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin import daemon as daemon_module
from plugin.daemon import DaemonOptions, Dockerd, ping
from plugin.errors import RunError
from plugin.plan import Step
from plugin.run import Runner
from tests.support.services import require, short_tempdir, unmount_below

pytestmark = pytest.mark.integration

# The test machine has no bridge/iptables to spare; the plugin image uses dockerd's defaults.
TEST_ARGS = ("--iptables=false", "--ip-masq=false", "--bridge=none")


@pytest.fixture
def workdir() -> Iterator[Path]:
    require("dockerd", root=True)
    base = short_tempdir("t-dd-")
    yield Path(base)
    unmount_below(base)
    shutil.rmtree(base, ignore_errors=True)


def options(workdir: Path, *extra: str) -> DaemonOptions:
    return DaemonOptions(
        storage_path=str(workdir / "data"), run_dir=str(workdir / "run"), extra_args=(*TEST_ARGS, *extra)
    )


def mounts_below(root: Path) -> list[str]:
    with open("/proc/self/mounts", encoding="utf-8") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(str(root))]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class TestDockerd:
    def test_starts_answers_and_stops_clean(self, workdir):
        """Inside the block the daemon answers; afterwards no process, no mount and no run dir remain."""
        opts = options(workdir)
        with Dockerd(opts, Runner(out=io.StringIO())) as daemon:
            pid = daemon.pid
            assert pid is not None
            assert ping(daemon.docker_host)
            assert daemon.docker_host == f"unix://{workdir}/run/docker.sock"
            # dockerd mounts <exec-root>/netns/default once a host-network container ran; stand in for it.
            leftover = workdir / "run" / "exec" / "netns" / "default"
            leftover.parent.mkdir(parents=True, exist_ok=True)
            leftover.touch()
            subprocess.run(["mount", "--bind", "/proc/self/ns/net", str(leftover)], check=True)
            assert mounts_below(workdir / "run")
        assert not alive(pid)
        assert mounts_below(workdir) == []
        assert not (workdir / "run").exists()
        assert not ping(opts.docker_host)

    def test_bad_flag_fails_fast_with_the_daemons_own_error(self, workdir):
        started = time.monotonic()
        with pytest.raises(RunError) as info, Dockerd(options(workdir, "--no-such-flag"), Runner()):
            pass
        assert time.monotonic() - started < 10
        message = info.value.message
        assert message.startswith("dockerd did not start: exited with status 1.")
        assert "unknown flag: --no-such-flag" in message
        assert not (workdir / "run").exists()

    def test_never_answering_is_bounded(self, workdir, monkeypatch):
        """A daemon that runs but never answers on its socket is given up on after retry_count seconds."""
        stand_in = Step("dockerd", ("sh", "-c", "echo waiting; sleep 30"), kind="daemon")
        monkeypatch.setattr(daemon_module, "daemon_step", lambda opts, seccomp: stand_in)
        fake = Dockerd(options(workdir), Runner(), retry_count=1)
        started = time.monotonic()
        with pytest.raises(RunError) as info:
            fake.start()
        assert 0.9 < time.monotonic() - started < 5
        assert "did not answer" in info.value.message
        assert "  waiting" in info.value.message
        assert fake.pid is None

    def test_two_daemons_run_side_by_side(self, workdir):
        """Separate run dirs: two runs on one machine never collide."""
        first = DaemonOptions(
            storage_path=str(workdir / "d1"), run_dir=str(workdir / "r1"), extra_args=TEST_ARGS
        )
        second = DaemonOptions(
            storage_path=str(workdir / "d2"), run_dir=str(workdir / "r2"), extra_args=TEST_ARGS
        )
        with Dockerd(first, Runner()) as one, Dockerd(second, Runner()) as two:
            assert ping(one.docker_host) and ping(two.docker_host)
        assert mounts_below(workdir) == []

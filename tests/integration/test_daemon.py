"""The plugin's Dockerd against the real dockerd: starts, answers, fails clearly, stops clean."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.builders import dockerd as daemon_module
from plugin.builders.dockerd import DaemonOptions, Dockerd, ping, socket_paths
from plugin.core.errors import RunError
from plugin.exec.runner import Runner
from plugin.exec.steps import Step
from tests.support.procs import dockerd_pids_for, pids_in_mount_namespace
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


def mount_namespace(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/mnt")


class TestFaults:
    """Whatever way dockerd ends, nothing it started or mounted is left, wherever its data root is."""

    def test_every_socket_it_creates_is_one_the_length_check_knows(self, workdir):
        """The socket list behind the 107-byte check matches what this dockerd and its containerd create."""
        opts = options(workdir)
        with Dockerd(opts, Runner(out=io.StringIO())):
            found = {str(p) for p in Path(opts.run_dir).rglob("*") if p.is_socket()}
        shapes = {re.sub(r"libnetwork/[0-9a-f]{12}\.sock$", "libnetwork/0123456789ab.sock", p) for p in found}
        assert f"{opts.exec_root}/containerd/containerd.sock.ttrpc" in shapes
        assert shapes <= set(socket_paths(opts))

    def test_a_dockerd_that_never_answers_leaves_no_mount_and_no_process(self, workdir):
        """It mounts its data root on itself, then waits for a containerd that is not there: given up on,
        its namespace ends, and with it that mount (which used to stay)."""
        opts = options(workdir, f"--containerd={workdir}/no-containerd.sock")
        daemon = Dockerd(opts, Runner(out=io.StringIO()), retry_count=4)
        seen: list[str] = []

        def watch() -> None:
            for pid in dockerd_pids_for(workdir / "data"):
                seen.append(mount_namespace(pid))

        watcher = threading.Timer(2.5, watch)
        watcher.start()
        with pytest.raises(RunError, match="did not answer"):
            daemon.start()
        watcher.join()
        assert seen, "dockerd was running while the plugin waited"
        assert pids_in_mount_namespace(seen[0]) == []
        assert dockerd_pids_for(workdir / "data") == []
        assert mounts_below(workdir) == []
        assert not (workdir / "run").exists()

    def test_sigkill_of_dockerd_ends_its_children_and_mounts(self, workdir):
        """kill -9 of dockerd (PID 1 of its namespace): containerd goes with it, and every mount."""
        opts = options(workdir)
        with Dockerd(opts, Runner(out=io.StringIO())) as daemon:
            (pid,) = dockerd_pids_for(workdir / "data")
            namespace = mount_namespace(pid)
            assert namespace != mount_namespace(os.getpid())
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while daemon.exit_status() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert daemon.exit_status() is not None
            died = daemon.died()
            assert (
                died is not None and "during the build; every process of the build was ended" in died.message
            )
        assert pids_in_mount_namespace(namespace) == []
        assert mounts_below(workdir) == []
        assert not (workdir / "run").exists()

    def test_a_run_dir_too_deep_for_its_sockets_is_refused_before_dockerd_starts(self, workdir):
        deep = workdir / ("d" * 70)
        opts = DaemonOptions(storage_path=str(workdir / "data"), run_dir=str(deep), extra_args=TEST_ARGS)
        runner = Runner(out=io.StringIO())
        with pytest.raises(RunError) as info:
            Dockerd(opts, runner).start()
        long_path = f"{deep}/exec/containerd/containerd.sock.ttrpc"
        assert info.value.message == (
            f"dockerd socket path is too long for a unix socket ({len(long_path)} bytes, at most 107): "
            f"{long_path}; shorten TMPDIR by at least {len(long_path) - 107} bytes"
        )
        assert not deep.exists()
        assert dockerd_pids_for(workdir / "data") == []

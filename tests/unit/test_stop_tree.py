"""Stopping a whole step: a kaniko-like child whose RUN step has its own process group, and an orphan
holding the output pipe. SIGTERM/SIGINT stop every one of them within 2 s (exit 143/130); a step that
ends normally leaves no orphan behind and is not waited on for its pipe.

The real executor is stopped the same way inside the kaniko image (tests/e2e/test_kaniko_image.py).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from plugin.exec import proctree
from tests.support.procs import living_with_arg

PY = sys.executable
ROOT = Path(__file__).resolve().parents[2]

# Like kaniko: a RUN step in a process group of its own (sharing the output pipe), and a child that
# double-forks an orphan which keeps the pipe open after its parent is gone. MARKER tags them all.
EXECUTOR = textwrap.dedent(
    """
    import os, subprocess, sys, time
    marker = sys.argv[1]
    run = "import time; print('run step started', flush=True); time.sleep(600)"
    subprocess.Popen([sys.executable, "-c", run, marker], process_group=0)
    orphan = (
        "import subprocess, sys, os; "
        "sleep = 'import time; time.sleep(600)'; "
        "subprocess.Popen([sys.executable, '-c', sleep, sys.argv[1]], process_group=0); "
        "os._exit(0)"
    )
    subprocess.Popen([sys.executable, "-c", orphan, marker]).wait()
    time.sleep(0.3)
    print("executor ready", flush=True)
    if len(sys.argv) > 2:
        sys.exit(0)  # ends normally, leaving both behind
    time.sleep(600)
    """
)

DRIVER = textwrap.dedent(
    """
    import sys
    from plugin.core.errors import Signalled
    from plugin.exec.steps import Step
    from plugin.exec.runner import Runner

    runner = Runner()
    runner.install_signal_handlers()
    try:
        status = runner.run(Step("build", (sys.executable, "-u", "-c", *sys.argv[1:])))
    except Signalled as exc:
        print(f"signalled {exc.signum}", flush=True)
        sys.exit(exc.exit_code)
    print(f"exited {status}", flush=True)
    """
)


def marked(marker: str) -> list[int]:
    """PIDs of living processes whose command line carries ``marker``."""
    return living_with_arg(marker)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PY, "-c", DRIVER, EXECUTOR, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], wanted: str) -> list[str]:
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.strip() == wanted:
            return lines
    raise AssertionError(f"never saw {wanted!r}: {lines}")


@pytest.fixture
def marker():
    tag = f"bpe-stop-test-{uuid.uuid4().hex[:8]}"
    yield tag
    for pid in marked(tag):  # never leave one behind, whatever the test did
        subprocess.run(["kill", "-9", str(pid)], check=False)


class TestStopWholeStep:
    @pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
    def test_signal_stops_every_process_of_the_step_within_2s(self, marker, signum, status):
        proc = start(marker)
        seen = wait_for_line(proc, "executor ready")
        assert "run step started" in seen
        assert len(marked(marker)) == 4  # the driver, the executor, its RUN step and the orphan
        sent = time.monotonic()
        proc.send_signal(signum)
        rest, _ = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
        assert proc.returncode == status
        assert f"signalled {signum}" in rest
        assert elapsed < 2.0
        assert marked(marker) == []

    def test_a_step_that_ends_leaves_no_orphan_and_is_not_waited_on(self, marker):
        proc = start(marker, "end")
        wait_for_line(proc, "executor ready")
        ended = time.monotonic()
        rest, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "exited 0" in rest
        assert time.monotonic() - ended < 2.0  # the orphan held the pipe: 5 s of reader timeout before
        assert marked(marker) == []

    def test_a_signal_with_no_step_running_stops_at_once(self):
        code = textwrap.dedent(
            """
            import sys, time
            from plugin.core.errors import Signalled
            from plugin.exec.runner import Runner
            Runner().install_signal_handlers()
            try:
                print("waiting", flush=True)
                time.sleep(30)  # an AWS call, say
            except Signalled as exc:
                sys.exit(exc.exit_code)
            """
        )
        proc = subprocess.Popen([PY, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline() == "waiting\n"
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
        assert proc.returncode == 143
        assert time.monotonic() - sent < 1.0


class TestProcTree:
    def test_members_follow_the_session_across_process_groups_and_reparenting(self, marker):
        code = textwrap.dedent(
            """
            import os, subprocess, sys, time
            sleeper = "import time; time.sleep(30)"
            subprocess.Popen([sys.executable, "-c", sleeper, sys.argv[1]], process_group=0)
            time.sleep(30)
            """
        )
        leader = subprocess.Popen([PY, "-c", code, marker], start_new_session=True, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while len(marked(marker)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            [sleeper] = [pid for pid in marked(marker) if pid != leader.pid]
            assert {p.pid for p in proctree.members(leader.pid)} == {leader.pid, sleeper}
            assert proctree.read_stat(sleeper).pgid == sleeper  # type: ignore[union-attr]
            leader.kill()
            leader.wait()
            assert {p.pid for p in proctree.members(leader.pid)} == {sleeper}  # re-parented, same session
            assert proctree.kill_all(leader.pid) == []
            assert marked(marker) == []
        finally:
            leader.kill()
            leader.wait()

    def test_stat_of_a_gone_process_is_none(self):
        proc = subprocess.Popen(["true"])
        proc.wait()
        assert proctree.read_stat(proc.pid) is None

"""Runner: real tiny children for status, streaming, redaction, env, stdin and signals."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from plugin.core.errors import RunError, Signalled
from plugin.core.log import REDACTOR
from plugin.exec.runner import Runner
from plugin.exec.steps import Step

PY = sys.executable
ROOT = Path(__file__).resolve().parents[2]


def py(code: str, **kw: object) -> Step:
    return Step("child", (PY, "-u", "-c", textwrap.dedent(code)), **kw)  # type: ignore[arg-type]


class Timed(io.StringIO):
    """An output stream that remembers when each write arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[float, str]] = []

    def write(self, s: str) -> int:
        self.times.append((time.monotonic(), s))
        return super().write(s)


@pytest.fixture
def clean_redactor():
    yield REDACTOR
    REDACTOR.clear()


class TestRun:
    def test_exit_status_is_passed_through(self):
        """The child's own exit status is returned unchanged."""
        assert Runner(out=io.StringIO()).run(py("import sys; sys.exit(7)")) == 7

    def test_success_is_zero(self):
        assert Runner(out=io.StringIO()).run(Step("true", ("true",))) == 0

    def test_death_by_signal_is_128_plus_n(self):
        """A child killed by SIGKILL reports 137, as a shell would."""
        step = Step("kill", ("sh", "-c", "kill -9 $$"))
        assert Runner(out=io.StringIO()).run(step) == 137

    def test_stdout_and_stderr_are_merged_in_order(self):
        out = io.StringIO()
        code = """
            import sys, time
            print("one"); time.sleep(0.05)
            print("two", file=sys.stderr); time.sleep(0.05)
            print("three")
        """
        Runner(out=out).run(py(code))
        assert out.getvalue() == "one\ntwo\nthree\n"

    def test_lines_are_streamed_before_the_child_exits(self):
        """A line printed before a sleep reaches the output long before the child ends."""
        out = Timed()
        started = time.monotonic()
        Runner(out=out).run(Step("sleepy", ("sh", "-c", "echo early; sleep 1; echo late")))
        ended = time.monotonic()
        (t_early, early), (_, late) = out.times
        assert (early, late) == ("early\n", "late\n")
        assert t_early - started < 0.7
        assert ended - t_early > 0.5

    def test_last_line_without_newline_is_kept(self):
        out = io.StringIO()
        Runner(out=out).run(Step("printf", ("printf", "a\nno-newline")))
        assert out.getvalue() == "a\nno-newline\n"

    def test_secrets_in_child_output_are_masked(self, clean_redactor):
        REDACTOR.add("hunter2-secret")
        out = io.StringIO()
        Runner(out=out).run(Step("leak", ("echo", "password is hunter2-secret")))
        assert out.getvalue() == "password is ***\n"

    def test_step_env_is_added_to_the_plugin_environment(self, monkeypatch):
        monkeypatch.setenv("FROM_PLUGIN", "outer")
        out = io.StringIO()
        step = Step("env", ("sh", "-c", 'echo "$FROM_PLUGIN $FROM_STEP"'), env={"FROM_STEP": "inner"})
        Runner(out=out).run(step)
        assert out.getvalue() == "outer inner\n"

    def test_stdin_is_fed_to_the_child(self):
        out = io.StringIO()
        Runner(out=out).run(Step("cat", ("cat",), stdin=b"from stdin\n"))
        assert out.getvalue() == "from stdin\n"

    def test_without_stdin_the_child_reads_end_of_file(self):
        out = io.StringIO()
        Runner(out=out).run(Step("cat", ("cat",)))
        assert out.getvalue() == ""

    def test_cwd_is_used(self, tmp_path):
        out = io.StringIO()
        Runner(out=out).run(Step("pwd", ("pwd",)), cwd=tmp_path)
        assert out.getvalue() == f"{tmp_path}\n"

    def test_missing_program_is_a_run_error(self):
        with pytest.raises(RunError, match=r"could not start nothing \(/no/such/program\)"):
            Runner(out=io.StringIO()).run(Step("nothing", ("/no/such/program",)))

    def test_the_command_is_traced_redacted(self, clean_redactor):
        REDACTOR.add("s3cr3t-arg")
        with capture_logs(processors=[REDACTOR]) as logs:
            Runner(out=io.StringIO()).run(Step("echo", ("echo", "s3cr3t-arg")))
        assert [e["event"] for e in logs if e["event"].startswith("+")] == ["+ echo ***"]


class TestCapture:
    def test_stdout_is_captured_and_stderr_streamed(self):
        out = io.StringIO()
        status, stdout = Runner(out=out).capture(
            py("import sys; print('data'); print('noise', file=sys.stderr)")
        )
        assert (status, stdout, out.getvalue()) == (0, "data\n", "noise\n")

    def test_status_is_returned(self):
        status, stdout = Runner(out=io.StringIO()).capture(Step("false", ("false",)))
        assert (status, stdout) == (1, "")


class TestBackground:
    def test_output_goes_to_the_log_and_tail_reads_it(self, tmp_path, clean_redactor):
        REDACTOR.add("topsecret")
        log = tmp_path / "d.log"
        bg = Runner().start(
            Step("bg", ("sh", "-c", "for i in 1 2 3 4; do echo line$i; done; echo topsecret")), log
        )
        deadline = time.monotonic() + 5
        while bg.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bg.poll() == 0
        assert bg.tail(3) == ["line3", "line4", "***"]

    def test_terminate_sends_sigterm(self, tmp_path):
        bg = Runner().start(Step("sleep", ("sleep", "30")), tmp_path / "log")
        assert bg.poll() is None
        assert bg.terminate(timeout=5) == 128 + signal.SIGTERM

    def test_terminate_kills_a_process_that_ignores_sigterm(self, tmp_path):
        code = CHILD_IGNORES.replace("child ready", "ready")
        log = tmp_path / "log"
        bg = Runner().start(py(code), log)
        deadline = time.monotonic() + 5
        while "ready" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        assert bg.terminate(timeout=0.3) == 128 + signal.SIGKILL
        assert time.monotonic() - started < 3

    def test_background_has_its_own_process_group(self, tmp_path):
        bg = Runner().start(Step("sleep", ("sleep", "30")), tmp_path / "log")
        try:
            assert os.getpgid(bg.pid) == bg.pid
        finally:
            bg.terminate(timeout=5)


DRIVER = """
import sys
from plugin.core.errors import Signalled
from plugin.core.log import configure
from plugin.exec.steps import Step
from plugin.exec.runner import Runner

configure()  # logs to stderr
child = sys.argv[1]
runner = Runner(kill_timeout=float(sys.argv[2]))
runner.install_signal_handlers()
try:
    runner.run(Step("child", (sys.executable, "-u", "-c", child)))
except Signalled as exc:
    print(f"signalled {exc.signum}", flush=True)
    sys.exit(exc.exit_code)
print("not signalled", flush=True)
sys.exit(0)
"""

CHILD_TRAPS = """
import signal, sys, time
def bye(signum, frame):
    print(f"child got {signum}", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGINT, bye)
print("child ready", flush=True)
time.sleep(30)
"""

CHILD_IGNORES = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("child ready", flush=True)
time.sleep(30)
"""


def drive(child: str, signum: int, kill_timeout: float = 5.0) -> tuple[int, str, float]:
    """Run the driver in a subprocess, signal it once its child is ready; return status, output, delay."""
    proc = subprocess.Popen(
        [PY, "-c", DRIVER, child, str(kill_timeout)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    sent = time.monotonic()
    proc.send_signal(signum)
    rest, _ = proc.communicate(timeout=20)
    return proc.returncode, "".join(lines) + rest, time.monotonic() - sent


class TestSignals:
    def test_sigterm_is_forwarded_and_the_plugin_exits_143(self):
        status, output, _ = drive(CHILD_TRAPS, signal.SIGTERM)
        assert output == "child ready\nchild got 15\nsignalled 15\n"
        assert status == 143

    def test_sigint_is_forwarded_and_the_plugin_exits_130(self):
        status, output, _ = drive(CHILD_TRAPS, signal.SIGINT)
        assert output == "child ready\nchild got 2\nsignalled 2\n"
        assert status == 130

    def test_a_child_ignoring_sigterm_is_killed_after_the_bound(self):
        status, output, delay = drive(CHILD_IGNORES, signal.SIGTERM, kill_timeout=0.5)
        assert output == "child ready\nsignalled 15\n"
        assert status == 143
        assert 0.4 < delay < 5

    def test_a_signal_between_steps_stops_the_next_step(self):
        runner = Runner(out=io.StringIO())
        runner.received = signal.SIGTERM
        with pytest.raises(Signalled) as info:
            runner.run(Step("never", ("true",)))
        assert info.value.exit_code == 143

    def test_check_signal_is_quiet_without_a_signal(self):
        Runner().check_signal()

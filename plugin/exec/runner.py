"""Runs plan steps: the only module that starts processes.

Every child gets argv (never a shell string), the plugin's environment plus the step's own, and
a session of its own (a background daemon: a process group). Its output is streamed line by line,
as it comes, through the Redactor. As PID 1 the plugin handles SIGTERM/SIGINT itself: the signal
goes to every process of the running step's session (plugin.exec.proctree: kaniko's RUN steps run in
process groups of their own), whatever is left after a short grace is killed, and ``Signalled`` is
raised; with no step running, ``Signalled`` is raised at once. When a step ends, processes it left
behind in its session are killed too, so no orphan keeps the output pipe open.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, Any, TextIO

from plugin.core.errors import RunError, Signalled
from plugin.core.log import REDACTOR, get_logger
from plugin.exec import proctree
from plugin.exec.steps import Step

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_POLL = 0.05  # seconds between checks on a running child
_READER_JOIN = 5.0  # how long to drain output after the step's processes are gone
_READER_JOIN_STOPPED = 0.5  # the same once the run was told to stop
KILL_GRACE = 1.0  # seconds between the forwarded signal and SIGKILL of what is left of the step
KILL_WAIT = 5.0  # how long a killed daemon's processes may take to be gone
_TAIL_BYTES = 64 * 1024
_KEEP_LINES = 50  # the last lines of the last run, kept to tell a transient push failure from another


def _status(returncode: int) -> int:
    """A child killed by signal N reports 128+N, as a shell would."""
    return 128 - returncode if returncode < 0 else returncode


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Send a signal to the child's process group (the child leads it), or to the child alone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            proc.send_signal(signum)


def _pump(stream: IO[bytes], write: Callable[[str], None]) -> None:
    """Copy a child's output to ``write`` line by line, redacted, until end of file."""
    with stream:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if not line.endswith("\n"):
                line += "\n"
            write(REDACTOR.text(line))


def _collect(stream: IO[bytes], chunks: list[bytes]) -> None:
    """Read a child's output whole into ``chunks``."""
    with stream:
        chunks.append(stream.read())


class Background:
    """A process running for the rest of the run (dockerd); its output goes to a log file."""

    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self._proc = proc
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self._proc.pid

    def poll(self) -> int | None:
        """The exit status if the process has ended, else None."""
        code = self._proc.poll()
        return None if code is None else _status(code)

    def terminate(self, timeout: float = 15.0, done: Callable[[], bool] | None = None) -> int:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; returns the exit status.

        ``done``: once it says the process has finished its own shutdown, what is left (a helper it
        waits for) is killed at once, and the status is 0.
        """
        if self._proc.poll() is not None:
            return _status(self._proc.returncode)
        _signal_group(self._proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._proc.poll() is None and time.monotonic() < deadline:
            if done is not None and done():
                self.kill()
                return 0
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=_POLL)
        if self._proc.poll() is None:
            self.kill()
        return _status(self._proc.returncode)

    def kill(self) -> int:
        """SIGKILL the process and everything below it, and wait (bounded) until all of it is gone, so
        that nothing writes to its files any more; returns the status."""
        if self._proc.poll() is None:
            below = [info.pid for info in proctree.members(self._proc.pid)]
            _signal_group(self._proc, signal.SIGKILL)
            for pid in below:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            self._proc.wait()
            proctree.wait_gone(below, KILL_WAIT)
        return _status(self._proc.returncode)

    def text_tail(self, size: int = _TAIL_BYTES) -> str:
        """The end of the process's log (at most ``size`` bytes), as text; empty when unreadable."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - size))
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def tail(self, n: int = 20) -> list[str]:
        """The last ``n`` lines of the process's log, redacted."""
        return [REDACTOR.text(line) for line in self.text_tail().splitlines()[-n:]]


class Runner:
    """Starts steps as child processes, streams their output and forwards signals to them."""

    def __init__(self, out: TextIO | None = None, kill_timeout: float = KILL_GRACE) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.kill_timeout = kill_timeout
        self._child: subprocess.Popen[bytes] | None = None
        self._starting = False  # a child is being started: the signal handler must not raise
        self.received: int | None = None
        self.last_lines: deque[str] = deque(maxlen=_KEEP_LINES)
        self._log = get_logger("plugin.exec.runner")

    # -- signals -------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """Handle SIGTERM/SIGINT (the plugin may be PID 1): record the signal and forward it."""
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        first = self.received is None
        self.received = signum
        child = self._child
        if child is not None:
            proctree.signal_all(child.pid, signum)
        elif first and not self._starting:
            raise Signalled(signum)  # no step running (AWS calls, waiting): stop right here

    def check_signal(self) -> None:
        """Raise ``Signalled`` if SIGTERM/SIGINT arrived (call it between steps)."""
        if self.received is not None:
            raise Signalled(self.received)

    # -- running -------------------------------------------------------------------------------

    def run(
        self, step: Step, cwd: str | Path | None = None, watch: Callable[[str], None] | None = None
    ) -> int:
        """Run a step to its end, streaming stdout and stderr merged; returns its exit status.

        ``watch`` also sees every (redacted) output line, as it comes.
        """
        self.last_lines.clear()
        proc = self._spawn(step, cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None  # noqa: S101 - set by stdout=PIPE

        def write(text: str) -> None:
            self._write_kept(text)
            if watch is not None:
                watch(text)

        readers = [self._thread(_pump, proc.stdout, write)]
        return self._finish(proc, step, readers)

    def capture(self, step: Step, cwd: str | Path | None = None) -> tuple[int, str]:
        """Run a step and return (exit status, stdout); stderr is streamed, redacted."""
        proc = self._spawn(step, cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None  # noqa: S101 - set by PIPE
        chunks: list[bytes] = []
        readers = [
            self._thread(_collect, proc.stdout, chunks),
            self._thread(_pump, proc.stderr, self._write),
        ]
        status = self._finish(proc, step, readers)
        return status, b"".join(chunks).decode("utf-8", errors="replace")

    def start(self, step: Step, log_path: str | Path) -> Background:
        """Start a background process (dockerd) in its own process group, output to ``log_path``."""
        self.check_signal()
        path = Path(log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._log.info(f"+ {step.display}")
        self._starting = True
        try:
            with path.open("ab") as log:
                proc = self._popen(
                    step, None, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, session=False
                )
            return Background(proc, path)
        finally:
            self._starting = False

    # -- internals -----------------------------------------------------------------------------

    def _write_kept(self, text: str) -> None:
        self.last_lines.append(text)
        self._write(text)

    def _write(self, text: str) -> None:
        out = self._out or sys.stdout
        with self._lock:
            out.write(text)
            out.flush()

    @staticmethod
    def _thread(target: Callable[..., Any], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread

    def _popen(
        self, step: Step, cwd: str | Path | None, session: bool = True, **streams: Any
    ) -> subprocess.Popen[bytes]:
        """A step leads a session of its own; a background daemon leads a process group."""
        env = {**os.environ, **step.env}
        group: dict[str, Any] = {"start_new_session": True} if session else {"process_group": 0}
        try:
            return subprocess.Popen(step.argv, cwd=cwd, env=env, **group, **streams)
        except OSError as err:
            raise RunError(f"could not start {step.name} ({step.argv[0]}): {err.strerror or err}") from err

    def _spawn(self, step: Step, cwd: str | Path | None, **streams: Any) -> subprocess.Popen[bytes]:
        self.check_signal()
        self._log.info(f"+ {step.display}")
        stdin = subprocess.DEVNULL if step.stdin is None else subprocess.PIPE
        self._starting = True
        try:
            proc = self._popen(step, cwd, stdin=stdin, **streams)
            self._child = proc
        finally:
            self._starting = False
        if self.received is not None:  # arrived while the child was being started
            proctree.signal_all(proc.pid, self.received)
        if step.stdin is not None and proc.stdin is not None:
            self._thread(self._feed, proc.stdin, step.stdin)
        return proc

    @staticmethod
    def _feed(pipe: IO[bytes], data: bytes) -> None:
        with contextlib.suppress(BrokenPipeError), pipe:
            pipe.write(data)

    def _finish(self, proc: subprocess.Popen[bytes], step: Step, readers: list[threading.Thread]) -> int:
        try:
            returncode = self._wait(proc)
        finally:
            self._child = None
            self._clean_up(proc.pid, step)
            join = _READER_JOIN if self.received is None else _READER_JOIN_STOPPED
            for reader in readers:
                reader.join(join)
        if self.received is not None:
            raise Signalled(self.received)
        status = _status(returncode)
        self._log.debug("run.exit", step=step.name, status=status)
        return status

    def _clean_up(self, leader: int, step: Step) -> None:
        """Kill what the step left in its session (orphans holding the output pipe), reap and log it."""
        left = proctree.members(leader)
        if left:
            survivors = proctree.kill_all(leader)
            self._log.info(
                "run.leftovers_killed", step=step.name, pids=[p.pid for p in left], survivors=survivors
            )
        else:
            proctree.reap_orphans(leader)

    def _wait(self, proc: subprocess.Popen[bytes]) -> int:
        """Wait for the child; once a signal was forwarded, give the step ``kill_timeout`` s, then
        SIGKILL every process of its session."""
        deadline: float | None = None
        while True:
            try:
                return proc.wait(timeout=_POLL)
            except subprocess.TimeoutExpired:
                pass
            if self.received is None:
                continue
            now = time.monotonic()
            if deadline is None:
                deadline = now + self.kill_timeout
            elif now >= deadline:
                proctree.signal_all(proc.pid, signal.SIGKILL)
                _signal_group(proc, signal.SIGKILL)
                return proc.wait()

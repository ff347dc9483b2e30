"""Every process of a step, found through /proc: its session, and what it started.

Each step runs in a session of its own (the runner starts it with ``setsid``), so the session id is
the step's pid. kaniko runs each RUN instruction in a process group of its own: a signal to the
executor's group misses it, and an orphan of it keeps the output pipe open. A session survives both
new process groups and re-parenting, so "the processes of this step" is simply every process whose
session is the step's, plus (for one that started a session of its own) the step's descendants
while they are still linked. No cgroup is needed: this works as PID 1 in a container, where the
orphans are re-parented to the plugin itself and must be reaped by it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_POLL = 0.02


@dataclass(frozen=True)
class ProcInfo:
    """The fields of /proc/<pid>/stat that tell where a process belongs."""

    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")


def read_stat(pid: int) -> ProcInfo | None:
    """One process (None when it is gone). The command name may hold spaces and parentheses."""
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return ProcInfo(pid, int(fields[1]), int(fields[2]), int(fields[3]), fields[0])
    except (IndexError, ValueError):
        return None


def all_processes() -> list[ProcInfo]:
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            info = read_stat(int(entry.name))
            if info is not None:
                found.append(info)
    return found


def members(leader: int) -> list[ProcInfo]:
    """The living processes of ``leader``'s session and its descendants (the leader included)."""
    table = all_processes()
    children: dict[int, list[ProcInfo]] = {}
    for info in table:
        children.setdefault(info.ppid, []).append(info)
    chosen = {info.pid: info for info in table if info.sid == leader}
    todo = [leader]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.pid not in chosen:
                chosen[child.pid] = child
                todo.append(child.pid)
    me = os.getpid()
    return [info for pid, info in chosen.items() if info.alive and pid != me]


def signal_all(leader: int, signum: int) -> list[int]:
    """Send ``signum`` to every process of ``leader``'s session; returns the pids signalled."""
    sent = []
    for info in members(leader):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(info.pid, signum)
            sent.append(info.pid)
    return sent


def reap_orphans(leader: int) -> None:
    """Collect the exit status of session members that were re-parented to this process (PID 1)."""
    me = os.getpid()
    for info in all_processes():
        if info.ppid == me and info.sid == leader and info.pid != leader and not info.alive:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(info.pid, os.WNOHANG)


def kill_all(leader: int, timeout: float = 1.0) -> list[int]:
    """SIGKILL every process of the session and wait (bounded) until none is left; returns survivors."""
    deadline = time.monotonic() + timeout
    while True:
        left = [info.pid for info in members(leader)]
        reap_orphans(leader)
        if not left or time.monotonic() >= deadline:
            return left
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(_POLL)


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait (bounded) until none of ``pids`` is alive; reap those that were re-parented to this
    process (PID 1 in a container). Returns the ones still alive."""
    deadline = time.monotonic() + timeout
    me = os.getpid()
    while True:
        infos = [info for info in (read_stat(pid) for pid in pids) if info is not None]
        for info in infos:
            if info.ppid == me and not info.alive:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(info.pid, os.WNOHANG)
        left = [info.pid for info in infos if info.alive]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(_POLL)

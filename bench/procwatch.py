"""Watching a container's processes from the host: when its entrypoint and the kaniko executor start,
and the plugin's memory at that moment (for bench/kaniko.py).

The container's processes are read from its cgroup (``cgroup.procs``, found from ``docker run
--cidfile``) every few milliseconds. "Container start" is when PID 1 (in the container's PID
namespace) first shows its entrypoint's command line, "executor start" when a process whose
command is ``/kaniko/executor`` (not ``executor version``) first shows up. The plugin's memory is
PID 1's VmRSS (resident now) and VmHWM (the most it ever had resident) at that moment; the AWS
worker's peak is the largest VmHWM seen of any other Python process before it. Polling is every 3 ms,
so each time is known to a few milliseconds; both sides of the benchmark are watched the same way.
"""

from __future__ import annotations

import glob
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_POLL = 0.003
_CGROUP_PATTERNS = (
    "/sys/fs/cgroup/pids/docker/{cid}/cgroup.procs",  # cgroup v1, cgroupfs driver
    "/sys/fs/cgroup/docker/{cid}/cgroup.procs",  # cgroup v2, cgroupfs driver
    "/sys/fs/cgroup/system.slice/docker-{cid}.scope/cgroup.procs",  # systemd driver
    "/sys/fs/cgroup/*/docker/{cid}/cgroup.procs",
)
EXECUTOR = "/kaniko/executor"


@dataclass
class Seen:
    """What the watch saw of one run (times in seconds on the monotonic clock, memory in MB)."""

    started: float | None = None  # PID 1 runs the entrypoint
    executor: float | None = None  # the executor process exists
    rss_mb: float | None = None  # PID 1 at executor start
    hwm_mb: float | None = None
    worker_mb: float | None = None  # largest VmHWM of another Python process before the executor

    @property
    def start_to_executor(self) -> float | None:
        if self.started is None or self.executor is None:
            return None
        return max(0.0, self.executor - self.started)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return None


def _status(pid: int) -> dict[str, str]:
    text = _read(f"/proc/{pid}/status") or ""
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def _mb(field: str | None) -> float | None:
    return int(field.split()[0]) / 1024 if field else None


def _argv(pid: int) -> list[str]:
    raw = _read(f"/proc/{pid}/cmdline") or ""
    return [a for a in raw.split("\0") if a]


class ProcWatch(threading.Thread):
    """Watch the container whose id ``docker run --cidfile`` writes to ``cidfile``."""

    def __init__(self, cidfile: Path) -> None:
        super().__init__(daemon=True)
        self.cidfile = cidfile
        self.seen = Seen()
        self._halt = threading.Event()

    def stop(self) -> Seen:
        self._halt.set()
        self.join(5)
        return self.seen

    def _procs_file(self) -> str | None:
        while not self._halt.is_set():
            cid = (_read(str(self.cidfile)) or "").strip()
            if cid:
                for pattern in _CGROUP_PATTERNS:
                    found = glob.glob(pattern.format(cid=cid))
                    if found:
                        return found[0]
            time.sleep(_POLL)
        return None

    def run(self) -> None:
        procs = self._procs_file()
        while procs is not None and not self._halt.is_set() and self.seen.executor is None:
            text = _read(procs)
            if text is None:  # the container is gone
                return
            self._look(time.monotonic(), [int(p) for p in text.split()])
            time.sleep(_POLL)

    def _look(self, now: float, pids: list[int]) -> None:
        seen = self.seen
        init: dict[str, str] | None = None
        for pid in pids:
            status = _status(pid)
            argv = _argv(pid)
            if status.get("NSpid", "").split()[-1:] == ["1"]:
                init = status
                if seen.started is None and argv and "runc" not in argv[0]:
                    seen.started = now
            if argv[:1] == [EXECUTOR] and argv[1:2] != ["version"]:
                seen.executor = now
            elif init is not status and argv and "python" in Path(argv[0]).name:
                hwm = _mb(status.get("VmHWM"))
                if hwm is not None:
                    seen.worker_mb = max(seen.worker_mb or 0.0, hwm)
        if seen.executor is not None and init is not None and "python" in init.get("Name", ""):
            seen.rss_mb, seen.hwm_mb = _mb(init.get("VmRSS")), _mb(init.get("VmHWM"))

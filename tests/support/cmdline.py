"""Watch every command line on the machine while a build runs: /proc/*/cmdline, polled in a thread.

Root on the host sees the processes of every container too, so this covers the docker CLI, dockerd,
buildx and BuildKit inside docker-in-docker, and the kaniko executor inside its image. A secret
passed on an argv would be readable by any process on the machine this way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType

from tests.support.procs import cmdlines


@dataclass
class CmdlinePoller:
    """Polls until stopped; ``hits`` are (pid, argv) holding a sentinel, ``seen`` every distinct argv met
    (a pid's argv changes at exec, so each one is kept)."""

    sentinels: list[str]
    interval: float = 0.005
    hits: list[tuple[int, list[str]]] = field(default_factory=list)
    seen: set[tuple[str, ...]] = field(default_factory=set)
    scans: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> CmdlinePoller:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _poll(self) -> None:
        wanted = [s.encode() for s in self.sentinels]
        while not self._stop.is_set():
            for pid, raw in cmdlines():
                argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
                self.seen.add(tuple(argv))
                if any(s in raw for s in wanted):
                    self.hits.append((pid, argv))
            self.scans += 1
            self._stop.wait(self.interval)

    def saw(self, fragment: str) -> list[list[str]]:
        """Every argv met that has an argument containing ``fragment``."""
        return [list(argv) for argv in self.seen if any(fragment in a for a in argv)]

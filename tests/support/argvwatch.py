"""Poll every process's command line while something runs: no credential may ever be on an argv.

Processes of containers started by a test engine (dockerd, buildkitd, buildx's ``docker exec
buildctl``) share this machine's /proc, so they are watched too.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType


class ArgvWatch:
    """``with ArgvWatch(secrets) as watch:`` then ``watch.hits`` names any process whose argv held one."""

    def __init__(self, secrets: tuple[str, ...], interval: float = 0.02) -> None:
        self.secrets = [s.encode() for s in secrets if s]
        self.interval = interval
        self.hits: list[str] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.polls += 1
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    argv = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                self.hits += [f"{entry.name}: {argv[:200]!r}" for secret in self.secrets if secret in argv]

    def __enter__(self) -> ArgvWatch:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(5)

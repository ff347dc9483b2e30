"""Time per phase of a run, and the one summary line at its end (what went where, digest, times)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from plugin.core.log import get_logger

if TYPE_CHECKING:
    from plugin.run.outputs import BuildResult

log = get_logger("plugin.run.summary")


class Timeline:
    """Seconds spent in each phase (settings, prepare, build, outputs) and the phase running now."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.phases: dict[str, float] = {}
        self.current: str | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase; after a failure ``current`` still names it (the failure summary says where)."""
        self.current = name
        began = self._clock()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + self._clock() - began
        self.current = None

    def elapsed(self) -> float:
        return self._clock() - self.started

    def seconds(self) -> dict[str, float]:
        """Each phase and the total, rounded to hundredths."""
        return {**{k: round(v, 2) for k, v in self.phases.items()}, "total": round(self.elapsed(), 2)}


TIMELINE = Timeline()


def reset() -> Timeline:
    """Start timing a new run (``main`` calls it; tests too)."""
    global TIMELINE  # noqa: PLW0603 - one run per process, like the Redactor
    TIMELINE = Timeline()
    return TIMELINE


def log_summary(
    result: BuildResult, *, pushed: bool, reason: str | None = None, timeline: Timeline | None = None
) -> None:
    """One line at the end: pushed (where, tags, digest), built without a push, or skipped; times."""
    timeline = timeline or TIMELINE
    fields: dict[str, Any] = {"registry": result.registry, "repository": result.repository}
    if result.skipped:
        event = "summary.skipped"
        fields.update(reason=reason or "the tags already exist", digest=result.digest)
    elif pushed:
        event = "summary.pushed"
        fields.update(tags=result.tags, digest=result.digest)
        extra = sorted(
            {i.rsplit(":", 1)[0] for i in result.images} - {f"{result.registry}/{result.repository}"}
        )
        fields["also_pushed_to"] = extra
    else:
        event = "summary.built"
        fields.update(tags=result.tags, tarball=result.tar_path)
    log.info(event, **fields, seconds=timeline.seconds())

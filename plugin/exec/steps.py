"""A plan is the list of steps a build takes: what decides (plugin.builders) is kept apart from what
runs them (plugin.exec.runner)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from plugin.core.log import REDACTOR

StepKind = Literal["command", "daemon"]


@dataclass(frozen=True)
class Step:
    """One process to run: argv, extra environment and optional stdin.

    ``env`` holds only the variables this step adds to the plugin's own environment; secret values
    may be passed there (never on argv). ``display`` is what logs and the printed plan show.
    ``kind`` is ``daemon`` for a process that runs in the background for the rest of the run.
    ``allow_failure`` marks a step whose failure is a warning (a cache-from pull).
    """

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None
    kind: StepKind = "command"
    allow_failure: bool = False

    @property
    def display(self) -> str:
        return REDACTOR.text(shlex.join(self.argv))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "argv": [REDACTOR.text(a) for a in self.argv],
        }
        if self.env:
            out["env"] = REDACTOR.value({k: self.env[k] for k in sorted(self.env)})
        if self.stdin is not None:
            out["stdin"] = "***"
        if self.kind != "command":
            out["kind"] = self.kind
        if self.allow_failure:
            out["allow_failure"] = True
        return out


@dataclass
class Plan:
    """The steps of one build, in run order."""

    builder: str
    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def to_json(self) -> list[dict[str, Any]]:
        return [s.to_json() for s in self.steps]

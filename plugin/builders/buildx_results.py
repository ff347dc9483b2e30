"""What a buildx build tells besides its exit status, read from its plain progress output and its builder.

- Cache use: BuildKit prints ``#N CACHED`` for a step it did not run. ``BuildWatch`` counts them (the
  plugin logs them, and PLUGIN_CACHE_METRICS_FILE gets buildx-ecr's JSON: total_layers, done, cached,
  errored, canceled, layers).
- A foreign platform: a RUN step for a platform the builder cannot execute fails with ``exec format
  error`` (no QEMU/binfmt emulation registered). ``emulation_message`` names the platforms the
  builder lacks, from ``docker buildx inspect``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_STATUS = re.compile(r"^#(\d+) (DONE|CACHED|ERROR|CANCELED)\b(?: ([0-9.]+)s)?")
_HEADER = re.compile(r"^#(\d+) \[(?!internal\]|auth\])[^\]]*\] \S")
_EXEC_FORMAT = re.compile(r"exec format error", re.IGNORECASE)
_PLATFORMS = re.compile(r"^\s*Platforms:\s*(.+)$", re.MULTILINE)
_METRIC_NAMES = {"DONE": "done", "CACHED": "cached", "ERROR": "errored", "CANCELED": "canceled"}


@dataclass
class BuildWatch:
    """Reads the build's output lines as they stream by (``Runner.run(..., watch=...)``)."""

    status: dict[int, tuple[str, float | None]] = field(default_factory=dict)
    instructions: set[int] = field(default_factory=set)
    exec_format_error: bool = False

    def __call__(self, line: str) -> None:
        text = line.strip()
        if _HEADER.match(text):
            self.instructions.add(int(text[1:].split(" ", 1)[0]))
        match = _STATUS.match(text)
        if match:
            seconds = float(match[3]) if match[3] else None
            self.status[int(match[1])] = (match[2], seconds if match[2] == "DONE" else None)
        if _EXEC_FORMAT.search(text):
            self.exec_format_error = True

    def steps(self) -> tuple[int, int]:
        """(Dockerfile steps seen, how many of them came from the cache)."""
        cached = sum(1 for n in self.instructions if self.status.get(n, ("",))[0] == "CACHED")
        return len(self.instructions), cached

    def metrics(self) -> dict[str, Any]:
        """buildx-ecr's cache metrics document (every vertex, as its ``#N`` lines reported it)."""
        counts = dict.fromkeys(_METRIC_NAMES.values(), 0)
        layers: dict[str, dict[str, Any]] = {}
        for number, (state, seconds) in sorted(self.status.items()):
            counts[_METRIC_NAMES[state]] += 1
            layers[str(number)] = {"status": "ERRORED" if state == "ERROR" else state, "time": seconds or 0}
        return {"total_layers": sum(counts.values()), **counts, "layers": layers}


def metrics_bytes(metrics: dict[str, Any]) -> bytes:
    """PLUGIN_CACHE_METRICS_FILE's content (tab-indented JSON, as buildx-ecr writes it)."""
    return json.dumps(metrics, indent="\t").encode("utf-8")


# -- platforms ---------------------------------------------------------------------------------------


def requested_platforms(platform: str | None) -> list[str]:
    return [p.strip() for p in (platform or "").split(",") if p.strip()]


def builder_platforms(inspect_output: str) -> list[str]:
    """The ``Platforms:`` of ``docker buildx inspect`` (every node), without the ``*`` of fixed ones."""
    found: list[str] = []
    for match in _PLATFORMS.finditer(inspect_output):
        found += [p.strip().rstrip("*") for p in match[1].split(",") if p.strip()]
    return list(dict.fromkeys(found))


def _os_arch(platform: str) -> tuple[str, str]:
    parts = platform.lower().split("/")
    return (parts[0], parts[1]) if len(parts) > 1 else ("linux", parts[0])


def missing_platforms(requested: list[str], available: list[str]) -> list[str]:
    """Requested platforms whose os/architecture the builder does not list (variants aside)."""
    have = {_os_arch(p) for p in available}
    return [p for p in requested if _os_arch(p) not in have]


def emulation_message(requested: list[str], available: list[str]) -> str:
    """Why a RUN step failed with 'exec format error', naming the platform(s) without emulation."""
    missing = missing_platforms(requested, available) if available else []
    runs = f" (it runs {', '.join(available)})" if available else ""
    if missing:
        arches = ",".join(dict.fromkeys(_os_arch(p)[1] for p in missing))
        return (
            f"a RUN step failed with 'exec format error': the builder cannot run {', '.join(missing)} "
            f"programs{runs}: no emulation is registered for them. Register QEMU binfmt_misc handlers "
            f"on the build host (e.g. `docker run --privileged --rm tonistiigi/binfmt --install {arches}`), "
            "build that platform on a native builder, or drop it from PLUGIN_PLATFORM"
        )
    return (
        "a RUN step failed with 'exec format error': a program in the image is for another architecture "
        f"than the builder runs{runs}; check the base image's platform and PLUGIN_PLATFORM"
    )

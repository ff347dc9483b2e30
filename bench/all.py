"""`make bench`: every benchmark, then the table of issue 10's goals (``BENCH_BEFORE`` or ``--before``
adds a column for another checkout, measured in the same run, on the same machine).

    python bench/all.py [--before CHECKOUT] [--runs N] [--only startup,docker,kaniko]

Each part prints its own detailed table first (bench/importtime.py, bench/build_push.py,
bench/kaniko.py); the summary at the end gives the medians against the goals:

- kaniko image: container start to executor start at most 200 ms; the plugin's memory at that
  moment at most 50 MB; the whole build + push at most 1.15x the executor image run directly;
- docker builder: at most 1.10x the same work by hand;
- ``plan`` at most 0.15 s (nothing of AWS imported); every tag existing (skip) at most 0.30 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import build_push, importtime, kaniko  # noqa: E402

AFTER, BEFORE = "plugin", "plugin (before)"


def _machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{platform.node()}: {os.cpu_count()} x {cpu}, Linux {platform.release()}; load {load}"


def _row(what: str, base: str, cells: list[str], goal: str) -> str:
    return f"| {what} | {base} | " + " | ".join(cells) + f" | {goal} |"


def _met(value: float | None, limit: float) -> str:
    if value is None:
        return "-"
    return f"met ({value / limit:.0%} of it)" if value <= limit else f"missed by {value / limit - 1:.0%}"


def table(results: dict[str, Any], names: list[str]) -> list[str]:
    """The issue's table: one column per checkout, then the goal and whether the last column meets it."""
    lines = [
        "| what | by hand / directly | " + " | ".join(names) + " | goal |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    k = results.get("kaniko")
    if k:
        direct = k[kaniko.DIRECT]
        image = {AFTER: "plugin image", BEFORE: "plugin image (before)"}
        start = [k[image[n]]["start_to_executor"] for n in names]
        lines.append(_row(
            "kaniko image: container start to executor start", "executor is PID 1: 0 ms",
            [f"{s * 1000:.0f} ms" for s in start], f"≤ 200 ms: {_met(start[0] * 1000, 200)}",
        ))  # fmt: skip
        rss = [k[image[n]]["rss_mb"] for n in names]
        hwm = [k[image[n]]["hwm_mb"] for n in names]
        lines.append(_row(
            "kaniko image: plugin memory at hand-over (RSS / peak)", "-",
            [f"{r:.1f} / {h:.1f} MB" for r, h in zip(rss, hwm, strict=True)], f"≤ 50 MB: {_met(hwm[0], 50)}",
        ))  # fmt: skip
        whole = [k[image[n]]["whole"] for n in names]
        ratio = [w / direct["whole"] for w in whole]
        lines.append(_row(
            "kaniko image: whole small build + push", f"{direct['whole']:.2f} s",
            [f"{w:.2f} s ({r:.2f}x)" for w, r in zip(whole, ratio, strict=True)],
            f"≤ 1.15x: {_met(ratio[0], 1.15)}",
        ))  # fmt: skip
    d = results.get("docker")
    if d:
        hand = statistics.median(d[build_push.BY_HAND])
        docker = [statistics.median(d[n]) for n in names]
        lines.append(_row(
            "docker builder: dockerd + build + 2 tags pushed + stop", f"{hand:.2f} s",
            [f"{s:.2f} s ({s / hand:.2f}x)" for s in docker], f"≤ 1.10x: {_met(docker[0] / hand, 1.10)}",
        ))  # fmt: skip
    s = results.get("startup")
    if s:
        plan = [s[n]["plan"] for n in names]
        lines.append(_row(
            "`python -m plugin plan`", f"`python -c pass`: {s[names[0]]['pass']['wall']:.3f} s",
            [f"{p['wall']:.3f} s; AWS imported: {'yes' if p['aws'] else 'no'}" for p in plan],
            f"≤ 0.15 s: {_met(plan[0]['wall'], 0.15)}",
        ))  # fmt: skip
    if d:
        skip = [statistics.median(d[n + build_push.SKIP]) for n in names]
        lines.append(_row(
            "all tags exist in an immutable repository (skip)", "-", [f"{v:.2f} s" for v in skip],
            f"≤ 0.30 s: {_met(skip[0], 0.30)}",
        ))  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", type=Path, default=os.environ.get("BENCH_BEFORE") or None)
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    parser.add_argument("--only", default="startup,docker,kaniko")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    checkouts = {AFTER: ROOT}
    if args.before:
        checkouts[BEFORE] = Path(args.before).resolve()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    machine = _machine()
    results: dict[str, Any] = {}
    if "startup" in parts:
        results["startup"] = importtime.measure(checkouts, args.runs)
        importtime.report(results["startup"])
    if "docker" in parts:
        results["docker"] = build_push.measure(checkouts, args.runs)
        build_push.report(results["docker"])
    if "kaniko" in parts:
        images = {
            {AFTER: "plugin image", BEFORE: "plugin image (before)"}[n]: p for n, p in checkouts.items()
        }
        samples = kaniko.measure(images, args.runs)
        kaniko.report(samples)
        results["kaniko"] = kaniko.summary(samples)
    print(f"\nIssue 10's table: medians of {args.runs} alternating runs, {started}")
    print(f"machine: {machine}; now load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}\n")
    print("\n".join(table(results, list(checkouts))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

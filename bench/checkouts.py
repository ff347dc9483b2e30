"""The command line every benchmark shares: this checkout, and with ``--before CHECKOUT`` another one
measured in the same alternation (named ``<name> (before)``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def from_command_line(
    doc: str, name: str, before_help: str, *, runs: bool = False
) -> tuple[dict[str, Path], int]:
    """(checkouts by name, runs): ``--before`` adds a checkout; ``runs`` offers ``--runs N`` (default
    BENCH_RUNS, which is the runs without it)."""
    parser = argparse.ArgumentParser(description=doc.split("\n", 1)[0])
    parser.add_argument("--before", type=Path, help=before_help)
    if runs:
        parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    checkouts = {name: ROOT}
    if args.before:
        checkouts[f"{name} (before)"] = args.before.resolve()
    return checkouts, getattr(args, "runs", RUNS)

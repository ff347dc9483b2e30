"""Where the shared reference files are: ``shared/`` beside the checkout (as CI lays it) or /work/shared."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_CANDIDATES = (ROOT.parent / "shared" / "reference", Path("/work/shared/reference"))


def reference_file(name: str) -> Path:
    """The path of a shared reference file (anchor-env.md, builder-flags.md); the first place that has it."""
    for folder in _CANDIDATES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} not found in {', '.join(str(c) for c in _CANDIDATES)}")

"""Build contexts that need no base image from any registry: a static busybox (scripts/prepare-example.sh)
beside the Dockerfile."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.services import require

ROOT = Path(__file__).resolve().parents[2]


def busybox_context(root: Path, dockerfile: str | None = None, files: dict[str, bytes] | None = None) -> Path:
    """``root`` (made if needed) with a static busybox, ``files`` (relative path -> content, mode 0755)
    and ``dockerfile`` as its Dockerfile (none written when it is None)."""
    require("busybox")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", str(ROOT / "scripts" / "prepare-example.sh"), str(root)], check=True)
    for name, data in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755)
    if dockerfile is not None:
        (root / "Dockerfile").write_text(dockerfile)
    return root


def example_app(root: Path) -> Path:
    """examples/app (its Dockerfile) with its static busybox, in ``root``."""
    busybox_context(root)
    shutil.copy(ROOT / "examples" / "app" / "Dockerfile", root)
    return root

"""A real file-system fault: a file or directory marked immutable (``chattr +i``), which stops root too."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.services import require


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i`` for the duration: no rename over it, no new file in it (for root too)."""
    require("chattr", root=True)
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextmanager
def unreplaceable(path: Path, text: str) -> Iterator[None]:
    """An existing file holding ``text`` that nothing can replace for the duration, in a folder that stays
    writable: a fault no check before the build can see, so a run meets it only while moving its outputs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with immutable(path):
        yield

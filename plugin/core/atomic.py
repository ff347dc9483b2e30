"""Files written whole or not at all: the data goes to a temp file beside the target, then replaces it.

The temp file is in the target's folder (so :func:`os.replace` is atomic), starts with a dot and ends
in ``.tmp``, gets its mode before any byte is written, and is flushed to disk. If anything fails it is
removed, and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def temp_beside(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new temp file beside ``path``, with ``mode``, on disk; the caller moves it in place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` (mode ``mode``) in one step; OSError when it cannot."""
    tmp = temp_beside(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def beside(path: str, run_name: str) -> str:
    """Where an output that a builder writes goes until the run succeeded: a hidden name with the run's
    name in the folder of ``path`` (symlinks resolved, as they are when it is moved), so that moving it
    into place is a rename on one file system: ``/out/.image.tar.build-push-ecr-<id>.tmp``."""
    folder, name = os.path.split(os.path.realpath(path))
    return os.path.join(folder, f".{name}.{run_name}.tmp")

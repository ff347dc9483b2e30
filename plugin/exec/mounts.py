"""Mounts below a directory, read from /proc/self/mounts, and their lazy unmount (dockerd leaves some)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re

from plugin.core.log import get_logger

_MNT_DETACH = 2
_OCTAL = re.compile(r"\\([0-7]{3})")

log = get_logger("plugin.exec.mounts")


def _mounts_under(root: str) -> list[str]:
    """Mount points at or below ``root``, deepest first."""
    prefix = os.path.realpath(root)
    found: list[str] = []
    with contextlib.suppress(OSError), open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            point = _OCTAL.sub(lambda m: chr(int(m[1], 8)), line.split()[1])  # \040 for a space
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def unmount_all(root: str) -> list[str]:
    """Lazily unmount every mount below ``root`` (dockerd leaves ``<exec-root>/netns/default``).

    Returns the mount points that could not be unmounted.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    failed = []
    for point in _mounts_under(root):
        if libc.umount2(point.encode(), _MNT_DETACH) != 0:
            err = ctypes.get_errno()
            log.warning("dockerd.umount_failed", mount=point, error=os.strerror(err))
            failed.append(point)
    return failed

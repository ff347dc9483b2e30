"""Where a run keeps its files: one private directory per run, removed when the run ends.

For kaniko it lives under the kaniko directory (``KANIKO_DIR``, else ``/kaniko``): kaniko never
snapshots that directory into the image it builds and never deletes it between stages, while the
working directory is the user's workspace (the build context, which ``COPY .`` puts into the image)
and everything else, ``/tmp`` included, is either snapshotted or deleted between stages. Other
builders use the system temp directory. While a run lasts, the plugin's own temporary files go into
the run directory too, so that nothing falls back to the working directory where there is no ``/tmp``.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from plugin.core.errors import RunError

KANIKO_DIR = "/kaniko"
PREFIX = "build-push-ecr-"
PLAN_NAME = f"{PREFIX}<run>"  # what `plan` shows for the random part of the name


def kaniko_dir(env: Mapping[str, str]) -> Path:
    """kaniko's own directory: ``KANIKO_DIR`` as the executor reads it, else ``/kaniko``."""
    return Path(env.get("KANIKO_DIR") or KANIKO_DIR)


def parent_for(builder: str, env: Mapping[str, str]) -> Path | None:
    """The folder a run directory goes in: kaniko's directory, or None for the system temp dir."""
    return kaniko_dir(env) if builder == "kaniko" else None


def plan_dir(builder: str, env: Mapping[str, str]) -> Path:
    """The run directory as `plan` shows it (the real one has a random name in the same place)."""
    parent = parent_for(builder, env)
    return (parent or Path(tempfile.gettempdir())) / PLAN_NAME


def new_run_dir(builder: str, env: Mapping[str, str], *, required: bool = True) -> Path:
    """Create this run's private directory (0700). Without ``required`` a missing kaniko directory
    means the system temp dir (``prepare`` on a machine that is not the kaniko image)."""
    parent = parent_for(builder, env)
    if parent is not None and not parent.is_dir() and not required:
        parent = None
    if parent is not None and not parent.is_dir():
        raise RunError(
            f"the kaniko directory {parent} does not exist: run the kaniko image, set KANIKO_DIR, "
            "or use PLUGIN_BUILDER=docker"
        )
    try:
        return Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    except OSError as err:
        where = parent or tempfile.gettempdir()
        raise RunError(f"cannot create the run directory in {where}: {err.strerror or err}") from err


@contextlib.contextmanager
def run_directory(builder: str, env: Mapping[str, str]) -> Iterator[Path]:
    """A fresh run directory that also holds the plugin's temporary files; removed at the end."""
    path = new_run_dir(builder, env)
    previous = tempfile.tempdir
    scratch = path / "tmp"
    scratch.mkdir(mode=0o700)
    tempfile.tempdir = str(scratch)
    try:
        yield path
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(path, ignore_errors=True)

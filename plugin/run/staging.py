"""Output files written all together or not at all: staged beside their targets, then moved into place.

``with StagedFiles() as files: files.stage(path, data)`` writes each file to a temp file in its
target's directory (created if missing) and, when the block ends without an error, moves every temp
file over its target. An existing target is kept (hard link, else copy) until all are in place; if
one move fails, those already moved are put back, files that did not exist are removed, and the
directories the staging created are removed again. Readers never see half a file.

``files.expect(path, temp, directory=...)`` registers an output a builder writes itself at ``temp``
(beside ``path``; ``plugin.run.builder_outputs``): its folder is made now, it is renamed into place with
the others (nothing is copied: an existing file is kept as a hard link, else moved aside; an existing
directory is moved aside and removed once all are in place), and it is removed when the run fails.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from plugin.core.atomic import temp_beside
from plugin.core.errors import RunError
from plugin.core.log import get_logger

log = get_logger("plugin.run.staging")
NEW_FILE_MODE = 0o644
NEW_DIR_MODE = 0o755


def _why(err: OSError) -> str:
    return err.strerror or str(err)


def _remove(path: Path) -> None:
    """Remove a temp file, a kept old file, or a builder's temp directory; gone already is fine."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


@dataclass
class _Staged:
    """One output: where it goes, its temp file, and (while committing) the old file kept aside."""

    target: Path
    temp: Path
    backup: Path | None = None
    existed: bool = False
    moved: bool = False
    kind: str = "data"  # data: written by the plugin; file, dir: written by the builder at temp
    aside: bool = False  # the old target was moved to backup (not linked): it must come back


@dataclass
class StagedFiles:
    """Files to put in place together (see the module docstring)."""

    _staged: list[_Staged] = field(default_factory=list)
    _made_dirs: list[Path] = field(default_factory=list)

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    # -- staging ---------------------------------------------------------------------------------

    def stage(self, path: str | Path, data: bytes, mode: int | None = None) -> None:
        """Write ``data`` to a temp file beside ``path`` (the target's mode is kept; new files 0644)."""
        target = Path(os.path.realpath(path))  # a symlinked output is written through, not replaced
        if any(s.target == target for s in self._staged):
            raise RunError(f"cannot write {path}: another output is written to the same file")
        existed = target.exists()
        if existed and not target.is_file():
            raise RunError(f"cannot write {path}: it is not a regular file")
        chosen = (
            mode if mode is not None else (stat.S_IMODE(target.stat().st_mode) if existed else NEW_FILE_MODE)
        )
        try:
            self._make_parents(target.parent)
            temp = temp_beside(target, data, chosen)
        except OSError as err:
            raise RunError(f"cannot write {path}: {_why(err)}") from err
        self._staged.append(_Staged(target, temp, existed=existed))

    def expect(self, path: str | Path, temp: str | Path, *, directory: bool = False) -> None:
        """An output the builder writes at ``temp`` (beside ``path``): make its folder now; moved into
        place on commit if the builder wrote it, removed on a failure."""
        target = Path(os.path.realpath(path))
        try:
            self._make_parents(target.parent)
        except OSError as err:
            raise RunError(f"cannot write {path}: {_why(err)}") from err
        self._staged.append(_Staged(target, Path(temp), kind="dir" if directory else "file"))

    def _make_parents(self, folder: Path) -> None:
        missing: list[Path] = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for made in reversed(missing):
            made.mkdir(mode=NEW_DIR_MODE)
            self._made_dirs.append(made)

    # -- committing ------------------------------------------------------------------------------

    def commit(self) -> None:
        """Move every staged file into place; on any failure put back what was there and raise RunError."""
        current: _Staged | None = None
        # what the builder did not write (a skipped build) is not there to move
        self._staged = [s for s in self._staged if s.kind == "data" or os.path.lexists(s.temp)]
        try:
            for current in self._staged:
                self._keep_old(current)
                os.replace(current.temp, current.target)
                current.moved = True
        except OSError as err:
            failed = current.target if current else Path("?")
            self._roll_back()
            raise RunError(
                f"cannot write {failed}: {_why(err)}; every output file was put back as it was"
            ) from err
        for staged in self._staged:
            if staged.backup is not None:
                _remove(staged.backup)
        self._staged.clear()
        self._made_dirs.clear()

    @staticmethod
    def _keep_old(staged: _Staged) -> None:
        """Keep the current target aside (a hard link, else a copy) so that it can be put back.

        What the builder wrote may be gigabytes: an old file is linked, else moved aside (never
        copied); an old directory is moved aside (os.replace cannot replace a directory)."""
        if staged.kind != "data":
            staged.existed = os.path.lexists(staged.target)
        if not staged.existed:
            return
        backup = staged.temp.with_suffix(".old")
        if staged.kind == "dir":
            if not staged.target.is_dir() or staged.target.is_symlink():
                raise NotADirectoryError(errno.ENOTDIR, "it is not a directory", str(staged.target))
            os.rename(staged.target, backup)
            staged.aside = True
        else:
            if staged.kind == "file" and staged.target.is_dir():
                raise IsADirectoryError(errno.EISDIR, "it is a directory", str(staged.target))
            try:
                os.link(staged.target, backup)
            except OSError:
                if staged.kind == "data":
                    shutil.copy2(staged.target, backup)
                else:
                    os.rename(staged.target, backup)
                    staged.aside = True
        staged.backup = backup

    def _roll_back(self) -> None:
        for staged in reversed(self._staged):
            try:
                if staged.moved and staged.kind == "dir":
                    shutil.rmtree(staged.target)  # the new layout; the old one (if any) goes back
                if staged.moved and staged.backup is not None:
                    os.replace(staged.backup, staged.target)
                elif staged.moved and staged.kind != "dir":
                    staged.target.unlink()
                elif staged.aside and staged.backup is not None:
                    os.replace(staged.backup, staged.target)
                elif staged.backup is not None:
                    staged.backup.unlink()
            except OSError as err:
                log.error("outputs.restore_failed", file=str(staged.target), error=_why(err))
        self.discard()

    def discard(self) -> None:
        """Remove every temp file and every directory the staging created; targets are untouched."""
        for staged in self._staged:
            _remove(staged.temp)
        for folder in reversed(self._made_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._staged.clear()
        self._made_dirs.clear()

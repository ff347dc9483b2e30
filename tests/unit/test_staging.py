"""Output files all or nothing: staged beside their targets, moved together, put back on a failure.

The faults are real file-system ones: a parent that is a file, and files and directories marked
immutable (``chattr +i``, which stops root too), the way a read-only output directory would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugin.core.errors import RunError
from plugin.run.staging import StagedFiles
from tests.support.chattr import immutable


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*") if p.name.endswith((".tmp", ".old")))


class TestStagedFiles:
    def test_files_appear_together_when_the_block_ends(self, tmp_path):
        a, b = tmp_path / "a.env", tmp_path / "new" / "deeper" / "b.json"
        a.write_text("old\n")
        with StagedFiles() as files:
            files.stage(a, b"A\n")
            files.stage(b, b"B\n")
            assert a.read_text() == "old\n"
            assert not b.exists()
        assert (a.read_text(), b.read_text()) == ("A\n", "B\n")
        assert leftovers(tmp_path) == []

    def test_an_error_in_the_block_writes_nothing(self, tmp_path):
        a, b = tmp_path / "a.env", tmp_path / "new" / "b.json"
        a.write_text("old\n")
        with pytest.raises(KeyError), StagedFiles() as files:
            files.stage(a, b"A\n")
            files.stage(b, b"B\n")
            raise KeyError("the build failed after all")
        assert a.read_text() == "old\n"
        assert not (tmp_path / "new").exists()
        assert leftovers(tmp_path) == []

    def test_a_parent_that_is_a_file_fails_before_anything_moves(self, tmp_path):
        a = tmp_path / "a.env"
        a.write_text("old\n")
        (tmp_path / "blocker").write_text("")
        with (
            pytest.raises(RunError, match=r"cannot write .*blocker/b\.json: Not a directory"),
            StagedFiles() as f,
        ):
            f.stage(a, b"A\n")
            f.stage(tmp_path / "blocker" / "b.json", b"B\n")
        assert a.read_text() == "old\n"
        assert leftovers(tmp_path) == []

    def test_a_read_only_directory_fails_before_anything_moves(self, tmp_path):
        """The issue's case: the artifact's directory cannot take a file; DRONE_OUTPUT stays as it was."""
        drone_output, folder = tmp_path / "drone.env", tmp_path / "ro"
        drone_output.write_text("OTHER=keep\n")
        folder.mkdir()
        refused = pytest.raises(RunError, match=r"cannot write .*ro/artifact\.json")
        with immutable(folder), refused, StagedFiles() as files:
            files.stage(drone_output, b"digest='sha256:00'\n")
            files.stage(folder / "artifact.json", b"{}")
        assert drone_output.read_text() == "OTHER=keep\n"
        assert leftovers(tmp_path) == []

    def test_a_failed_move_puts_back_what_was_there(self, tmp_path):
        """The third file cannot be replaced: the first comes back as it was, the new second goes again."""
        first, second, third = tmp_path / "1.env", tmp_path / "made" / "2.json", tmp_path / "3.json"
        first.write_bytes(b"first, as it was\n")
        third.write_bytes(b"third, as it was\n")
        first_inode = first.stat().st_ino
        with immutable(third), pytest.raises(RunError) as info, StagedFiles() as files:
            files.stage(first, b"new 1")
            files.stage(second, b"new 2")
            files.stage(third, b"new 3")
        assert "every output file was put back as it was" in info.value.message
        assert first.read_bytes() == b"first, as it was\n"
        assert first.stat().st_ino == first_inode  # the very file, not a copy
        assert not second.parent.exists()
        assert third.read_bytes() == b"third, as it was\n"
        assert leftovers(tmp_path) == []

    def test_modes_are_kept_and_new_files_are_0644(self, tmp_path):
        old, new = tmp_path / "old", tmp_path / "new"
        old.write_text("x")
        old.chmod(0o600)
        with StagedFiles() as files:
            files.stage(old, b"y")
            files.stage(new, b"z")
        assert (old.stat().st_mode & 0o777, new.stat().st_mode & 0o777) == (0o600, 0o644)

    def test_the_same_file_twice_is_refused(self, tmp_path):
        with pytest.raises(RunError, match="another output is written to the same file"), StagedFiles() as f:
            f.stage(tmp_path / "x", b"1")
            f.stage(tmp_path / "sub" / ".." / "x", b"2")
        assert not (tmp_path / "x").exists()

    def test_a_directory_in_place_of_the_file_is_refused(self, tmp_path):
        (tmp_path / "out").mkdir()
        with pytest.raises(RunError, match="it is not a regular file"), StagedFiles() as files:
            files.stage(tmp_path / "out", b"1")
        assert os.listdir(tmp_path / "out") == []

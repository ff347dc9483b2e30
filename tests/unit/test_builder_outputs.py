"""What the builder writes itself (PLUGIN_TAR_PATH, kaniko's PLUGIN_OCI_LAYOUT_PATH) goes to a hidden
temporary name beside the user's path, which the outputs step renames into place (never copies).

The plan document and the argv of every builder show the temporary path; staging is driven on real
files, the faults are real (``chattr +i``, which stops root too).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, Problem, RunError
from plugin.run.builder_outputs import builder_outputs
from plugin.run.inputs import check_inputs
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve
from plugin.run.staging import StagedFiles
from tests.support.chattr import immutable

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BASE = {"PLUGIN_REGISTRY": REGISTRY, "PLUGIN_REPO": "team/app", "PLUGIN_TAGS": "1.0"}
TEMP = ".image.tar.build-push-ecr-<run>.tmp"


def document(tmp_path: Path, **env: str) -> dict:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return plan_document(
        resolve(load_settings({**BASE, "PLUGIN_DOCKERFILE": str(tmp_path / "Dockerfile"), **env}), tmp_path)
    )


def argv_with(doc: dict, needle: str) -> list[str]:
    return [a for step in doc["steps"] for a in step["argv"] if needle in a]


class TestPlanShowsBothPaths:
    @pytest.mark.parametrize(
        ("builder", "extra", "flag"),
        [
            ("docker", {}, "--output="),
            ("kaniko", {}, "--tar-path="),
            ("buildx", {}, "--output="),  # pushed, then `docker save` of what was loaded
            (
                "buildx",
                {"PLUGIN_NO_PUSH": "1", "PLUGIN_BUILDX_OUTPUT_FORMAT": "oci"},
                "--output=type=oci,dest=",
            ),
            (
                "buildx",
                {"PLUGIN_BUILDER_DRIVER": "docker-container"},
                "--output=type=docker,dest=",
            ),  # the export
        ],
    )
    def test_the_builder_writes_the_temp_and_the_plan_names_both(self, tmp_path, builder, extra, flag):
        final = tmp_path / "out" / "image.tar"
        doc = document(tmp_path, PLUGIN_BUILDER=builder, PLUGIN_TAR_PATH=str(final), **extra)
        temp = f"{tmp_path}/out/{TEMP}"
        assert doc["builder_outputs"] == [
            {"variable": "PLUGIN_TAR_PATH", "written_to": temp, "moved_to": str(final)}
        ]
        written = argv_with(doc, flag)
        assert written and all(temp in a for a in written), doc["steps"]
        assert argv_with(doc, str(final)) == []  # the builder never writes the user's path

    def test_kaniko_oci_layout_directory(self, tmp_path):
        layout = tmp_path / "oci"
        doc = document(tmp_path, PLUGIN_BUILDER="kaniko", PLUGIN_OCI_LAYOUT_PATH=str(layout))
        temp = f"{tmp_path}/.oci.build-push-ecr-<run>.tmp"
        assert doc["builder_outputs"] == [
            {"variable": "PLUGIN_OCI_LAYOUT_PATH", "written_to": temp, "moved_to": str(layout)}
        ]
        assert argv_with(doc, "--oci-layout-path=") == [f"--oci-layout-path={temp}"]

    def test_a_symlinked_tarball_is_written_beside_the_file_it_points_at(self, tmp_path):
        (tmp_path / "real").mkdir()
        (tmp_path / "link.tar").symlink_to(tmp_path / "real" / "image.tar")
        doc = document(tmp_path, PLUGIN_BUILDER="docker", PLUGIN_TAR_PATH=str(tmp_path / "link.tar"))
        assert doc["builder_outputs"][0]["written_to"] == f"{tmp_path}/real/{TEMP}"

    def test_nothing_without_a_tarball_and_nothing_for_kaniko_push_only(self, tmp_path):
        assert "builder_outputs" not in document(tmp_path, PLUGIN_BUILDER="docker")
        settings = load_settings(
            {
                **BASE,
                "PLUGIN_TAR_PATH": "/o/i.tar",
                "PLUGIN_PUSH_ONLY": "1",
                "PLUGIN_SOURCE_TAR_PATH": "/in.tar",
            }
        ).settings
        assert builder_outputs(settings, "kaniko", "build-push-ecr-x") == []
        assert [o.variable for o in builder_outputs(settings, "docker", "build-push-ecr-x")] == [
            "PLUGIN_TAR_PATH"
        ]


def built(tmp_path: Path, name: str = "image.tar", data: bytes = b"new tarball") -> tuple[Path, Path]:
    """A target and the temp file a builder wrote beside it."""
    target, temp = tmp_path / name, tmp_path / f".{name}.build-push-ecr-t.tmp"
    temp.write_bytes(data)
    return target, temp


def layout(folder: Path, marker: str) -> None:
    (folder / "blobs").mkdir(parents=True)
    (folder / "index.json").write_text(marker)


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


class TestStagedBuilderOutputs:
    def test_the_tarball_is_renamed_over_the_old_one_same_inode(self, tmp_path):
        target, temp = built(tmp_path)
        target.write_bytes(b"old")
        inode = temp.stat().st_ino
        with StagedFiles() as files:
            files.expect(target, temp)
            files.stage(tmp_path / "drone.env", b"A=1\n")
            assert target.read_bytes() == b"old"
        assert target.read_bytes() == b"new tarball"
        assert target.stat().st_ino == inode  # renamed, not copied
        assert hidden(tmp_path) == []

    def test_a_new_layout_directory_replaces_the_old_one(self, tmp_path):
        target, temp = tmp_path / "oci", tmp_path / ".oci.build-push-ecr-t.tmp"
        layout(target, "old")
        layout(temp, "new")
        with StagedFiles() as files:
            files.expect(target, temp, directory=True)
        assert (target / "index.json").read_text() == "new"
        assert hidden(tmp_path) == []

    def test_a_failure_before_the_outputs_removes_what_the_builder_wrote(self, tmp_path):
        target, temp = built(tmp_path)
        target.write_bytes(b"old")
        layout_target, layout_temp = tmp_path / "new-dir" / "oci", tmp_path / "new-dir" / ".oci.x.tmp"
        with pytest.raises(KeyError), StagedFiles() as files:
            files.expect(target, temp)
            files.expect(layout_target, layout_temp, directory=True)  # makes new-dir
            layout(layout_temp, "new")
            raise KeyError("the push failed")
        assert target.read_bytes() == b"old"
        assert hidden(tmp_path) == []
        assert not (tmp_path / "new-dir").exists()

    def test_what_the_builder_did_not_write_is_not_moved(self, tmp_path):
        target = tmp_path / "image.tar"
        target.write_bytes(b"old")
        with StagedFiles() as files:
            files.expect(target, tmp_path / ".image.tar.never.tmp")
            files.stage(tmp_path / "drone.env", b"A=1\n")
        assert target.read_bytes() == b"old"
        assert (tmp_path / "drone.env").read_bytes() == b"A=1\n"

    def test_a_failure_while_moving_puts_back_the_old_tarball_and_layout(self, tmp_path):
        target, temp = built(tmp_path)
        target.write_bytes(b"old")
        oci, oci_temp = tmp_path / "oci", tmp_path / ".oci.build-push-ecr-t.tmp"
        layout(oci, "old")
        layout(oci_temp, "new")
        card = tmp_path / "card.json"
        card.write_text("old card")
        with (
            immutable(card),
            pytest.raises(RunError, match="every output file was put back"),
            StagedFiles() as f,
        ):
            f.expect(target, temp)
            f.expect(oci, oci_temp, directory=True)
            f.stage(card, b"new card")  # moved last: fails after the tarball and the layout moved
        assert target.read_bytes() == b"old"
        assert (oci / "index.json").read_text() == "old"
        assert card.read_text() == "old card"
        assert hidden(tmp_path) == []

    def test_a_new_tarball_that_cannot_move_in_leaves_no_file(self, tmp_path):
        """The old tarball itself is immutable: it cannot be replaced; it stays, the new one goes."""
        target, temp = built(tmp_path)
        target.write_bytes(b"old")
        with (
            immutable(target),
            pytest.raises(RunError, match=r"cannot write .*image\.tar"),
            StagedFiles() as f,
        ):
            f.expect(target, temp)
        assert target.read_bytes() == b"old"
        assert hidden(tmp_path) == []


def problems(ws: Path, **env: str) -> list[Problem]:
    (ws / "Dockerfile").write_text("FROM scratch\n")
    cwd = os.getcwd()
    os.chdir(ws)
    try:
        check_inputs(resolve(load_settings({**BASE, "PLUGIN_BUILDER": "kaniko", **env}), ws))
    except ConfigError as exc:
        return exc.problems
    finally:
        os.chdir(cwd)
    return []


class TestInputs:
    def test_the_tarballs_directory_must_take_new_entries(self, tmp_path):
        """The old file is writable, but the temporary name cannot be made beside it."""
        (tmp_path / "ro").mkdir()
        tar = tmp_path / "ro" / "image.tar"
        tar.write_bytes(b"old")
        with immutable(tmp_path / "ro"):
            found = problems(tmp_path, PLUGIN_TAR_PATH=str(tar))
        assert found == [
            Problem(
                "PLUGIN_TAR_PATH", str(tar), f"a path in a writable directory ({tmp_path}/ro is not writable)"
            )
        ]

    @pytest.mark.parametrize(
        "variable",
        [
            "DRONE_OUTPUT",
            "PLUGIN_ARTIFACT_FILE",
            "DRONE_CARD_PATH",
            "PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE",
            "PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE",
        ],
    )
    def test_every_output_files_directory_must_take_new_entries(self, tmp_path, variable):
        """Each output is written beside its path, then renamed: refused before the build, not after."""
        (tmp_path / "ro").mkdir()
        path = tmp_path / "ro" / "out.txt"
        path.write_text("old")
        with immutable(tmp_path / "ro"):
            found = problems(tmp_path, **{variable: str(path)})
        why = f"a path in a writable directory ({tmp_path}/ro is not writable)"
        assert found == [Problem(variable, str(path), why)]
        assert path.read_text() == "old"

    def test_a_missing_folder_under_an_immutable_one_is_refused_too(self, tmp_path):
        (tmp_path / "ro").mkdir()
        path = tmp_path / "ro" / "new" / "image.json"
        with immutable(tmp_path / "ro"):
            found = problems(tmp_path, PLUGIN_ARTIFACT_FILE=str(path))
        why = f"a path in a writable directory ({tmp_path}/ro is not writable)"
        assert found == [Problem("PLUGIN_ARTIFACT_FILE", str(path), why)]

    def test_the_oci_layout_is_a_directory(self, tmp_path):
        (tmp_path / "oci").write_text("a file")
        (tmp_path / "f").write_text("a file")
        assert problems(tmp_path, PLUGIN_OCI_LAYOUT_PATH=str(tmp_path / "oci")) == [
            Problem("PLUGIN_OCI_LAYOUT_PATH", str(tmp_path / "oci"), "a directory path (it is a file)")
        ]
        assert problems(tmp_path, PLUGIN_OCI_LAYOUT_PATH=str(tmp_path / "f" / "oci")) == [
            Problem(
                "PLUGIN_OCI_LAYOUT_PATH",
                str(tmp_path / "f" / "oci"),
                f"a directory path ({tmp_path}/f is not a directory)",
            )
        ]

    def test_an_existing_layout_and_missing_folders_are_fine(self, tmp_path):
        (tmp_path / "oci").mkdir()
        assert problems(tmp_path, PLUGIN_OCI_LAYOUT_PATH=str(tmp_path / "oci")) == []
        assert (
            problems(
                tmp_path,
                PLUGIN_OCI_LAYOUT_PATH=str(tmp_path / "a" / "b"),
                PLUGIN_TAR_PATH=str(tmp_path / "c" / "image.tar"),
            )
            == []
        )

    def test_the_layout_and_an_output_file_cannot_be_one_path(self, tmp_path):
        path = str(tmp_path / "same")
        assert problems(tmp_path, PLUGIN_OCI_LAYOUT_PATH=path, PLUGIN_ARTIFACT_FILE=path) == [
            Problem("PLUGIN_OCI_LAYOUT_PATH", path, "a file of its own (PLUGIN_ARTIFACT_FILE names it too)")
        ]

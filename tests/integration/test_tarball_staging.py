"""PLUGIN_TAR_PATH all or nothing, with the docker builder end to end (its own dockerd, moto, a real
registry): the tarball is saved under a hidden temporary name beside the user's path and renamed into
place with the other outputs once the run succeeded; a run that fails after the save leaves the
user's previous tarball byte for byte and no temporary file.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from tests.integration.test_docker_e2e import TAGS, app_env, make_context
from tests.support.chattr import immutable
from tests.support.plugin_run import ROOT, run_plugin
from tests.support.stack import running_registry

pytestmark = pytest.mark.integration

OLD_TARBALL = b"the tarball of the previous run\n" * 64


@pytest.fixture(scope="module")
def example_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's Dockerfile with a static busybox (as test_docker_e2e builds it)."""
    dockerfile = (ROOT / "examples" / "app" / "Dockerfile").read_text()
    return make_context(tmp_path_factory.mktemp("app"), dockerfile)


def hidden(folder: Path) -> list[str]:
    """What the run left in the tarball's folder under a hidden name (temporary or kept-aside files)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def saved_to(output: str) -> str:
    """The path `docker save` wrote, as the run traced it."""
    found = re.search(r"docker save --output=(\S+)", output)
    assert found, output
    return found[1]


def old_tarball(base: Path) -> tuple[Path, Path]:
    """A tarball from an earlier run at <base>/tarballs/image.tar: (its folder, its path)."""
    tarballs = base / "tarballs"
    tarballs.mkdir()
    tar_path = tarballs / "image.tar"
    tar_path.write_bytes(OLD_TARBALL)
    return tarballs, tar_path


def test_the_tarball_replaces_the_old_one_once_the_run_succeeded(
    moto_server, registry, workspace, example_context
):
    tarballs, tar_path = old_tarball(workspace.base)
    env = app_env(
        moto_server, registry.host, workspace, example_context, "tarstage/ok", PLUGIN_TAR_PATH=str(tar_path)
    )
    result = run_plugin(env)
    assert result.returncode == 0, result.output
    written = saved_to(result.output)
    assert Path(written).parent == tarballs
    assert re.fullmatch(r"\.image\.tar\.build-push-ecr-\w+\.tmp", Path(written).name), written
    with tarfile.open(tar_path) as tar:
        handle = tar.extractfile("manifest.json")
        assert handle is not None
        repo_tags = json.load(handle)[0]["RepoTags"]
    assert sorted(repo_tags) == sorted(f"{registry.host}/tarstage/ok:{t}" for t in TAGS)
    assert hidden(tarballs) == []
    assert workspace.drone_values()["IMAGE_TAR_PATH"] == str(tar_path)
    assert registry.tags("tarstage/ok")


def test_outputs_that_cannot_be_written_leave_the_old_tarball(
    moto_server, registry, workspace, example_context
):
    """The artifact's directory is immutable: refused before anything is built (exit 2), the old tarball
    as it was. (Outputs that fail while moving, after the push: the test below.)"""
    tarballs, tar_path = old_tarball(workspace.base)
    artifact = workspace.base / "artifacts" / "image.json"
    artifact.parent.mkdir()
    env = app_env(
        moto_server,
        registry.host,
        workspace,
        example_context,
        "tarstage/out",
        PLUGIN_TAR_PATH=str(tar_path),
        PLUGIN_ARTIFACT_FILE=str(artifact),
    )
    with immutable(artifact.parent):
        result = run_plugin(env)
    assert result.returncode == 2, result.output
    assert f"PLUGIN_ARTIFACT_FILE='{artifact}': a path in a writable directory" in result.stderr
    assert "docker save" not in result.output  # nothing was built or saved
    assert tar_path.read_bytes() == OLD_TARBALL
    assert hidden(tarballs) == []
    workspace.assert_no_outputs()


def test_a_failure_while_moving_puts_the_old_tarball_back(moto_server, registry, workspace, example_context):
    """The card cannot be replaced (moved after the tarball): the tarball that was moved in is undone."""
    tarballs, tar_path = old_tarball(workspace.base)
    env = app_env(
        moto_server, registry.host, workspace, example_context, "tarstage/card", PLUGIN_TAR_PATH=str(tar_path)
    )
    workspace.card.write_text('{"old": "card"}')
    with immutable(workspace.card):
        result = run_plugin(env)
    assert result.returncode == 1, result.output
    assert "every output file was put back as it was" in result.stderr
    assert tar_path.read_bytes() == OLD_TARBALL
    assert hidden(tarballs) == []
    assert workspace.card.read_text() == '{"old": "card"}'
    assert workspace.drone_values().get("IMAGE_TAR_PATH") is None


def test_a_registry_that_refuses_the_push_leaves_the_old_tarball(
    moto_server, workspace, example_context, tmp_path
):
    """`docker save` runs before `docker push`: the push is refused, the saved tarball is removed."""
    tar_path = workspace.base / "image.tar"
    tar_path.write_bytes(OLD_TARBALL)
    with running_registry(tmp_path / "strict", "AWS", "other") as strict:
        env = app_env(
            moto_server, strict.host, workspace, example_context, "tarstage/no", PLUGIN_TAR_PATH=str(tar_path)
        )
        result = run_plugin(env)
    assert result.returncode != 0, result.output
    assert "unauthorized" in result.stderr
    assert Path(saved_to(result.output)).parent == workspace.base
    assert tar_path.read_bytes() == OLD_TARBALL
    assert hidden(workspace.base) == []
    workspace.assert_no_outputs()
    workspace.assert_no_temp_files_left()

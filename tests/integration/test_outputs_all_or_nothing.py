"""Outputs of a real run (moto over HTTP): written together, or not at all, and never half.

Every tag already exists in an immutable repository, so the run skips the build and goes straight to
its outputs: the quickest real run that writes DRONE_OUTPUT, the artifact file and the card. The
faults are real: a directory or file marked immutable (``chattr +i``), which stops root too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tests.support.chattr import immutable
from tests.support.moto_server import MotoServer, put_image
from tests.support.plugin_run import base_env, ecr_client, run_plugin

pytestmark = pytest.mark.integration

REPORTED = b'my-dashed-key=dash\nMSG=fix #12 and #13\nQUOTED="first line\nsecond line"\n'


@pytest.fixture
def skipping(moto_server: MotoServer, tmp_path: Path) -> tuple[dict[str, str], str]:
    """The environment of a run whose tags all exist (immutable repository), and their digest."""
    moto_server.reset()
    client = ecr_client(moto_server.url)
    client.create_repository(repositoryName="outputs/app", imageTagMutability="IMMUTABLE")
    digest = put_image(client, "outputs/app", "1.0", "one")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "out").mkdir()
    drone_output = tmp_path / "out" / "drone.env"
    drone_output.write_bytes(REPORTED)
    env = base_env(moto_server.url, "127.0.0.1:1", tmp_path / "docker", TMPDIR=str(tmp_path))
    env.update(
        PLUGIN_REPO="outputs/app",
        PLUGIN_TAGS="1.0",
        PLUGIN_CONTEXT=str(tmp_path),
        PLUGIN_DOCKERFILE=str(tmp_path / "Dockerfile"),
        DRONE_OUTPUT=str(drone_output),
        PLUGIN_ARTIFACT_FILE=str(tmp_path / "artifacts" / "image.json"),
        DRONE_CARD_PATH=str(tmp_path / "out" / "card.json"),
    )
    return env, digest


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.name.endswith((".tmp", ".old"))]


def test_success_writes_all_three_and_keeps_every_other_line(skipping, tmp_path):
    env, digest = skipping
    result = run_plugin(env, timeout=60)
    assert result.returncode == 0, result.output
    written = (tmp_path / "out" / "drone.env").read_bytes()
    assert written.startswith(REPORTED)
    values = dotenv_values(tmp_path / "out" / "drone.env", interpolate=False)
    assert (values["my-dashed-key"], values["MSG"], values["QUOTED"]) == (
        "dash",
        "fix",
        "first line\nsecond line",
    )
    assert (values["digest"], values["skipped"]) == (digest, "true")
    assert (
        json.loads((tmp_path / "artifacts" / "image.json").read_text())["data"]["images"][0]["digest"]
        == digest
    )
    assert json.loads((tmp_path / "out" / "card.json").read_text())["data"]["Digest"] == digest


def test_read_only_artifact_directory_writes_nothing(skipping, tmp_path):
    """The issue's case: refused before any AWS call (exit 2 naming the variable), not after the push;
    DRONE_OUTPUT is not rewritten with a digest. (A failure while writing: tests/unit/test_staging.py.)"""
    env, _ = skipping
    folder = tmp_path / "artifacts"
    folder.mkdir()
    with immutable(folder):
        result = run_plugin(env, timeout=60)
    assert result.returncode == 2, result.output
    assert f"PLUGIN_ARTIFACT_FILE='{folder}/image.json': a path in a writable directory" in result.stderr
    assert "(ecr." not in result.stderr  # no ECR event: nothing was asked of AWS
    assert (tmp_path / "out" / "drone.env").read_bytes() == REPORTED
    assert not (tmp_path / "out" / "card.json").exists()
    assert leftovers(tmp_path) == []


def test_a_failure_while_moving_puts_back_what_was_there(skipping, tmp_path):
    """The card cannot be replaced (the last of the three): DRONE_OUTPUT and the artifact are undone."""
    env, _ = skipping
    card = tmp_path / "out" / "card.json"
    card.write_text('{"old": "card"}')
    with immutable(card):
        result = run_plugin(env, timeout=60)
    assert result.returncode == 1, result.output
    assert "every output file was put back as it was" in result.stderr
    assert (tmp_path / "out" / "drone.env").read_bytes() == REPORTED
    assert not (tmp_path / "artifacts").exists()
    assert card.read_text() == '{"old": "card"}'
    assert leftovers(tmp_path) == []

"""kaniko-ecr's push-only: a tarball (docker save / kaniko --tar-path) pushed over the registry API.

Real parts: an image saved by a real engine, the plugin as a process with its ECR token from moto,
the registry with htpasswd, and the same engine pulling and running what was pushed.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tests.support.contexts import busybox_context
from tests.support.moto_server import MotoServer
from tests.support.plugin_run import base_env, run_plugin
from tests.support.services import Registry, short_tempdir

DOCKER = "/usr/bin/docker"


def docker(engine: str, *args: str, config: Path | None = None) -> str:
    env = {"PATH": "/usr/sbin:/usr/bin", "DOCKER_HOST": engine, "DOCKER_BUILDKIT": "1"}
    if config:
        env["DOCKER_CONFIG"] = str(config)
    done = subprocess.run([DOCKER, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def tarball(dockerd_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """busybox on scratch, built and `docker save`d by a real engine."""
    root = tmp_path_factory.mktemp("tarball")
    context = busybox_context(
        root / "ctx", 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "pushed-ok"]\n'
    )
    docker(dockerd_engine, "build", "--network=host", "--tag=local/tarball:src", str(context))
    path = root / "image.tar"
    docker(dockerd_engine, "save", "--output", str(path), "local/tarball:src")
    return path


@pytest.fixture
def work() -> Iterator[Path]:
    """The run's files (under /tmp: its TMPDIR and outputs), removed afterwards."""
    folder = Path(short_tempdir("tarpush-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def env_for(moto: MotoServer, registry: Registry, work: Path, tar: Path, repo: str) -> dict[str, str]:
    return base_env(
        moto.url, registry.host, work / "docker",
        PLUGIN_BUILDER="kaniko", PLUGIN_PUSH_ONLY="true", PLUGIN_SOURCE_TAR_PATH=str(tar),
        PLUGIN_REPO=repo, PLUGIN_TAGS="1.0,latest", PLUGIN_CREATE_REPOSITORY="true",
        DRONE_OUTPUT=str(work / "drone.env"), PLUGIN_ARTIFACT_FILE=str(work / "artifact.json"),
        TMPDIR=str(work),
    )  # fmt: skip


def drone_values(path: Path) -> dict[str, str | None]:
    return dict(dotenv_values(path, interpolate=False))


class TestPushOnlyTarball:
    """No executor and no daemon: the tarball's layers, config and manifest go straight to the registry."""

    def test_pushed_image_runs_and_a_second_push_gives_the_same_digest(
        self, moto_server, registry, dockerd_engine, tarball, tmp_path, work
    ):
        """The image pulled back from the registry runs; gzip is deterministic, so re-runs are idempotent."""
        result = run_plugin(env_for(moto_server, registry, work, tarball, "e2e/tarball"))
        assert result.returncode == 0, result.output
        assert not (work / "docker").exists()
        assert registry.tags("e2e/tarball") == ["1.0", "latest"]
        digest = drone_values(work / "drone.env")["digest"]
        assert digest == registry.digest("e2e/tarball", "1.0") == registry.digest("e2e/tarball", "latest")
        artifact = json.loads((work / "artifact.json").read_text())
        assert {i["digest"] for i in artifact["data"]["images"]} == {digest}

        config = tmp_path / "pull-config"
        config.mkdir()
        auth = f"{registry.username}:{registry.password}".encode()
        (config / "config.json").write_text(
            json.dumps({"auths": {registry.host: {"auth": base64.b64encode(auth).decode()}}})
        )
        image = f"{registry.host}/e2e/tarball:1.0"
        docker(dockerd_engine, "pull", image, config=config)
        assert docker(dockerd_engine, "run", "--rm", "--network=host", image).strip() == "pushed-ok"

        again = run_plugin(env_for(moto_server, registry, work, tarball, "e2e/tarball"))
        assert again.returncode == 0, again.output
        assert drone_values(work / "drone.env")["digest"] == digest

    def test_missing_tarball_is_a_config_error(self, moto_server, registry, tmp_path, work):
        """No tarball at PLUGIN_SOURCE_TAR_PATH: exit 2 naming it."""
        result = run_plugin(env_for(moto_server, registry, work, tmp_path / "absent.tar", "e2e/absent"))
        assert result.returncode == 2
        assert "PLUGIN_SOURCE_TAR_PATH" in result.stderr
        assert "Traceback" not in result.stderr

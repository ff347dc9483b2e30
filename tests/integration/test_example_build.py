"""The example app builds on the test engine with a BuildKit secret and pushes to the htpasswd registry.

These pin the engine facts the docker builder relies on: the 20.10 CLI's built-in BuildKit client
handles ``--secret`` without buildx, RUN steps need ``--network host`` on a bridge-less daemon, and
a push authenticates from a per-run DOCKER_CONFIG written by ``write_docker_config``.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from plugin.exec.runner import Runner
from plugin.exec.steps import Step
from plugin.registry.dockerconfig import write_docker_config
from tests.support.contexts import example_app
from tests.support.services import Registry, require

pytestmark = pytest.mark.integration

DOCKER = "/usr/bin/docker"  # Debian's 20.10 CLI: BuildKit built in (the 28.x CLI needs buildx)
SECRET = "example-s3cr3t-value"


@pytest.fixture(scope="module")
def example_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_app(tmp_path_factory.mktemp("app"))


@pytest.fixture
def docker_env(dockerd_engine: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    require(DOCKER)
    monkeypatch.setenv("DOCKER_HOST", dockerd_engine)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    return {"DOCKER_HOST": dockerd_engine}


def docker(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> Step:
    return Step("docker", (DOCKER, *args), env=env or {}, stdin=stdin)


def build(context: Path, tag: str, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    step = docker(
        "build",
        "--network",
        "host",
        "--secret",
        "id=token,env=TOKEN",
        "--build-arg",
        "GREETING=hi",
        "-t",
        tag,
        *extra,
        str(context),
        env={"DOCKER_BUILDKIT": "1", "TOKEN": SECRET},
    )
    return Runner(out=out).run(step), out.getvalue()


def layer_texts(image: str) -> str:
    """Every file of every layer and config of ``docker save``, as one string to search."""
    saved = subprocess.run([DOCKER, "save", image], check=True, capture_output=True).stdout
    texts: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
        for member in outer.getmembers():
            data = outer.extractfile(member)
            if data is None:
                continue
            blob = data.read()
            texts.append(blob.decode("latin-1"))
            if member.name.endswith("layer.tar"):
                with tarfile.open(fileobj=io.BytesIO(blob)) as layer:
                    for entry in layer.getmembers():
                        content = layer.extractfile(entry) if entry.isfile() else None
                        if content is not None:
                            texts.append(content.read().decode("latin-1"))
    return "\n".join(texts)


class TestExampleBuild:
    def test_builds_with_a_secret_that_leaves_no_trace(self, example_context, docker_env):
        status, output = build(example_context, "example:secret")
        assert status == 0, output
        history = subprocess.run(
            [DOCKER, "history", "--no-trunc", "example:secret"], check=True, capture_output=True, text=True
        ).stdout
        assert SECRET not in history
        texts = layer_texts("example:secret")
        assert "secret had" in texts  # the search does see the layers' files
        assert SECRET not in texts
        seen = subprocess.run(
            [DOCKER, "run", "--rm", "--network", "host", "example:secret", "cat", "/secret-seen"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert seen == f"secret had {len(SECRET)} bytes\n"

    def test_arg_and_label_are_applied(self, example_context, docker_env):
        status, output = build(example_context, "example:label")
        assert status == 0, output
        labels = subprocess.run(
            [DOCKER, "inspect", "--format", "{{json .Config.Labels}}", "example:label"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert json.loads(labels)["org.example.greeting"] == "hi"

    def test_without_host_network_run_steps_fail_on_a_bridgeless_daemon(self, example_context, docker_env):
        out = io.StringIO()
        argv = ("build", "--no-cache", "--secret", "id=token,env=TOKEN", "-t", "example:nonet")
        step = docker(*argv, str(example_context), env={"DOCKER_BUILDKIT": "1", "TOKEN": SECRET})
        assert Runner(out=out).run(step) != 0
        assert "network bridge not found" in out.getvalue()


class TestPushWithDockerConfig:
    def test_push_authenticates_from_the_written_config(
        self, example_context, docker_env, registry: Registry, tmp_path
    ):
        image = f"{registry.host}/example/app:v1"
        status, output = build(example_context, image)
        assert status == 0, output
        config_dir = tmp_path / "push-config"
        write_docker_config(config_dir, {registry.host: (registry.username, registry.password)})
        out = io.StringIO()
        pushed = Runner(out=out).run(docker("push", image, env={"DOCKER_CONFIG": str(config_dir)}))
        assert pushed == 0, out.getvalue()
        assert registry.password not in out.getvalue()
        assert registry.tags("example/app") == ["v1"]
        status, repo_digests = Runner().capture(
            docker("inspect", "--format", "{{index .RepoDigests 0}}", image)
        )
        assert status == 0
        assert repo_digests.strip().split("@")[1] == registry.digest("example/app", "v1")

    def test_push_without_credentials_is_refused(self, example_context, docker_env, registry, tmp_path):
        image = f"{registry.host}/example/denied:v1"
        status, output = build(example_context, image)
        assert status == 0, output
        out = io.StringIO()
        empty = tmp_path / "empty-config"
        write_docker_config(empty, {})
        assert Runner(out=out).run(docker("push", image, env={"DOCKER_CONFIG": str(empty)})) != 0
        assert "no basic auth credentials" in out.getvalue()
        assert registry.tags("example/denied") == []

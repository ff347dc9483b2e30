"""PLUGIN_TAG_RULES end to end: the plugin as a process, its ECR token from moto, a real registry.

A monorepo release: one git tag `svc/v1.2.3`, two steps. The step of service `svc` pushes the tags its
rules make (1.2.3, 1.2, 1, sha-..., latest: one digest); the step of service `web` skips (exit 0) and
pushes nothing. The image is a small docker-save tarball pushed by kaniko-ecr's push-only path, so no
builder is needed for what this test is about: which tags reach the registry.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.moto_server import MotoServer
from tests.support.plugin_run import base_env, drone_output_values, run_plugin
from tests.support.services import Registry, short_tempdir

SHA = "90dd6032fac8bda1b6c4436a2e65de27961ed071"
RULES = "\n".join(
    [
        "# releases of this service",
        "type=semver,pattern={{version}}",
        "type=semver,pattern={{major}}.{{minor}}",
        "type=semver,pattern={{major}}",
        "type=ref,event=branch",
        "type=sha",
    ]
)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def image_tarball(path: Path) -> Path:
    """A `docker save` tarball: one layer with one file, its config and manifest.json."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        _add(tar, "hello.txt", b"tag rules\n")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer.getvalue()).hexdigest()}"]},
    }
    with tarfile.open(path, "w") as tar:
        _add(tar, "layer.tar", layer.getvalue())
        _add(tar, "config.json", json.dumps(config).encode())
        _add(tar, "manifest.json", json.dumps([{"Config": "config.json", "Layers": ["layer.tar"]}]).encode())
    return path


@pytest.fixture
def work() -> Iterator[Path]:
    folder = Path(short_tempdir("tagrules-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def step_env(moto: MotoServer, registry: Registry, work: Path, service: str) -> dict[str, str]:
    """One pipeline step of the monorepo, on Drone's tag event for `svc/v1.2.3`."""
    return base_env(
        moto.url, registry.host, work / "docker",
        PLUGIN_BUILDER="kaniko", PLUGIN_PUSH_ONLY="true",
        PLUGIN_SOURCE_TAR_PATH=str(image_tarball(work / "image.tar")),
        PLUGIN_REPO=f"mono/{service}", PLUGIN_CREATE_REPOSITORY="true",
        PLUGIN_TAG_RULES=RULES, PLUGIN_TAG_SERVICE=service,
        DRONE_BUILD_EVENT="tag", DRONE_COMMIT_REF="refs/tags/svc/v1.2.3", DRONE_TAG="svc/v1.2.3",
        DRONE_COMMIT_SHA=SHA, DRONE_REPO_BRANCH="main", DRONE_OUTPUT=str(work / "drone.env"),
        TMPDIR=str(work),
    )  # fmt: skip


class TestMonorepoRelease:
    def test_the_named_service_pushes_its_rule_tags_and_the_other_skips(
        self, moto_server: MotoServer, registry: Registry, work: Path
    ) -> None:
        pushed = run_plugin(step_env(moto_server, registry, work, "svc"))
        assert pushed.returncode == 0, pushed.output
        assert registry.tags("mono/svc") == ["1", "1.2", "1.2.3", "latest", "sha-90dd603"]
        digests = {registry.digest("mono/svc", tag) for tag in registry.tags("mono/svc")}
        assert len(digests) == 1
        assert drone_output_values(work / "drone.env")["tags"] == "1.2.3,1.2,1,sha-90dd603,latest"
        assert "tags.resolved" in pushed.stderr
        assert "line 2: type=semver,pattern={{version}}" in pushed.stderr
        assert "tags.rule_skipped" in pushed.stderr  # type=ref,event=branch on a tag build

        skipped = run_plugin(step_env(moto_server, registry, work, "web"))
        assert skipped.returncode == 0, skipped.output
        assert "git tag 'svc/v1.2.3' is not for service 'web' (PLUGIN_TAG_SERVICE)" in skipped.stderr
        assert registry.tags("mono/web") == []

    def test_a_bad_rule_stops_the_step_before_any_aws_call(
        self, moto_server: MotoServer, registry: Registry, work: Path
    ) -> None:
        env = step_env(moto_server, registry, work, "svc")
        env["PLUGIN_TAG_RULES"] += "\ntype=semver,pattern={{verison}}"
        env["PLUGIN_REPO"] = "mono/bad"
        result = run_plugin(env)
        assert result.returncode == 2
        assert (
            "PLUGIN_TAG_RULES='type=semver,pattern={{verison}}': line 7: pattern=: unknown expression"
            in result.stderr
        )
        assert "Traceback" not in result.output
        assert registry.tags("mono/bad") == []

"""OCI labels with the docker builder (its own dockerd, moto, the registry), read back from the registry.

Also what the docker builder cannot do, shown rather than assumed: annotations are refused before any
AWS call, and two builds of one commit (file times changed in between, as in a fresh clone) give two
digests even with PLUGIN_SOURCE_DATE_EPOCH, which is why PLUGIN_REPRODUCIBLE is not offered there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.test_docker_e2e import app_env
from tests.support.docker_workspace import Workspace
from tests.support.moto_server import MotoServer
from tests.support.plugin_run import OciRegistry, ecr_client, run_plugin
from tests.support.services import Registry

pytestmark = pytest.mark.integration

OCI = "org.opencontainers.image"
CI = {
    "DRONE_REMOTE_URL": "https://git.example.com/team/web.git",
    "DRONE_REPO": "team/web",
    "DRONE_REPO_NAME": "web",
    "DRONE_REPO_NAMESPACE": "team",
}


@pytest.fixture
def small_context(tmp_path: Path) -> Path:
    (tmp_path / "page.html").write_text("<p>hello</p>\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY page.html /page.html\n")
    return tmp_path


def env_for(
    moto: MotoServer, registry: Registry, ws: Workspace, ctx: Path, repo: str, **extra: str
) -> dict[str, str]:
    env = app_env(moto, registry.host, ws, ctx, repo, PLUGIN_SECRETS_FROM_ENV="", PLUGIN_BUILD_ARGS="", **CI)
    env.update(extra)
    return {k: v for k, v in env.items() if v}


class TestDockerBuilderLabels:
    def test_every_oci_label_the_context_fills_user_labels_win(
        self, moto_server: MotoServer, registry: Registry, workspace: Workspace, small_context: Path
    ) -> None:
        env = env_for(
            moto_server, registry, workspace, small_context, "labels/web",
            PLUGIN_OCI_LABELS="true", PLUGIN_SOURCE_DATE_EPOCH="1600000000",
            PLUGIN_CUSTOM_LABELS=f"{OCI}.title=Web front,team=core",
        )  # fmt: skip
        result = run_plugin(env, timeout=180)
        assert result.returncode == 0, result.output[-4000:]
        config = OciRegistry(registry.url, (registry.username, registry.password)).config(
            "labels/web", "1.0.0"
        )
        labels = config["config"]["Labels"]
        assert {k: v for k, v in labels.items() if k.startswith(OCI)} == {
            f"{OCI}.created": "2020-09-13T12:26:40Z",  # PLUGIN_SOURCE_DATE_EPOCH
            f"{OCI}.revision": "0123456789abcdef0123456789abcdef01234567",
            f"{OCI}.source": CI["DRONE_REMOTE_URL"],
            f"{OCI}.url": "https://git.example.com/team/app",  # DRONE_REPO_LINK (app_env)
            f"{OCI}.version": "1.0.0",
            f"{OCI}.title": "Web front",  # the user's label wins
            f"{OCI}.vendor": "team",
            f"{OCI}.ref.name": "labels/web",
        }
        assert labels["team"] == "core"
        assert "SOURCE_DATE_EPOCH" in result.output  # passed as a build argument

    def test_annotations_are_refused_before_any_aws_call(
        self, moto_server: MotoServer, registry: Registry, workspace: Workspace, small_context: Path
    ) -> None:
        env = env_for(
            moto_server, registry, workspace, small_context, "labels/none", PLUGIN_OCI_ANNOTATIONS="true"
        )
        result = run_plugin(env, timeout=60)
        assert result.returncode == 2, result.output[-3000:]
        assert "PLUGIN_OCI_ANNOTATIONS" in result.output and "docker push writes manifests" in result.output
        names = [
            r["repositoryName"] for r in ecr_client(moto_server.url).describe_repositories()["repositories"]
        ]
        assert "labels/none" not in names

    def test_two_builds_of_one_commit_differ(
        self, moto_server: MotoServer, registry: Registry, workspace: Workspace, small_context: Path
    ) -> None:
        """Why PLUGIN_REPRODUCIBLE is left out (with a warning) for docker: same sources, same source
        date, new file times (a fresh clone) and the digest changes. Each build on its own empty data
        root, as on a fresh runner: a kept build cache would reuse the first build's layers."""
        digests = []
        storage = env_for(moto_server, registry, workspace, small_context, "labels/twice")[
            "PLUGIN_STORAGE_PATH"
        ]
        for attempt in range(2):
            env = env_for(
                moto_server, registry, workspace, small_context, "labels/twice",
                PLUGIN_TAGS="1", PLUGIN_SOURCE_DATE_EPOCH="1600000000", PLUGIN_REPRODUCIBLE="true",
                PLUGIN_STORAGE_PATH=f"{storage}-{attempt}",
            )  # fmt: skip
            result = run_plugin(env, timeout=180)
            assert result.returncode == 0, result.output[-3000:]
            assert "PLUGIN_REPRODUCIBLE" in result.output  # named as left out (settings.ignored_for_builder)
            assert "--reproducible" not in result.output
            digests.append(registry.digest("labels/twice", "1"))
            page = small_context / "page.html"
            os.utime(page, (page.stat().st_atime + 1000, page.stat().st_mtime + 1000))
        assert digests[0] != digests[1]

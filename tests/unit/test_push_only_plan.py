"""Push-only plans: kaniko pushes the tarball itself (no process); docker loads, tags and pushes."""

from __future__ import annotations

from pathlib import Path

from plugin.config.load import load_settings
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BASE = {
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0,latest",
    "PLUGIN_PUSH_ONLY": "true",
}


class TestPushOnlyPlan:
    def test_kaniko_push_only_starts_no_process(self, tmp_path: Path) -> None:
        """No executor step: the plan names the tarball and where it goes."""
        env = {**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_SOURCE_TAR_PATH": "/ws/image.tar"}
        doc = plan_document(resolve(load_settings(env), tmp_path))
        assert doc["steps"] == []
        assert doc["push_tarball"] == {
            "source": "/ws/image.tar",
            "destinations": [f"{REGISTRY}/team/app:1.0", f"{REGISTRY}/team/app:latest"],
        }

    def test_docker_push_only_loads_tags_and_pushes(self, tmp_path: Path) -> None:
        """docker: load the tarball, tag the source image for every destination, push; no build."""
        env = {
            **BASE,
            "PLUGIN_BUILDER": "docker",
            "PLUGIN_SOURCE_TAR_PATH": "/ws/image.tar",
            "PLUGIN_SOURCE_IMAGE": "app:ci",
            "PLUGIN_DAEMON_OFF": "true",
        }
        names = [step["name"] for step in plan_document(resolve(load_settings(env), tmp_path))["steps"]]
        assert names == ["load", "tag", "tag", "push", "push"]

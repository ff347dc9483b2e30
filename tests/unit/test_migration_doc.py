"""docs/migration.md: every anchor in every place, and its snippets only use real variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugin.config.settings import known_variables

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = ROOT / "docs" / "migration.md"
TEXT = MIGRATION.read_text(encoding="utf-8")
ANCHORS = ("plugins/kaniko-ecr", "plugins/ecr", "plugins/buildx-ecr")
PLACES = ("Drone", "Harness", "Woodpecker", "A Kubernetes runner with the kaniko image", "`docker run`")


def _section(anchor: str) -> str:
    return TEXT.split(f"## From {anchor}\n", 1)[1].split("\n## From ", 1)[0]


def _yaml_blocks() -> list[Any]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", TEXT, re.S)]


def _settings_keys(node: Any) -> list[str]:
    """Every key under a `settings:` mapping (Drone, Woodpecker, a Harness Plugin step)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "settings" and isinstance(value, dict):
                found += list(value)
            found += _settings_keys(value)
    elif isinstance(node, list):
        for item in node:
            found += _settings_keys(item)
    return found


def _env_names(node: Any) -> list[str]:
    """PLUGIN_* names set as environment (a Job's env) or as Harness stage variables."""
    found: list[str] = []
    if isinstance(node, dict):
        name = node.get("name")
        if isinstance(name, str) and name.startswith("PLUGIN_"):
            found.append(name)
        for value in node.values():
            found += _env_names(value)
    elif isinstance(node, list):
        for item in node:
            found += _env_names(item)
    return found


class TestCoverage:
    """Each anchor, each place."""

    @pytest.mark.parametrize("anchor", ANCHORS)
    @pytest.mark.parametrize("place", PLACES)
    def test_every_anchor_has_every_place(self, anchor: str, place: str) -> None:
        assert f"### {place}" in _section(anchor)

    @pytest.mark.parametrize("anchor", ANCHORS)
    def test_every_anchor_says_what_changes(self, anchor: str) -> None:
        assert "### What you will notice" in _section(anchor)

    def test_the_harness_stage_variables_are_shown(self) -> None:
        names = {n for block in _yaml_blocks() for n in _env_names(block)}
        assert {"PLUGIN_USER_ROLE_ARN", "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS"} <= names

    def test_the_readme_links_the_guides(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert "docs/migration.md" in readme
        assert "docs/troubleshooting.md" in readme


class TestSnippetsAreReal:
    """What a user copies from the guide is read by the plugin."""

    def test_every_yaml_snippet_parses(self) -> None:
        assert len(_yaml_blocks()) >= 10

    def test_every_setting_is_a_variable(self) -> None:
        known = known_variables()
        keys = {key for block in _yaml_blocks() for key in _settings_keys(block)}
        assert sorted(k for k in keys if f"PLUGIN_{k.upper()}" not in known) == []

    def test_every_variable_set_is_known(self) -> None:
        known = known_variables()
        names = {n for block in _yaml_blocks() for n in _env_names(block)}
        assert sorted(n for n in names if n not in known) == []

    @pytest.mark.parametrize("doc", ["migration.md", "troubleshooting.md", "compatibility.md"])
    def test_every_variable_named_in_the_guides_exists(self, doc: str) -> None:
        text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
        names = set(re.findall(r"\bPLUGIN_[A-Z0-9_]*[A-Z0-9]\b", text))
        assert sorted(n for n in names if n not in known_variables()) == []

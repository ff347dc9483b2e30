"""Which registries a no-push run logs in to (pure part of plugin.run.pull_logins)."""

from __future__ import annotations

from pathlib import Path

from plugin.config.load import load_settings
from plugin.run.plan import ecr_actions
from plugin.run.pull_logins import login_hosts
from plugin.run.resolve import resolve

MAIN = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
OTHER = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"


def hosts(tmp_path: Path, **env: str) -> list[str | None]:
    return login_hosts(
        resolve(load_settings({"PLUGIN_REPO": "team/app", "PLUGIN_NO_PUSH": "true", **env}), tmp_path)
    )


def test_the_target_registries(tmp_path: Path):
    assert hosts(tmp_path, PLUGIN_REGISTRY=MAIN, PLUGIN_EXTRA_REGISTRIES=OTHER) == [MAIN, OTHER]


def test_no_registry_means_the_tokens_endpoint(tmp_path: Path):
    assert hosts(tmp_path) == [None]


def test_ecr_base_registry_without_credentials_and_ecr_mirrors(tmp_path: Path):
    found = hosts(
        tmp_path,
        PLUGIN_REGISTRY=MAIN,
        PLUGIN_BASE_IMAGE_REGISTRY=OTHER,
        PLUGIN_REGISTRY_MIRRORS=f"mirror.example.com,{MAIN},333333333333.dkr.ecr.us-west-2.amazonaws.com/hub",
    )
    assert found == [MAIN, OTHER, "333333333333.dkr.ecr.us-west-2.amazonaws.com"]


def test_a_base_registry_with_its_own_credentials_keeps_them(tmp_path: Path):
    found = hosts(
        tmp_path,
        PLUGIN_REGISTRY=MAIN,
        PLUGIN_BASE_IMAGE_REGISTRY=OTHER,
        PLUGIN_BASE_IMAGE_USERNAME="u",
        PLUGIN_BASE_IMAGE_PASSWORD="p" * 8,
    )
    assert found == [MAIN]


def test_plan_shows_the_pull_logins(tmp_path: Path):
    r = resolve(
        load_settings({"PLUGIN_REPO": "team/app", "PLUGIN_NO_PUSH": "true", "PLUGIN_REGISTRY": MAIN}),
        tmp_path,
    )
    assert ecr_actions(r) == [
        {"registry": MAIN, "actions": ["ecr:GetAuthorizationToken (pull login; a failure is a warning)"]}
    ]

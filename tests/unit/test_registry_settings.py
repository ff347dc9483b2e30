"""Registry, region and account settings are checked before anything runs: exit 2 naming the variable."""

from __future__ import annotations

import pytest

from plugin.errors import ConfigError, Problem
from plugin.settings import load_settings


def problems(**env: str) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_settings({"PLUGIN_REPO": "team/app", **env})
    return caught.value.problems


class TestRegistrySettings:
    """A host that looks like ECR must be one; an account with a region must make a host."""

    def test_malformed_ecr_registry_is_named(self) -> None:
        """An 11-digit account in PLUGIN_REGISTRY is refused with the reason."""
        [problem] = problems(PLUGIN_REGISTRY="12345678901.dkr.ecr.us-east-1.amazonaws.com")
        assert problem.variable == "PLUGIN_REGISTRY"
        assert problem.expected.endswith("the account '12345678901' must be 12 digits")

    def test_extra_registry_in_the_wrong_partition_is_named(self) -> None:
        """A China region under amazonaws.com is refused, naming PLUGIN_EXTRA_REGISTRIES."""
        [problem] = problems(PLUGIN_EXTRA_REGISTRIES="123456789012.dkr.ecr.cn-north-1.amazonaws.com")
        assert problem.variable == "PLUGIN_EXTRA_REGISTRIES"
        assert "amazonaws.com.cn" in problem.expected

    def test_non_ecr_registry_is_accepted_as_given(self) -> None:
        """A local registry (demo, tests) is not an ECR host and is used as it is."""
        loaded = load_settings(
            {"PLUGIN_REPO": "a", "PLUGIN_REGISTRY": "127.0.0.1:5000", "PLUGIN_ACCOUNT": "1" * 12}
        )
        assert loaded.settings.registry == "127.0.0.1:5000"

    def test_bad_region_and_account_are_listed_together(self) -> None:
        """Both problems in one message, each with what was expected."""
        found = problems(PLUGIN_REGION="useast", PLUGIN_ACCOUNT="12")
        assert [(p.variable, p.expected) for p in found] == [
            ("PLUGIN_REGION", "an AWS region such as us-east-1"),
            ("PLUGIN_ACCOUNT", "a 12-digit AWS account id"),
        ]

    @pytest.mark.parametrize(
        "region", ["us-east-1", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1", "il-central-1"]
    )
    def test_real_regions_are_accepted(self, region: str) -> None:
        assert load_settings({"PLUGIN_REPO": "a", "PLUGIN_REGION": region}).settings.region == region

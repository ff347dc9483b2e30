"""Registry, region and account settings are checked before anything runs: exit 2 naming the variable."""

from __future__ import annotations

import pytest

from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, Problem
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve

EXAMPLE = "e.g. 123456789012"


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
        assert problem.expected == (
            "an ECR registry host whose account part is an AWS account id, which is 12 digits "
            "(e.g. 123456789012); '12345678901' has 11 digits"
        )

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
            (
                "PLUGIN_ACCOUNT",
                "an AWS account id, which is 12 digits (e.g. 123456789012); '12' has 2 digits",
            ),
        ]

    @pytest.mark.parametrize(
        "region", ["us-east-1", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1", "il-central-1"]
    )
    def test_real_regions_are_accepted(self, region: str) -> None:
        assert load_settings({"PLUGIN_REPO": "a", "PLUGIN_REGION": region}).settings.region == region


class TestAccountIds:
    """An ECR account id is 12 digits; the message says so and names where the value came from."""

    HARNESS_HINT = "(12345 is the placeholder of Harness's docs example: put your own account id)"

    def test_harness_docs_example_account_is_refused_with_a_hint(self) -> None:
        """Harness builds PLUGIN_REGISTRY from the step's `account: "12345"` (their minimal example)."""
        [problem] = problems(PLUGIN_REGISTRY="12345.dkr.ecr.us-east-1.amazonaws.com")
        assert problem == Problem(
            "PLUGIN_REGISTRY",
            "12345.dkr.ecr.us-east-1.amazonaws.com",
            "an ECR registry host whose account part is an AWS account id, which is 12 digits "
            f"(e.g. 123456789012); '12345' has 5 digits {self.HARNESS_HINT}",
        )

    def test_plugin_account_is_named(self) -> None:
        [problem] = problems(PLUGIN_ACCOUNT="12345")
        assert problem.variable == "PLUGIN_ACCOUNT"
        assert problem.expected.endswith(f"'12345' has 5 digits {self.HARNESS_HINT}")

    def test_a_host_leading_plugin_repo_is_named(self) -> None:
        """With no PLUGIN_REGISTRY, PLUGIN_REPO may start with the host; its account is checked too."""
        with pytest.raises(ConfigError) as caught:
            load_settings({"PLUGIN_REPO": "1234567890.dkr.ecr.eu-west-1.amazonaws.com/team/app"})
        [problem] = caught.value.problems
        assert (problem.variable, problem.value) == (
            "PLUGIN_REPO",
            "1234567890.dkr.ecr.eu-west-1.amazonaws.com/team/app",
        )
        assert problem.expected.endswith("'1234567890' has 10 digits")

    def test_letters_in_the_account_are_named_as_such(self) -> None:
        [problem] = problems(PLUGIN_ACCOUNT="12345678901O")
        assert problem.expected.endswith("'12345678901O' has characters that are not digits")

    def test_an_extra_registry_with_a_short_account_is_named(self) -> None:
        [problem] = problems(PLUGIN_EXTRA_REGISTRIES="123.dkr.ecr.us-east-1.amazonaws.com")
        assert problem.variable == "PLUGIN_EXTRA_REGISTRIES"

    def test_without_a_push_a_short_account_is_a_warning(self) -> None:
        """Build-only runs never reach ECR: the host is only a name, as it was with the anchors."""
        loaded = load_settings(
            {
                "PLUGIN_REPO": "team/app",
                "PLUGIN_REGISTRY": "12345.dkr.ecr.us-east-1.amazonaws.com",
                "PLUGIN_NO_PUSH": "true",
            }
        )
        [(event, fields)] = loaded.warnings
        assert event == "settings.account_not_an_account_id"
        assert fields["variable"] == "PLUGIN_REGISTRY"
        assert "a push would be refused" in fields["hint"]

    def test_without_a_push_a_short_plugin_account_still_gives_a_host(self) -> None:
        loaded = load_settings({"PLUGIN_REPO": "app", "PLUGIN_ACCOUNT": "12345", "PLUGIN_DRY_RUN": "true"})
        assert plan_document(resolve(loaded))["registry"] == "12345.dkr.ecr.us-east-1.amazonaws.com"

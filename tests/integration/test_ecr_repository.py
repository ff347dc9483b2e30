"""Repository management against moto: create with settings, only touch what the user set, policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.ecr import Ecr
from plugin.aws.repositories import RepositorySpec
from plugin.aws.session import make_session
from plugin.core.errors import AwsError, ConfigError
from tests.support.moto_server import ACCOUNT, AwsEnv, ecr_client

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.05)
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
LIFECYCLE = {
    "rules": [
        {
            "rulePriority": 1,
            "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5},
            "action": {"type": "expire"},
        }
    ]
}
BAD_RULE = {
    "rules": [
        {
            "rulePriority": 1,
            "action": {"type": "expire"},
            "selection": {"tagStatus": "bogus", "countType": "imageCountMoreThan", "countNumber": 1},
        }
    ]
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "pull",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["ecr:BatchGetImage"],
        }
    ],
}


@pytest.fixture
def ecr(aws_env: AwsEnv) -> Ecr:
    return Ecr(make_session(AwsAuth(), FAST), REGISTRY, None, "us-east-1")


def _describe(name: str) -> dict[str, Any]:
    repo: dict[str, Any] = ecr_client().describe_repositories(repositoryNames=[name])["repositories"][0]
    return repo


class TestCreate:
    def test_create_with_defaults_sends_no_settings(self, ecr: Ecr) -> None:
        state = ecr.ensure_repository(RepositorySpec("team/app", create=True))
        assert (state.name, state.exists, state.created, state.immutable, state.actions) == (
            "team/app",
            True,
            True,
            False,
            ["created"],
        )
        assert state.uri == f"{REGISTRY}/team/app"
        repo = _describe("team/app")
        assert repo["imageScanningConfiguration"] == {"scanOnPush": False}
        assert repo["imageTagMutability"] == "MUTABLE"

    def test_registry_prefix_in_the_name_is_stripped(self, ecr: Ecr) -> None:
        """PLUGIN_REPO that already starts with the registry is never prefixed twice."""
        assert ecr.ensure_repository(RepositorySpec(f"{REGISTRY}/app", create=True)).name == "app"
        assert _describe("app")["repositoryName"] == "app"

    def test_create_with_scan_on_push(self, ecr: Ecr) -> None:
        ecr.ensure_repository(RepositorySpec("app", create=True, scan_on_push=True))
        assert _describe("app")["imageScanningConfiguration"] == {"scanOnPush": True}

    def test_create_immutable(self, ecr: Ecr) -> None:
        state = ecr.ensure_repository(RepositorySpec("app", create=True, tag_mutability="IMMUTABLE"))
        assert state.immutable
        assert _describe("app")["imageTagMutability"] == "IMMUTABLE"

    def test_create_with_aes256(self, ecr: Ecr) -> None:
        ecr.ensure_repository(RepositorySpec("app", create=True, encryption="AES256"))
        assert _describe("app")["encryptionConfiguration"] == {"encryptionType": "AES256"}

    def test_create_with_kms_key(self, ecr: Ecr) -> None:
        key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ecr.ensure_repository(RepositorySpec("app", create=True, encryption="KMS", kms_key=key))
        assert _describe("app")["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}

    def test_missing_repository_without_create_is_left_alone(self, ecr: Ecr) -> None:
        """Nothing asked, nothing done: a missing repository is reported, not created."""
        state = ecr.ensure_repository(RepositorySpec("app"))
        assert (state.exists, state.created, state.uri) == (False, False, None)
        assert ecr_client().describe_repositories()["repositories"] == []

    def test_missing_repository_with_settings_but_no_create_is_an_error(self, ecr: Ecr) -> None:
        with pytest.raises(AwsError) as raised:
            ecr.ensure_repository(RepositorySpec("app", scan_on_push=True))
        assert str(raised.value) == (
            "AWS DescribeRepositories on repository 'app' failed: RepositoryNotFoundException: "
            "the repository does not exist and PLUGIN_CREATE_REPOSITORY is off"
        )


class TestExisting:
    def test_existing_scan_on_push_is_not_clobbered(self, ecr: Ecr) -> None:
        """The anchors reset scan-on-push to false on existing repositories; unset means untouched."""
        ecr_client().create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
        state = ecr.ensure_repository(RepositorySpec("app", create=True))
        assert (state.created, state.actions) == (False, [])
        assert _describe("app")["imageScanningConfiguration"] == {"scanOnPush": True}

    def test_existing_settings_change_only_when_set_and_different(self, ecr: Ecr) -> None:
        ecr_client().create_repository(repositoryName="app")
        state = ecr.ensure_repository(RepositorySpec("app", scan_on_push=True, tag_mutability="IMMUTABLE"))
        assert state.actions == ["scanOnPush=true", "imageTagMutability=IMMUTABLE"]
        assert state.immutable
        repo = _describe("app")
        assert (repo["imageScanningConfiguration"], repo["imageTagMutability"]) == (
            {"scanOnPush": True},
            "IMMUTABLE",
        )
        again = ecr.ensure_repository(RepositorySpec("app", scan_on_push=True, tag_mutability="IMMUTABLE"))
        assert again.actions == []

    def test_existing_encryption_mismatch_is_only_a_warning(self, ecr: Ecr) -> None:
        ecr_client().create_repository(repositoryName="app")
        with capture_logs() as logs:
            state = ecr.ensure_repository(RepositorySpec("app", encryption="KMS", kms_key="alias/ci"))
        assert state.exists and state.actions == []
        [warning] = [e for e in logs if e["event"] == "ecr.encryption.unchanged"]
        assert (warning["log_level"], warning["wanted"], warning["current"]) == (
            "warning",
            {"encryptionType": "KMS", "kmsKey": "alias/ci"},
            {"encryptionType": "AES256"},
        )


class TestPolicies:
    def test_policies_from_files(self, ecr: Ecr, tmp_path: Path) -> None:
        lifecycle, policy = tmp_path / "lifecycle.json", tmp_path / "policy.json"
        lifecycle.write_text(json.dumps(LIFECYCLE))
        policy.write_text(json.dumps(POLICY))
        state = ecr.ensure_repository(
            RepositorySpec("app", create=True, lifecycle_policy=str(lifecycle), repository_policy=str(policy))
        )
        assert state.actions == ["created", "lifecycle policy", "repository policy"]
        client = ecr_client()
        assert (
            json.loads(client.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"]) == LIFECYCLE
        )
        assert json.loads(client.get_repository_policy(repositoryName="app")["policyText"]) == POLICY

    def test_policies_inline(self, ecr: Ecr) -> None:
        ecr_client().create_repository(repositoryName="app")
        ecr.ensure_repository(
            RepositorySpec(
                "app", lifecycle_policy=json.dumps(LIFECYCLE), repository_policy=json.dumps(POLICY)
            )
        )
        client = ecr_client()
        assert (
            json.loads(client.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"]) == LIFECYCLE
        )
        assert json.loads(client.get_repository_policy(repositoryName="app")["policyText"]) == POLICY

    def test_bad_policy_file_is_a_config_error_before_any_aws_call(self, ecr: Ecr, tmp_path: Path) -> None:
        """The error names the variable, the file and the JSON error; the repository is not even created."""
        bad = tmp_path / "lifecycle.json"
        bad.write_text('{"rules": [}')
        with pytest.raises(ConfigError) as raised:
            ecr.ensure_repository(RepositorySpec("app", create=True, lifecycle_policy=str(bad)))
        assert str(raised.value) == (
            "invalid configuration (1 bad setting):\n"
            f"  - PLUGIN_LIFECYCLE_POLICY={str(bad)!r}: valid JSON (file {str(bad)!r}: "
            "Expecting value at line 1 column 12)"
        )
        assert ecr_client().describe_repositories()["repositories"] == []

    def test_missing_policy_file_is_a_config_error(self, ecr: Ecr, tmp_path: Path) -> None:
        missing = str(tmp_path / "nope.json")
        with pytest.raises(ConfigError) as raised:
            ecr.ensure_repository(RepositorySpec("app", create=True, repository_policy=missing))
        assert raised.value.problems[0].render() == (
            f"PLUGIN_REPOSITORY_POLICY={missing!r}: a JSON policy file (No such file or directory)"
        )

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "{not json",
                "valid JSON (the inline policy: "
                "Expecting property name enclosed in double quotes at line 1 column 2)",
            ),
        ],
    )
    def test_bad_inline_policy_names_the_variable(self, ecr: Ecr, text: str, expected: str) -> None:
        with pytest.raises(ConfigError) as raised:
            ecr.ensure_repository(RepositorySpec("app", repository_policy=text))
        assert raised.value.problems[0].render() == f"PLUGIN_REPOSITORY_POLICY: {expected}"

    def test_policy_that_is_not_an_object_is_rejected(self, ecr: Ecr, tmp_path: Path) -> None:
        listed = tmp_path / "policy.json"
        listed.write_text("[1, 2]")
        with pytest.raises(ConfigError) as raised:
            ecr.ensure_repository(RepositorySpec("app", repository_policy=str(listed)))
        assert (
            raised.value.problems[0].expected == f"a JSON policy object (file {str(listed)!r} holds a list)"
        )

    def test_policy_rejected_by_aws_surfaces(self, ecr: Ecr) -> None:
        """No AWS error is swallowed: a policy ECR refuses fails the run with its code."""
        with pytest.raises(AwsError) as raised:
            ecr.ensure_repository(RepositorySpec("app", create=True, lifecycle_policy=json.dumps(BAD_RULE)))
        assert (raised.value.operation, raised.value.repository) == ("PutLifecyclePolicy", "app")
        assert raised.value.code == "InvalidParameterException"

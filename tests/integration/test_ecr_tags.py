"""Existing-tag checks against moto, and the build/skip decision they feed."""

from __future__ import annotations

import pytest

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.ecr import Ecr
from plugin.aws.existing_tags import decide
from plugin.aws.repositories import RepositorySpec
from plugin.aws.session import make_session
from plugin.core.errors import AwsError, RunError
from tests.support.moto_server import ACCOUNT, AwsEnv, ecr_client, put_image

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.05)
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture
def ecr(aws_env: AwsEnv) -> Ecr:
    return Ecr(make_session(AwsAuth(), FAST), REGISTRY, None, "us-east-1")


class TestExistingTags:
    def test_miss(self, ecr: Ecr) -> None:
        ecr_client().create_repository(repositoryName="app")
        assert ecr.existing_tags("app", ["v1", "latest"]) == {}

    def test_hit_gives_each_tags_digest(self, ecr: Ecr) -> None:
        client = ecr_client()
        client.create_repository(repositoryName="app")
        one = put_image(client, "app", "v1", "one")
        two = put_image(client, "app", "v2", "two")
        assert ecr.existing_tags(f"{REGISTRY}/app", ["v1", "v2", "v3", "v1"]) == {"v1": one, "v2": two}

    def test_missing_repository_with_create_off_is_a_clear_error(self, ecr: Ecr) -> None:
        with pytest.raises(AwsError) as raised:
            ecr.existing_tags("app", ["v1"])
        assert str(raised.value) == (
            "AWS DescribeImages on repository 'app' failed: RepositoryNotFoundException: "
            "the repository does not exist; set PLUGIN_CREATE_REPOSITORY=true to create it"
        )
        assert isinstance(raised.value.__cause__, AwsError)

    def test_missing_repository_is_empty_when_allowed(self, ecr: Ecr) -> None:
        """A dry run before create: nothing exists yet."""
        assert ecr.existing_tags("app", ["v1"], missing_ok=True) == {}


class TestDecisionFromRealTags:
    def test_all_tags_on_one_digest_skips(self, ecr: Ecr) -> None:
        client = ecr_client()
        client.create_repository(repositoryName="app")
        digest = put_image(client, "app", "v1", "same")
        put_image(client, "app", "latest", "same")
        decision = decide(["v1", "latest"], ecr.existing_tags("app", ["v1", "latest"]), immutable=False)
        assert (decision.action, decision.push_tags, decision.digest) == ("skip", [], digest)

    def test_partial_in_a_mutable_repository_pushes_every_tag(self, ecr: Ecr) -> None:
        client = ecr_client()
        client.create_repository(repositoryName="app")
        put_image(client, "app", "latest", "old")
        state = ecr.ensure_repository(RepositorySpec("app"))
        decision = decide(["v2", "latest"], ecr.existing_tags("app", ["v2", "latest"]), state.immutable)
        assert (decision.action, decision.push_tags, decision.verify_tags) == ("build", ["v2", "latest"], {})

    def test_partial_in_an_immutable_repository_pushes_the_missing_and_verifies_the_rest(
        self, ecr: Ecr
    ) -> None:
        client = ecr_client()
        client.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE")
        old = put_image(client, "app", "v1", "old")
        state = ecr.ensure_repository(RepositorySpec("app"))
        assert state.immutable
        decision = decide(["v1", "v2"], ecr.existing_tags("app", ["v1", "v2"]), state.immutable)
        assert (decision.action, decision.push_tags, decision.verify_tags) == ("build", ["v2"], {"v1": old})

    def test_conflicting_digests_in_an_immutable_repository_fail_before_building(self, ecr: Ecr) -> None:
        client = ecr_client()
        client.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE")
        one = put_image(client, "app", "v1", "one")
        two = put_image(client, "app", "latest", "two")
        with pytest.raises(RunError) as raised:
            decide(["v1", "latest"], ecr.existing_tags("app", ["v1", "latest"]), immutable=True)
        assert str(raised.value) == (
            "the tags already exist in an immutable repository with different digests "
            f"(v1={one}, latest={two}); "
            "no single build can satisfy them all"
        )

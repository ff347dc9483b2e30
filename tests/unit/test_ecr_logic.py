"""The pure parts of plugin.aws.ecr: the tag decision, the planned actions, token decoding."""

from __future__ import annotations

import base64

import pytest

from plugin.aws.existing_tags import TagDecision, decide
from plugin.aws.repositories import RepositorySpec, plan_actions
from plugin.aws.token import decode_token
from plugin.core.errors import AwsError, RunError

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


class TestDecide:
    def test_none_exist_builds_and_pushes_all(self) -> None:
        assert decide(["v1", "latest"], {}, immutable=True) == TagDecision(
            "build", ["v1", "latest"], {}, {}, "none of the 2 tags exist"
        )

    def test_all_on_one_digest_skips_with_that_digest(self) -> None:
        decision = decide(["v1", "latest"], {"v1": D1, "latest": D1}, immutable=False)
        assert (decision.action, decision.push_tags, decision.digest) == ("skip", [], D1)
        assert decision.reason == f"every tag already points to {D1}"

    def test_all_on_one_digest_skips_in_an_immutable_repository_too(self) -> None:
        assert decide(["v1"], {"v1": D1}, immutable=True).action == "skip"

    def test_some_exist_in_a_mutable_repository_pushes_all(self) -> None:
        decision = decide(["v2", "latest"], {"latest": D1}, immutable=False)
        assert (decision.action, decision.push_tags, decision.verify_tags) == ("build", ["v2", "latest"], {})

    def test_all_exist_on_different_digests_in_a_mutable_repository_pushes_all(self) -> None:
        """Mutable tags can all be moved to the new build."""
        decision = decide(["v1", "latest"], {"v1": D1, "latest": D2}, immutable=False)
        assert (decision.action, decision.push_tags) == ("build", ["v1", "latest"])

    def test_some_exist_in_an_immutable_repository_pushes_the_missing_and_verifies_the_rest(self) -> None:
        decision = decide(["v1", "v2", "latest"], {"v1": D1}, immutable=True)
        assert decision == TagDecision(
            "build",
            ["v2", "latest"],
            {"v1": D1},
            {"v1": D1},
            "1 of 3 tags exist in an immutable repository; pushing v2, latest and verifying v1",
        )

    def test_different_digests_in_an_immutable_repository_fail_before_building(self) -> None:
        with pytest.raises(RunError) as raised:
            decide(["v1", "latest"], {"v1": D1, "latest": D2}, immutable=True)
        assert str(raised.value) == (
            "the tags already exist in an immutable repository with different digests "
            f"(v1={D1}, latest={D2}); "
            "no single build can satisfy them all"
        )

    def test_duplicates_and_unrelated_existing_tags_are_ignored(self) -> None:
        decision = decide(["v1", "v1"], {"v1": D1, "other": D2}, immutable=True)
        assert (decision.action, decision.existing) == ("skip", {"v1": D1})

    def test_no_tags_is_an_error(self) -> None:
        with pytest.raises(RunError, match="no tags to push"):
            decide([], {}, immutable=False)


class TestDecodeToken:
    @pytest.mark.parametrize(
        ("raw", "user", "password"),
        [
            (b"AWS:secret", "AWS", "secret"),
            (b"AWS:pa:ss:word", "AWS", "pa:ss:word"),
            (b"AWS:eyJwYXlsb2FkIjoi==:x", "AWS", "eyJwYXlsb2FkIjoi==:x"),
        ],
    )
    def test_token_splits_once_on_the_first_colon(self, raw: bytes, user: str, password: str) -> None:
        assert decode_token(base64.b64encode(raw).decode()) == (user, password)

    @pytest.mark.parametrize(
        ("token", "why"),
        [
            (None, "is empty"),
            ("", "is empty"),
            ("not base64!", "is not valid base64 of UTF-8 text"),
            ("QUJ", "is not valid base64 of UTF-8 text"),
            (base64.b64encode(b"\xff\xfe:x").decode(), "is not valid base64 of UTF-8 text"),
            (base64.b64encode(b"no-colon").decode(), "is not of the form user:password"),
            (base64.b64encode(b":password").decode(), "is not of the form user:password"),
            (base64.b64encode(b"AWS:").decode(), "is not of the form user:password"),
        ],
    )
    def test_malformed_token_is_an_invalid_token_error(self, token: str | None, why: str) -> None:
        with pytest.raises(AwsError) as raised:
            decode_token(token)
        assert (raised.value.operation, raised.value.code, raised.value.detail) == (
            "GetAuthorizationToken",
            "InvalidToken",
            f"the authorization token {why}",
        )
        assert raised.value.__cause__ is None


class TestPlanActions:
    def test_nothing_asked(self) -> None:
        assert plan_actions(RepositorySpec("app")) == [
            "ecr:DescribeRepositories app",
            "ecr:GetAuthorizationToken",
        ]

    def test_everything_asked(self) -> None:
        spec = RepositorySpec(
            "app",
            create=True,
            scan_on_push=True,
            tag_mutability="IMMUTABLE",
            encryption="KMS",
            kms_key="alias/ci",
            lifecycle_policy="ci/lifecycle.json",
            repository_policy='{"a": 1}',
        )
        assert plan_actions(spec, check_tags=True) == [
            "ecr:DescribeRepositories app",
            "ecr:CreateRepository app (if missing) "
            "scanOnPush=true imageTagMutability=IMMUTABLE encryption=KMS:alias/ci",
            "ecr:PutImageScanningConfiguration scanOnPush=true (if existing and different)",
            "ecr:PutImageTagMutability IMMUTABLE (if existing and different)",
            "ecr:PutLifecyclePolicy from ci/lifecycle.json",
            "ecr:SetRepositoryPolicy from inline JSON",
            "ecr:DescribeImages (one call per tag)",
            "ecr:GetAuthorizationToken",
        ]

    def test_public_has_no_settings_or_lifecycle(self) -> None:
        spec = RepositorySpec(
            "app", create=True, scan_on_push=False, lifecycle_policy="l.json", repository_policy="p"
        )
        assert plan_actions(spec, public=True) == [
            "ecr-public:DescribeRepositories app",
            "ecr-public:CreateRepository app (if missing)",
            "ecr-public:SetRepositoryPolicy from p",
            "ecr-public:GetAuthorizationToken",
        ]


class TestRepositorySpec:
    def test_kms_key_implies_kms(self) -> None:
        assert RepositorySpec("a", kms_key="k").encryption_configuration == {
            "encryptionType": "KMS",
            "kmsKey": "k",
        }

    def test_kms_key_with_aes256_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="a KMS key needs KMS encryption, not AES256"):
            RepositorySpec("a", encryption="AES256", kms_key="k")

    @pytest.mark.parametrize(
        ("spec", "asks"),
        [
            (RepositorySpec("a"), False),
            (RepositorySpec("a", create=True), True),
            (RepositorySpec("a", scan_on_push=False), True),
            (RepositorySpec("a", repository_policy="p.json"), True),
        ],
    )
    def test_asks_anything(self, spec: RepositorySpec, asks: bool) -> None:
        assert spec.asks_anything is asks

"""Credentials against a real moto server: every path signs every ECR call with what it resolved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.sts.models import sts_backends

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.ecr import Ecr
from plugin.aws.repositories import RepositorySpec
from plugin.aws.session import AwsSession, make_session, sanitize_session_name
from plugin.core.errors import AwsError
from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.moto_server import AwsEnv

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.05)
ROLE_ACCOUNT = "222233334444"
ROLE_ARN = f"arn:aws:iam::{ROLE_ACCOUNT}:role/ci-push"


@pytest.fixture
def proxy(aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A pass-through proxy in front of moto for ECR, recording the key id that signed each request."""
    with fault_proxy(aws_env.endpoint) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", running.url)
        yield running


def _assumed_roles() -> list[object]:
    return list(sts_backends[ROLE_ACCOUNT]["aws"].assumed_roles)


def _create_repo(session: AwsSession, name: str = "app") -> str:
    """Create a repository through the plugin and return its ARN's account."""
    state = Ecr(session, "", None, "us-east-1").ensure_repository(RepositorySpec(name, create=True))
    assert state.uri is not None
    return state.uri.split(".", 1)[0]


class TestStaticKeys:
    def test_static_keys_sign_every_ecr_call(self, proxy: FaultProxy) -> None:
        """Keys given to the plugin win over the environment's keys."""
        session = make_session(AwsAuth(access_key="AKIASTATICKEY0000001", secret_key="s3cr3t-static"), FAST)
        _create_repo(session)
        assert proxy.seen == ["DescribeRepositories", "CreateRepository"]
        assert set(proxy.access_keys) == {"AKIASTATICKEY0000001"}

    def test_credentials_report_the_keys_and_token_in_use(self, aws_env: AwsEnv) -> None:
        auth = AwsAuth(access_key="AKIASTATICKEY0000001", secret_key="s3cr3t-static", session_token="tok-123")
        creds = make_session(auth, FAST).credentials()
        assert creds is not None
        assert creds.as_env() == {
            "AWS_ACCESS_KEY_ID": "AKIASTATICKEY0000001",
            "AWS_SECRET_ACCESS_KEY": "s3cr3t-static",
            "AWS_SESSION_TOKEN": "tok-123",
        }
        assert "s3cr3t-static" not in repr(creds)

    def test_an_access_key_without_a_secret_is_an_aws_error(self, aws_env: AwsEnv) -> None:
        with pytest.raises(AwsError) as raised:
            make_session(AwsAuth(access_key="AKIASTATICKEY0000001"), FAST)
        assert str(raised.value) == (
            "AWS ResolveCredentials failed: PartialCredentials: "
            "both an access key and a secret key are needed"
        )


class TestDefaultChain:
    def test_environment_keys_sign_every_ecr_call(
        self, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With nothing set, boto3's default chain reads AWS_ACCESS_KEY_ID from the environment."""
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1")
        session = make_session(AwsAuth(), FAST)
        _create_repo(session)
        assert set(proxy.access_keys) == {"AKIAFROMENVIRONMENT1"}

    def test_web_identity_token_file_is_used_as_on_eks(
        self, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """IRSA: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE make boto3 assume the role through STS."""
        token = tmp_path / "token"
        token.write_text("eks-oidc-token")
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        monkeypatch.setenv("AWS_ROLE_ARN", ROLE_ARN)
        monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
        session = make_session(AwsAuth(), FAST)
        assert _create_repo(session) == ROLE_ACCOUNT
        assert [r.role_arn for r in _assumed_roles()] == [ROLE_ARN]  # type: ignore[attr-defined]

    def test_no_credentials_anywhere_is_a_clear_aws_error(
        self, aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        session = make_session(AwsAuth(), FAST)
        assert session.credentials() is None
        with pytest.raises(AwsError) as raised:
            Ecr(session, "", None, "us-east-1").describe("app")
        assert str(raised.value) == (
            "AWS DescribeRepositories on repository 'app' failed: "
            "NoCredentialsError: Unable to locate credentials"
        )


class TestAssumeRole:
    def test_external_id_and_session_name_reach_sts(self, aws_env: AwsEnv) -> None:
        """The STS side saw the role, the external id, the sanitized session name and the duration."""
        auth = AwsAuth(
            role_arn=ROLE_ARN, external_id="ext-42", session_name="org/repo #17", duration_seconds=1800
        )
        make_session(auth, FAST)
        [role] = _assumed_roles()
        assert (role.role_arn, role.external_id, role.session_name) == (  # type: ignore[attr-defined]
            ROLE_ARN,
            "ext-42",
            "org-repo-17",
        )
        lifetime = role.expiration - role.expiration.__class__.now(role.expiration.tzinfo)  # type: ignore[attr-defined]
        assert 1700 < lifetime.total_seconds() <= 1800

    def test_assumed_credentials_sign_every_ecr_call(self, proxy: FaultProxy) -> None:
        """The repository lands in the role's account: ECR calls use the assumed keys, not the base ones."""
        session = make_session(AwsAuth(role_arn=ROLE_ARN, external_id="ext-42"), FAST)
        creds = session.credentials()
        assert creds is not None and creds.token
        assert _create_repo(session) == ROLE_ACCOUNT
        assert set(proxy.access_keys) == {creds.access_key}

    def test_assume_role_uses_static_keys_as_the_base(self, aws_env: AwsEnv) -> None:
        session = make_session(
            AwsAuth(access_key="AKIABASEKEY000000001", secret_key="base-secret", role_arn=ROLE_ARN), FAST
        )
        assert _create_repo(session) == ROLE_ACCOUNT


class TestWebIdentity:
    def test_oidc_token_assumes_the_role_with_web_identity(self, proxy: FaultProxy) -> None:
        """role_arn + oidc_token -> AssumeRoleWithWebIdentity; the external id is not sent."""
        auth = AwsAuth(
            role_arn=ROLE_ARN,
            oidc_token="header.payload.signature",
            external_id="unused",
            session_name="drone-build-9",
        )
        session = make_session(auth, FAST)
        [role] = _assumed_roles()
        assert (role.role_arn, role.external_id, role.session_name) == (  # type: ignore[attr-defined]
            ROLE_ARN,
            None,
            "drone-build-9",
        )
        assert _create_repo(session) == ROLE_ACCOUNT

    def test_web_identity_needs_no_base_credentials(
        self, aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        session = make_session(AwsAuth(role_arn=ROLE_ARN, oidc_token="header.payload.signature"), FAST)
        assert _create_repo(session) == ROLE_ACCOUNT


class TestSessionName:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("build-push-ecr", "build-push-ecr"),
            ("org/repo #17", "org-repo-17"),
            ("ünïcode", "n-code"),
            ("x", "build-push-ecr"),
            ("///", "build-push-ecr"),
            ("a" * 80, "a" * 64),
            ("user@example.com,team=ci+1", "user@example.com,team=ci+1"),
        ],
    )
    def test_session_name_is_made_valid_for_sts(self, given: str, expected: str) -> None:
        assert sanitize_session_name(given) == expected

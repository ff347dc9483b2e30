"""Sentinel secrets never reach a log line or an error message, on every path and error path."""

from __future__ import annotations

import io
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.ecr import Ecr
from plugin.aws.repositories import RepositorySpec
from plugin.aws.session import make_session
from plugin.core import log as plugin_log
from plugin.core.errors import PluginError
from tests.support.faultproxy import Fault, FaultProxy, fault_proxy
from tests.support.moto_server import ACCOUNT, AwsEnv

pytestmark = pytest.mark.integration

ACCESS = "AKIASENTINELACCESS01"
SECRET = "sentinel-secret-key-0123456789"
SESSION = "sentinel-session-token-abcdef"
OIDC = "sentinel.oidc.token-xyz"
SENTINELS = (ACCESS, SECRET, SESSION, OIDC)
FAST = RetryPolicy(attempts=2, max_seconds=5, initial_wait=0.01, max_wait=0.01)
ROLE = "arn:aws:iam::222233334444:role/ci"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
STS_DENIED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
    b"<Message>not authorized to perform sts:AssumeRole</Message></Error></ErrorResponse>"
)


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """The plugin's real logging setup (debug level, Redactor) writing to a buffer."""
    buffer = io.StringIO()
    plugin_log.configure(level="debug", stream=buffer)
    yield buffer
    structlog.reset_defaults()


@pytest.fixture
def proxies(aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    with fault_proxy(aws_env.endpoint) as ecr, fault_proxy(aws_env.endpoint) as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", ecr.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        yield ecr, sts


def _static(**extra: str) -> AwsAuth:
    return AwsAuth(access_key=ACCESS, secret_key=SECRET, session_token=SESSION, **extra)  # type: ignore[arg-type]


def _leaks(text: str) -> list[str]:
    return [s for s in SENTINELS if s in text]


def _error_text(exc: BaseException) -> str:
    """The error, its whole cause chain, and the formatted traceback."""
    return "\n".join(traceback.format_exception(exc))


ERROR_PATHS: dict[str, Callable[[tuple[FaultProxy, FaultProxy], Path], object]] = {
    "repository-not-found": lambda p, _: Ecr(
        make_session(_static(), FAST), REGISTRY, None, "x"
    ).existing_tags("missing", ["v1"]),
    "throttled-until-retries-run-out": lambda p, _: (
        p[0].add(Fault("throttle", "DescribeRepositories")),
        Ecr(make_session(_static(), FAST), REGISTRY, None, "x").describe("app"),
    ),
    "connection-reset": lambda p, _: (
        p[0].add(Fault("reset", "GetAuthorizationToken")),
        Ecr(make_session(_static(), FAST), REGISTRY, None, "x").token(),
    ),
    "assume-role-denied": lambda p, _: (
        p[1].add(Fault("respond", "AssumeRole", status=403, body=STS_DENIED, content_type="text/xml")),
        make_session(_static(role_arn=ROLE, external_id="ext"), FAST),
    ),
    "web-identity-denied": lambda p, _: (
        p[1].add(
            Fault(
                "respond", "AssumeRoleWithWebIdentity", status=403, body=STS_DENIED, content_type="text/xml"
            )
        ),
        make_session(AwsAuth(role_arn=ROLE, oidc_token=OIDC), FAST),
    ),
    "malformed-token": lambda p, _: (
        p[0].add(
            Fault(
                "respond",
                "GetAuthorizationToken",
                status=200,
                body=f'{{"authorizationData": [{{"authorizationToken": "{SECRET}"}}]}}'.encode(),
            )
        ),
        Ecr(make_session(_static(), FAST), REGISTRY, None, "x").token(),
    ),
    "bad-policy-file": lambda p, tmp: (
        (tmp / "p.json").write_text(f'{{"secret": "{SECRET}" oops'),
        Ecr(make_session(_static(), FAST), REGISTRY, None, "x").ensure_repository(
            RepositorySpec("app", lifecycle_policy=str(tmp / "p.json"))
        ),
    ),
    "partial-keys": lambda p, _: make_session(AwsAuth(access_key=ACCESS, session_token=SESSION), FAST),
}


class TestSentinelSecrets:
    def test_happy_paths_log_no_secret(
        self, proxies: tuple[FaultProxy, FaultProxy], log_buffer: io.StringIO
    ) -> None:
        """Static keys, assume-role and web identity, then every ECR call: no sentinel in the logs."""
        for auth in (
            _static(),
            _static(role_arn=ROLE, external_id="ext"),
            AwsAuth(role_arn=ROLE, oidc_token=OIDC),
        ):
            session = make_session(auth, FAST)
            ecr = Ecr(session, REGISTRY, None, "us-east-1")
            ecr.ensure_repository(RepositorySpec("app", create=True, scan_on_push=True))
            ecr.existing_tags("app", ["v1"])
            ecr.token()
        assert "ecr.token" in log_buffer.getvalue()
        assert _leaks(log_buffer.getvalue()) == []

    def test_assumed_credentials_are_registered_with_the_redactor(
        self, proxies: tuple[FaultProxy, FaultProxy]
    ) -> None:
        creds = make_session(AwsAuth(role_arn=ROLE, oidc_token=OIDC), FAST).credentials()
        assert creds is not None and creds.token
        assert {creds.secret_key, creds.token, OIDC} <= plugin_log.REDACTOR.secrets

    @pytest.mark.parametrize("path", list(ERROR_PATHS))
    def test_error_paths_leak_no_secret(
        self, path: str, proxies: tuple[FaultProxy, FaultProxy], log_buffer: io.StringIO, tmp_path: Path
    ) -> None:
        """Each error path raises a PluginError whose message, cause chain and logs hold no sentinel."""
        with pytest.raises(PluginError) as raised:
            ERROR_PATHS[path](proxies, tmp_path)
        assert _leaks(_error_text(raised.value)) == []
        assert _leaks(log_buffer.getvalue()) == []

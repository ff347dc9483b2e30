"""The single retry layer, against a fault-injecting proxy in front of moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.ecr import Ecr
from plugin.aws.repositories import RepositorySpec
from plugin.aws.session import make_session
from plugin.core.errors import AwsError
from plugin.core.log import REDACTOR
from tests.support.faultproxy import Fault, FaultProxy, fault_proxy
from tests.support.moto_server import ACCOUNT, AwsEnv

pytestmark = pytest.mark.integration

POLICY = RetryPolicy(attempts=4, max_seconds=30, initial_wait=0.01, max_wait=0.05)
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
DESCRIBE = "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"


@pytest.fixture
def proxy(aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    with fault_proxy(aws_env.endpoint) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", running.url)
        yield running


def _ecr(policy: RetryPolicy = POLICY) -> Ecr:
    return Ecr(make_session(AwsAuth(), policy), REGISTRY, None, "us-east-1")


class TestTransientFaults:
    @pytest.mark.parametrize(
        ("kind", "code"),
        [
            ("throttle", "ThrottlingException"),
            ("500", "ServerException"),
            ("reset", "ConnectionClosedError"),
        ],
    )
    def test_transient_fault_is_retried_and_succeeds(self, proxy: FaultProxy, kind: str, code: str) -> None:
        """Two faults, then moto answers: success on the third attempt, each retry logged at info."""
        proxy.add(Fault(kind, DESCRIBE, times=2))  # type: ignore[arg-type]
        with capture_logs(processors=[REDACTOR]) as logs:
            state = _ecr().ensure_repository(RepositorySpec("app", create=True))
        assert state.created
        assert proxy.count("DescribeRepositories") == 3
        retries = [e for e in logs if e["event"] == "aws.retry"]
        assert [(e["log_level"], e["operation"], e["attempt"], e["code"]) for e in retries] == [
            ("info", "DescribeRepositories", 1, code),
            ("info", "DescribeRepositories", 2, code),
        ]

    def test_only_the_faulted_operation_is_retried(self, proxy: FaultProxy) -> None:
        proxy.add(Fault("throttle", "CreateRepository", times=1))
        _ecr().ensure_repository(RepositorySpec("app", create=True))
        assert proxy.seen == ["DescribeRepositories", "CreateRepository", "CreateRepository"]


class TestPersistentFaults:
    @pytest.mark.parametrize(
        ("kind", "code"),
        [
            ("throttle", "ThrottlingException"),
            ("500", "ServerException"),
            ("reset", "ConnectionClosedError"),
        ],
    )
    def test_persistent_fault_fails_after_the_configured_attempts(
        self, proxy: FaultProxy, kind: str, code: str
    ) -> None:
        """The proxy saw exactly `attempts` requests; the error names operation, repository and AWS code."""
        proxy.add(Fault(kind, DESCRIBE))  # type: ignore[arg-type]
        with pytest.raises(AwsError) as raised:
            _ecr().ensure_repository(RepositorySpec("app", create=True))
        assert proxy.count("DescribeRepositories") == POLICY.attempts
        assert (raised.value.operation, raised.value.repository, raised.value.code) == (
            "DescribeRepositories",
            "app",
            code,
        )
        assert raised.value.exit_code == 3
        assert str(raised.value).startswith(f"AWS DescribeRepositories on repository 'app' failed: {code}: ")

    def test_time_bound_stops_retries_before_the_attempts_run_out(self, proxy: FaultProxy) -> None:
        """max_seconds bounds the whole call: once spent, no retry is left whatever `attempts` says."""
        proxy.add(Fault("throttle", DESCRIBE))
        spent = RetryPolicy(attempts=50, max_seconds=0, initial_wait=0.01, max_wait=0.01)
        with pytest.raises(AwsError) as raised:
            _ecr(spent).describe("app")
        assert proxy.count("DescribeRepositories") == 1
        assert raised.value.code == "ThrottlingException"

    def test_client_error_is_not_retried(self, proxy: FaultProxy) -> None:
        """An AccessDenied is final at once, with the AWS code and message."""
        body = b'{"__type": "AccessDeniedException", "message": "not allowed to ecr:DescribeRepositories"}'
        proxy.add(Fault("respond", DESCRIBE, status=400, body=body))
        with pytest.raises(AwsError) as raised:
            _ecr().describe("app")
        assert proxy.count("DescribeRepositories") == 1
        assert str(raised.value) == (
            "AWS DescribeRepositories on repository 'app' failed: AccessDeniedException: "
            "not allowed to ecr:DescribeRepositories"
        )

    def test_unreachable_endpoint_is_an_aws_error(
        self, aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Nothing listens: connection errors are retried, then surface as AwsError, not a traceback."""
        with fault_proxy(aws_env.endpoint) as gone:
            url = gone.url
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", url)
        with pytest.raises(AwsError) as raised:
            _ecr(RetryPolicy(attempts=2, max_seconds=5, initial_wait=0.01, max_wait=0.01)).token()
        assert (raised.value.operation, raised.value.code) == (
            "GetAuthorizationToken",
            "EndpointConnectionError",
        )
        assert isinstance(raised.value.__cause__, Exception)

    def test_sts_fault_is_retried_too(self, aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
        with fault_proxy(aws_env.endpoint) as sts:
            monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
            sts.add(Fault("500", "AssumeRole", times=1))
            make_session(AwsAuth(role_arn="arn:aws:iam::222233334444:role/ci"), POLICY)
            assert sts.seen == ["AssumeRole", "AssumeRole"]

"""AWS sessions: credentials (default chain, static keys, assume-role, web identity) and the one retry layer.

Every secret that passes through here is registered with the Redactor the moment it appears. botocore's
own retries are turned off; ``AwsSession.call`` is the only place that retries, and the only place that
turns botocore errors into ``AwsError``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions as bce
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.parsers import ResponseParserError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from plugin.aws.auth import DEFAULT_SESSION_NAME, AwsAuth, RetryPolicy
from plugin.core.errors import AwsError
from plugin.core.log import REDACTOR, get_logger

log = get_logger(__name__)

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_DETAIL = 400  # an HTML error page from a proxy is not a message

# Error codes that mean "try again later"; any 5xx status is retried too.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "IDPCommunicationError",
    }
)
_SESSION_NAME_BAD = re.compile(r"[^A-Za-z0-9_+=,.@-]+")


@dataclass(frozen=True)
class FrozenCreds:
    """The access key, secret key and session token actually in use (secrets kept out of repr)."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def as_env(self) -> dict[str, str]:
        """The credentials as the standard AWS_* environment variables, for a child process."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        if self.token:
            env["AWS_SESSION_TOKEN"] = self.token
        return env


def sanitize_session_name(name: str) -> str:
    """Make any text a valid STS RoleSessionName: ``[\\w+=,.@-]{2,64}`` in ASCII."""
    cleaned = _SESSION_NAME_BAD.sub("-", name).strip("-")[:64]
    return cleaned if len(cleaned) >= 2 else DEFAULT_SESSION_NAME


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore error, or the exception's class name for transport errors."""
    if isinstance(exc, bce.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or _status(exc) or "Unknown")
    return type(exc).__name__


def _status(exc: bce.ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def is_retryable(exc: BaseException) -> bool:
    """True for throttling, 5xx and connection/read errors; never for TLS errors, which do not heal."""
    if isinstance(exc, bce.ClientError):
        return error_code(exc) in RETRYABLE_CODES or _status(exc) >= 500
    if isinstance(exc, bce.SSLError):
        return False
    return isinstance(
        exc, bce.ConnectionError | bce.HTTPClientError | bce.IncompleteReadError | ResponseParserError
    )


def _detail(exc: BaseException) -> str:
    if isinstance(exc, bce.ClientError):
        message = exc.response.get("Error", {}).get("Message") or str(exc)
    else:
        message = str(exc) or type(exc).__name__
    text = REDACTOR.text(" ".join(str(message).split()))
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


class AwsSession:
    """A boto3 session with resolved credentials, cached clients, and the retry layer."""

    def __init__(self, session: boto3.Session, region: str, retry: RetryPolicy) -> None:
        self._session = session
        self.region = region
        self.retry = retry
        self._clients: dict[tuple[str, str, bool, bool], Any] = {}
        self._lock = threading.Lock()

    def client(
        self, service: str, region: str | None = None, *, fips: bool = False, dualstack: bool = False
    ) -> Any:
        """A (cached, thread-safe) client with botocore's retries off and bounded timeouts."""
        key = (service, region or self.region, fips, dualstack)
        with self._lock:
            if key not in self._clients:
                # botocore's "max_attempts" counts retries ("max_attempts": 1 still retries once).
                config = Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                    use_fips_endpoint=fips,
                    use_dualstack_endpoint=dualstack,
                )
                make: Callable[..., Any] = self._session.client  # service names are plain strings here
                self._clients[key] = make(service, region_name=key[1], config=config)
            return self._clients[key]

    def credentials(self) -> FrozenCreds | None:
        """The credentials in use (registered with the Redactor), or None when no source has any."""
        try:
            creds = self._session.get_credentials()
            frozen = creds.get_frozen_credentials() if creds is not None else None
        except (bce.BotoCoreError, bce.ClientError) as exc:
            raise AwsError("ResolveCredentials", None, error_code(exc), _detail(exc)) from exc
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            return None
        REDACTOR.add(frozen.secret_key, frozen.token)
        return FrozenCreds(frozen.access_key, frozen.secret_key, frozen.token)

    def call(
        self, service_client: Any, operation: str, repository: str | None, **kwargs: Any
    ) -> dict[str, Any]:
        """Call one operation (``"DescribeRepositories"``) with bounded retries; failures become AwsError."""
        method = getattr(service_client, xform_name(operation))
        policy = self.retry
        retrying = Retrying(
            stop=stop_after_attempt(max(1, policy.attempts)) | stop_after_delay(policy.max_seconds),
            wait=_bounded_wait(policy),
            retry=retry_if_exception(is_retryable),
            before_sleep=_log_retry(operation, repository),
            reraise=True,
        )
        try:
            result: dict[str, Any] = retrying(method, **kwargs)
        except (bce.ClientError, bce.BotoCoreError, ResponseParserError) as exc:
            raise AwsError(operation, repository, error_code(exc), _detail(exc)) from exc
        return result


def _bounded_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """Full-jitter exponential backoff, never sleeping past the policy's total time bound."""
    jitter = wait_random_exponential(multiplier=policy.initial_wait, max=policy.max_wait)

    def wait(state: RetryCallState) -> float:
        remaining = policy.max_seconds - (state.seconds_since_start or 0.0)
        return max(0.0, min(jitter(state), remaining))

    return wait


def _log_retry(operation: str, repository: str | None) -> Any:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "aws.retry",
            operation=operation,
            repository=repository,
            attempt=state.attempt_number,
            code=error_code(exc) if exc else None,
            wait=round(state.next_action.sleep, 3) if state.next_action else None,
        )

    return before_sleep


_LOADER: list[Any] = []  # botocore's data loader, shared by the run's sessions (parsed JSON is cached)


def _session(**kwargs: Any) -> boto3.Session:
    """A boto3 session on a botocore session that shares the run's data loader."""
    core = botocore.session.get_session()
    if not _LOADER:
        _LOADER.append(core.get_component("data_loader"))
    core.register_component("data_loader", _LOADER[0])
    return boto3.Session(botocore_session=core, **kwargs)


def warm_up(services: tuple[str, ...] = ("ecr",), region: str = "us-east-1") -> None:
    """Load what the first clients need (botocore's lazily imported modules, the service models,
    endpoints and rules) before the credentials are known: the AWS worker does it while the plugin
    still reads its settings. No request is made; the session and its clients are thrown away."""
    session = _session(aws_access_key_id="AKIAWARMUPWARMUP0000", aws_secret_access_key="warm-up")  # noqa: S106
    for service in services:
        session.client(service, region_name=region)  # type: ignore[call-overload]


def _base_session(auth: AwsAuth) -> boto3.Session:
    if auth.access_key or auth.secret_key:
        if not (auth.access_key and auth.secret_key):
            raise AwsError(
                "ResolveCredentials",
                None,
                "PartialCredentials",
                "both an access key and a secret key are needed",
            )
        return _session(
            aws_access_key_id=auth.access_key,
            aws_secret_access_key=auth.secret_key,
            aws_session_token=auth.session_token or None,
            region_name=auth.region,
        )
    return _session(region_name=auth.region)


def _assume(base: AwsSession, auth: AwsAuth) -> dict[str, Any]:
    sts = base.client("sts")
    role_arn = auth.role_arn or ""
    common: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": sanitize_session_name(auth.session_name),
        "DurationSeconds": auth.duration_seconds,
    }
    if auth.oidc_token:
        if auth.external_id:
            log.warning("aws.external_id_ignored", reason="web identity has no external id", role=role_arn)
        response = base.call(
            sts, "AssumeRoleWithWebIdentity", None, WebIdentityToken=auth.oidc_token, **common
        )
    else:
        if auth.external_id:
            common["ExternalId"] = auth.external_id
        response = base.call(sts, "AssumeRole", None, **common)
    creds: dict[str, Any] = response["Credentials"]
    REDACTOR.add(creds["SecretAccessKey"], creds["SessionToken"])
    user = response.get("AssumedRoleUser", {}).get("Arn")
    log.info(
        "aws.assumed_role",
        role=role_arn,
        assumed=user,
        web_identity=bool(auth.oidc_token),
        expires=str(creds.get("Expiration")),
    )
    return creds


def make_session(auth: AwsAuth, retry: RetryPolicy | None = None) -> AwsSession:
    """Resolve credentials (default chain, keys, assume-role or web identity) into an AwsSession."""
    retry = retry or RetryPolicy()
    REDACTOR.add(auth.secret_key, auth.session_token, auth.oidc_token)
    if auth.oidc_token and not auth.role_arn:
        log.warning("aws.oidc_token_ignored", reason="a web identity token needs a role ARN to assume")
    base = AwsSession(_base_session(auth), auth.region, retry)
    if not auth.role_arn:
        base.credentials()  # resolves the chain now, so its secrets are registered before any log line
        return base
    if not auth.oidc_token:
        base.credentials()  # the base credentials sign AssumeRole; register their secrets first
    creds = _assume(base, auth)
    assumed = _session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=auth.region,
    )
    return AwsSession(assumed, auth.region, retry)

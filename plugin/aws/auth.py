"""How the AWS session gets its credentials (``AwsAuth``) and how long it retries (``RetryPolicy``),
as plain data: part of the ECR job the plugin hands to the AWS worker, read by ``plugin.aws.session``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_SESSION_NAME = "build-push-ecr"


@dataclass(frozen=True)
class AwsAuth:
    """How to get AWS credentials; unset fields fall back to boto3's default chain."""

    region: str = "us-east-1"
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    role_arn: str | None = None
    external_id: str | None = None
    oidc_token: str | None = field(default=None, repr=False)
    session_name: str = DEFAULT_SESSION_NAME
    duration_seconds: int = 3600


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for the single retry layer: attempts, total seconds, and the jittered backoff."""

    attempts: int = 5
    max_seconds: float = 60.0
    initial_wait: float = 0.5
    max_wait: float = 8.0

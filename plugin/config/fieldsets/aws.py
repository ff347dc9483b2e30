"""AWS credentials and ECR repository management settings (used the same way by every builder)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from plugin.config.types import FIELD_GROUP, Bool, Count, OptBool, Secret, Str, env


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Upper = BeforeValidator(_upper)
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")


def _matches(pattern: re.Pattern[str], expected: str) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is not None and not pattern.fullmatch(value):
            raise ValueError(expected)
        return value

    return check


class AwsFields(BaseModel):
    """Credentials, region, account and what to do with the ECR repository."""

    model_config = FIELD_GROUP

    region: Annotated[str, AfterValidator(_matches(_REGION, "an AWS region such as us-east-1"))] = env(
        "PLUGIN_REGION", "ECR_REGION", "AWS_REGION", default="us-east-1", doc="AWS region of the registry."
    )
    account: Str = env(
        "PLUGIN_ACCOUNT",
        doc="AWS account id (12 digits); with the region it gives the registry host. Checked with the other "
        "settings: not 12 digits is an error, or a warning with PLUGIN_NO_PUSH (nothing goes to ECR).",
    )
    access_key: Str = env(
        "PLUGIN_ACCESS_KEY",
        "ECR_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        doc="AWS access key id (with PLUGIN_SECRET_KEY).",
    )
    secret_key: Secret = env(
        "PLUGIN_SECRET_KEY", "ECR_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", doc="AWS secret access key."
    )
    session_token: Secret = env(
        "PLUGIN_SESSION_TOKEN", "AWS_SESSION_TOKEN", doc="AWS session token for temporary keys."
    )
    assume_role: Str = env(
        "PLUGIN_ASSUME_ROLE", "PLUGIN_USER_ROLE_ARN", doc="Role ARN to assume (with STS) for every ECR call."
    )
    external_id: Secret = env("PLUGIN_EXTERNAL_ID", doc="External id for the assumed role.")
    oidc_token_id: Secret = env(
        "PLUGIN_OIDC_TOKEN_ID", doc="OIDC token: with a role, AssumeRoleWithWebIdentity is used."
    )
    role_session_name: Str = env(
        "PLUGIN_ROLE_SESSION_NAME", doc="STS session name. Default: build-push-ecr-<repo>-<build number>."
    )
    role_duration: Annotated[int, Field(ge=900, le=43200)] = env(
        "PLUGIN_ROLE_DURATION", default=3600, doc="Seconds the assumed-role credentials last (900-43200)."
    )
    aws_max_attempts: Annotated[Count, Field(ge=1, le=20)] = env(
        "PLUGIN_AWS_MAX_ATTEMPTS",
        default=5,
        doc="Attempts for an AWS call on throttling, 5xx or connection errors.",
    )
    aws_retry_seconds: Annotated[Count, Field(ge=1, le=900)] = env(
        "PLUGIN_AWS_RETRY_SECONDS", default=60, doc="Upper bound in seconds on the retries of one AWS call."
    )
    aws_worker: Bool = env(
        "PLUGIN_AWS_WORKER",
        "BUILD_PUSH_ECR_WORKER",
        default=True,
        doc="Do the ECR work (credentials, repository, tags, token) in a process forked at start, which "
        "loads the AWS SDK while the settings are read, so the plugin's own process never holds it. false: "
        "in the plugin's process, one call after another (the SDK loads after the settings, not beside them, "
        "and stays in memory while the builder runs); a way around a problem with that process. Read from "
        "the environment before the settings (a false in PLUGIN_ENV_FILE only leaves the forked process "
        "unused).",
    )
    create_repository: Bool = env(
        "PLUGIN_CREATE_REPOSITORY",
        "ECR_CREATE_REPOSITORY",
        default=False,
        doc="Create the repository when missing.",
    )
    scan_on_push: OptBool = env(
        "PLUGIN_SCAN_ON_PUSH", doc="Set scan-on-push on the repository (left untouched when unset)."
    )
    tag_mutability: Annotated[Literal["MUTABLE", "IMMUTABLE"] | None, Upper] = env(
        "PLUGIN_TAG_MUTABILITY", doc="Set tag mutability: MUTABLE or IMMUTABLE (left untouched when unset)."
    )
    encryption: Annotated[Literal["AES256", "KMS"] | None, Upper] = env(
        "PLUGIN_ENCRYPTION", doc="Encryption of a new repository: AES256 or KMS."
    )
    kms_key: Str = env("PLUGIN_KMS_KEY", doc="KMS key id or ARN when PLUGIN_ENCRYPTION is KMS.")
    lifecycle_policy: Str = env(
        "PLUGIN_LIFECYCLE_POLICY", doc="Lifecycle policy: a file path, or inline JSON."
    )
    repository_policy: Str = env(
        "PLUGIN_REPOSITORY_POLICY", doc="Repository policy: a file path, or inline JSON."
    )


__all__ = ["AwsFields"]

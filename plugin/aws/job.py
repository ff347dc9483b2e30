"""The ECR work of a run as plain data: what to do (``EcrJob``) and what it gave (``EcrOutcome``).

Nothing here imports the AWS SDK: the plugin builds the job from its settings and reads the outcome
without ever loading boto3, and the job can be handed to the AWS worker process (``plugin.aws.worker``),
which does the calls (``plugin.aws.work``) while the plugin reads its settings or starts dockerd.
Both sides pickle these classes, so they hold data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.existing_tags import TagDecision
from plugin.aws.repositories import RepositorySpec


@dataclass(frozen=True)
class EcrJob:
    """Every ECR call a run makes, decided from the settings before any of them.

    ``registries``: for a pushing run the target registries, the main one first (None: the token
    names it); for ``pull_only`` (PLUGIN_NO_PUSH, tar-only) every ECR registry to log in to.
    ``env``: variables the plugin set after the worker was started (the HARNESS_CA_PATH bundle).
    ``secrets``: values the worker must mask in its own log lines.
    """

    auth: AwsAuth = field(repr=False)
    retry: RetryPolicy
    account: str | None
    region: str
    registries: tuple[str | None, ...]
    repository: str
    spec: RepositorySpec | None = None
    caches: tuple[RepositorySpec, ...] = ()
    tags: tuple[str, ...] = ()
    check_tags: bool = False  # look the tags up even when nothing depends on them (`prepare`)
    skip_if_exists: bool = False
    exists_mode: str = "all"
    pull_only: bool = False
    env: dict[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    log_level: str = "info"
    log_json: bool = False


@dataclass
class EcrOutcome:
    """What the ECR work gave: the main registry (named by its token when none was given), a login
    per registry, what each repository looked like, the tag decision, and the secrets that appeared
    (STS credentials, ECR passwords) for the plugin's Redactor."""

    registry: str | None
    logins: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    repositories: list[dict[str, Any]] = field(default_factory=list)
    decision: TagDecision | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)

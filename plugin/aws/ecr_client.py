"""One ECR registry (an account in a region, or ECR Public) reached through one AwsSession: the client,
the account and region it speaks for, and the single way calls are made (``AwsSession.call``, with
its retries). What is done with it is in ``repositories``, ``policies``, ``existing_tags`` and
``token``; ``plugin.aws.ecr.Ecr`` has all of it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from plugin.config.hosts import PUBLIC_REGION, RegistryHost, repository_name, strip_scheme
from plugin.core.log import get_logger

if TYPE_CHECKING:  # the AWS layer (boto3) is imported by who makes the session, never by `plan`
    from plugin.aws.session import AwsSession

log = get_logger(__name__)


class EcrClient:
    """One registry (account + region, or ECR Public) reached through one AwsSession; the base of each
    concern's calls."""

    def __init__(self, session: AwsSession, registry_host: str, account: str | None, region: str) -> None:
        self.session = session
        self.registry = strip_scheme(registry_host)
        self.host = RegistryHost.parse_or_none(self.registry) if self.registry else None
        self.public = bool(self.host and self.host.public)
        self.account = _pick("account", self.host.account if self.host else None, account, self.registry)
        host_region = self.host.region if self.host else None
        self.region = (
            PUBLIC_REGION if self.public else _pick("region", host_region, region, self.registry) or region
        )
        self.service = "ecr-public" if self.public else "ecr"
        custom = _custom_endpoint(self.service)
        self.client = session.client(
            self.service,
            self.region,
            fips=bool(self.host and self.host.fips and not custom),
            dualstack=bool(self.host and self.host.dualstack and not custom),
        )

    def _ids(self) -> dict[str, str]:
        return {"registryId": self.account} if self.account else {}

    def _call(self, operation: str, repository: str | None, **kwargs: Any) -> dict[str, Any]:
        return self.session.call(self.client, operation, repository, **kwargs)

    def _name(self, repo: str) -> str:
        return repository_name(repo, self.registry)


def _pick(what: str, from_host: str | None, given: str | None, registry: str) -> str | None:
    if from_host and given and from_host != given:
        log.warning(
            "ecr.registry_mismatch",
            field=what,
            registry=registry,
            host_value=from_host,
            given=given,
            reason="the registry host wins",
        )
    return from_host or given


def _custom_endpoint(service: str) -> bool:
    variable = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")
    return bool(os.environ.get(variable) or os.environ.get("AWS_ENDPOINT_URL"))

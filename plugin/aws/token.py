"""The registry login: GetAuthorizationToken's base64 ``user:password``, decoded and registered with the
Redactor, with the endpoint Docker logs in to.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from plugin.aws.ecr_client import EcrClient
from plugin.config.hosts import strip_scheme
from plugin.core.errors import AwsError
from plugin.core.log import REDACTOR, get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class RegistryCredentials:
    """Docker credentials for one registry endpoint (the password is registered with the Redactor)."""

    username: str
    password: str = field(repr=False)
    endpoint: str


def _invalid_token(why: str) -> AwsError:
    return AwsError("GetAuthorizationToken", None, "InvalidToken", f"the authorization token {why}")


def decode_token(token: str | None) -> tuple[str, str]:
    """Split a base64 ``user:password`` token once, on the first ``:``; malformed -> AwsError InvalidToken."""
    if not token:
        raise _invalid_token("is empty")
    REDACTOR.add(token)
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_token("is not valid base64 of UTF-8 text") from None
    user, sep, password = decoded.partition(":")
    if not sep or not user or not password:
        raise _invalid_token("is not of the form user:password")
    REDACTOR.add(password)
    return user, password


class Token(EcrClient):
    """GetAuthorizationToken (ECR or ECR Public)."""

    def token(self) -> RegistryCredentials:
        """Docker credentials from GetAuthorizationToken; expiresAt is logged, never used to reject."""
        if self.public:
            data: dict[str, Any] = self._call("GetAuthorizationToken", None).get("authorizationData") or {}
        else:
            ids = {"registryIds": [self.account]} if self.account else {}
            items = self._call("GetAuthorizationToken", None, **ids).get("authorizationData") or []
            data = items[0] if items else {}
        username, password = decode_token(data.get("authorizationToken"))
        proxy = strip_scheme(data.get("proxyEndpoint") or "")
        endpoint = self.host.host if self.host else self.registry or proxy
        log.info("ecr.token", endpoint=endpoint, username=username, expires=str(data.get("expiresAt")))
        return RegistryCredentials(username, password, endpoint)

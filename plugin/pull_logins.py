"""Logins for a build that does not push (PLUGIN_NO_PUSH, tar-only): ECR tokens to pull base images.

A pull request build often builds without pushing, from a base image in the same private ECR
registry. So a no-push run still fetches an ECR token for every ECR registry it names: the target
registries, and ECR-hosted base-image registry and mirrors. It creates and changes nothing; a token
that cannot be had is a warning (a public base image still builds), never the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from plugin.aws import AwsSession
from plugin.ecr import Ecr
from plugin.errors import AwsError
from plugin.hosts import RegistryHost, strip_scheme
from plugin.log import get_logger

if TYPE_CHECKING:
    from plugin.planning import Resolved

log = get_logger("plugin.pull_logins")


def _ecr_host(host: str) -> str | None:
    """The host when it is a private ECR registry (a mirror may carry a path), else None."""
    name = strip_scheme(host).split("/", 1)[0]
    try:
        parsed = RegistryHost.parse_or_none(name)
    except ValueError:
        return None
    return name if parsed is not None and not parsed.public else None


def login_hosts(r: Resolved) -> list[str | None]:
    """The target registries (None: the token names it), then ECR base-image registry and mirrors."""
    s = r.settings
    hosts: list[str | None] = list(r.target.registries) or [None]
    others = list(s.registry_mirrors) + ([s.mirror] if s.mirror else [])
    if s.base_registry and not (s.base_username and s.base_password):
        others.insert(0, s.base_registry)
    for host in others:
        found = _ecr_host(host)
        if found and found not in hosts:
            hosts.append(found)
    return hosts


def pull_logins(r: Resolved, session_for: Callable[[Resolved], AwsSession]) -> dict[str, tuple[str, str]]:
    """ECR credentials for every registry of ``login_hosts``; registries that refuse are skipped."""
    s = r.settings
    try:
        session = session_for(r)
        has_credentials = session.credentials() is not None
    except AwsError as exc:
        log.warning("ecr.pull_login_skipped", reason=exc.message)
        return {}
    if not has_credentials:
        log.info("ecr.pull_login_skipped", reason="no AWS credentials: base images pull anonymously")
        return {}
    auths: dict[str, tuple[str, str]] = {}
    for host in login_hosts(r):
        try:
            creds = Ecr(session, host or "", s.account, s.region).token()
        except AwsError as exc:
            log.warning("ecr.pull_login_failed", registry=host, reason=exc.message)
            continue
        registry = host or creds.endpoint
        if host is None:  # the main registry named by its token, as for a pushing run
            r.target = r.target.with_registry(registry)
        auths[registry] = (creds.username, creds.password)
        log.info("ecr.pull_login", registry=registry)
    return auths

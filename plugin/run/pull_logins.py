"""Logins for a build that does not push (PLUGIN_NO_PUSH, tar-only): ECR tokens to pull base images.

A pull request build often builds without pushing, from a base image in the same private ECR
registry. So a no-push run still fetches an ECR token for every ECR registry it names: the target
registries, and ECR-hosted base-image registry and mirrors. It creates and changes nothing; a token
that cannot be had is a warning (a public base image still builds), never the end of the run.
Which registries: here (pure, also for ``plan``); the logins: ``plugin.aws.work``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugin.config.hosts import RegistryHost, strip_scheme

if TYPE_CHECKING:
    from plugin.run.resolve import Resolved


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

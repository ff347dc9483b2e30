"""Prepare: the run's ECR work (credentials, repositories, tag check, tokens) and its Docker config,
before any build. The work is handed to the AWS worker as data (``ecr_job``; ``plugin.aws.worker``,
``plugin.aws.work``): this module never imports boto3. ``prepare`` is the ``prepare`` command too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugin.aws import worker
from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.existing_tags import TagDecision
from plugin.aws.job import EcrJob
from plugin.aws.trust import trust_from_context
from plugin.ci.context import CIContext
from plugin.config.settings import Settings
from plugin.core.errors import RunError
from plugin.core.log import REDACTOR, get_logger
from plugin.exec.rundir import new_run_dir
from plugin.registry.dockerconfig import existing_config, write_docker_config
from plugin.run.pull_logins import login_hosts
from plugin.run.resolve import Resolved, cache_specs, repository_spec
from plugin.target.destinations import Target

if TYPE_CHECKING:
    from plugin.registry.api import Manifest

log = get_logger("plugin.run.prepare")
HUB_V2 = ("https://index.docker.io/v2/", "https://registry.hub.docker.com/v2/")
HUB_V1 = "https://index.docker.io/v1/"


@dataclass
class Prepared:
    """What the ECR work produced: the registry, which tags to push, the credentials in a Docker config."""

    target: Target
    run_dir: Path
    docker_config: Path
    auths: dict[str, tuple[str, str]] = field(repr=False)
    decision: TagDecision | None = None
    repositories: list[dict[str, Any]] = field(default_factory=list)
    pushed: Manifest | None = None  # what the first tag points to, when the builder read it back
    # what the build made for output files the user named; written with the outputs (BuildResult.files)
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def push_tags(self) -> list[str]:
        return self.decision.push_tags if self.decision else list(self.target.tags)

    @property
    def skipped(self) -> bool:
        return bool(self.decision and self.decision.action == "skip")

    def to_json(self) -> dict[str, Any]:
        decision = self.decision
        return {
            "registry": self.target.registry,
            "repository": self.target.repository,
            "tags": list(self.target.tags),
            "registries": list(self.target.registries),
            "existing_tags": dict(decision.existing) if decision else {},
            "decision": {
                "action": decision.action,
                "push_tags": decision.push_tags,
                "verify_tags": decision.verify_tags,
                "reason": decision.reason,
            }
            if decision
            else None,
            "repositories": self.repositories,
            "docker_config": str(self.docker_config / "config.json"),
        }


def aws_auth(s: Settings, ctx: CIContext) -> AwsAuth:
    name = s.role_session_name or "-".join(p for p in ("build-push-ecr", s.repo, ctx.build_number) if p)
    return AwsAuth(
        region=s.region,
        access_key=s.access_key,
        secret_key=s.secret_key.get_secret_value() if s.secret_key else None,
        session_token=s.session_token.get_secret_value() if s.session_token else None,
        role_arn=s.assume_role,
        external_id=s.external_id.get_secret_value() if s.external_id else None,
        oidc_token=s.oidc_token_id.get_secret_value() if s.oidc_token_id else None,
        session_name=name,
        duration_seconds=s.role_duration,
    )


def register_build_secrets(s: Settings, env: dict[str, str]) -> None:
    """Values that reach the build as secrets are masked in everything the plugin prints."""
    for item in s.secrets_from_env:
        REDACTOR.add(env.get(item.partition("=")[2].strip()))
    for item in s.secrets_from_file:
        path = Path(item.partition("=")[2].strip())
        if path.is_file() and path.stat().st_size <= 65536:
            REDACTOR.add(path.read_text(encoding="utf-8", errors="replace").strip())


def _base_auth(s: Settings) -> dict[str, tuple[str, str]]:
    if not (s.base_registry and s.base_username and s.base_password):
        return {}
    host = HUB_V1 if s.base_registry in HUB_V2 else s.base_registry
    return {host: (s.base_username, s.base_password.get_secret_value())}


def ecr_job(r: Resolved, check_tags: bool = False) -> EcrJob:
    """The run's ECR work as data, for the AWS worker (plugin.aws.work does it)."""
    s = r.settings
    retry = RetryPolicy(attempts=s.aws_max_attempts, max_seconds=float(s.aws_retry_seconds))
    common: dict[str, Any] = {
        "auth": aws_auth(s, r.ctx),
        "retry": retry,
        "account": s.account,
        "region": s.region,
        "repository": r.target.repository,
        "env": {k: v for k in ("SSL_CERT_FILE", "AWS_CA_BUNDLE") if (v := os.environ.get(k))},
        "secrets": tuple(REDACTOR.secrets),
        "log_level": s.log_level,
        "log_json": s.log_json,
    }
    if s.no_push:
        return EcrJob(registries=tuple(login_hosts(r)), pull_only=True, **common)
    return EcrJob(
        registries=tuple(r.target.registries) or (None,),
        spec=repository_spec(s, r.target.repository),
        caches=tuple(cache_specs(s, r.target)),
        tags=tuple(r.target.tags),
        check_tags=check_tags,
        skip_if_exists=s.skip_push_if_tag_exists,
        exists_mode=s.tag_exists_mode,
        **common,
    )


def prepare(r: Resolved, run_dir: Path | None = None, check_tags: bool = False) -> Prepared:
    """Credentials, repositories, tag check and Docker config; no build.

    ``check_tags`` looks the tags up even when nothing depends on them (the ``prepare`` command).
    A build that does not push still logs in to every ECR registry it names (pull_logins).
    """
    s = r.settings
    run_dir = run_dir or new_run_dir(r.builder, r.loaded.env, required=False)  # the prepare command
    trust_from_context(r.ctx.ca_path, run_dir)  # before the first HTTPS call, and for every child
    register_build_secrets(s, r.loaded.env)
    auths = _base_auth(s)
    outcome = worker.run_job(ecr_job(r, check_tags), in_worker=s.aws_worker)
    REDACTOR.add(*outcome.secrets)
    if outcome.registry and r.target.registry is None:  # named by its token
        r.target = r.target.with_registry(outcome.registry)
    auths.update(outcome.logins)
    decision, repos = outcome.decision, outcome.repositories
    config_dir = run_dir / "docker-config"
    found = existing_config(r.loaded.env)
    write_docker_config(
        config_dir, auths, s.config.get_secret_value() if s.config else None, found[0] if found else None
    )
    return Prepared(r.target, run_dir, config_dir, auths, decision, repos)


def verify_existing(prep: Prepared, digest: str | None) -> None:
    """Tags that existed in an immutable repository must hold the digest just built."""
    if not prep.decision or not prep.decision.verify_tags:
        return
    for tag, existing in prep.decision.verify_tags.items():
        if digest == existing:
            log.info("push.tag_already_there", tag=tag, digest=digest)
            continue
        raise RunError(
            f"tag {tag!r} already exists in the immutable repository {prep.target.repository!r} with digest "
            f"{existing}, but this build produced {digest}; use a new tag"
        )

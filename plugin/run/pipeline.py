"""The run: credentials → ECR work → Docker config → builder → outputs, the same for every builder.

The ECR work is handed to the AWS worker as data (``ecr_job``; ``plugin.aws.worker``, ``plugin.aws.work``):
this module never imports boto3.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugin.aws import worker
from plugin.aws.existing_tags import TagDecision
from plugin.aws.job import AwsAuth, EcrJob, RetryPolicy
from plugin.aws.trust import trust_from_context
from plugin.ci.context import CIContext
from plugin.config.settings import Settings
from plugin.core.errors import RunError
from plugin.core.log import REDACTOR, get_logger
from plugin.exec.rundir import new_run_dir, run_directory
from plugin.registry.dockerconfig import existing_config, write_docker_config
from plugin.run import summary
from plugin.run.outputs import (
    BuildResult,
    artifact_bytes,
    card_bytes,
    drone_output_bytes,
    ecr_console_url,
    is_stream,
    output_values,
    write_card_stream,
)
from plugin.run.pull_logins import login_hosts
from plugin.run.resolve import Resolved, cache_specs, repository_spec
from plugin.run.signing import prepare_signer
from plugin.run.staging import StagedFiles
from plugin.target.destinations import Target

if TYPE_CHECKING:
    from plugin.builders.dockerd import Dockerd
    from plugin.exec.runner import Runner
    from plugin.registry.api import Manifest

log = get_logger("plugin.run.pipeline")
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
    outcome = worker.run_job(ecr_job(r, check_tags))
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


def write_outputs(r: Resolved, result: BuildResult) -> None:
    """DRONE_OUTPUT (merged), the artifact file and the card, all in place together or none of them.

    Called only after a success or a skip. A card on /dev/stdout or /dev/stderr is printed once the
    files are in place.
    """
    s, ctx = r.settings, r.ctx
    card = card_bytes(result, ecr_console_url(result.registry, result.repository, s.account, s.region))
    with StagedFiles() as files:
        if ctx.output_file:
            files.stage(ctx.output_file, drone_output_bytes(ctx.output_file, output_values(result)))
        if s.artifact_file:
            files.stage(s.artifact_file, artifact_bytes(result, s.registry_type))
        if ctx.card_path and not is_stream(ctx.card_path):
            files.stage(ctx.card_path, card)
    if ctx.card_path and is_stream(ctx.card_path):
        write_card_stream(ctx.card_path, card)
    log.info("outputs.written", digest=result.digest, images=result.images, skipped=result.skipped)


def result_for(r: Resolved, prep: Prepared, digest: str | None, skipped: bool = False) -> BuildResult:
    target = prep.target
    return BuildResult(
        registry=target.registry or "",
        repository=target.repository,
        tags=list(target.tags),
        digest=digest,
        images=target.destinations(),
        tar_path=r.settings.tar_path if r.settings.tar_path and Path(r.settings.tar_path).exists() else None,
        skipped=skipped,
        index_digest=prep.pushed.digest if prep.pushed and prep.pushed.is_index else None,
        platform_digests=dict(prep.pushed.platforms) if prep.pushed else {},
    )


def _early_dockerd(r: Resolved, run_dir: Path, runner: Runner) -> AbstractContextManager[Dockerd | None]:
    if r.builder == "kaniko":  # without docker's modules
        return nullcontext(None)
    from plugin.builders.engine import early_dockerd  # noqa: PLC0415

    return early_dockerd(r, run_dir, runner)


def _build(r: Resolved, prep: Prepared, runner: Runner, daemon: Dockerd | None) -> str | None:
    if r.builder == "kaniko" and not r.settings.push_only:  # without docker's and buildx's modules
        from plugin.run.kaniko import build_kaniko  # noqa: PLC0415

        return build_kaniko(r, prep, runner)
    from plugin.run.build import build  # noqa: PLC0415

    return build(r, prep, runner, daemon)


def run(r: Resolved) -> int:
    """The whole job; returns the exit status (errors are raised and mapped by main)."""
    from plugin.exec.runner import Runner  # noqa: PLC0415 - the builders import the process runner

    if r.tags.skip_reason:
        log.warning("build.skipped", reason=r.tags.skip_reason)
        return 0
    runner = Runner()
    runner.install_signal_handlers()
    if r.builder == "kaniko" and not r.settings.push_only:
        from plugin.run.kaniko import check_executor  # noqa: PLC0415

        check_executor(r, runner)  # settings this executor lacks: exit 2 before any AWS call
    # kaniko's push-only pushes a tarball over the registry API: no executor, no /kaniko needed
    where = "push-only" if r.builder == "kaniko" and r.settings.push_only else r.builder
    phase = summary.TIMELINE.phase
    signer = prepare_signer(r.settings, r.loaded.env)  # the cosign key and cosign itself, before AWS
    # The run dir is removed and dockerd (launched before the ECR work) stopped, whatever happens.
    with run_directory(where, r.loaded.env) as run_dir, ExitStack() as stack:
        if signer is not None:
            signer.check(runner, run_dir)  # the key's password: exit 2 before any AWS call
        with phase("prepare"):
            trust_from_context(r.ctx.ca_path, run_dir)  # dockerd and the AWS worker trust the CA too
            daemon = stack.enter_context(_early_dockerd(r, run_dir, runner))
            prep = prepare(r, run_dir)
        if prep.skipped:
            assert prep.decision is not None  # noqa: S101 - skipped implies a decision
            if daemon is not None:
                daemon.discard()
            log.info("build.skipped", reason=prep.decision.reason, digest=prep.decision.digest)
            result = result_for(r, prep, prep.decision.digest, skipped=True)
            with phase("outputs"):
                write_outputs(r, result)
            summary.log_summary(result, pushed=False, reason=prep.decision.reason)
            return 0
        with phase("build"):
            digest = _build(r, prep, runner, daemon)
        result = result_for(r, prep, digest)
        if signer is not None and digest:
            with phase("sign"):  # a failure is exit 1 after saying the image was pushed; no outputs
                result.signatures = signer.sign(runner, prep.target, digest, prep.auths, prep.docker_config)
        with phase("outputs"):
            write_outputs(r, result)
        summary.log_summary(result, pushed=not r.settings.no_push)
        return 0

"""The run: credentials → ECR work → Docker config → builder → outputs, the same for every builder."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugin import summary
from plugin.aws import AwsAuth, AwsSession, RetryPolicy, make_session
from plugin.context import CIContext
from plugin.dockerconfig import existing_config, write_docker_config
from plugin.ecr import Ecr, RegistryCredentials, RepositoryState, TagDecision, decide
from plugin.errors import AwsError
from plugin.log import REDACTOR, get_logger
from plugin.outputs import (
    BuildResult,
    artifact_bytes,
    card_bytes,
    drone_output_bytes,
    ecr_console_url,
    is_stream,
    output_values,
    write_card_stream,
)
from plugin.planning import Resolved, cache_specs, repository_spec
from plugin.pull_logins import pull_logins
from plugin.registry import Manifest
from plugin.rundir import new_run_dir, run_directory
from plugin.settings import Settings
from plugin.signing import prepare_signer
from plugin.staging import StagedFiles
from plugin.target import Target
from plugin.trust import trust_from_context

log = get_logger("plugin.pipeline")
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


def _repository_state(ecr: Ecr, r: Resolved) -> RepositoryState | None:
    """Ensure the repository as asked; otherwise only look at it (tolerating a missing permission)."""
    spec = repository_spec(r.settings, r.target.repository)
    if spec.asks_anything:
        return ecr.ensure_repository(spec)
    try:
        found = ecr.describe(r.target.repository)
    except AwsError as exc:
        if exc.code not in ("AccessDeniedException", "AccessDenied"):
            raise
        log.warning("ecr.describe_denied", repository=r.target.repository, hint="tag mutability unknown")
        return None
    if found is None:
        return None
    mutability = str(found.get("imageTagMutability") or "MUTABLE")
    return RepositoryState(
        r.target.repository, found.get("repositoryUri"), True, False, mutability.startswith("IMMUTABLE"), []
    )


def _tag_decision(ecr: Ecr, r: Resolved, state: RepositoryState | None, always: bool) -> TagDecision | None:
    """Check the final tags when asked to, or when the repository is immutable (pushes would fail)."""
    immutable = bool(state and state.immutable)
    if not (r.settings.skip_push_if_tag_exists or immutable or always):
        return None
    tags = list(r.target.tags)
    existing = ecr.existing_tags(r.target.repository, tags, missing_ok=True)
    if r.settings.skip_push_if_tag_exists and r.settings.tag_exists_mode == "any" and existing:
        return TagDecision("skip", [], {}, existing, f"tags exist ({', '.join(existing)}); mode any")
    decision = decide(tags, existing, immutable)
    if decision.action == "skip" and not r.settings.skip_push_if_tag_exists:
        log.warning(
            "ecr.immutable_all_exist", hint="every tag exists in an immutable repository; nothing to push"
        )
    return decision


@dataclass
class _RegistryWork:
    """What one registry gave: its host, the login, the repository as found or made."""

    ecr: Ecr
    registry: str
    creds: RegistryCredentials = field(repr=False)
    state: RepositoryState | None

    def summary(self, repository: str) -> dict[str, Any]:
        state = self.state
        return {
            "registry": self.registry,
            "repository": repository,
            "exists": bool(state and state.exists),
            "created": bool(state and state.created),
            "immutable": bool(state and state.immutable),
            "actions": state.actions if state else [],
        }


def _registry_work(session: AwsSession, r: Resolved, host: str | None) -> _RegistryWork:
    """Token and repository for one registry (its host from the token when none was given)."""
    s = r.settings
    ecr = Ecr(session, host or "", s.account, s.region)
    creds = ecr.token()
    registry = host or creds.endpoint
    if r.target.registry is None:
        r.target = r.target.with_registry(registry)
    return _RegistryWork(ecr, registry, creds, _repository_state(ecr, r))


def _all_registries(session: AwsSession, r: Resolved) -> list[_RegistryWork]:
    """The main registry first (it may name itself through its token), then the others concurrently."""
    hosts = list(r.target.registries)
    main = _registry_work(session, r, hosts[0] if hosts else None)
    others = hosts[1:]
    if not others:
        return [main]
    with ThreadPoolExecutor(max_workers=min(4, len(others))) as pool:
        return [main, *pool.map(lambda host: _registry_work(session, r, host), others)]


def _session(r: Resolved) -> AwsSession:
    s = r.settings
    policy = RetryPolicy(attempts=s.aws_max_attempts, max_seconds=float(s.aws_retry_seconds))
    return make_session(aws_auth(s, r.ctx), policy)


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
    decision, repos = None, []
    if s.no_push:
        auths.update(pull_logins(r, _session))
    else:
        session = _session(r)
        done = _all_registries(session, r)
        for work in done:
            auths[work.registry] = (work.creds.username, work.creds.password)
            repos.append(work.summary(r.target.repository))
        main = done[0]
        for cache in cache_specs(s, r.target):
            if cache.asks_anything:
                main.ecr.ensure_repository(cache)
        decision = _tag_decision(main.ecr, r, main.state, check_tags)
    config_dir = run_dir / "docker-config"
    found = existing_config(r.loaded.env)
    write_docker_config(
        config_dir, auths, s.config.get_secret_value() if s.config else None, found[0] if found else None
    )
    return Prepared(r.target, run_dir, config_dir, auths, decision, repos)


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


def run(r: Resolved) -> int:
    """The whole job; returns the exit status (errors are raised and mapped by main)."""
    from plugin.build import build  # noqa: PLC0415 - the builders import the process runner
    from plugin.run import Runner  # noqa: PLC0415

    if r.tags.skip_reason:
        log.warning("build.skipped", reason=r.tags.skip_reason)
        return 0
    runner = Runner()
    runner.install_signal_handlers()
    if r.builder == "kaniko" and not r.settings.push_only:
        from plugin.kaniko_run import check_executor  # noqa: PLC0415

        check_executor(r, runner)  # settings this executor lacks: exit 2 before any AWS call
    # kaniko's push-only pushes a tarball over the registry API: no executor, no /kaniko needed
    where = "push-only" if r.builder == "kaniko" and r.settings.push_only else r.builder
    phase = summary.TIMELINE.phase
    signer = prepare_signer(r.settings, r.loaded.env)  # the cosign key and cosign itself, before AWS
    with run_directory(where, r.loaded.env) as run_dir:  # removed even when prepare() fails
        if signer is not None:
            signer.check(runner, run_dir)  # the key's password: exit 2 before any AWS call
        with phase("prepare"):
            prep = prepare(r, run_dir)
        if prep.skipped:
            assert prep.decision is not None  # noqa: S101 - skipped implies a decision
            log.info("build.skipped", reason=prep.decision.reason, digest=prep.decision.digest)
            result = result_for(r, prep, prep.decision.digest, skipped=True)
            with phase("outputs"):
                write_outputs(r, result)
            summary.log_summary(result, pushed=False, reason=prep.decision.reason)
            return 0
        with phase("build"):
            digest = build(r, prep, runner)
        result = result_for(r, prep, digest)
        if signer is not None and digest:
            with phase("sign"):  # a failure is exit 1 after saying the image was pushed; no outputs
                result.signatures = signer.sign(runner, prep.target, digest, prep.auths, prep.docker_config)
        with phase("outputs"):
            write_outputs(r, result)
        summary.log_summary(result, pushed=not r.settings.no_push)
        return 0

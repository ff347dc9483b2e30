"""The ECR work of a run: an ``EcrJob`` in, an ``EcrOutcome`` out (run by ``plugin.aws.worker``).

Calls that do not depend on each other run at the same time: the main registry's token, its
repository (describe, create, settings, policies), the cache repositories and the other registries
(token and repository each); the tag lookup too when it is known in advance to be needed
(PLUGIN_SKIP_PUSH_IF_TAG_EXISTS, an IMMUTABLE setting, ``prepare``). Otherwise the tags are looked
up only once the repository shows it is immutable (a push would fail on an existing tag). The first
error in that order (token, repository, caches, tags, other registries) is the one raised, after
every call has ended.

A build that does not push (``pull_only``) logs in to every ECR registry it names so private base
images pull; it creates and changes nothing, and a token that cannot be had is a warning.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from plugin.aws.ecr import Ecr
from plugin.aws.existing_tags import TagDecision, decide
from plugin.aws.job import EcrJob, EcrOutcome
from plugin.aws.repositories import RepositorySpec, RepositoryState
from plugin.aws.session import AwsSession, make_session
from plugin.aws.token import RegistryCredentials
from plugin.core.errors import AwsError
from plugin.core.log import REDACTOR, get_logger

log = get_logger("plugin.aws.work")
_MAX_THREADS = 8


def run_job(job: EcrJob) -> EcrOutcome:
    """Do the job's ECR calls; AwsError (exit 3) when one fails."""
    os.environ.update(job.env)  # before the first HTTPS call (a CA bundle from HARNESS_CA_PATH)
    REDACTOR.add(*job.secrets)
    before = REDACTOR.secrets
    outcome = _pull_logins(job) if job.pull_only else _push_work(job)
    outcome.secrets = tuple(REDACTOR.secrets - before)
    return outcome


@dataclass
class _RegistryWork:
    """What one registry gave: its host, the login, the repository as found or made."""

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


def _repository_state(ecr: Ecr, job: EcrJob) -> RepositoryState | None:
    """Ensure the repository as asked; otherwise only look at it (tolerating a missing permission)."""
    if job.spec is not None and job.spec.asks_anything:
        return ecr.ensure_repository(job.spec)
    try:
        found = ecr.describe(job.repository)
    except AwsError as exc:
        if exc.code not in ("AccessDeniedException", "AccessDenied"):
            raise
        log.warning("ecr.describe_denied", repository=job.repository, hint="tag mutability unknown")
        return None
    if found is None:
        return None
    mutability = str(found.get("imageTagMutability") or "MUTABLE")
    return RepositoryState(
        job.repository, found.get("repositoryUri"), True, False, mutability.startswith("IMMUTABLE"), []
    )


def _tags_needed_in_advance(job: EcrJob) -> bool:
    """The tag lookup does not wait for the repository when it is needed whatever the repository is."""
    immutable_asked = job.spec is not None and job.spec.tag_mutability == "IMMUTABLE"
    return job.skip_if_exists or job.check_tags or immutable_asked


def _tag_decision(
    existing: dict[str, str] | None, job: EcrJob, state: RepositoryState | None
) -> TagDecision | None:
    """Skip, or which tags to push, from the tags that exist (looked up when it matters)."""
    immutable = bool(state and state.immutable)
    if existing is None:
        return None
    if job.skip_if_exists and job.exists_mode == "any" and existing:
        return TagDecision("skip", [], {}, existing, f"tags exist ({', '.join(existing)}); mode any")
    decision = decide(list(job.tags), existing, immutable)
    if decision.action == "skip" and not job.skip_if_exists:
        log.warning(
            "ecr.immutable_all_exist", hint="every tag exists in an immutable repository; nothing to push"
        )
    return decision


def _other_registry(session: AwsSession, job: EcrJob, host: str) -> _RegistryWork:
    """Token and repository of a registry named beside the main one (PLUGIN_EXTRA_REGISTRIES)."""
    ecr = Ecr(session, host, job.account, job.region)
    creds = ecr.token()
    return _RegistryWork(host, creds, _repository_state(ecr, job))


def _ensure_caches(ecr: Ecr, caches: tuple[RepositorySpec, ...]) -> None:
    for cache in caches:
        if cache.asks_anything:
            ecr.ensure_repository(cache)


def _push_work(job: EcrJob) -> EcrOutcome:
    """The main registry's token, repository, caches and tags; the other registries beside them."""
    session = make_session(job.auth, job.retry)
    main_host, *others = job.registries or (None,)
    main = Ecr(session, main_host or "", job.account, job.region)
    tags_now = _tags_needed_in_advance(job)
    with ThreadPoolExecutor(max_workers=min(_MAX_THREADS, 4 + len(others))) as pool:
        token = pool.submit(main.token)
        state = pool.submit(_repository_state, main, job)
        caches = pool.submit(_ensure_caches, main, job.caches)
        tags: Future[dict[str, str]] | None = None
        if tags_now:
            tags = pool.submit(main.existing_tags, job.repository, list(job.tags), missing_ok=True)
        extra = [pool.submit(_other_registry, session, job, host) for host in others if host]
        creds = token.result()
        found = state.result()
        caches.result()
        if tags is None and found is not None and found.immutable:
            tags = pool.submit(main.existing_tags, job.repository, list(job.tags), missing_ok=True)
        existing = tags.result() if tags is not None else None
        done = [_RegistryWork(main_host or creds.endpoint, creds, found), *(f.result() for f in extra)]
    return EcrOutcome(
        registry=done[0].registry,
        logins={w.registry: (w.creds.username, w.creds.password) for w in done},
        repositories=[w.summary(job.repository) for w in done],
        decision=_tag_decision(existing, job, found),
    )


def _pull_logins(job: EcrJob) -> EcrOutcome:
    """ECR credentials for every registry of the job; registries that refuse are skipped (a warning)."""
    try:
        session = make_session(job.auth, job.retry)
        has_credentials = session.credentials() is not None
    except AwsError as exc:
        log.warning("ecr.pull_login_skipped", reason=exc.message)
        return EcrOutcome(None)
    if not has_credentials:
        log.info("ecr.pull_login_skipped", reason="no AWS credentials: base images pull anonymously")
        return EcrOutcome(None)

    def login(host: str | None) -> tuple[str | None, RegistryCredentials | None]:
        try:
            return host, Ecr(session, host or "", job.account, job.region).token()
        except AwsError as exc:
            log.warning("ecr.pull_login_failed", registry=host, reason=exc.message)
            return host, None

    outcome = EcrOutcome(None)
    with ThreadPoolExecutor(max_workers=min(_MAX_THREADS, len(job.registries) or 1)) as pool:
        for host, creds in pool.map(login, job.registries):
            if creds is None:
                continue
            registry = host or creds.endpoint
            if host is None:  # the main registry named by its token, as for a pushing run
                outcome.registry = registry
            outcome.logins[registry] = (creds.username, creds.password)
            log.info("ecr.pull_login", registry=registry)
    return outcome

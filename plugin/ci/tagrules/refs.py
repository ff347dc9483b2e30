"""What the tag rules know about this build: the event, the git ref (branch, tag or pull request),
the commit, the default branch and the date, read from any CI's variables (see CIContext).

CIs disagree on the details, so the kind of build comes from the ref when there is one
(``refs/tags/``, ``refs/heads/``, or a pull-request ref of GitHub, GitLab or Bitbucket), and from
the event and the tag / pull-request / branch variables when there is none (Harness manual builds).
Harness puts ``refs/tags/<tag>`` in ``DRONE_COMMIT_BRANCH`` on tag pushes; that is a tag, not a branch.

Monorepos: with a service name (PLUGIN_TAG_SERVICE), a git tag ``<service>/<version>`` or
``<service>@<version>`` is read as ``<version>``; any other tag belongs to another service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from plugin.ci.context import CIContext
from plugin.core.errors import ConfigError

# Each CI's event names, mapped to the kinds the rules use.
EVENTS = {
    "push": "push",
    "tag": "tag",
    "release": "tag",
    "pull_request": "pr",
    "pull_request_target": "pr",
    "pull_request_closed": "pr",
    "pull_request_metadata": "pr",
    "merge_request": "pr",
    "cron": "schedule",
    "schedule": "schedule",
    "scheduler_cron": "schedule",
    "manual": "manual",
    "workflow_dispatch": "manual",
    "custom": "manual",
}
DECISIVE_EVENTS = frozenset({"push", "tag", "pr", "schedule"})
_PR_REF = re.compile(r"refs/(?:pull|merge-requests|pull-requests)/([0-9]+)(?:/|$)")
SHA_VARIABLES = "DRONE_COMMIT_SHA, CI_COMMIT_SHA or GITHUB_SHA"
DEFAULT_BRANCH_VARIABLES = "DRONE_REPO_BRANCH or CI_REPO_DEFAULT_BRANCH"
SHORT_SHA_VARIABLE = "DOCKER_METADATA_SHORT_SHA_LENGTH"


def event_kind(raw: str | None) -> str:
    """push, tag, pr, schedule, manual, or the CI's own word (lower case); '' when unknown."""
    text = (raw or "").strip().lower()
    return EVENTS.get(text, text)


@dataclass(frozen=True)
class RefContext:
    """The inputs of the tag rules; a field is None when the CI did not say."""

    event: str
    ref: str | None
    branch: str | None
    tag: str | None
    pr: str | None
    sha: str | None
    default_branch: str | None
    base_ref: str | None
    date: datetime
    short_sha_length: int = 7
    service: str | None = None
    foreign_tag: str | None = None

    @property
    def kind(self) -> str:
        """What the ref is: tag, branch, pr, or '' (no ref at all)."""
        if self.tag is not None:
            return "tag"
        if self.branch is not None:
            return "branch"
        return "pr" if self.pr is not None else ""

    @property
    def short_sha(self) -> str | None:
        return self.sha[: self.short_sha_length] if self.sha else None

    def is_default_branch(self) -> bool | None:
        """metadata-action's ``{{is_default_branch}}``; None when the default branch is unknown."""
        if self.branch is None:
            return self.event == "schedule" and self.kind == ""
        if not self.default_branch:
            return None
        return self.branch == self.default_branch

    def describe(self) -> str:
        """A short account of the build for log lines: event and ref."""
        return f"event {self.event or 'unknown'}, ref {self.ref or 'unknown'}"


def _service_tag(tag: str, service: str | None) -> tuple[str | None, str | None]:
    """(this step's version, a foreign tag): strip ``<service>/`` or ``<service>@``."""
    if not service:
        return tag, None
    for sep in ("/", "@"):
        if tag.startswith(service + sep) and len(tag) > len(service) + 1:
            return tag[len(service) + 1 :], None
    return None, tag


def _short_sha_length(env: Mapping[str, str]) -> int:
    raw = env.get(SHORT_SHA_VARIABLE, "").strip()
    if not raw:
        return 7
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 64:
        raise ConfigError.single(SHORT_SHA_VARIABLE, raw, "a whole number of characters from 1 to 64")
    return int(raw)


def _build_date(ctx: CIContext, now: datetime | None) -> datetime:
    """The build's creation time when the CI gives it (every step of a build agrees), else now."""
    created = (ctx.build_created or "").strip()
    if created.isascii() and created.isdigit() and len(created) <= 11:
        return datetime.fromtimestamp(int(created), UTC)
    return now or datetime.now(UTC)


def _from_ref(ref: str) -> tuple[str | None, str | None, str | None]:
    """(branch, tag, pr) named by a full git ref."""
    if ref.startswith("refs/tags/"):
        return None, ref.removeprefix("refs/tags/") or None, None
    if ref.startswith("refs/heads/"):
        return ref.removeprefix("refs/heads/") or None, None, None
    pr = _PR_REF.match(ref)
    return None, None, (pr[1] if pr else None)


def _without_ref(ctx: CIContext) -> tuple[str | None, str | None, str | None]:
    """(branch, tag, pr) from the tag / pull request / branch variables, for builds without a ref.

    The pull-request variables are set on pull-request builds only (Drone, Harness, Woodpecker).
    """
    branch_var = (ctx.commit_branch or "").strip()
    if ctx.tag:
        return None, ctx.tag, None
    if branch_var.startswith("refs/tags/"):  # Harness tag pushes
        return None, branch_var.removeprefix("refs/tags/") or None, None
    if ctx.pull_request:
        return None, None, ctx.pull_request
    if branch_var:
        return branch_var.removeprefix("refs/heads/"), None, None
    return None, None, None


def ref_context(
    ctx: CIContext,
    env: Mapping[str, str],
    *,
    service: str | None = None,
    event: str | None = None,
    now: datetime | None = None,
) -> RefContext:
    """The rules' view of this build.

    ``event`` (PLUGIN_TAG_EVENT) wins over the CI's own event when it names a push, a tag, a pull
    request or a schedule; a vaguer one (Harness' WEBHOOK or MANUAL trigger types) only fills in for
    a CI that names no event.
    """
    given = event_kind(event)
    kind = given if given in DECISIVE_EVENTS else (event_kind(ctx.event) or given)
    ref = (ctx.commit_ref or "").strip() or None
    branch, tag, pr = _from_ref(ref) if ref else _without_ref(ctx)
    if kind == "pr" and pr is None and ctx.pull_request and not tag:
        branch, pr = None, ctx.pull_request  # a PR build whose ref names its source branch
    ref = ref or _implied_ref(branch, tag, pr)
    foreign = None
    if tag is not None:
        tag, foreign = _service_tag(tag, service)
    target = (ctx.target_branch or ctx.commit_branch or "").strip() if pr is not None else ""
    target = target.removeprefix("refs/heads/")
    return RefContext(
        event=kind,
        ref=ref,
        branch=branch,
        tag=tag,
        pr=pr,
        sha=(ctx.commit_sha or "").strip() or None,
        default_branch=(ctx.repo_branch or "").strip() or None,
        base_ref=target if target and not target.startswith("refs/") else None,
        date=_build_date(ctx, now),
        short_sha_length=_short_sha_length(env),
        service=service,
        foreign_tag=foreign,
    )


def _implied_ref(branch: str | None, tag: str | None, pr: str | None) -> str | None:
    """The ref a CI that gives none means (shown in log lines; the rules use branch, tag and pr)."""
    if tag is not None:
        return f"refs/tags/{tag}"
    if branch is not None:
        return f"refs/heads/{branch}"
    return f"refs/pull/{pr}/head" if pr is not None else None


def step_context(ctx: CIContext, refs: RefContext) -> CIContext:
    """The CI context as this step sees it: the service prefix taken off a monorepo tag (for auto-tag)."""
    if not refs.service or refs.tag is None:
        return ctx
    return ctx.model_copy(update={"commit_ref": f"refs/tags/{refs.tag}", "tag": refs.tag})

"""Which of the run's tags exist in the repository already, and what follows: skip the build, push
every tag, or push the missing ones and verify the others (an immutable repository; docs/ecr.md).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from plugin.aws.ecr_client import EcrClient
from plugin.aws.repositories import CREATE_VARIABLE
from plugin.core.errors import AwsError, RunError
from plugin.core.log import get_logger

log = get_logger(__name__)


class ExistingTags(EcrClient):
    """DescribeImages, one call per tag, at the same time."""

    def existing_tags(self, repository: str, tags: list[str], *, missing_ok: bool = False) -> dict[str, str]:
        """Tag -> digest for the tags that exist; a missing repository is an AwsError unless missing_ok."""
        name = self._name(repository)
        unique = list(dict.fromkeys(tags))
        if not unique:
            return {}
        digest_of: Callable[[str], str | None] = lambda tag: self._tag_digest(name, tag)  # noqa: E731
        try:
            with ThreadPoolExecutor(max_workers=min(4, len(unique))) as pool:
                digests = list(pool.map(digest_of, unique))
        except AwsError as exc:
            if exc.code != "RepositoryNotFoundException":
                raise
            if missing_ok:
                return {}
            raise AwsError(
                "DescribeImages",
                name,
                exc.code,
                f"the repository does not exist; set {CREATE_VARIABLE}=true to create it",
            ) from exc
        found = {tag: digest for tag, digest in zip(unique, digests, strict=True) if digest}
        log.info("ecr.tags", repository=name, checked=unique, existing=found)
        return found

    def _tag_digest(self, name: str, tag: str) -> str | None:
        try:
            found = self._call(
                "DescribeImages", name, repositoryName=name, imageIds=[{"imageTag": tag}], **self._ids()
            )
        except AwsError as exc:
            if exc.code == "ImageNotFoundException":
                return None
            raise
        details = found.get("imageDetails") or []
        return str(details[0]["imageDigest"]) if details else None


@dataclass(frozen=True)
class TagDecision:
    """Whether to build, which tags to push, and which existing tags the builder must verify afterwards."""

    action: Literal["build", "skip"]
    push_tags: list[str]
    verify_tags: dict[str, str]
    existing: dict[str, str]
    reason: str

    @property
    def digest(self) -> str | None:
        """The digest every tag already points to, when the build is skipped."""
        return next(iter(self.existing.values())) if self.action == "skip" else None


def decide(tags: list[str], existing: dict[str, str], immutable: bool) -> TagDecision:
    """Decide skip/build from the final tags and the ones that exist (see docs/ecr.md); pure."""
    wanted = list(dict.fromkeys(tags))
    if not wanted:
        raise RunError("no tags to push")
    present = {t: existing[t] for t in wanted if t in existing}
    missing = [t for t in wanted if t not in present]
    digests = set(present.values())
    if not present:
        return TagDecision("build", wanted, {}, {}, f"none of the {len(wanted)} tags exist")
    if not missing and len(digests) == 1:
        return TagDecision("skip", [], {}, present, f"every tag already points to {next(iter(digests))}")
    if not immutable:
        return TagDecision(
            "build",
            wanted,
            {},
            present,
            f"{len(present)} of {len(wanted)} tags exist in a mutable repository; pushing all",
        )
    if not missing:
        listed = ", ".join(f"{t}={d}" for t, d in present.items())
        raise RunError(
            f"the tags already exist in an immutable repository with different digests "
            f"({listed}); no single build can satisfy them all"
        )
    return TagDecision(
        "build",
        missing,
        present,
        present,
        f"{len(present)} of {len(wanted)} tags exist in an immutable repository; "
        f"pushing {', '.join(missing)} and verifying {', '.join(present)}",
    )

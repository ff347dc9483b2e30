"""The build's source date (SOURCE_DATE_EPOCH): a setting, the environment, or HEAD's commit time.

Drone, Harness and Woodpecker export the commit's id but not its time (only the build's:
DRONE_BUILD_CREATED, CI_PIPELINE_CREATED), so the commit time is read from the checkout's ``.git``
(plugin.ci.gitcommit; the images have no git program). It is looked for only when asked for:
PLUGIN_SOURCE_DATE_EPOCH set, or PLUGIN_REPRODUCIBLE on; otherwise a build keeps the anchors'
times (the `created` label is the time of the build).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from plugin.ci.context import CIContext
from plugin.ci.gitcommit import head_commit
from plugin.config.settings import Settings
from plugin.core.errors import ConfigError

# Later than this is not a time a commit can have been made (year 9999): a value in milliseconds.
_MAX_EPOCH = 253402300799


@dataclass(frozen=True)
class SourceDate:
    """Seconds since 1970 and where they came from (for the log and the plan)."""

    epoch: int
    origin: str

    @property
    def iso(self) -> str:
        return datetime.fromtimestamp(self.epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wanted(settings: Settings) -> bool:
    return settings.source_date_epoch is not None or settings.reproducible


def _from_environment(ctx: CIContext) -> SourceDate | None:
    raw = (ctx.source_date_env or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > _MAX_EPOCH:
        raise ConfigError.single("SOURCE_DATE_EPOCH", raw, "seconds since 1970 (an integer)")
    return SourceDate(int(raw), "SOURCE_DATE_EPOCH")


def resolve_source_date(settings: Settings, ctx: CIContext, workdir: Path | None = None) -> SourceDate | None:
    """PLUGIN_SOURCE_DATE_EPOCH, else SOURCE_DATE_EPOCH, else the commit time of HEAD in the checkout
    holding the build context (or the workspace); None when not wanted or not found."""
    if not wanted(settings):
        return None
    if settings.source_date_epoch is not None:
        if settings.source_date_epoch > _MAX_EPOCH:
            raise ConfigError.single(
                "PLUGIN_SOURCE_DATE_EPOCH", str(settings.source_date_epoch), "seconds since 1970, not ms"
            )
        return SourceDate(settings.source_date_epoch, "PLUGIN_SOURCE_DATE_EPOCH")
    found = _from_environment(ctx)
    if found is not None:
        return found
    base = workdir or Path.cwd()
    remote = "://" in settings.context or settings.context.startswith("git@")
    starts = ([] if remote else [base / settings.context]) + ([Path(ctx.workspace)] if ctx.workspace else [])
    starts.append(base)
    for start in starts:
        commit = head_commit(start)
        if commit is not None:
            return SourceDate(commit.time, f"commit {commit.sha[:12]} in {commit.git_dir}")
    return None

"""The org.opencontainers.image.* labels and annotations a build gets from its CI context.

- The anchors' auto labels (PLUGIN_AUTO_LABEL, docker and buildx only, on by default): created,
  revision, source, url, exactly as plugins/ecr and buildx-ecr wrote them.
- PLUGIN_OCI_LABELS (every builder, off by default): every key the context can fill; see ``oci_values``.
- PLUGIN_OCI_ANNOTATIONS: the same keys as manifest annotations (kaniko ≥ 1.25.0, buildx).

The user's own keys win, one value per key: PLUGIN_LABEL_SCHEMA and PLUGIN_CUSTOM_LABELS over the
labels, PLUGIN_ANNOTATIONS over the annotations. ``created`` is the build's source date when there
is one (plugin.target.sourcedate), else the time of the build.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from plugin.ci.context import CIContext
from plugin.config.settings import Settings

OCI = "org.opencontainers.image"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_DOCKERFILE_LIMIT = 1 << 20


def created(ctx: CIContext, now: datetime | None = None) -> str:
    """RFC 3339 in UTC: the source date when the build has one, else ``now``."""
    when = datetime.fromtimestamp(ctx.source_date, UTC) if ctx.source_date is not None else None
    return (when or now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def anchor_labels(ctx: CIContext, repo_link: str | None, now: datetime | None = None) -> dict[str, str]:
    """The four labels plugins/ecr and buildx-ecr add (revision 00000000 when unknown, as they did)."""
    values = {f"{OCI}.created": created(ctx, now), f"{OCI}.revision": ctx.commit_sha or "00000000"}
    if ctx.remote_url:
        values[f"{OCI}.source"] = ctx.remote_url
    link = repo_link or ctx.repo_link
    if link:
        values[f"{OCI}.url"] = link
    return values


def _substitute(text: str, args: dict[str, str]) -> str | None:
    """``$X``, ``${X}`` and ``${X:-default}`` from ``args``; None when one is unknown."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match[1] or match[3]
        if args.get(name):
            return args[name]
        if match[2] is not None:
            return match[2]
        missing = True
        return ""

    out = _VARIABLE.sub(value, text)
    return None if missing else out


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, rest) per logical line: comments dropped, backslash continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        word, _, rest = whole.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_path(settings: Settings, workdir: Path | None = None) -> Path | None:
    """The Dockerfile the builder reads: as given, else inside the context (kaniko's sub-path too)."""
    base = workdir or Path.cwd()
    inside = Path(settings.context) / (settings.context_sub_path or "") / settings.dockerfile
    for candidate in (base / settings.dockerfile, base / inside):
        if candidate.is_file():
            return candidate
    return None


def base_image(settings: Settings, workdir: Path | None = None) -> str | None:
    """The image the built stage starts FROM (PLUGIN_TARGET's, else the last), with ARGs declared
    before the first FROM filled from PLUGIN_BUILD_ARGS or their defaults; None for ``scratch``, an
    unknown ARG or an unreadable Dockerfile."""
    path = dockerfile_path(settings, workdir)
    try:
        if path is None or path.stat().st_size > _DOCKERFILE_LIMIT:
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    given = dict(arg.split("=", 1) for arg in settings.effective_build_args() if "=" in arg)
    args: dict[str, str] = {}
    stages: list[tuple[str | None, str | None]] = []
    for word, rest in _instructions(text):
        if word == "ARG" and not stages:
            for item in rest.split():
                key, _, default = item.partition("=")
                args[key] = given.get(key, default.strip("\"'"))
        elif word == "FROM":
            tokens = [t for t in rest.split() if not t.startswith("--")]
            if not tokens:
                continue
            stage = tokens[2].lower() if len(tokens) >= 3 and tokens[1].lower() == "as" else None
            stages.append((stage, _substitute(tokens[0], args)))
    return _follow_stage(stages, settings.target)


def _follow_stage(stages: list[tuple[str | None, str | None]], target: str | None) -> str | None:
    names = [name for name, _ in stages]
    index = names.index(target.lower()) if target and target.lower() in names else len(stages) - 1
    for _ in range(len(stages)):
        if index < 0:
            return None
        image = stages[index][1]
        if image is None or image.lower() == "scratch":
            return None
        earlier = [n for n in names[:index]]
        if image.lower() not in earlier:
            return image
        index = earlier.index(image.lower())
    return None


def oci_values(
    settings: Settings,
    ctx: CIContext,
    repository: str,
    *,
    tags: list[str] | tuple[str, ...],
    now: datetime | None = None,
    workdir: Path | None = None,
) -> dict[str, str]:
    """Every org.opencontainers.image.* key the context fills, in a stable order.

    created (source date, else now), revision (the commit), source (clone URL), url (web page;
    PLUGIN_REPO_LINK first), version (the first tag, as docker/metadata-action), title (the git
    repository's name), vendor (its owner), ref.name (the ECR repository), base.name (the FROM of
    the stage built). description and licenses have no CI variable: set them in PLUGIN_CUSTOM_LABELS.
    """
    found = {
        "created": created(ctx, now),
        "revision": ctx.commit_sha,
        "source": ctx.source_url,
        "url": settings.repo_link or ctx.web_url,
        "version": tags[0] if tags else None,
        "title": ctx.repo_title,
        "vendor": ctx.vendor,
        "ref.name": repository or None,
        "base.name": base_image(settings, workdir),
    }
    return {f"{OCI}.{key}": value for key, value in found.items() if value}


def _pairs(items: list[str]) -> dict[str, str | None]:
    """KEY=VALUE items by key; a bare KEY (an empty label, as docker reads it) keeps no value."""
    out: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        out[key.strip()] = value if sep else None
    return out


def label_values(
    settings: Settings,
    ctx: CIContext,
    builder: str,
    *,
    repository: str = "",
    tags: list[str] | tuple[str, ...] = (),
    now: datetime | None = None,
) -> dict[str, str | None]:
    """Every label of the build, one value per key: automatic ones first, the user's win."""
    values: dict[str, str | None] = {}
    if builder != "kaniko" and settings.auto_label:
        values.update(anchor_labels(ctx, settings.repo_link, now))
    if settings.oci_labels:
        values.update(oci_values(settings, ctx, repository, tags=tags, now=now))
    if builder != "kaniko":
        values.update(_pairs([f"{OCI}.{item}" for item in settings.label_schema]))
    values.update(_pairs(settings.custom_labels))
    return values


def annotation_values(
    settings: Settings,
    ctx: CIContext,
    *,
    repository: str = "",
    tags: list[str] | tuple[str, ...] = (),
    now: datetime | None = None,
) -> dict[str, str | None]:
    """PLUGIN_OCI_ANNOTATIONS' keys, then PLUGIN_ANNOTATIONS (which win per key)."""
    values: dict[str, str | None] = {}
    if settings.oci_annotations:
        values.update(oci_values(settings, ctx, repository, tags=tags, now=now))
    values.update(_pairs(settings.annotations))
    return values


def as_args(values: dict[str, str | None]) -> list[str]:
    return [key if value is None else f"{key}={value}" for key, value in values.items()]

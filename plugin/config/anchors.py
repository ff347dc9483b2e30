"""What each builder's anchor plugin read, where that decides drop-in behaviour (docs/compatibility.md).

Each builder stands in for one anchor: kaniko for plugins/kaniko-ecr, docker for plugins/ecr, buildx
for plugins/buildx-ecr. Two rules keep a working pipeline doing what it did after the switch:

- A variable from another anchor's vocabulary that would change what is pushed (or whether) is
  ignored, with a warning, when the chosen builder's anchor never read it (``IGNORED_FOR_BUILDER``);
  with both ``PLUGIN_TAG`` and ``PLUGIN_TAGS`` set, docker and buildx read ``PLUGIN_TAG``, as their
  anchors did. Settings their anchor ignored that now take effect are named too (``NEWLY_HONOURED``).
- A junk boolean (``maybe``) in a variable the chosen builder's anchor never read cannot have mattered
  before, so it is a warning and the default is used; in a variable the anchor read, or one of this
  plugin's own, it stays an error naming the variable (``junk_boolean``).

The boolean sets below are anchor-env.md section A; a unit test checks them against that table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from plugin.core.booleans import parse_bool

ANCHOR_OF = {"kaniko": "plugins/kaniko-ecr", "docker": "plugins/ecr", "buildx": "plugins/buildx-ecr"}
KANIKO_EXECUTOR = "/kaniko/executor"

_DOCKER_BASE_BOOLEANS = frozenset(
    {
        "PLUGIN_DRY_RUN",
        "PLUGIN_NO_PUSH",
        "PLUGIN_INSECURE",
        "PLUGIN_IPV6",
        "PLUGIN_DEBUG",
        "DOCKER_LAUNCH_DEBUG",
        "PLUGIN_DAEMON_OFF",
        "PLUGIN_DEFAULT_TAGS",
        "PLUGIN_AUTO_TAG",
        "PLUGIN_MULTIPLE_BUILD_ARGS",
        "PLUGIN_QUIET",
        "PLUGIN_SQUASH",
        "PLUGIN_PULL_IMAGE",
        "PLUGIN_COMPRESS",
        "PLUGIN_AUTO_LABEL",
        "PLUGIN_PURGE",
        "PLUGIN_NO_CACHE",
        "PLUGIN_PUSH_ONLY",
        "PLUGIN_CREATE_REPOSITORY",  # the ECR wrapper's
        "ECR_CREATE_REPOSITORY",
        "PLUGIN_SCAN_ON_PUSH",
    }
)

# The boolean variables each anchor read (anchor-env.md A1, A2, A3).
BOOLEANS_READ: dict[str, frozenset[str]] = {
    "kaniko": frozenset(
        {
            "PLUGIN_EXPAND_TAG",
            "PLUGIN_AUTO_TAG",
            "PLUGIN_MULTIPLE_BUILD_ARGS",
            "PLUGIN_CREATE_REPOSITORY",
            "PLUGIN_ENABLE_CACHE",
            "PLUGIN_CACHE_COPY_LAYERS",
            "PLUGIN_CACHE_RUN_LAYERS",
            "PLUGIN_COMPRESSED_CACHING",
            "PLUGIN_CLEANUP",
            "PLUGIN_NO_PUSH",
            "PLUGIN_PUSH_ONLY",
            "PLUGIN_SKIP_UNUSED_STAGES",
            "PLUGIN_FORCE",
            "PLUGIN_INSECURE",
            "PLUGIN_INSECURE_PULL",
            "PLUGIN_LOG_TIMESTAMP",
            "PLUGIN_SKIP_DEFAULT_REGISTRY_FALLBACK",
            "PLUGIN_REPRODUCIBLE",
            "PLUGIN_SINGLE_SNAPSHOT",
            "PLUGIN_SKIP_PUSH_PERMISSION_CHECK",
            "PLUGIN_SKIP_TLS_VERIFY_PULL",
            "PLUGIN_SKIP_TLS_VERIFY_REGISTRY",
            "PLUGIN_USE_NEW_RUN",
            "PLUGIN_IGNORE_VAR_RUN",
        }
    ),
    "docker": _DOCKER_BASE_BOOLEANS | {"PLUGIN_EXPERIMENTAL", "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS"},
    "buildx": _DOCKER_BASE_BOOLEANS
    | {
        "PLUGIN_PATH_STYLE",
        "AWS_PLUGIN_PATH_STYLE",
        "PLUGIN_CACHE_TLS_INSECURE",
        "PLUGIN_BUILDX_LOAD",
        "PLUGIN_USE_LOADED_BUILDKIT",
        "PLUGIN_BUILDKIT_INHERIT_AUTH",
    },
}
# The anchors' boolean vocabulary: what they read, plus PLUGIN_SKIP_TLS_VERIFY, which Harness's docs tell
# kaniko-ecr users to set although no anchor reads it. The plugin's own booleans (PLUGIN_PLAN_ONLY,
# PLUGIN_LOG_JSON, ...) are not in it: a junk value there is always an error.
ANCHOR_BOOLEANS = frozenset({"PLUGIN_SKIP_TLS_VERIFY"}).union(*BOOLEANS_READ.values())

_KANIKO_TAGS = "kaniko-ecr reads only PLUGIN_TAGS (else .tags, else latest)"
# Per builder: variables its anchor never read that would change what is pushed, or whether.
IGNORED_FOR_BUILDER: dict[str, dict[str, str]] = {
    "kaniko": {
        "PLUGIN_TAG": f"{_KANIKO_TAGS}; set PLUGIN_TAGS",
        "PLUGIN_DEFAULT_TAGS": "kaniko-ecr's auto-tag switch is PLUGIN_AUTO_TAG",
        "PLUGIN_DEFAULT_SUFFIX": "kaniko-ecr's auto-tag suffix is PLUGIN_AUTO_TAG_SUFFIX",
        "PLUGIN_DRY_RUN": "kaniko-ecr never read it and pushed; its switch is PLUGIN_NO_PUSH",
    },
    "docker": {
        "PLUGIN_EXPAND_TAG": "plugins/ecr never expanded tags; they are pushed as given",
        "PLUGIN_REPRODUCIBLE": "plugins/ecr never read it, and docker build cannot give the same digest "
        "twice (layer times come from the checkout and RUN steps): use buildx with "
        "PLUGIN_BUILDER_DRIVER=docker-container, or kaniko (docs/supply-chain.md)",
    },
    "buildx": {"PLUGIN_EXPAND_TAG": "plugins/buildx-ecr never expanded tags; they are pushed as given"},
}
_SKIP_NOTE = "it never read it and always pushed; tags that already exist are now checked (docs/ecr.md)"
# Per builder: variables its anchor never read that now take effect; a warning says so.
NEWLY_HONOURED: dict[str, dict[str, str]] = {
    "kaniko": {
        "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS": f"plugins/kaniko-ecr: {_SKIP_NOTE}",
        "PLUGIN_BUILD_ARGS_FROM_ENV": "plugins/kaniko-ecr never read it; the variables now reach the build",
    },
    "docker": {},
    "buildx": {
        "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS": f"plugins/buildx-ecr: {_SKIP_NOTE}",
        "PLUGIN_REPRODUCIBLE": "plugins/buildx-ecr never read it (kaniko-ecr's); layer times are now "
        "rewritten to SOURCE_DATE_EPOCH and BuildKit's default provenance is off (docs/supply-chain.md)",
    },
}

Warning_ = tuple[str, dict[str, Any]]


def builder_from_env(env: Mapping[str, str], executor: str = KANIKO_EXECUTOR) -> str | None:
    """The builder a run will use, read before validation (None: PLUGIN_BUILDER is not a builder)."""
    raw = env.get("PLUGIN_BUILDER", "").strip().lower()
    if raw:
        return raw if raw in ANCHOR_OF else None
    return "kaniko" if os.path.exists(executor) else "docker"


def junk_boolean(variable: str, value: str, builder: str) -> bool:
    """A value that is not a boolean, in an anchor variable the chosen builder's anchor never read."""
    if variable not in ANCHOR_BOOLEANS or variable in BOOLEANS_READ[builder]:
        return False
    try:
        parse_bool(value)
    except ValueError:
        return True
    return False


def _newly_honoured(env: Mapping[str, str], booleans: frozenset[str], builder: str) -> list[Warning_]:
    """A warning for each setting the builder's anchor ignored that is on now (a boolean must be true)."""
    found: list[Warning_] = []
    for variable, note in NEWLY_HONOURED[builder].items():
        value = env.get(variable, "").strip()
        try:
            on = parse_bool(value) is True if variable in booleans else bool(value)
        except ValueError:
            on = False
        if on:
            found.append(
                ("settings.honoured_for_builder", {"variable": variable, "builder": builder, "note": note})
            )
    return found


def drop_for_builder(
    env: Mapping[str, str], boolean_variables: frozenset[str], builder: str | None
) -> tuple[dict[str, str], list[Warning_]]:
    """The environment without what the chosen builder's anchor never read and would change the run.

    ``boolean_variables`` are the variables of the model's boolean fields. Returns the kept variables and
    one warning per dropped variable, naming it, the builder and why.
    """
    if builder is None:
        return dict(env), []
    kept = dict(env)
    warnings: list[Warning_] = []
    ignored = dict(IGNORED_FOR_BUILDER[builder])
    tag, tags = kept.get("PLUGIN_TAG", "").strip(), kept.get("PLUGIN_TAGS", "").strip()
    if builder != "kaniko" and tag and tags and tag != tags:
        ignored["PLUGIN_TAGS"] = f"{ANCHOR_OF[builder]} reads PLUGIN_TAG before PLUGIN_TAGS"
    for variable, why in ignored.items():
        if kept.get(variable, "").strip():
            del kept[variable]
            warnings.append(
                ("settings.ignored_for_builder", {"variable": variable, "builder": builder, "reason": why})
            )
    warnings += _newly_honoured(kept, boolean_variables, builder)
    for variable in sorted(boolean_variables):
        value = kept.get(variable, "")
        if value.strip() and junk_boolean(variable, value, builder):
            del kept[variable]
            warnings.append(
                (
                    "settings.junk_boolean_ignored",
                    {
                        "variable": variable,
                        "value": value,
                        "builder": builder,
                        "reason": f"{ANCHOR_OF[builder]} never read it; the default is used",
                    },
                )
            )
    return kept, warnings

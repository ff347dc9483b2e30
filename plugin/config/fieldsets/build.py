"""Settings every builder reads: what to build, the tags, where to push, outputs, the plugin itself."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel

from plugin.config.flags import ALL, DOCKER, DOCKER_BUILDX, KANIKO, Compare, Flag, Requires, Uses
from plugin.config.types import (
    FIELD_GROUP,
    Bool,
    CacheList,
    CommaList,
    Lower,
    OptCommaList,
    OptCount,
    Secret,
    SemiList,
    Str,
    env,
)

# kaniko reads build secrets (RUN --mount=type=secret) from the osscontainertools fork on; v1.24.0,
# the last upstream release, has no --secret flag.
KANIKO_SECRET = Requires("kaniko", "1.28.0", "--secret")


class BuildFields(BaseModel):
    """What to build and how it is tagged."""

    model_config = FIELD_GROUP

    builder: Annotated[Literal["kaniko", "docker", "buildx"] | None, Lower] = env(
        "PLUGIN_BUILDER",
        doc="Builder to run: kaniko, docker or buildx. Default: kaniko when /kaniko/executor exists, "
        "otherwise docker.",
    )
    dockerfile: Annotated[str, Uses(ALL)] = env(
        "PLUGIN_DOCKERFILE", default="Dockerfile", doc="Path of the Dockerfile (relative to the workspace)."
    )
    context: Annotated[str, Uses(ALL)] = env("PLUGIN_CONTEXT", default=".", doc="Build context directory.")
    context_sub_path: Annotated[Str, Flag("--context-sub-path", KANIKO)] = env(
        "PLUGIN_CONTEXT_SUB_PATH", doc="Sub-path within the context (kaniko)."
    )
    tags: Annotated[OptCommaList, Uses(ALL)] = env(
        "PLUGIN_TAGS",
        "PLUGIN_TAG",
        doc="Tags to push. Default: the lines/commas of ./.tags when it exists, else `latest`. "
        "PLUGIN_TAG is read by docker and buildx only (kaniko-ecr never read it).",
    )
    auto_tag: Bool = env(
        "PLUGIN_AUTO_TAG",
        "PLUGIN_DEFAULT_TAGS",
        default=False,
        doc="Compute tags from DRONE_COMMIT_REF: `latest` on the default branch, semver parts on a git tag. "
        "PLUGIN_DEFAULT_TAGS is read by docker and buildx only (kaniko-ecr never read it).",
    )
    auto_tag_suffix: Str = env(
        "PLUGIN_AUTO_TAG_SUFFIX",
        "PLUGIN_DEFAULT_SUFFIX",
        doc="Suffix appended to every auto tag (PLUGIN_DEFAULT_SUFFIX: docker and buildx only).",
    )
    expand_tag: Annotated[Bool, Uses(KANIKO)] = env(
        "PLUGIN_EXPAND_TAG",
        default=False,
        doc="Expand each semver tag: v1.2.3 becomes 1, 1.2 and 1.2.3 (kaniko only: docker and buildx push "
        "tags as given, as plugins/ecr and buildx-ecr did).",
    )
    tags_plus: Annotated[Literal["replace", "reject"], Lower] = env(
        "PLUGIN_TAG_PLUS",
        default="replace",
        doc="What to do with `+` (semver build metadata) in a tag, which registries refuse: `replace` "
        "it with `-`, or `reject` the run.",
    )
    tag_rules: Str = env(
        "PLUGIN_TAG_RULES",
        doc="Tag rules, one a line, in docker/metadata-action's `tags` syntax: `type=semver,pattern="
        "{{version}}`, `type=ref,event=branch`, `type=sha`, `type=schedule`, `type=raw,value=...`, with "
        "`enable=`, `priority=`, `prefix=`, `suffix=` (docs/tags.md). Their tags follow PLUGIN_TAGS or "
        "the auto tags; with rules there is no default `latest`.",
    )
    tag_flavor: Str = env(
        "PLUGIN_TAG_FLAVOR",
        doc="metadata-action's `flavor` for the rules: `latest=auto|true|false`, `prefix=`, `suffix=` "
        "(each may be followed by `onlatest=true`).",
    )
    tag_service: Str = env(
        "PLUGIN_TAG_SERVICE",
        doc="Monorepo service of this step: a git tag `<service>/v1.2.3` (or `<service>@1.2.3`) is read "
        "as `v1.2.3` by the rules and auto-tag; a git tag of another service skips the step (exit 0).",
    )
    tag_event: Str = env(
        "PLUGIN_TAG_EVENT",
        doc="The build event for the rules when it names a push, tag, pull request or schedule, instead of "
        "DRONE_BUILD_EVENT / CI_PIPELINE_EVENT / GITHUB_EVENT_NAME (Harness: `<+pipeline.triggerType>`, "
        "whose SCHEDULER_CRON is a scheduled build).",
    )
    build_args: Annotated[CommaList, Uses(ALL)] = env(
        "PLUGIN_BUILD_ARGS", factory=list, doc="Build arguments, KEY=VALUE, comma-separated."
    )
    build_args_new: Annotated[SemiList, Uses(ALL)] = env(
        "PLUGIN_BUILD_ARGS_NEW",
        factory=list,
        doc="Build arguments separated by `;` (values may hold commas), with PLUGIN_MULTIPLE_BUILD_ARGS.",
    )
    multiple_build_args: Bool = env(
        "PLUGIN_MULTIPLE_BUILD_ARGS",
        default=False,
        doc="Use PLUGIN_BUILD_ARGS_NEW instead of PLUGIN_BUILD_ARGS.",
    )
    build_args_from_env: Annotated[CommaList, Uses(ALL)] = env(
        "PLUGIN_BUILD_ARGS_FROM_ENV",
        factory=list,
        doc="Environment variables passed as build arguments, under the name as written and upper-cased "
        "(`MyVar` gives `MyVar` and `MYVAR`); the value comes from `MyVar`, `MYVAR` or `HARNESS_MYVAR`.",
    )
    target: Annotated[Str, Flag("--target", ALL)] = env("PLUGIN_TARGET", doc="Build stage to target.")
    custom_labels: Annotated[CommaList, Uses(ALL)] = env(
        "PLUGIN_CUSTOM_LABELS", factory=list, doc="Image labels, KEY=VALUE, comma-separated."
    )
    label_schema: Annotated[CommaList, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_LABEL_SCHEMA", factory=list, doc="Extra org.opencontainers.image.<KEY>=VALUE labels."
    )
    auto_label: Annotated[
        Bool,
        Uses(DOCKER_BUILDX),
        Compare(
            kaniko="not read (kaniko-ecr added no labels); see PLUGIN_OCI_LABELS",
            docker="`--label` created, revision, source, url (on by default)",
            buildx="`--label` created, revision, source, url (on by default)",
        ),
    ] = env(
        "PLUGIN_AUTO_LABEL",
        default=True,
        doc="Add org.opencontainers.image.{created,revision,source,url} labels from the CI context "
        "(docker, buildx; PLUGIN_OCI_LABELS adds the rest, for every builder).",
    )
    repo_link: Str = env(
        "PLUGIN_REPO_LINK", "DRONE_REPO_LINK", doc="Source repository URL for the url label."
    )
    platform: Annotated[Str, Flag("--custom-platform", KANIKO), Flag("--platform", DOCKER_BUILDX)] = env(
        "PLUGIN_PLATFORM", "PLUGIN_CUSTOM_PLATFORM", doc="Target platform, e.g. linux/arm64 (buildx: a list)."
    )
    no_cache: Annotated[Bool, Flag("--no-cache", DOCKER_BUILDX, "switch")] = env(
        "PLUGIN_NO_CACHE", default=False, doc="Do not use the build cache."
    )
    cache_from: Annotated[CacheList, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_CACHE_FROM",
        factory=list,
        doc="Images (docker) or cache specs (buildx) used as cache; `;`-separated when entries hold commas.",
    )
    add_host: Annotated[CommaList, Flag("--add-host", DOCKER_BUILDX, "repeat")] = env(
        "PLUGIN_ADD_HOST", factory=list, doc="Extra host:ip entries for RUN steps."
    )
    network: Annotated[Str, Flag("--network", DOCKER_BUILDX)] = env(
        "PLUGIN_NETWORK", doc="Network mode for RUN steps (e.g. host)."
    )
    quiet: Annotated[Bool, Flag("--quiet", DOCKER_BUILDX, "switch")] = env(
        "PLUGIN_QUIET", default=False, doc="Suppress the build output."
    )
    secret: Annotated[Str, Uses(ALL), KANIKO_SECRET] = env(
        "PLUGIN_SECRET", doc="A BuildKit secret spec passed as --secret (e.g. id=npm,src=/path)."
    )
    secrets_from_env: Annotated[CommaList, Uses(ALL), KANIKO_SECRET] = env(
        "PLUGIN_SECRETS_FROM_ENV",
        factory=list,
        doc="Build secrets ID=ENV_NAME: the secret's value comes from ENV_NAME.",
    )
    secrets_from_file: Annotated[CommaList, Uses(ALL), KANIKO_SECRET] = env(
        "PLUGIN_SECRETS_FROM_FILE",
        factory=list,
        doc="Build secrets ID=PATH: the secret's value comes from the file.",
    )
    ssh_agent_key: Annotated[Secret, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_SSH_AGENT_KEY", doc="A private SSH key (PEM) made available to RUN --mount=type=ssh."
    )


class TargetFields(BaseModel):
    """Where the image goes and what happens around the push."""

    model_config = FIELD_GROUP

    repo: Annotated[Str, Uses(ALL)] = env(
        "PLUGIN_REPO",
        doc="Repository name (`team/app`); a leading registry host is accepted and not repeated.",
    )
    registry: Annotated[Str, Uses(ALL)] = env(
        "PLUGIN_REGISTRY",
        "ARTIFACT_REGISTRY",
        doc="ECR registry host. Default: from PLUGIN_ACCOUNT and the region, else the token's endpoint.",
    )
    extra_registries: Annotated[CommaList, Uses(ALL)] = env(
        "PLUGIN_EXTRA_REGISTRIES",
        factory=list,
        doc="More ECR registry hosts (other accounts or regions) that receive the same repository and tags.",
    )
    no_push: Annotated[Bool, Flag("--no-push", KANIKO, "switch")] = env(
        "PLUGIN_NO_PUSH", "PLUGIN_DRY_RUN", default=False, doc="Build without pushing."
    )
    push_only: Bool = env(
        "PLUGIN_PUSH_ONLY", default=False, doc="Skip the build; push an existing image or tarball."
    )
    source_tar_path: Str = env("PLUGIN_SOURCE_TAR_PATH", doc="Tarball to push in push-only mode.")
    source_image: Annotated[Str, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_SOURCE_IMAGE", doc="Local image (repo[:tag]) to push in push-only mode."
    )
    tar_path: Annotated[Str, Flag("--tar-path", KANIKO)] = env(
        "PLUGIN_TAR_PATH", "PLUGIN_DESTINATION_TAR_PATH", doc="Also write the image as a tarball here."
    )
    skip_push_if_tag_exists: Bool = env(
        "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS",
        default=False,
        doc="Check the final tags in ECR before building and skip when they already exist (see docs/ecr.md).",
    )
    tag_exists_mode: Annotated[Literal["all", "any"], Lower] = env(
        "PLUGIN_TAG_EXISTS_MODE",
        default="all",
        doc="With PLUGIN_SKIP_PUSH_IF_TAG_EXISTS: skip when `all` tags exist on one image (default), or "
        "when `any` tag exists (the old plugins/ecr behaviour).",
    )
    push_retry: Annotated[OptCount, Flag("--push-retry", KANIKO)] = env(
        "PLUGIN_PUSH_RETRY", doc="Retries for a failed push (kaniko flag; docker pushes default to 3)."
    )
    artifact_file: Str = env("PLUGIN_ARTIFACT_FILE", doc="Write the docker/v1 artifact JSON here.")
    registry_type: str = env("PLUGIN_REGISTRY_TYPE", default="ECR", doc="registryType in the artifact file.")
    purge: Annotated[Bool, Uses(DOCKER)] = env(
        "PLUGIN_PURGE",
        default=True,
        doc="Remove the built images and prune the daemon after the run (no prune on a data root that "
        "was empty when the plugin's dockerd started: all it holds is this run's).",
    )
    config: Annotated[Secret, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_CONFIG",
        "DOCKER_PLUGIN_CONFIG",
        doc="Docker config.json content (JSON) or a path to one, merged under the ECR credentials.",
    )
    base_registry: Str = env(
        "PLUGIN_DOCKER_REGISTRY",
        "PLUGIN_BASE_IMAGE_REGISTRY",
        "DOCKER_BASE_IMAGE_REGISTRY",
        "DOCKER_REGISTRY",
        doc="Registry of the base images, logged in with the base-image credentials.",
    )
    base_username: Str = env(
        "PLUGIN_USERNAME",
        "PLUGIN_DOCKER_USERNAME",
        "PLUGIN_BASE_IMAGE_USERNAME",
        "DOCKER_BASE_IMAGE_USERNAME",
        "DOCKER_USERNAME",
        doc="Base-image registry user (kaniko-ecr meaning of PLUGIN_USERNAME; pushes use the ECR token).",
    )
    base_password: Secret = env(
        "PLUGIN_PASSWORD",
        "PLUGIN_DOCKER_PASSWORD",
        "PLUGIN_BASE_IMAGE_PASSWORD",
        "DOCKER_BASE_IMAGE_PASSWORD",
        "DOCKER_PASSWORD",
        doc="Base-image registry password.",
    )
    email: Str = env(
        "PLUGIN_EMAIL", "DOCKER_EMAIL", doc="Accepted for compatibility; docker login no longer takes it."
    )
    access_token: Secret = env(
        "ACCESS_TOKEN",
        doc="Accepted for compatibility (GAR/GCR OAuth login of plugins/docker); not used for ECR.",
    )


class PluginFields(BaseModel):
    """The plugin's own behaviour."""

    model_config = FIELD_GROUP

    env_file: Str = env(
        "PLUGIN_ENV_FILE", doc="A dotenv file loaded before anything else (set variables win)."
    )
    plan_only: Bool = env(
        "PLUGIN_PLAN_ONLY",
        default=False,
        doc="Print the plan as JSON and exit, without AWS calls or processes.",
    )
    log_level: Annotated[Literal["debug", "info", "warning", "error"], Lower] = env(
        "PLUGIN_LOG_LEVEL", default="info", doc="The plugin's own log level."
    )
    log_json: Bool = env(
        "PLUGIN_LOG_JSON",
        default=False,
        doc="Write the plugin's own log lines as JSON (event id, a `message` sentence, the fields) instead "
        "of short human lines. The builder's output is streamed as it is either way. Colour: only on a "
        "terminal, never with NO_COLOR, always with FORCE_COLOR. (PLUGIN_LOG_FORMAT is kaniko's.)",
    )


__all__ = ["BuildFields", "PluginFields", "TargetFields"]

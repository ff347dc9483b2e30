"""kaniko executor settings; most map straight onto one executor flag."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel

from plugin.config.flags import ALL, BUILDX, KANIKO, KANIKO_BUILDX, Compare, Flag, Requires, Uses
from plugin.config.types import FIELD_GROUP, Bool, CommaList, Count, Lower, OptBool, OptCount, Str, env

# Flags that v1.24.0, the last upstream release, lacks (builder-flags.md). --annotation came with the
# forks (chainguard's v1.25.5 has it); the others are osscontainertools' (seen in v1.28.3).
FORKS = "1.25.0"
OSS = "1.28.0"


def _switch(name: str) -> Flag:
    return Flag(name, KANIKO, "switch")


def _newer(flag: str, version: str = OSS) -> Requires:
    return Requires("kaniko", version, flag)


class KanikoFields(BaseModel):
    """Everything kaniko-ecr reads, plus the executor flags it forgot to wire."""

    model_config = FIELD_GROUP

    registry_mirrors: Annotated[CommaList, Flag("--registry-mirror", KANIKO, "repeat"), Uses(BUILDX)] = env(
        "PLUGIN_REGISTRY_MIRRORS",
        factory=list,
        doc="Registry mirrors for base-image pulls (buildx: Docker Hub mirrors in the builder's "
        "buildkitd.toml).",
    )
    snapshot_mode: Annotated[Str, Flag("--snapshot-mode", KANIKO)] = env(
        "PLUGIN_SNAPSHOT_MODE", doc="Snapshot mode: full, redo or time."
    )
    enable_cache: Annotated[Bool, Flag("--cache", KANIKO, "switch"), Uses(BUILDX)] = env(
        "PLUGIN_ENABLE_CACHE",
        default=False,
        doc="Use a layer cache in an ECR cache repository (buildx: a registry cache, see docs/buildx.md).",
    )
    cache_repo: Annotated[Str, Uses(KANIKO_BUILDX)] = env(
        "PLUGIN_CACHE_REPO", doc="Cache repository, relative to the registry. Default: <repo>-cache."
    )
    cache_ttl: Annotated[Count, Flag("--cache-ttl", KANIKO, template="{}h")] = env(
        "PLUGIN_CACHE_TTL", default=0, doc="Cache lifetime in hours (0: kaniko's default)."
    )
    cache_dir: Annotated[Str, Flag("--cache-dir", KANIKO)] = env(
        "PLUGIN_CACHE_DIR", doc="Local directory of cached base images."
    )
    cache_copy_layers: Annotated[Bool, _switch("--cache-copy-layers")] = env(
        "PLUGIN_CACHE_COPY_LAYERS", default=False, doc="Cache COPY layers."
    )
    cache_run_layers: Annotated[OptBool, Flag("--cache-run-layers", KANIKO, "tristate")] = env(
        "PLUGIN_CACHE_RUN_LAYERS", doc="Cache RUN layers (kaniko's default: true)."
    )
    compressed_caching: Annotated[OptBool, Flag("--compressed-caching", KANIKO, "tristate")] = env(
        "PLUGIN_COMPRESSED_CACHING", doc="Compress cached layers (false saves memory on large images)."
    )
    cleanup: Annotated[Bool, _switch("--cleanup")] = env(
        "PLUGIN_CLEANUP", default=False, doc="Clean the filesystem at the end of the build."
    )
    verbosity: Annotated[Str, Flag("--verbosity", KANIKO)] = env(
        "PLUGIN_VERBOSITY", doc="kaniko log level: panic, fatal, error, warn, info, debug or trace."
    )
    skip_unused_stages: Annotated[Bool, _switch("--skip-unused-stages")] = env(
        "PLUGIN_SKIP_UNUSED_STAGES", default=False, doc="Build only the stages the target needs."
    )
    force: Annotated[Bool, _switch("--force")] = env(
        "PLUGIN_FORCE", default=False, doc="Build outside a container."
    )
    image_name_with_digest_file: Annotated[Str, Flag("--image-name-with-digest-file", KANIKO)] = env(
        "PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE", doc="Write image@digest to this file."
    )
    image_name_tag_with_digest_file: Annotated[Str, Flag("--image-name-tag-with-digest-file", KANIKO)] = env(
        "PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE", doc="Write image:tag@digest to this file."
    )
    insecure: Annotated[Bool, Flag("--insecure", KANIKO, "switch"), Uses(ALL)] = env(
        "PLUGIN_INSECURE",
        default=False,
        doc="Push over plain HTTP (kaniko); docker: dockerd treats PLUGIN_REGISTRY as insecure; buildx: "
        "the same in a created builder's buildkitd.toml.",
    )
    insecure_pull: Annotated[Bool, _switch("--insecure-pull")] = env(
        "PLUGIN_INSECURE_PULL", default=False, doc="Pull base images over plain HTTP."
    )
    insecure_registry: Annotated[CommaList, Flag("--insecure-registry", KANIKO, "repeat"), Uses(BUILDX)] = (
        env(
            "PLUGIN_INSECURE_REGISTRY",
            factory=list,
            doc="Registries reached over plain HTTP (buildx: in a created builder's buildkitd.toml).",
        )
    )
    log_format: Annotated[Str, Flag("--log-format", KANIKO)] = env(
        "PLUGIN_LOG_FORMAT",
        doc="kaniko's own log format (--log-format: text, color or json), as with kaniko-ecr; the "
        "plugin's own lines follow PLUGIN_LOG_JSON.",
    )
    log_timestamp: Annotated[Bool, _switch("--log-timestamp")] = env(
        "PLUGIN_LOG_TIMESTAMP", default=False, doc="Timestamps in kaniko's log."
    )
    oci_layout_path: Annotated[Str, Flag("--oci-layout-path", KANIKO)] = env(
        "PLUGIN_OCI_LAYOUT_PATH", doc="Write the image as an OCI layout here."
    )
    registry_certificate: Annotated[Str, Flag("--registry-certificate", KANIKO)] = env(
        "PLUGIN_REGISTRY_CERTIFICATE", doc="registry=path of a CA certificate for a registry."
    )
    registry_client_cert: Annotated[Str, Flag("--registry-client-cert", KANIKO)] = env(
        "PLUGIN_REGISTRY_CLIENT_CERT", doc="registry=cert,key for mutual TLS."
    )
    skip_default_registry_fallback: Annotated[Bool, _switch("--skip-default-registry-fallback")] = env(
        "PLUGIN_SKIP_DEFAULT_REGISTRY_FALLBACK",
        default=False,
        doc="Fail instead of falling back to Docker Hub.",
    )
    reproducible: Annotated[
        Bool,
        _switch("--reproducible"),
        Uses(BUILDX),
        Compare(
            kaniko="`--reproducible` (times stripped; config `created` is 1970)",
            docker="ignored with a warning: layer times come from the checkout and RUN steps",
            buildx="SOURCE_DATE_EPOCH + `rewrite-timestamp=true` (container driver)",
        ),
    ] = env(
        "PLUGIN_REPRODUCIBLE",
        default=False,
        doc="Reproducible images: the same commit gives the same digest. kaniko: --reproducible; "
        "buildx (container driver): SOURCE_DATE_EPOCH (PLUGIN_SOURCE_DATE_EPOCH, else the commit "
        "time) and layer times rewritten to it; docker cannot (ignored with a warning).",
    )
    single_snapshot: Annotated[Bool, _switch("--single-snapshot")] = env(
        "PLUGIN_SINGLE_SNAPSHOT", default=False, doc="Take one snapshot at the end of the build."
    )
    skip_push_permission_check: Annotated[Bool, _switch("--skip-push-permission-check")] = env(
        "PLUGIN_SKIP_PUSH_PERMISSION_CHECK", default=False, doc="Skip the push permission check."
    )
    skip_tls_verify: Annotated[Bool, _switch("--skip-tls-verify")] = env(
        "PLUGIN_SKIP_TLS_VERIFY",
        default=False,
        doc="Skip TLS verification when pushing (kaniko-ecr silently ignored it; honoured here).",
    )
    skip_tls_verify_pull: Annotated[Bool, _switch("--skip-tls-verify-pull")] = env(
        "PLUGIN_SKIP_TLS_VERIFY_PULL", default=False, doc="Skip TLS verification when pulling."
    )
    skip_tls_verify_registry: Annotated[Bool, Uses(KANIKO)] = env(
        "PLUGIN_SKIP_TLS_VERIFY_REGISTRY",
        default=False,
        doc="Skip TLS verification for the push registry (emitted as --skip-tls-verify-registry=<registry>).",
    )
    use_new_run: Annotated[Bool, _switch("--use-new-run")] = env(
        "PLUGIN_USE_NEW_RUN", default=False, doc="Experimental run detection."
    )
    ignore_var_run: Annotated[OptBool, Flag("--ignore-var-run", KANIKO, "tristate")] = env(
        "PLUGIN_IGNORE_VAR_RUN", doc="Ignore /var/run in snapshots (kaniko's default: true)."
    )
    ignore_path: Annotated[CommaList, Flag("--ignore-path", KANIKO, "repeat")] = env(
        "PLUGIN_IGNORE_PATH", "PLUGIN_IGNORE_PATHS", factory=list, doc="Paths left out of snapshots."
    )
    image_fs_extract_retry: Annotated[OptCount, Flag("--image-fs-extract-retry", KANIKO)] = env(
        "PLUGIN_IMAGE_FS_EXTRACT_RETRY", doc="Retries for extracting base image layers."
    )
    image_download_retry: Annotated[OptCount, Flag("--image-download-retry", KANIKO)] = env(
        "PLUGIN_IMAGE_DOWNLOAD_RETRY", doc="Retries for downloading base images."
    )
    annotations: Annotated[
        CommaList,
        Uses(KANIKO_BUILDX),  # --annotation, with PLUGIN_OCI_ANNOTATIONS' keys (plugin.builders.oci_labels)
        _newer("--annotation", FORKS),
        Compare(
            kaniko="`--annotation` (kaniko ≥ 1.25.0)",
            docker="refused (exit 2): `docker push` writes no annotations",
            buildx="`--annotation` (container driver)",
        ),
    ] = env(
        "PLUGIN_ANNOTATIONS",
        factory=list,
        doc="Image manifest annotations, KEY=VALUE, comma-separated (kaniko ≥ 1.25.0; buildx with a "
        "container driver; refused with docker).",
    )
    image_format: Annotated[
        Literal["docker", "oci"] | None, Lower, Flag("--image-format", KANIKO), _newer("--image-format")
    ] = env(
        "PLUGIN_IMAGE_FORMAT",
        doc="Media types of the pushed image: docker or oci (default: those of the base image).",
    )
    credential_helpers: Annotated[
        CommaList, Flag("--credential-helpers", KANIKO, "repeat"), _newer("--credential-helpers")
    ] = env(
        "PLUGIN_CREDENTIAL_HELPERS",
        factory=list,
        doc="kaniko's built-in credential helpers to use (env, google, ecr, acr, gitlab); default: all.",
    )
    materialize: Annotated[Bool, _switch("--materialize"), _newer("--materialize")] = env(
        "PLUGIN_MATERIALIZE",
        default=False,
        doc="Unpack the final file system even when every layer came from the cache.",
    )
    pre_cleanup: Annotated[Bool, _switch("--pre-cleanup"), _newer("--pre-cleanup")] = env(
        "PLUGIN_PRE_CLEANUP", default=False, doc="Clean the file system before the build."
    )
    preserve_context: Annotated[Bool, _switch("--preserve-context"), _newer("--preserve-context")] = env(
        "PLUGIN_PRESERVE_CONTEXT",
        default=False,
        doc="Keep the build context across stages (kaniko deletes it between stages otherwise).",
    )


__all__ = ["KanikoFields"]

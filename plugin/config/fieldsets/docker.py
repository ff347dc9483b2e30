"""Docker engine (dockerd) and docker/buildx build settings."""

from __future__ import annotations

import shlex
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_settings import NoDecode

from plugin.config.flags import ALL, BUILDX, DOCKER, DOCKER_BUILDX, Compare, Flag, Uses
from plugin.config.types import FIELD_GROUP, Bool, CacheList, CommaList, Count, Secret, SemiList, Str, env


def _shell_words(value: Any) -> Any:
    return shlex.split(value) if isinstance(value, str) else value


Words = Annotated[list[str], NoDecode, BeforeValidator(_shell_words)]


class DaemonFields(BaseModel):
    """The dockerd the plugin starts for the docker and buildx builders."""

    model_config = FIELD_GROUP

    daemon_off: Annotated[Bool, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_DAEMON_OFF", default=False, doc="Do not start dockerd; use the engine at DOCKER_HOST."
    )
    daemon_retry_count: Annotated[Count, Field(ge=1), Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_DAEMON_RETRY_COUNT", default=15, doc="Seconds (about) to wait for dockerd to answer."
    )
    mirror: Annotated[Str, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_MIRROR", "DOCKER_PLUGIN_MIRROR", doc="Docker Hub mirror for dockerd (--registry-mirror)."
    )
    storage_driver: Annotated[Str, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_STORAGE_DRIVER", doc="dockerd storage driver."
    )
    storage_path: Annotated[str, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_STORAGE_PATH", default="/var/lib/docker", doc="dockerd data root."
    )
    bip: Annotated[Str, Uses(DOCKER_BUILDX)] = env("PLUGIN_BIP", doc="dockerd bridge IP (--bip).")
    mtu: Annotated[Str, Uses(DOCKER_BUILDX)] = env("PLUGIN_MTU", doc="dockerd network MTU.")
    custom_dns: Annotated[CommaList, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_CUSTOM_DNS", factory=list, doc="DNS servers for dockerd."
    )
    custom_dns_search: Annotated[CommaList, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_CUSTOM_DNS_SEARCH", factory=list, doc="DNS search domains for dockerd."
    )
    ipv6: Annotated[Bool, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_IPV6", default=False, doc="Enable IPv6 in dockerd."
    )
    experimental: Annotated[Bool, Uses(DOCKER)] = env(
        "PLUGIN_EXPERIMENTAL", default=False, doc="Start dockerd with --experimental (needed for squash)."
    )
    debug: Annotated[Bool, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_DEBUG", "DOCKER_LAUNCH_DEBUG", default=False, doc="Run dockerd with --debug and show its log."
    )
    daemon_args: Annotated[Words, Uses(DOCKER_BUILDX)] = env(
        "PLUGIN_DAEMON_ARGS",
        factory=list,
        doc="Extra dockerd arguments, split like a command line (e.g. `--iptables=false --bridge=none`).",
    )


class DockerBuildFields(BaseModel):
    """docker build / buildx build switches that neither kaniko nor the daemon reads."""

    model_config = FIELD_GROUP

    squash: Annotated[Bool, Uses(DOCKER)] = env(
        "PLUGIN_SQUASH", default=False, doc="Squash the layers (needs PLUGIN_EXPERIMENTAL)."
    )
    pull_image: Annotated[Bool, Flag("--pull", DOCKER_BUILDX, "switch")] = env(
        "PLUGIN_PULL_IMAGE", default=True, doc="Always try to pull newer base images."
    )
    compress: Annotated[Bool, Flag("--compress", DOCKER, "switch")] = env(
        "PLUGIN_COMPRESS", default=False, doc="Compress the build context (classic builder)."
    )


class BuildxFields(BaseModel):
    """buildx-ecr settings."""

    model_config = FIELD_GROUP

    cache_to: Annotated[CacheList, Flag("--cache-to", BUILDX, "repeat")] = env(
        "PLUGIN_CACHE_TO", factory=list, doc="Cache export specs (`;`-separated)."
    )
    path_style: Annotated[Bool, Uses(BUILDX)] = env(
        "PLUGIN_PATH_STYLE", "AWS_PLUGIN_PATH_STYLE", default=False, doc="use_path_style=true for s3 caches."
    )
    cache_tls_insecure: Annotated[Bool, Uses(BUILDX)] = env(
        "PLUGIN_CACHE_TLS_INSECURE", default=False, doc="tls_insecure_skip_verify=true for cache backends."
    )
    s3_access_key: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_S3_ACCESS_KEY",
        doc="Replaces the Harness S3 access-key placeholder in cache specs.",
    )
    s3_secret_key: Annotated[Secret, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_S3_SECRET_KEY", doc="Replaces the Harness S3 secret-key placeholder."
    )
    gcp_json_key: Annotated[Secret, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_GCP_JSON_KEY", doc="GCP JSON key for gcs caches (Harness placeholder)."
    )
    azure_account_key: Annotated[Secret, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_AZURE_ACCOUNT_KEY", doc="Azure cache credential (Harness placeholder)."
    )
    azure_tenant_id: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_AZURE_TENANT_ID", doc="Azure tenant id for azblob caches."
    )
    azure_client_id: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_AZURE_CLIENT_ID", doc="Azure client id for azblob caches."
    )
    azure_client_secret: Annotated[Secret, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_AZURE_CLIENT_SECRET", doc="Azure client secret for azblob caches."
    )
    azure_oidc_token: Annotated[Secret, Uses(BUILDX)] = env(
        "PLUGIN_HARNESS_SELF_HOSTED_AZURE_OIDC_TOKEN", doc="Azure OIDC token for azblob caches."
    )
    builder_name: Annotated[Str, Uses(BUILDX)] = env("PLUGIN_BUILDER_NAME", doc="buildx builder name.")
    builder_config: Annotated[Str, Uses(BUILDX)] = env("PLUGIN_BUILDER_CONFIG", doc="buildkitd config file.")
    builder_driver: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_BUILDER_DRIVER", doc="buildx driver (docker, docker-container, remote, ...)."
    )
    builder_driver_opts: Annotated[SemiList, Uses(BUILDX)] = env(
        "PLUGIN_BUILDER_DRIVER_OPTS", factory=list, doc="buildx --driver-opt values (`;`-separated)."
    )
    builder_driver_opts_new: Annotated[SemiList, Uses(BUILDX)] = env(
        "PLUGIN_BUILDER_DRIVER_OPTS_NEW", factory=list, doc="buildx --driver-opt values tried first."
    )
    builder_remote_conn: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_BUILDER_REMOTE_CONN", doc="Endpoint for the remote driver."
    )
    buildx_load: Annotated[Bool, Uses(BUILDX)] = env(
        "PLUGIN_BUILDX_LOAD", default=False, doc="--load the image into the engine when not pushing."
    )
    metadata_file: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_METADATA_FILE", doc="Keep buildx's metadata file here (the digest is read either way)."
    )
    cache_metrics_file: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_CACHE_METRICS_FILE",
        doc="Write buildx-ecr's cache metrics JSON here (total_layers, done, cached, errored, canceled, "
        "layers).",
    )
    use_loaded_buildkit: Annotated[Bool, Uses(BUILDX)] = env(
        "PLUGIN_USE_LOADED_BUILDKIT",
        default=True,
        doc="Load buildkit.tar from PLUGIN_BUILDKIT_ASSETS_DIR (when there) as the docker-container "
        "builder's image.",
    )
    buildkit_assets_dir: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_BUILDKIT_ASSETS_DIR",
        doc='Directory with buildkit.tar and version.json ({"buildkit_version": "<image>"}). '
        "Default: /buildkit.",
    )
    buildkit_version: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_BUILDKIT_VERSION", doc="BuildKit image for the docker-container driver."
    )
    buildkit_tls_handshake_timeout: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_BUILDKIT_TLS_HANDSHAKE_TIMEOUT", doc="buildkitd --tls-handshake-timeout."
    )
    buildkit_response_header_timeout: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_BUILDKIT_RESPONSE_HEADER_TIMEOUT", doc="buildkitd --response-header-timeout."
    )
    buildkit_inherit_auth: Annotated[Bool, Uses(BUILDX)] = env(
        "PLUGIN_BUILDKIT_INHERIT_AUTH",
        default=False,
        doc="Pass the AWS credentials into the BuildKit builder.",
    )
    buildx_options: Annotated[CommaList, Uses(BUILDX)] = env(
        "PLUGIN_BUILDX_OPTIONS", factory=list, doc="Extra buildx build arguments, comma-separated."
    )
    buildx_options_semicolon: Annotated[SemiList, Uses(BUILDX)] = env(
        "PLUGIN_BUILDX_OPTIONS_SEMICOLON", factory=list, doc="Extra buildx build arguments, `;`-separated."
    )
    bake_file: Annotated[Str, Uses(BUILDX)] = env("PLUGIN_BAKE_FILE", doc="Run buildx bake with this file.")
    bake_options: Annotated[SemiList, Uses(BUILDX)] = env(
        "PLUGIN_BAKE_OPTIONS", factory=list, doc="Extra bake arguments and targets (`;`-separated)."
    )
    buildx_output_format: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_BUILDX_OUTPUT_FORMAT", doc="docker or oci: export the tarball with --output."
    )
    provenance: Annotated[
        Str,
        Uses(BUILDX),
        Compare(
            kaniko="refused (exit 2)", docker="refused (exit 2)", buildx="`--provenance` (container driver)"
        ),
    ] = env(
        "PLUGIN_PROVENANCE",
        doc="Provenance attestation: `false`, `true`, `min`, `max`, or a buildx spec such as "
        "`mode=max,version=v1`. Default: buildx's own (a container builder adds `min`). Needs a "
        "container builder (docker-container, remote).",
    )
    sbom: Annotated[
        Bool,
        Uses(BUILDX),
        Compare(kaniko="refused (exit 2)", docker="refused (exit 2)", buildx="`--sbom` (container driver)"),
    ] = env(
        "PLUGIN_SBOM",
        default=False,
        doc="Attach an SBOM attestation (a scanner image runs in BuildKit; see PLUGIN_SBOM_GENERATOR). "
        "Needs a container builder.",
    )
    sbom_generator: Annotated[Str, Uses(BUILDX)] = env(
        "PLUGIN_SBOM_GENERATOR",
        doc="The SBOM scanner image (default: BuildKit's docker/buildkit-syft-scanner from Docker Hub); "
        "mirror it into ECR where Docker Hub is out of reach.",
    )
    single_manifest: Annotated[
        Bool,
        Uses(ALL),
        Compare(
            kaniko="always one manifest",
            docker="always one manifest",
            buildx="`--output=type=image,push=true,oci-mediatypes=false`, no attestations",
        ),
    ] = env(
        "PLUGIN_SINGLE_MANIFEST",
        default=False,
        doc="Push one plain image manifest (Docker v2 schema 2): no index, no provenance or SBOM, one "
        "platform. What AWS Lambda requires. buildx only changes its output; docker and kaniko always "
        "push a single manifest.",
    )


__all__ = ["BuildxFields", "DaemonFields", "DockerBuildFields"]

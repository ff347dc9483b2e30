"""The kaniko executor argv, one snapshot per group of kaniko variables (anchor-env.md A1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from inline_snapshot import snapshot

from plugin.config.flags import KANIKO, field_flags
from plugin.config.load import load_settings
from plugin.config.settings import Settings
from plugin.core.log import REDACTOR
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve
from tests.support.reference import reference_file

BUILDER_FLAGS = reference_file("builder-flags.md")
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BASE = {"PLUGIN_BUILDER": "kaniko", "PLUGIN_REGISTRY": REGISTRY, "PLUGIN_REPO": "team/app"}

SCENARIOS: dict[str, dict[str, str]] = {
    "defaults": {},
    "issue_example": {"PLUGIN_TAGS": "1.0,latest"},
    "build_inputs": {
        "PLUGIN_DOCKERFILE": "docker/Dockerfile.prod",
        "PLUGIN_CONTEXT": "app",
        "PLUGIN_CONTEXT_SUB_PATH": "services/api",
        "PLUGIN_BUILD_ARGS": "A=1, B=2",
        "PLUGIN_BUILD_ARGS_FROM_ENV": "GIT_SHA",
        "GIT_SHA": "abc123",
        "PLUGIN_CUSTOM_LABELS": "team=core,tier=web",
        "PLUGIN_TARGET": "runtime",
        "PLUGIN_PLATFORM": "linux/arm64",
        "http_proxy": "http://proxy:3128",
    },
    "multiple_build_args": {
        "PLUGIN_MULTIPLE_BUILD_ARGS": "true",
        "PLUGIN_BUILD_ARGS": "IGNORED=1",
        "PLUGIN_BUILD_ARGS_NEW": "LIST=a,b,c; OTHER=x",
    },
    "cache": {
        "PLUGIN_ENABLE_CACHE": "true",
        "PLUGIN_CACHE_REPO": "team/app-layers",
        "PLUGIN_CACHE_TTL": "24",
        "PLUGIN_CACHE_DIR": "/cache",
        "PLUGIN_CACHE_COPY_LAYERS": "true",
        "PLUGIN_CACHE_RUN_LAYERS": "true",
        "PLUGIN_COMPRESSED_CACHING": "false",
    },
    "snapshots_and_filesystem": {
        "PLUGIN_SNAPSHOT_MODE": "redo",
        "PLUGIN_SINGLE_SNAPSHOT": "true",
        "PLUGIN_REPRODUCIBLE": "true",
        "PLUGIN_USE_NEW_RUN": "true",
        "PLUGIN_IGNORE_VAR_RUN": "false",
        "PLUGIN_IGNORE_PATH": "/var/cache,/tmp",
        "PLUGIN_CLEANUP": "true",
        "PLUGIN_FORCE": "true",
        "PLUGIN_SKIP_UNUSED_STAGES": "true",
    },
    "registries_and_tls": {
        "PLUGIN_REGISTRY_MIRRORS": "mirror.gcr.io,mirror.example.com",
        "PLUGIN_INSECURE": "true",
        "PLUGIN_INSECURE_PULL": "true",
        "PLUGIN_INSECURE_REGISTRY": "registry.local:5000",
        "PLUGIN_SKIP_TLS_VERIFY": "true",
        "PLUGIN_SKIP_TLS_VERIFY_PULL": "true",
        "PLUGIN_SKIP_TLS_VERIFY_REGISTRY": "true",
        "PLUGIN_REGISTRY_CERTIFICATE": "registry.local=/certs/ca.pem",
        "PLUGIN_REGISTRY_CLIENT_CERT": "registry.local=/certs/client.pem,/certs/client.key",
        "PLUGIN_SKIP_DEFAULT_REGISTRY_FALLBACK": "true",
        "PLUGIN_SKIP_PUSH_PERMISSION_CHECK": "true",
        "PLUGIN_EXTRA_REGISTRIES": "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
    },
    "retries_logs_and_outputs": {
        "PLUGIN_PUSH_RETRY": "3",
        "PLUGIN_IMAGE_FS_EXTRACT_RETRY": "2",
        "PLUGIN_IMAGE_DOWNLOAD_RETRY": "4",
        "PLUGIN_VERBOSITY": "debug",
        "PLUGIN_LOG_FORMAT": "json",
        "PLUGIN_LOG_TIMESTAMP": "true",
        "PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE": "/out/name-digest",
        "PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE": "/out/name-tag-digest",
        "PLUGIN_OCI_LAYOUT_PATH": "/out/oci",
        "PLUGIN_TAR_PATH": "/out/image.tar",
    },
    "no_push": {"PLUGIN_NO_PUSH": "true"},
    "no_push_with_tar": {"PLUGIN_NO_PUSH": "true", "PLUGIN_DESTINATION_TAR_PATH": "/out/image.tar"},
    "expand_tag": {"PLUGIN_TAGS": "v1.2.3", "PLUGIN_EXPAND_TAG": "true"},
    "newer_executor": {
        "PLUGIN_ANNOTATIONS": "org.opencontainers.image.vendor=acme,team=core",
        "PLUGIN_IMAGE_FORMAT": "OCI",
        "PLUGIN_CREDENTIAL_HELPERS": "env,ecr",
        "PLUGIN_MATERIALIZE": "true",
        "PLUGIN_PRE_CLEANUP": "true",
        "PLUGIN_PRESERVE_CONTEXT": "true",
        "PLUGIN_SECRET": "id=npmrc,src=/ws/.npmrc",
        "PLUGIN_SECRETS_FROM_ENV": "token=NPM_TOKEN",
        "PLUGIN_SECRETS_FROM_FILE": "cert=/ws/cert.pem",
    },
}
# Flags the builder writes by hand (not through a Flag marker).
HAND_WRITTEN = {
    "--dockerfile",
    "--context",
    "--destination",
    "--build-arg",
    "--label",
    "--cache-repo",
    "--skip-tls-verify-registry",
    "--digest-file",
    "--secret",
    "--annotation",
}


@pytest.fixture(autouse=True)
def clean_redactor() -> Iterator[None]:
    """Build args from the environment are registered as secrets; start and end with none."""
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def executor_argv(extra: dict[str, str], workdir: Path) -> list[str]:
    """The executor argv as `python -m plugin plan` shows it."""
    document = plan_document(resolve(load_settings({**BASE, **extra}), workdir))
    [step] = document["steps"]
    assert step["name"] == "build"
    return step["argv"]


def flag_name(arg: str) -> str:
    return arg.split("=", 1)[0]


def kaniko_table_flags() -> set[str]:
    """The flag column of builder-flags.md's kaniko executor table."""
    text = BUILDER_FLAGS.read_text(encoding="utf-8")
    section = text.split("## kaniko executor", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| (--[a-zA-Z-]+) ", section, flags=re.M))


class TestKanikoArgvSnapshots:
    """One snapshot per scenario: a behaviour change is a readable diff."""

    def test_defaults(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["defaults"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_issue_example_has_two_destinations(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["issue_example"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_build_inputs(self, tmp_path: Path) -> None:
        """Build args from env are shown masked: their values often carry tokens."""
        assert executor_argv(SCENARIOS["build_inputs"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=docker/Dockerfile.prod",
                "--context=dir://app",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--build-arg=A=1",
                "--build-arg=B=2",
                "--build-arg=GIT_SHA",
                "--build-arg=http_proxy",
                "--build-arg=HTTP_PROXY",
                "--label=team=core",
                "--label=tier=web",
                "--context-sub-path=services/api",
                "--target=runtime",
                "--custom-platform=linux/arm64",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_multiple_build_args(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["multiple_build_args"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--build-arg=LIST=a,b,c",
                "--build-arg=OTHER=x",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_cache(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["cache"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--cache",
                "--cache-ttl=24h",
                "--cache-dir=/cache",
                "--cache-copy-layers",
                "--cache-run-layers=true",
                "--compressed-caching=false",
                "--cache-repo=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app-layers",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_snapshots_and_filesystem(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["snapshots_and_filesystem"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--snapshot-mode=redo",
                "--cleanup",
                "--skip-unused-stages",
                "--force",
                "--reproducible",
                "--single-snapshot",
                "--use-new-run",
                "--ignore-var-run=false",
                "--ignore-path=/var/cache",
                "--ignore-path=/tmp",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_registries_and_tls(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["registries_and_tls"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--destination=210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/app:latest",
                "--registry-mirror=mirror.gcr.io",
                "--registry-mirror=mirror.example.com",
                "--insecure",
                "--insecure-pull",
                "--insecure-registry=registry.local:5000",
                "--registry-certificate=registry.local=/certs/ca.pem",
                "--registry-client-cert=registry.local=/certs/client.pem,/certs/client.key",
                "--skip-default-registry-fallback",
                "--skip-push-permission-check",
                "--skip-tls-verify",
                "--skip-tls-verify-pull",
                "--skip-tls-verify-registry=123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "--skip-tls-verify-registry=210987654321.dkr.ecr.eu-west-1.amazonaws.com",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_retries_logs_and_outputs(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["retries_logs_and_outputs"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--tar-path=/out/.image.tar.build-push-ecr-<run>.tmp",
                "--push-retry=3",
                "--verbosity=debug",
                "--image-name-with-digest-file=/kaniko/build-push-ecr-<run>/image-name-with-digest",
                "--image-name-tag-with-digest-file=/kaniko/build-push-ecr-<run>/image-name-tag-with-digest",
                "--log-format=json",
                "--log-timestamp",
                "--oci-layout-path=/out/.oci.build-push-ecr-<run>.tmp",
                "--image-fs-extract-retry=2",
                "--image-download-retry=4",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_no_push_has_no_destination(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["no_push"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--no-push",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_no_push_with_tar_keeps_destinations(self, tmp_path: Path) -> None:
        """As kaniko-ecr: destinations are emitted when a tar path is set, even with no_push."""
        assert executor_argv(SCENARIOS["no_push_with_tar"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--no-push",
                "--tar-path=/out/.image.tar.build-push-ecr-<run>.tmp",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_expand_tag(self, tmp_path: Path) -> None:
        assert executor_argv(SCENARIOS["expand_tag"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2.3",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )

    def test_newer_executor(self, tmp_path: Path) -> None:
        """Flags of kaniko 1.25+/1.28+ (refused on an older executor before the run, see test_versions)."""
        assert executor_argv(SCENARIOS["newer_executor"], tmp_path) == snapshot(
            [
                "/kaniko/executor",
                "--dockerfile=Dockerfile",
                "--context=dir://.",
                "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                "--secret=id=npmrc,src=/ws/.npmrc",
                "--secret=id=token,env=NPM_TOKEN,type=env",
                "--secret=id=cert,src=/ws/cert.pem,type=file",
                "--annotation=org.opencontainers.image.vendor=acme",
                "--annotation=team=core",
                "--image-format=oci",
                "--credential-helpers=env",
                "--credential-helpers=ecr",
                "--materialize",
                "--pre-cleanup",
                "--preserve-context",
                "--digest-file=/kaniko/build-push-ecr-<run>/digest",
            ]
        )


class TestKanikoFlagCoverage:
    """Every kaniko flag the plugin can emit appears in a snapshot, and kaniko knows every one of them."""

    def test_every_kaniko_flag_appears_in_some_scenario(self, tmp_path: Path) -> None:
        markers = {
            f.name
            for info in Settings.model_fields.values()
            for f in field_flags(info)
            if f.builders & KANIKO
        }
        seen = {flag_name(a) for env in SCENARIOS.values() for a in executor_argv(env, tmp_path)[1:]}
        assert (markers | HAND_WRITTEN) - seen == set()

    def test_every_flag_of_a_full_plan_is_in_builder_flags_md(self, tmp_path: Path) -> None:
        """A plan with every kaniko variable set uses only flags of the executor's --help."""
        everything = {k: v for env in SCENARIOS.values() for k, v in env.items() if k != "PLUGIN_NO_PUSH"}
        used = {flag_name(a) for a in executor_argv(everything, tmp_path)[1:]}
        assert len(used) > 40
        assert used - kaniko_table_flags() == set()

    def test_kaniko_table_is_parsed(self) -> None:
        table = kaniko_table_flags()
        assert {"--destination", "--cache-ttl", "--verbosity"} <= table
        assert "--tag" not in table  # a buildx flag, from the next table


class TestDigestFilesInThePlan:
    """kaniko writes the digest files the user names in its run directory; the plan says where they go."""

    def test_output_files_map_the_users_paths_to_the_run_dir(self, tmp_path: Path) -> None:
        env = {
            **BASE,
            "PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE": "/out/name-digest",
            "PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE": "/out/name-tag-digest",
        }
        doc = plan_document(resolve(load_settings(env), tmp_path))
        assert doc["executor"]["output_files"] == {
            "/out/name-digest": "/kaniko/build-push-ecr-<run>/image-name-with-digest",
            "/out/name-tag-digest": "/kaniko/build-push-ecr-<run>/image-name-tag-with-digest",
        }
        argv = doc["steps"][0]["argv"]
        assert "--image-name-with-digest-file=/kaniko/build-push-ecr-<run>/image-name-with-digest" in argv

    def test_none_without_them(self, tmp_path: Path) -> None:
        assert "output_files" not in plan_document(resolve(load_settings(BASE), tmp_path))["executor"]

"""The buildx builder's plan (dockerd, builder create, one buildx build, tarball, rm) per scenario."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inline_snapshot import snapshot

from plugin.builders.buildx import BuildxRun, buildx_plan, buildx_warnings
from plugin.builders.docker import daemon_options
from plugin.config.load import load_settings
from plugin.core.errors import BuildError, ConfigError
from plugin.core.log import REDACTOR
from plugin.exec.runner import Runner
from plugin.exec.steps import Step
from plugin.run.build import _run_buildx_steps
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve
from tests.support.reference import reference_file

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BASE = {
    "PLUGIN_BUILDER": "buildx",
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0",
}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RUN = BuildxRun("/run/cfg", "/run/ssh/id_key", "/run/metadata.json", "bpe-run")
# `docker buildx create` / `rm` flags (builder-flags.md has only the `buildx build` table).
CREATE_FLAGS = {"--use", "--name", "--driver", "--driver-opt", "--buildkitd-config", "--buildkitd-flags"}

S3_CACHE = (
    "type=s3,region=us-east-1,bucket=cache,"
    "access_key_id=harness_placeholder_aws_creds,secret_access_key=harness_placeholder_aws_creds"
)
SCENARIOS: dict[str, dict[str, str]] = {
    "build_settings": {
        "PLUGIN_DOCKERFILE": "build/Dockerfile",
        "PLUGIN_CONTEXT": "src",
        "PLUGIN_BUILD_ARGS": "A=1",
        "PLUGIN_CUSTOM_LABELS": "team=core",
        "PLUGIN_LABEL_SCHEMA": "vendor=acme",
        "PLUGIN_TARGET": "runtime",
        "PLUGIN_NETWORK": "host",
        "PLUGIN_ADD_HOST": "db:10.0.0.5",
        "PLUGIN_QUIET": "true",
        "PLUGIN_NO_CACHE": "true",
        "PLUGIN_PULL_IMAGE": "false",
        "PLUGIN_SECRET": "id=npmrc,src=/ws/.npmrc",
        "PLUGIN_SECRETS_FROM_ENV": "token=NPM_TOKEN",
        "PLUGIN_SECRETS_FROM_FILE": "cert=/ws/cert.pem",
        "PLUGIN_SSH_AGENT_KEY": "-----BEGIN KEY-----\nSENTINELSSHKEYMATERIAL\n-----END KEY-----",
        "PLUGIN_BUILDX_OPTIONS_SEMICOLON": "--provenance=false; --sbom=false",
    },
    "multi_platform": {"PLUGIN_PLATFORM": "linux/amd64,linux/arm64", "PLUGIN_TAGS": "1.0,latest"},
    "caches": {
        "PLUGIN_CACHE_FROM": f"{S3_CACHE};type=gcs,bucket=g,gcp_json_key=harness_placeholder_gcp_creds",
        "PLUGIN_CACHE_TO": f"{S3_CACHE},mode=max;"
        "type=azblob,name=c,secret_access_key=harness_placeholder_azure_creds",
        "PLUGIN_HARNESS_SELF_HOSTED_S3_ACCESS_KEY": "AKIASENTINEL",
        "PLUGIN_HARNESS_SELF_HOSTED_S3_SECRET_KEY": "s3-secret-sentinel",
        "PLUGIN_HARNESS_SELF_HOSTED_GCP_JSON_KEY": '{"private_key":"gcp-sentinel"}',
        "PLUGIN_HARNESS_SELF_HOSTED_AZURE_ACCOUNT_KEY": "azure-sentinel",
        "PLUGIN_PATH_STYLE": "true",
        "PLUGIN_CACHE_TLS_INSECURE": "true",
    },
    "driver": {
        "PLUGIN_BUILDER_DRIVER": "docker-container",
        "PLUGIN_BUILDER_NAME": "ci-builder",
        "PLUGIN_BUILDER_CONFIG": "/ws/buildkitd.toml",
        "PLUGIN_BUILDER_DRIVER_OPTS_NEW": "image=old/buildkit;network=host;memory=2g",
        "PLUGIN_BUILDER_DRIVER_OPTS": "network=host",
        "PLUGIN_BUILDKIT_VERSION": "mirror.example/moby/buildkit:v0.13.2",
        "PLUGIN_BUILDKIT_TLS_HANDSHAKE_TIMEOUT": "30s",
        "PLUGIN_BUILDKIT_RESPONSE_HEADER_TIMEOUT": "60s",
        "https_proxy": "http://proxy:3128",
    },
    "tar_with_format": {
        "PLUGIN_NO_PUSH": "true",
        "PLUGIN_TAR_PATH": "/out/image.tar",
        "PLUGIN_BUILDX_OUTPUT_FORMAT": "oci",
    },
}


@pytest.fixture(autouse=True)
def _fresh_redactor() -> Iterator[None]:
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def plan_steps(extra: dict[str, str], workdir: Path) -> list[tuple[str, list[str]]]:
    """(name, redacted argv) of each step for BASE plus ``extra``, the run's paths pinned."""
    resolved = resolve(load_settings({**BASE, **extra}), workdir)
    daemon = daemon_options(resolved.settings, resolved.target, "/run/dockerd")
    plan = buildx_plan(
        resolved.settings, resolved.ctx, resolved.target, resolved.loaded.env, run=RUN, daemon=daemon, now=NOW
    )
    assert plan.builder == "buildx"
    return [(s.name, [REDACTOR.text(a) for a in s.argv]) for s in plan.steps]


def steps(extra: dict[str, str], workdir: Path) -> list[list[str]]:
    """The argv of every step after dockerd."""
    return [argv for name, argv in plan_steps(extra, workdir) if name != "dockerd"]


def build(extra: dict[str, str], workdir: Path) -> list[str]:
    [argv] = [argv for name, argv in plan_steps(extra, workdir) if name == "build"]
    return argv


def buildx_table_flags() -> set[str]:
    """The flag column of builder-flags.md's `docker buildx build` table."""
    text = reference_file("builder-flags.md").read_text(encoding="utf-8")
    section = text.split("## docker buildx build", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| (--[a-zA-Z-]+) ", section, flags=re.M))


def used_flags(plan: list[tuple[str, list[str]]]) -> tuple[set[str], set[str]]:
    """Flags of the `buildx build` steps, and of the `buildx create` steps."""
    builds, creates = set(), set()
    for _, argv in plan:
        flags = {a.split("=", 1)[0] for a in argv if a.startswith("--")}
        if argv[:3] == ["docker", "buildx", "build"]:
            builds |= flags
        elif argv[:3] == ["docker", "buildx", "create"]:
            creates |= flags
    return builds, creates


class TestBuildxPlan:
    """Each buildx-ecr variable (anchor-env.md A3) lands on the one `docker buildx build`."""

    def test_defaults(self, tmp_path: Path) -> None:
        """dockerd, then one build that pushes (no builder to create on the docker driver)."""
        assert plan_steps({}, tmp_path)[0][0] == "dockerd"
        assert steps({}, tmp_path) == snapshot(
            [
                [
                    "docker",
                    "buildx",
                    "build",
                    "--file=Dockerfile",
                    "--tag=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                    "--push",
                    "--metadata-file=/run/metadata.json",
                    "--pull",
                    "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                    "--label=org.opencontainers.image.revision=00000000",
                    ".",
                ]
            ]
        )

    def test_build_settings(self, tmp_path: Path) -> None:
        """Dockerfile, context, args, labels, target, network, hosts, secrets, ssh, extra options."""
        argv = build(SCENARIOS["build_settings"], tmp_path)
        assert argv == snapshot(
            [
                "docker",
                "buildx",
                "build",
                "--file=build/Dockerfile",
                "--tag=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                "--push",
                "--metadata-file=/run/metadata.json",
                "--provenance=false",
                "--sbom=false",
                "--target=runtime",
                "--no-cache",
                "--add-host=db:10.0.0.5",
                "--network=host",
                "--quiet",
                "--build-arg=A=1",
                "--secret=id=npmrc,src=/ws/.npmrc",
                "--secret=id=token,env=NPM_TOKEN",
                "--secret=id=cert,src=/ws/cert.pem",
                "--ssh=default=/run/ssh/id_key",
                "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                "--label=org.opencontainers.image.revision=00000000",
                "--label=org.opencontainers.image.vendor=acme",
                "--label=team=core",
                "src",
            ]
        )
        assert not any("SENTINELSSHKEYMATERIAL" in a for a in argv)

    def test_multi_platform_on_a_container_builder(self, tmp_path: Path) -> None:
        """The engine's docker driver cannot build a platform list: with a driver it gets a builder."""
        extra = {**SCENARIOS["multi_platform"], "PLUGIN_BUILDER_DRIVER": "docker-container"}
        assert "--platform=linux/amd64,linux/arm64" in build(extra, tmp_path)
        assert "--builder=bpe-run" in build(extra, tmp_path)

    def test_multi_platform_pushes_every_tag_in_one_build(self, tmp_path: Path) -> None:
        """--platform takes the comma list as buildx does; BuildKit pushes, so there is no tag/push step."""
        assert steps(SCENARIOS["multi_platform"], tmp_path) == snapshot(
            [
                [
                    "docker",
                    "buildx",
                    "build",
                    "--file=Dockerfile",
                    "--tag=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                    "--tag=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                    "--push",
                    "--metadata-file=/run/metadata.json",
                    "--platform=linux/amd64,linux/arm64",
                    "--pull",
                    "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                    "--label=org.opencontainers.image.revision=00000000",
                    ".",
                ]
            ]
        )

    def test_cache_placeholders_are_filled_and_masked(self, tmp_path: Path) -> None:
        """Harness placeholders get the PLUGIN_HARNESS_SELF_HOSTED_* values, shown as ***; cache-to
        makes a docker-container builder (the docker driver cannot export a cache)."""
        assert steps(SCENARIOS["caches"], tmp_path) == snapshot(
            [
                ["docker", "buildx", "create", "--use", "--name=bpe-run", "--driver=docker-container"],
                [
                    "docker",
                    "buildx",
                    "build",
                    "--file=Dockerfile",
                    "--builder=bpe-run",
                    "--tag=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                    "--push",
                    "--metadata-file=/run/metadata.json",
                    "--pull",
                    "--cache-from=type=s3,region=us-east-1,bucket=cache,access_key_id=***,secret_access_key=***,use_path_style=true,tls_insecure_skip_verify=true",
                    "--cache-from=type=gcs,bucket=g,gcp_json_key=***,tls_insecure_skip_verify=true",
                    "--cache-to=type=s3,region=us-east-1,bucket=cache,access_key_id=***,secret_access_key=***,mode=max,use_path_style=true,tls_insecure_skip_verify=true",
                    "--cache-to=type=azblob,name=c,secret_access_key=***,tls_insecure_skip_verify=true",
                    "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                    "--label=org.opencontainers.image.revision=00000000",
                    ".",
                ],
                ["docker", "buildx", "rm", "bpe-run"],
            ]
        )

    def test_cache_secret_values_reach_argv_and_the_redactor(self, tmp_path: Path) -> None:
        """buildx reads cache credentials only from argv: the raw values are there, and all are masked."""
        resolved = resolve(load_settings({**BASE, **SCENARIOS["caches"]}), tmp_path)
        plan = buildx_plan(resolved.settings, resolved.ctx, resolved.target, {}, run=RUN, now=NOW)
        raw = " ".join(next(s for s in plan.steps if s.name == "build").argv)
        gcp_b64 = "eyJwcml2YXRlX2tleSI6ImdjcC1zZW50aW5lbCJ9"
        for value in ("AKIASENTINEL", "s3-secret-sentinel", gcp_b64, "azure-sentinel"):
            assert value in raw
            assert value in REDACTOR.secrets
        assert "sentinel" not in " ".join(s.display for s in plan.steps)

    def test_unfilled_placeholders_are_dropped(self, tmp_path: Path) -> None:
        """Without a value the placeholder pair is removed (the anchor's GCP rule, for every kind)."""
        extra = {"PLUGIN_CACHE_FROM": "type=gcs,bucket=g,gcp_json_key=harness_placeholder_gcp_creds,prefix=p"}
        assert "--cache-from=type=gcs,bucket=g,prefix=p" in build(extra, tmp_path)

    def test_inline_cache_to_stays_on_the_docker_driver(self, tmp_path: Path) -> None:
        argv = build({"PLUGIN_CACHE_TO": "type=inline"}, tmp_path)
        assert "--cache-to=type=inline" in argv
        assert not any(a.startswith("--builder") for a in argv)

    def test_driver_creates_and_removes_a_builder(self, tmp_path: Path) -> None:
        """A driver other than docker: create --use (_NEW options, then the _OPTS fallback), rm at the end."""
        assert [(n, a) for n, a in plan_steps(SCENARIOS["driver"], tmp_path) if n != "build"][1:] == snapshot(
            [
                (
                    "builder",
                    [
                        "docker",
                        "buildx",
                        "create",
                        "--use",
                        "--name=ci-builder",
                        "--driver=docker-container",
                        "--driver-opt=network=host",
                        "--driver-opt=memory=2g",
                        "--driver-opt=image=mirror.example/moby/buildkit:v0.13.2",
                        "--driver-opt=env.https_proxy=http://proxy:3128",
                        "--buildkitd-config=/ws/buildkitd.toml",
                        "--buildkitd-flags=--tls-handshake-timeout=30s --response-header-timeout=60s",
                    ],
                ),
                (
                    "builder-fallback",
                    [
                        "docker",
                        "buildx",
                        "create",
                        "--use",
                        "--name=ci-builder",
                        "--driver=docker-container",
                        "--driver-opt=network=host",
                        "--driver-opt=image=mirror.example/moby/buildkit:v0.13.2",
                        "--driver-opt=env.https_proxy=http://proxy:3128",
                        "--buildkitd-config=/ws/buildkitd.toml",
                        "--buildkitd-flags=--tls-handshake-timeout=30s --response-header-timeout=60s",
                    ],
                ),
                ("builder-rm", ["docker", "buildx", "rm", "ci-builder"]),
            ]
        )
        assert "--builder=ci-builder" in build(SCENARIOS["driver"], tmp_path)

    def test_remote_driver_takes_the_endpoint(self, tmp_path: Path) -> None:
        extra = {"PLUGIN_BUILDER_DRIVER": "remote", "PLUGIN_BUILDER_REMOTE_CONN": "tcp://buildkitd:1234"}
        assert steps(extra, tmp_path)[0] == snapshot(
            [
                "docker",
                "buildx",
                "create",
                "--use",
                "--name=bpe-run",
                "--driver=remote",
                "tcp://buildkitd:1234",
            ]
        )

    def test_no_push_builds_only(self, tmp_path: Path) -> None:
        """PLUGIN_NO_PUSH alone: the result stays in the build cache, nothing is loaded."""
        argv = build({"PLUGIN_NO_PUSH": "true"}, tmp_path)
        assert not {"--push", "--load"} & set(argv)
        assert not any(a.startswith("--output") for a in argv)

    def test_no_push_with_load(self, tmp_path: Path) -> None:
        assert "--load" in build({"PLUGIN_NO_PUSH": "true", "PLUGIN_BUILDX_LOAD": "true"}, tmp_path)

    def test_no_push_with_tar_loads_and_saves(self, tmp_path: Path) -> None:
        """As the anchor: --load, then docker save of every destination."""
        assert steps({"PLUGIN_DRY_RUN": "true", "PLUGIN_TAR_PATH": "/out/image.tar"}, tmp_path) == snapshot(
            [
                [
                    "docker",
                    "buildx",
                    "build",
                    "--file=Dockerfile",
                    "--tag=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                    "--load",
                    "--metadata-file=/run/metadata.json",
                    "--pull",
                    "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                    "--label=org.opencontainers.image.revision=00000000",
                    ".",
                ],
                [
                    "docker",
                    "save",
                    "--output=/out/image.tar",
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                ],
            ]
        )

    def test_no_push_with_tar_and_format_exports_directly(self, tmp_path: Path) -> None:
        argv_lists = steps(SCENARIOS["tar_with_format"], tmp_path)
        assert len(argv_lists) == 1
        assert "--output=type=oci,dest=/out/image.tar" in argv_lists[0]

    def test_push_with_tar_saves_after_the_push(self, tmp_path: Path) -> None:
        """On the docker driver the pushed image is in the engine too: docker save writes the tarball."""
        names = [n for n, _ in plan_steps({"PLUGIN_TAR_PATH": "/out/image.tar"}, tmp_path)]
        assert names == ["dockerd", "build", "save"]

    def test_push_with_tar_on_a_container_builder_exports(self, tmp_path: Path) -> None:
        """A container builder keeps nothing in the engine: a second (cached) build exports the tarball."""
        extra = {"PLUGIN_TAR_PATH": "/out/image.tar", "PLUGIN_BUILDER_DRIVER": "docker-container"}
        plan = plan_steps(extra, tmp_path)
        assert [n for n, _ in plan] == ["dockerd", "builder", "build", "export", "builder-rm"]
        export = dict(plan)["export"]
        assert "--output=type=docker,dest=/out/image.tar" in export
        assert "--push" not in export

    def test_daemon_off_starts_nothing(self, tmp_path: Path) -> None:
        """PLUGIN_DAEMON_OFF: no dockerd step, and no DOCKER_HOST of ours in the steps' env."""
        resolved = resolve(load_settings({**BASE, "PLUGIN_DAEMON_OFF": "true"}), tmp_path)
        plan = buildx_plan(resolved.settings, resolved.ctx, resolved.target, {}, run=RUN, now=NOW)
        assert [s.name for s in plan.steps] == ["build"]
        assert "DOCKER_HOST" not in plan.steps[0].env
        assert plan.steps[0].env == {"DOCKER_CONFIG": "/run/cfg", "BUILDKIT_PROGRESS": "plain"}

    def test_push_only_loads_tags_and_pushes(self, tmp_path: Path) -> None:
        """PLUGIN_PUSH_ONLY: nothing to build; the docker builder's load, tag and push."""
        extra = {"PLUGIN_PUSH_ONLY": "1", "PLUGIN_SOURCE_TAR_PATH": "/in/image.tar", "PLUGIN_DAEMON_OFF": "1"}
        assert [n for n, _ in plan_steps(extra, tmp_path)] == ["load", "tag", "push"]

    def test_extra_registries_are_tagged_in_the_same_build(self, tmp_path: Path) -> None:
        west = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
        tags = [a for a in build({"PLUGIN_EXTRA_REGISTRIES": west}, tmp_path) if a.startswith("--tag")]
        assert tags == [f"--tag={REGISTRY}/team/app:1.0", f"--tag={west}/team/app:1.0"]

    def test_plan_command_prints_the_buildx_steps(self, tmp_path: Path) -> None:
        """`python -m plugin plan` with PLUGIN_BUILDER=buildx (no longer refused)."""
        document = plan_document(resolve(load_settings(BASE), tmp_path))
        assert document["builder"] == "buildx"
        assert [s["name"] for s in document["steps"]] == ["dockerd", "build"]


class TestBuildxRefusals:
    """What the buildx builder cannot do honestly is refused, every variable named at once."""

    def test_refused_settings(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_BAKE_FILE": "docker-bake.hcl",
            "PLUGIN_BAKE_OPTIONS": "app;--set=*.platform=linux/arm64",
            "PLUGIN_BUILDKIT_INHERIT_AUTH": "true",
            "PLUGIN_BUILDX_OUTPUT_FORMAT": "zip",
            "PLUGIN_BUILDER_DRIVER": "remote",
        }
        with pytest.raises(ConfigError) as caught:
            resolve(load_settings({**BASE, **extra}), tmp_path)
        assert [p.render() for p in caught.value.problems] == snapshot(
            [
                "PLUGIN_BAKE_FILE='docker-bake.hcl': not supported: see docs/buildx.md",
                "PLUGIN_BAKE_OPTIONS='app;--set=*.platform=linux/arm64': not supported: see docs/buildx.md",
                "PLUGIN_BUILDKIT_INHERIT_AUTH='true': not supported: it would put AWS credentials on the "
                "buildx command line (see docs/buildx.md)",
                "PLUGIN_BUILDX_OUTPUT_FORMAT='zip': one of docker, oci, tar",
                "PLUGIN_BUILDER_REMOTE_CONN: the BuildKit endpoint (required with driver remote)",
            ]
        )

    def test_other_builders_ignore_buildx_settings(self, tmp_path: Path) -> None:
        """The refusals are the buildx builder's: PLUGIN_BAKE_FILE does not stop a docker build."""
        env = {**BASE, "PLUGIN_BUILDER": "docker", "PLUGIN_BAKE_FILE": "x"}
        resolved = resolve(load_settings(env), tmp_path)
        assert resolved.builder == "docker"


class TestBuildxWarnings:
    """Settings that do nothing here are named in a warning, never silently dropped."""

    def test_unused_settings_are_named(self) -> None:
        from plugin.builders.buildx import buildx_warnings  # noqa: PLC0415

        env = {
            **BASE,
            "PLUGIN_CACHE_METRICS_FILE": "/out/metrics.json",
            "PLUGIN_USE_LOADED_BUILDKIT": "true",
            "PLUGIN_BUILDKIT_ASSETS_DIR": "/buildkit",
            "PLUGIN_BUILDKIT_VERSION": "moby/buildkit:v0.13.2",
            "PLUGIN_BUILDER_CONFIG": "/ws/buildkitd.toml",
            "PLUGIN_BUILDER_REMOTE_CONN": "tcp://x:1",
            "PLUGIN_SQUASH": "true",
            "PLUGIN_COMPRESS": "true",
            "PLUGIN_BUILDX_LOAD": "true",
            "PLUGIN_BUILDX_OUTPUT_FORMAT": "oci",
            "PLUGIN_PLATFORM": "linux/amd64,linux/arm64",
        }
        loaded = load_settings(env)
        assert [f["variable"] for _, f in buildx_warnings(loaded.settings, loaded.env)] == snapshot(
            [
                "PLUGIN_BUILDER_CONFIG",
                "PLUGIN_BUILDKIT_VERSION",
                "PLUGIN_BUILDER_REMOTE_CONN",
                "PLUGIN_BUILDKIT_ASSETS_DIR",
                "PLUGIN_SQUASH",
                "PLUGIN_COMPRESS",
                "PLUGIN_BUILDX_LOAD",
                "PLUGIN_BUILDX_OUTPUT_FORMAT",
                "PLUGIN_PLATFORM",
            ]
        )

    def test_defaults_warn_about_nothing(self) -> None:
        from plugin.builders.buildx import buildx_warnings  # noqa: PLC0415

        loaded = load_settings(BASE)
        assert buildx_warnings(loaded.settings, loaded.env) == []


EVERY_VARIABLE = {k: v for env in SCENARIOS.values() for k, v in env.items() if k != "PLUGIN_NO_PUSH"}


class TestBuildxFlagsExist:
    """Every flag a buildx plan emits is in builder-flags.md's buildx table (create: its own short list)."""

    def test_a_full_plan_uses_only_real_flags(self, tmp_path: Path) -> None:
        builds, creates = used_flags(plan_steps(EVERY_VARIABLE, tmp_path))
        assert len(builds) > 15
        assert builds - buildx_table_flags() == set()
        assert creates - CREATE_FLAGS == set()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        chosen=st.dictionaries(
            st.sampled_from([*sorted(EVERY_VARIABLE), "PLUGIN_NO_PUSH", "PLUGIN_BUILDX_LOAD"]),
            st.just("x"),
            max_size=10,
        )
    )
    def test_any_plan_uses_only_real_flags(self, chosen: dict[str, str], tmp_path: Path) -> None:
        """Any combination of the scenario variables: still only table flags."""
        extra = {k: EVERY_VARIABLE.get(k, "true") for k in chosen}
        builds, creates = used_flags(plan_steps(extra, tmp_path))
        assert builds - buildx_table_flags() == set()
        assert creates - CREATE_FLAGS == set()


def sh(name: str, script: str, *extra: str, allow_failure: bool = False) -> Step:
    """A tiny real child: ``sh -c script`` (``extra`` become $0... so a step can carry --push)."""
    return Step(name, ("sh", "-c", script, *extra), allow_failure=allow_failure)


class TestBuildxRunLoop:
    """run_buildx's step loop, with tiny real children."""

    def test_a_failing_create_falls_back_to_the_old_driver_options(self, tmp_path: Path) -> None:
        marker = tmp_path / "fallback-ran"
        steps = [
            sh("builder", "exit 1", allow_failure=True),
            sh("builder-fallback", f"touch {marker}"),
            sh("build", "exit 0"),
        ]
        _run_buildx_steps(steps, Runner(io.StringIO()), 0)
        assert marker.exists()

    def test_a_working_create_skips_the_fallback(self, tmp_path: Path) -> None:
        marker = tmp_path / "fallback-ran"
        steps = [sh("builder", "exit 0"), sh("builder-fallback", f"touch {marker}"), sh("build", "exit 0")]
        _run_buildx_steps(steps, Runner(io.StringIO()), 0)
        assert not marker.exists()

    def test_a_transient_push_failure_reruns_the_build(self, tmp_path: Path) -> None:
        """The first attempt fails pushing with a 503; the whole build runs again and succeeds."""
        count = tmp_path / "count"
        script = (
            f"echo x >> {count}; [ $(wc -l < {count}) -ge 2 ] && exit 0; "
            "echo 'ERROR: failed to push r/app:1: 503 Service Unavailable'; exit 1"
        )
        _run_buildx_steps([sh("build", script, "--push")], Runner(io.StringIO()), 2)
        assert len(count.read_text().splitlines()) == 2

    def test_a_failing_run_step_is_not_retried(self, tmp_path: Path) -> None:
        """'timeout' printed by a RUN step is no registry hiccup: one attempt, the builder's status."""
        count = tmp_path / "count"
        script = f"echo x >> {count}; echo 'RUN ./test.sh: timeout after 3s'; exit 7"
        with pytest.raises(BuildError) as caught:
            _run_buildx_steps([sh("build", script, "--push")], Runner(io.StringIO()), 3)
        assert caught.value.exit_code == 7
        assert len(count.read_text().splitlines()) == 1


class TestContainerBuilder:
    """What a created builder is given: its image (PLUGIN_BUILDKIT_VERSION, image=, a loaded tarball),
    its buildkitd.toml, quoted proxies."""

    def assets(self, root: Path) -> Path:
        (root / "buildkit.tar").write_bytes(b"tar")
        (root / "version.json").write_text('{"buildkit_version": "harness/buildkit:1.0.18"}')
        return root

    def test_a_loaded_buildkit_tarball_is_loaded_first_and_is_the_image(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_BUILDER_DRIVER": "docker-container",
            "PLUGIN_BUILDKIT_ASSETS_DIR": str(self.assets(tmp_path)),
        }
        plan = plan_steps(extra, tmp_path)
        assert [n for n, _ in plan] == ["dockerd", "buildkit-load", "builder", "build", "builder-rm"]
        assert dict(plan)["buildkit-load"] == ["docker", "load", f"--input={tmp_path / 'buildkit.tar'}"]
        assert "--driver-opt=image=harness/buildkit:1.0.18" in dict(plan)["builder"]

    def test_an_explicit_image_wins_over_the_loaded_one(self, tmp_path: Path) -> None:
        assets = str(self.assets(tmp_path))
        for extra, image in (
            ({"PLUGIN_BUILDER_DRIVER_OPTS": "image=own/buildkit:1"}, "own/buildkit:1"),
            ({"PLUGIN_BUILDKIT_VERSION": "pinned/buildkit:2"}, "pinned/buildkit:2"),
        ):
            env = {"PLUGIN_BUILDER_DRIVER": "docker-container", "PLUGIN_BUILDKIT_ASSETS_DIR": assets, **extra}
            create = dict(plan_steps(env, tmp_path))["builder"]
            assert [a for a in create if a.startswith("--driver-opt=image=")] == [
                f"--driver-opt=image={image}"
            ]

    def test_a_remote_builder_loads_nothing(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_BUILDER_DRIVER": "remote",
            "PLUGIN_BUILDER_REMOTE_CONN": "tcp://bk:1234",
            "PLUGIN_BUILDKIT_ASSETS_DIR": str(self.assets(tmp_path)),
        }
        assert "buildkit-load" not in dict(plan_steps(extra, tmp_path))

    def test_proxies_with_commas_are_quoted_for_buildx_csv_parser(self, tmp_path: Path) -> None:
        """buildx splits each --driver-opt on commas unless quoted: no_proxy lists broke the create."""
        extra = {
            "PLUGIN_BUILDER_DRIVER": "docker-container",
            "NO_PROXY": "127.0.0.1,localhost",
            "HTTP_PROXY": "http://p:3128",
        }
        create = dict(plan_steps(extra, tmp_path))["builder"]
        assert '--driver-opt="env.no_proxy=127.0.0.1,localhost"' in create
        assert "--driver-opt=env.http_proxy=http://p:3128" in create

    def test_generated_buildkitd_config_replaces_the_users_path(self, tmp_path: Path) -> None:
        """Insecure registries or mirrors: the run's own buildkitd.toml (the user's file merged in)."""
        extra = {"PLUGIN_BUILDER_DRIVER": "docker-container", "PLUGIN_BUILDER_CONFIG": "/ws/bk.toml"}
        assert "--buildkitd-config=/ws/bk.toml" in dict(plan_steps(extra, tmp_path))["builder"]
        extra["PLUGIN_MIRROR"] = "https://mirror.gcr.io"
        assert f"--buildkitd-config={RUN.buildkitd_config}" in dict(plan_steps(extra, tmp_path))["builder"]


class TestEcrRegistryCache:
    """PLUGIN_ENABLE_CACHE with buildx: a registry cache in <repo>-cache (or PLUGIN_CACHE_REPO), in ECR's
    form."""

    def test_cache_from_and_to_in_the_cache_repository(self, tmp_path: Path) -> None:
        plan = plan_steps({"PLUGIN_ENABLE_CACHE": "true"}, tmp_path)
        assert [n for n, _ in plan] == ["dockerd", "builder", "build", "builder-rm"]  # export needs a builder
        ref = f"{REGISTRY}/team/app-cache:buildcache"
        caches = [a for a in dict(plan)["build"] if a.startswith("--cache")]
        assert caches == [
            f"--cache-from=type=registry,ref={ref}",
            f"--cache-to=type=registry,ref={ref},mode=max,image-manifest=true,oci-mediatypes=true",
        ]

    def test_cache_repo_setting_and_the_users_specs_come_after(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_ENABLE_CACHE": "true",
            "PLUGIN_CACHE_REPO": f"{REGISTRY}/shared/cache",
            "PLUGIN_CACHE_FROM": "type=local,src=/cache",
        }
        caches = [a for a in build(extra, tmp_path) if a.startswith("--cache-from")]
        assert caches == [
            f"--cache-from=type=registry,ref={REGISTRY}/shared/cache:buildcache",
            "--cache-from=type=local,src=/cache",
        ]

    def test_no_registry_cache_without_a_push(self, tmp_path: Path) -> None:
        """Without a push there is no ECR login: no cache flags, and a warning names the variable."""
        argv = build({"PLUGIN_ENABLE_CACHE": "true", "PLUGIN_NO_PUSH": "true"}, tmp_path)
        assert not any(a.startswith("--cache") for a in argv)
        loaded = load_settings({**BASE, "PLUGIN_ENABLE_CACHE": "true", "PLUGIN_NO_PUSH": "true"})
        assert "PLUGIN_ENABLE_CACHE" in [
            f["variable"] for _, f in buildx_warnings(loaded.settings, loaded.env)
        ]

    def test_a_users_registry_cache_export_to_ecr_gets_ecr_attributes(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_CACHE_TO": f"type=registry,ref={REGISTRY}/team/c:main,mode=max;"
            f"type=registry,ref={REGISTRY}/team/d:x,image-manifest=false;type=registry,ref=ghcr.io/o/c:1"
        }
        caches = [a for a in build(extra, tmp_path) if a.startswith("--cache-to")]
        assert caches == [
            f"--cache-to=type=registry,ref={REGISTRY}/team/c:main,mode=max,image-manifest=true,oci-mediatypes=true",
            f"--cache-to=type=registry,ref={REGISTRY}/team/d:x,image-manifest=false,oci-mediatypes=true",
            "--cache-to=type=registry,ref=ghcr.io/o/c:1",
        ]

    def test_cache_repositories_are_created_like_the_main_one(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_CREATE_REPOSITORY": "true",
            "PLUGIN_ENABLE_CACHE": "true",
            "PLUGIN_CACHE_TO": f"type=registry,ref={REGISTRY}/team/branch-cache:main;type=local,dest=/c",
        }
        document = plan_document(resolve(load_settings({**BASE, **extra}), tmp_path))
        created = [a for a in document["ecr"][0]["actions"] if "create" in json.dumps(a).lower()]
        text = json.dumps(created)
        assert "team/app-cache" in text and "team/branch-cache" in text


class TestAttestationsAndSingleManifest:
    def test_provenance_modes_and_sbom(self, tmp_path: Path) -> None:
        driver = {"PLUGIN_BUILDER_DRIVER": "docker-container"}
        for value, flag in (
            ("max", "mode=max"),
            ("MIN", "mode=min"),
            ("false", "false"),
            ("mode=max,version=v1", "mode=max,version=v1"),
        ):
            assert f"--provenance={flag}" in build({**driver, "PLUGIN_PROVENANCE": value}, tmp_path)
        assert "--sbom=true" in build({**driver, "PLUGIN_SBOM": "true"}, tmp_path)
        generator = {**driver, "PLUGIN_SBOM": "true", "PLUGIN_SBOM_GENERATOR": f"{REGISTRY}/tools/syft:1"}
        assert f"--sbom=generator={REGISTRY}/tools/syft:1" in build(generator, tmp_path)

    def test_single_manifest_pushes_docker_media_types_without_attestations(self, tmp_path: Path) -> None:
        argv = build({"PLUGIN_SINGLE_MANIFEST": "true"}, tmp_path)
        assert "--output=type=image,push=true,oci-mediatypes=false" in argv
        assert "--push" not in argv
        assert {"--provenance=false", "--sbom=false"} <= set(argv)

    def test_refusals(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_BUILDER_DRIVER": "docker-container",
            "PLUGIN_SINGLE_MANIFEST": "true",
            "PLUGIN_PLATFORM": "linux/amd64,linux/arm64",
            "PLUGIN_PROVENANCE": "max",
            "PLUGIN_SBOM": "true",
            "PLUGIN_BUILDX_OPTIONS": "--attest=type=provenance,--sbom=false",
        }
        with pytest.raises(ConfigError) as caught:
            resolve(load_settings({**BASE, **extra}), tmp_path)
        assert [p.render() for p in caught.value.problems] == snapshot(
            [
                "PLUGIN_PLATFORM='linux/amd64,linux/arm64': one platform with PLUGIN_SINGLE_MANIFEST",
                "PLUGIN_PROVENANCE='max': false or unset with PLUGIN_SINGLE_MANIFEST",
                "PLUGIN_SBOM='true': false or unset with PLUGIN_SINGLE_MANIFEST",
                "PLUGIN_BUILDX_OPTIONS='--attest=type=provenance': none of --attest, --provenance, --sbom, "
                "--output (-o), --push, --platform with PLUGIN_SINGLE_MANIFEST",
            ]
        )

    @pytest.mark.parametrize(
        ("variable", "value", "shown"),
        [
            (
                "PLUGIN_BUILDX_OPTIONS_SEMICOLON",
                "--no-cache;--output=type=registry",
                "--output=type=registry",
            ),
            (
                "PLUGIN_BUILDX_OPTIONS_SEMICOLON",
                "--platform;linux/arm64;--push",
                "--platform linux/arm64 --push",
            ),
            ("PLUGIN_BUILDX_OPTIONS", "-otype=registry", "-otype=registry"),
            ("PLUGIN_BUILDX_OPTIONS", "-o=type=registry", "-o=type=registry"),
            ("PLUGIN_BUILDX_OPTIONS", "-o,type=registry", "-o type=registry"),
            ("PLUGIN_BUILDX_OPTIONS_SEMICOLON", "-o;type=image,push=true", "-o type=image,push=true"),
            ("PLUGIN_BUILDX_OPTIONS_SEMICOLON", "--sbom;true", "--sbom true"),
        ],
    )
    def test_single_manifest_options_are_named_by_their_variable(
        self, tmp_path: Path, variable: str, value: str, shown: str
    ) -> None:
        """Both option variables are checked, each refused under its own name; -o is --output."""
        env = {
            **BASE,
            "PLUGIN_BUILDER_DRIVER": "docker-container",
            "PLUGIN_SINGLE_MANIFEST": "true",
            variable: value,
        }
        with pytest.raises(ConfigError) as caught:
            resolve(load_settings(env), tmp_path)
        assert [p.render() for p in caught.value.problems] == [
            f"{variable}={shown!r}: none of --attest, --provenance, --sbom, --output (-o), --push, "
            "--platform with PLUGIN_SINGLE_MANIFEST"
        ]

    @pytest.mark.parametrize(
        "options", ["--sbom=false;--provenance=false", "--provenance;false;--sbom;false", "--no-cache;-q"]
    )
    def test_single_manifest_accepts_harmless_options(self, tmp_path: Path, options: str) -> None:
        env = {
            **BASE,
            "PLUGIN_BUILDER_DRIVER": "docker-container",
            "PLUGIN_SINGLE_MANIFEST": "true",
            "PLUGIN_BUILDX_OPTIONS_SEMICOLON": options,
        }
        assert resolve(load_settings(env), tmp_path).builder == "buildx"

    def test_docker_driver_cannot_attest(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            resolve(load_settings({**BASE, "PLUGIN_PROVENANCE": "max", "PLUGIN_SBOM": "1"}), tmp_path)
        assert [p.render() for p in caught.value.problems] == snapshot(
            [
                "PLUGIN_PROVENANCE='max': the docker driver cannot attach attestations: set "
                "PLUGIN_BUILDER_DRIVER=docker-container (or remote)",
                "PLUGIN_SBOM='true': the docker driver cannot attach attestations: set "
                "PLUGIN_BUILDER_DRIVER=docker-container (or remote)",
            ]
        )

    def test_bad_provenance_value(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_BUILDER_DRIVER": "docker-container",
            "PLUGIN_PROVENANCE": "maximum",
            "PLUGIN_SBOM_GENERATOR": "x",
        }
        with pytest.raises(ConfigError) as caught:
            resolve(load_settings({**BASE, **extra}), tmp_path)
        assert [p.render() for p in caught.value.problems] == snapshot(
            [
                "PLUGIN_PROVENANCE='maximum': false, true, min, max or a buildx spec (mode=max,...)",
                "PLUGIN_SBOM_GENERATOR='x': only with PLUGIN_SBOM=true",
            ]
        )

    @pytest.mark.parametrize("builder", ["docker", "kaniko"])
    def test_other_builders_refuse_attestations_by_name(self, tmp_path: Path, builder: str) -> None:
        env = {**BASE, "PLUGIN_BUILDER": builder, "PLUGIN_PROVENANCE": "max", "PLUGIN_SBOM": "true"}
        with pytest.raises(ConfigError) as caught:
            resolve(load_settings(env), tmp_path)
        assert [p.variable for p in caught.value.problems] == ["PLUGIN_PROVENANCE", "PLUGIN_SBOM"]
        assert f"the {builder} builder writes no attestations" in caught.value.problems[0].expected

    @pytest.mark.parametrize("builder", ["docker", "kaniko"])
    def test_other_builders_accept_a_single_manifest(self, tmp_path: Path, builder: str) -> None:
        """docker and kaniko always push one manifest: PLUGIN_SINGLE_MANIFEST asks nothing of them."""
        env = {
            **BASE,
            "PLUGIN_BUILDER": builder,
            "PLUGIN_SINGLE_MANIFEST": "true",
            "PLUGIN_PROVENANCE": "false",
        }
        assert resolve(load_settings(env), tmp_path).builder == builder


class TestBuildxRunLoopWithAnImageOutput:
    def test_a_single_manifest_push_is_retried_too_and_watched(self, tmp_path: Path) -> None:
        """PLUGIN_SINGLE_MANIFEST pushes through --output=type=image,push=true: still a push to retry."""
        count = tmp_path / "count"
        script = (
            f"echo x >> {count}; echo '#3 [1/1] COPY a /a'; echo '#3 CACHED';"
            f"[ $(wc -l < {count}) -ge 2 ] && exit 0; "
            "echo 'ERROR: failed to push r/app:1: 503 Service Unavailable'; exit 1"
        )
        seen: list[str] = []
        step = sh("build", script, "--output=type=image,push=true,oci-mediatypes=false")
        _run_buildx_steps([step], Runner(io.StringIO()), 2, seen.append)
        assert len(count.read_text().splitlines()) == 2
        assert seen.count("#3 CACHED\n") == 2

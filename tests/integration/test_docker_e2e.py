"""The docker builder end to end: ``python -m plugin`` as a process, its own dockerd, moto, a real registry.

The plugin gets its ECR token from moto over HTTP and pushes to Debian's docker-registry, whose htpasswd
accepts only that token. What it pushed is read back through the registry API; what it refused to do
is read from its exit status, its output, the file system and /proc.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.contexts import busybox_context
from tests.support.docker_workspace import Workspace, new_workspace, remove_workspace
from tests.support.faultproxy import Fault, fault_proxy
from tests.support.moto_server import MotoServer, put_image
from tests.support.plugin_run import (
    AWS_KEY_ID,
    AWS_SECRET,
    ROOT,
    LivePlugin,
    OciRegistry,
    PluginRun,
    base_env,
    ecr_client,
    run_plugin,
)
from tests.support.procs import LONG_SLEEP, dockerd_pids_for, pids_in_mount_namespace, processes_with_argv
from tests.support.registry_auth import docker_build_push
from tests.support.services import Registry, require
from tests.support.stack import free_port, running_registry

pytestmark = pytest.mark.integration

TAGS = ["1.0.0", "latest"]
BUILD_SECRET = "e2e-build-secret-sentinel-4711"
ECR_PASSWORD = "123456789012-auth-token"  # the token moto issues, and the only password the registry takes
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SLEEP_ARGV = ["/bin/busybox", "sleep", "67"]  # an odd duration, so /proc finds only this test's step


# -- fixtures ------------------------------------------------------------------------------------


def make_context(root: Path, dockerfile: str) -> Path:
    """A build context with a static busybox (no base image needed) and the given Dockerfile."""
    return busybox_context(root, dockerfile)


@pytest.fixture(scope="module")
def example_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dockerfile = (ROOT / "examples" / "app" / "Dockerfile").read_text()
    return make_context(tmp_path_factory.mktemp("app"), dockerfile)


@pytest.fixture(scope="module")
def sleeping_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = json.dumps(SLEEP_ARGV)
    return make_context(
        tmp_path_factory.mktemp("sleep"), f"FROM scratch\nCOPY busybox /bin/busybox\nRUN {run}\n"
    )


def app_env(
    moto: MotoServer, host: str, workspace: Workspace, context: Path, repo: str, **extra: str
) -> dict[str, str]:
    """The demo's environment for one run of ``context`` to ``repo`` with TAGS; outputs in ``workspace``."""
    workspace.tmp.mkdir(exist_ok=True)
    env = base_env(moto.url, host, workspace.storage, TMPDIR=str(workspace.tmp))
    env.update(
        PLUGIN_REPO=repo,
        PLUGIN_TAGS=",".join(TAGS),
        PLUGIN_CREATE_REPOSITORY="true",
        PLUGIN_CONTEXT=str(context),
        PLUGIN_DOCKERFILE=str(context / "Dockerfile"),
        PLUGIN_BUILD_ARGS="GREETING=hello-from-e2e",
        PLUGIN_SECRETS_FROM_ENV="token=E2E_BUILD_TOKEN",
        E2E_BUILD_TOKEN=BUILD_SECRET,
        DRONE_COMMIT_SHA=COMMIT,
        DRONE_REPO_LINK="https://git.example.com/team/app",
        **workspace.output_env(),
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v}  # an empty value here means: leave the variable unset


def oci(registry: Registry) -> OciRegistry:
    return OciRegistry(registry.url, (registry.username, registry.password))


# -- the main job ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushed:
    """The successful run every TestSuccessfulRun test reads: its result, files and repository."""

    run: PluginRun
    workspace: Workspace
    repo: str


@pytest.fixture(scope="module")
def pushed(moto_server: MotoServer, registry: Registry, example_context: Path) -> Iterator[Pushed]:
    require("dockerd", root=True)
    workspace = new_workspace()
    repo = "e2e/app"
    env = app_env(
        moto_server,
        registry.host,
        workspace,
        example_context,
        repo,
        PLUGIN_CUSTOM_LABELS="com.example.team=platform,com.example.tier=e2e",
    )
    result = run_plugin(env)
    assert result.returncode == 0, result.output
    yield Pushed(result, workspace, repo)
    remove_workspace(workspace)


class TestSuccessfulRun:
    def test_every_tag_is_in_the_registry_with_the_reported_digest(self, pushed, registry):
        """Each tag resolves to one digest, which DRONE_OUTPUT, the artifact and the card all report."""
        assert registry.tags(pushed.repo) == sorted(TAGS)
        digests = {registry.digest(pushed.repo, tag) for tag in TAGS}
        assert len(digests) == 1
        digest = digests.pop()
        assert digest and digest.startswith("sha256:")
        values = pushed.workspace.drone_values()
        assert values["digest"] == digest
        assert values["images"] == ",".join(f"{registry.host}/{pushed.repo}:{t}" for t in TAGS)
        artifact = json.loads(pushed.workspace.artifact.read_text())
        assert [i["digest"] for i in artifact["data"]["images"]] == [digest, digest]
        assert json.loads(pushed.workspace.card.read_text())["data"]["Digest"] == digest

    def test_drone_output_keeps_existing_keys(self, pushed):
        """A key an earlier step wrote to DRONE_OUTPUT survives the merge."""
        values = pushed.workspace.drone_values()
        assert values["OTHER"] == "keep"
        assert values["skipped"] == "false"

    def test_labels_and_build_args_are_in_the_image_config(self, pushed, registry):
        """Custom labels, the auto labels and a build arg (via ARG → LABEL) reach the pushed config."""
        labels = oci(registry).config(pushed.repo, "latest")["config"]["Labels"]
        assert labels["com.example.team"] == "platform"
        assert labels["com.example.tier"] == "e2e"
        assert labels["org.opencontainers.image.revision"] == COMMIT
        assert labels["org.opencontainers.image.url"] == "https://git.example.com/team/app"
        assert "org.opencontainers.image.created" in labels
        assert labels["org.example.greeting"] == "hello-from-e2e"

    def test_build_secret_is_usable_in_run_and_absent_from_the_image(self, pushed, registry):
        """The RUN step saw a non-empty secret (/secret-seen exists); no blob holds its value."""
        files = {
            name: data
            for layer in oci(registry).layers(pushed.repo, "latest")
            for name, data in layer.items()
        }
        assert files["secret-seen"] == f"secret had {len(BUILD_SECRET)} bytes\n".encode()
        assert files["greeting"] == b"hello-from-e2e\n"
        for blob in oci(registry).raw_blobs(pushed.repo, "latest"):
            assert BUILD_SECRET.encode() not in blob

    def test_the_log_is_for_people_and_ends_with_one_summary(self, pushed, registry):
        """Short human lines on stderr, the builder's own output on stdout, one summary at the end."""
        lines = pushed.run.stderr.splitlines()
        summary = [i for i, line in enumerate(lines) if line.endswith("(summary.pushed)")]
        assert len(summary) == 1, pushed.run.stderr
        head = lines[summary[0]]
        assert f"INFO  Pushed {pushed.repo} to {registry.host}  tags={','.join(TAGS)} digest=sha256:" in head
        assert lines[summary[0] + 1].lstrip().startswith("seconds: settings ")
        assert lines[summary[0] + 1].rstrip().split(", ")[-1].startswith("total ")
        assert not [line for line in lines if "timestamp=" in line or "level=" in line]
        assert "[internal] load build definition from Dockerfile" in pushed.run.stdout

    def test_no_secret_reaches_output_or_files(self, pushed):
        """AWS keys, the build secret and the ECR password are in no stream, no output file, no card."""
        token = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
        texts = {
            "stdout": pushed.run.stdout,
            "stderr": pushed.run.stderr,
            "artifact": pushed.workspace.artifact.read_text(),
            "card": pushed.workspace.card.read_text(),
            "DRONE_OUTPUT": pushed.workspace.drone_output.read_text(),
        }
        for where, text in texts.items():
            for secret in (AWS_KEY_ID, AWS_SECRET, BUILD_SECRET, ECR_PASSWORD, token):
                assert secret not in text, f"{secret!r} leaked into {where}"

    def test_its_dockerd_and_temp_files_are_gone(self, pushed):
        """After the run no dockerd with this run's data root and no temp file (Docker config) is left."""
        assert dockerd_pids_for(pushed.workspace.storage) == []
        pushed.workspace.assert_no_temp_files_left()


# -- tag immutability ------------------------------------------------------------------------------


def seed_immutable(moto: MotoServer, repo: str, tags: dict[str, str]) -> dict[str, str]:
    """An IMMUTABLE repository in moto with each tag put to a manifest made from its seed; tag → digest."""
    client = ecr_client(moto.url)
    client.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    return {tag: put_image(client, repo, tag, seed) for tag, seed in tags.items()}


class TestImmutableRepository:
    def test_all_tags_exist_skips_without_a_build(self, moto_server, registry, workspace, example_context):
        """Every tag exists at one digest: exit 0, no build, no push, and the dockerd launched beside the
        ECR work is gone with the data root it made; outputs hold that digest."""
        repo = "e2e/immutable-all"
        digest = seed_immutable(moto_server, repo, dict.fromkeys(TAGS, "one"))[TAGS[0]]
        env = app_env(
            moto_server, registry.host, workspace, example_context, repo, PLUGIN_CREATE_REPOSITORY=""
        )
        result = run_plugin(env)
        assert result.returncode == 0, result.output
        assert "dockerd.discarded" in result.output
        assert "docker build" not in result.output
        assert not workspace.storage.exists()
        assert dockerd_pids_for(workspace.storage) == []
        assert registry.tags(repo) == []
        values = workspace.drone_values()
        assert (values["digest"], values["skipped"], values["OTHER"]) == (digest, "true", "keep")
        artifact = json.loads(workspace.artifact.read_text())
        assert [i["digest"] for i in artifact["data"]["images"]] == [digest, digest]

    def test_existing_tag_with_another_digest_fails_naming_both(
        self, moto_server, registry, workspace, example_context
    ):
        """One tag exists at another digest: the rest is built and pushed, then the run fails (exit 1)."""
        repo = "e2e/immutable-partial"
        existing = seed_immutable(moto_server, repo, {"1.0.0": "old build"})["1.0.0"]
        env = app_env(
            moto_server, registry.host, workspace, example_context, repo, PLUGIN_CREATE_REPOSITORY=""
        )
        result = run_plugin(env)
        assert result.returncode == 1, result.output
        built = registry.digest(repo, "latest")
        assert registry.tags(repo) == ["latest"]
        assert built and built != existing
        assert "'1.0.0'" in result.stderr
        assert existing in result.stderr
        assert built in result.stderr
        workspace.assert_no_outputs()
        workspace.assert_no_temp_files_left()


# -- failures ---------------------------------------------------------------------------------------


class TestFailures:
    def test_dockerd_that_cannot_start_fails_fast_with_its_own_error(
        self, moto_server, registry, workspace, example_context
    ):
        """A bad daemon flag: exit 1 within the retry bound, dockerd's own message shown, no outputs."""
        env = app_env(
            moto_server,
            registry.host,
            workspace,
            example_context,
            "e2e/no-daemon",
            PLUGIN_DAEMON_ARGS="--no-such-flag",
            PLUGIN_DAEMON_RETRY_COUNT="3",
        )
        result = run_plugin(env, timeout=60)
        assert result.returncode == 1, result.output
        assert "dockerd did not start" in result.stderr
        assert "unknown flag: --no-such-flag" in result.stderr
        assert result.seconds < 30
        workspace.assert_no_outputs()
        workspace.assert_no_temp_files_left()
        assert dockerd_pids_for(workspace.storage) == []

    def test_aws_error_exits_3_and_leaves_no_temp_files(
        self, moto_server, registry, workspace, example_context
    ):
        """ECR refuses the repository name: exit 3 naming the AWS operation and code; nothing left behind."""
        env = app_env(moto_server, registry.host, workspace, example_context, "e2e/bad_")
        result = run_plugin(env)
        assert result.returncode == 3, result.output
        assert (
            "AWS CreateRepository on repository 'e2e/bad_' failed: InvalidParameterException" in result.stderr
        )
        assert not workspace.storage.exists()
        workspace.assert_no_outputs()
        workspace.assert_no_temp_files_left()

    def test_registry_down_fails_clearly_without_outputs(self, moto_server, workspace, example_context):
        """Nothing listens at PLUGIN_REGISTRY: the push fails (non-zero), says why, writes no outputs."""
        host = f"127.0.0.1:{free_port()}"
        env = app_env(moto_server, host, workspace, example_context, "e2e/down", PLUGIN_PUSH_RETRY="1")
        result = run_plugin(env)
        assert result.returncode != 0, result.output
        assert re.search(
            rf"docker push {host}/e2e/down:\S+ failed with exit status 1: .*connection refused", result.stderr
        )
        workspace.assert_no_outputs()
        workspace.assert_no_temp_files_left()

    def test_wrong_credentials_fail_clearly_without_outputs(
        self, moto_server, workspace, example_context, tmp_path
    ):
        """A registry that refuses the ECR token: the push fails (non-zero), says why, writes no outputs."""
        with running_registry(tmp_path / "strict", "AWS", "other") as strict:
            env = app_env(moto_server, strict.host, workspace, example_context, "e2e/refused")
            result = run_plugin(env)
        assert result.returncode != 0, result.output
        assert re.search(
            rf"docker push {strict.host}/e2e/refused:\S+ failed with exit status 1: unauthorized",
            result.stderr,
        )
        workspace.assert_no_outputs()
        workspace.assert_no_temp_files_left()


class TestSignals:
    def test_sigterm_during_build_stops_build_and_daemon(
        self, moto_server, registry, workspace, sleeping_context
    ):
        """SIGTERM while a RUN step sleeps: exit 143 soon, the step and this run's dockerd are gone."""
        env = app_env(moto_server, registry.host, workspace, sleeping_context, "e2e/sigterm")
        plugin = LivePlugin(env)
        plugin.wait_until(lambda: bool(processes_with_argv(SLEEP_ARGV)), "the RUN step running", timeout=60)
        assert dockerd_pids_for(workspace.storage)
        plugin.proc.send_signal(signal.SIGTERM)
        result = plugin.finish(timeout=45)
        assert result.returncode == 143, result.output
        assert "stopped by signal 15" in result.stderr
        assert "CANCELED" in result.stdout  # BuildKit's own word for the interrupted RUN step
        assert processes_with_argv(SLEEP_ARGV) == []
        assert dockerd_pids_for(workspace.storage) == []
        assert registry.tags("e2e/sigterm") == []
        workspace.assert_no_outputs()
        workspace.assert_no_temp_files_left()


# -- more than one run, other modes -------------------------------------------------------------------


class TestOtherModes:
    def test_two_runs_in_parallel_both_push(self, moto_server, registry, example_context):
        """Two plugins at once on one machine (own storage, own repository, one registry) both succeed."""
        require("dockerd", root=True)
        spaces = [new_workspace(), new_workspace()]
        try:
            envs = [
                app_env(moto_server, registry.host, space, example_context, f"e2e/parallel-{i}")
                for i, space in enumerate(spaces)
            ]
            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(run_plugin, envs))
            for i, (space, result) in enumerate(zip(spaces, results, strict=True)):
                assert result.returncode == 0, result.output
                assert registry.tags(f"e2e/parallel-{i}") == sorted(TAGS)
                assert space.drone_values()["digest"] == registry.digest(f"e2e/parallel-{i}", "latest")
        finally:
            for space in spaces:
                remove_workspace(space)

    def test_no_push_with_tar_path_builds_saves_and_pushes_nothing(
        self, moto_server, registry, workspace, example_context
    ):
        """PLUGIN_NO_PUSH + PLUGIN_TAR_PATH: exit 0, a docker-save tarball with every tag, no push."""
        tar_path = workspace.base / "out" / "image.tar"
        env = app_env(
            moto_server,
            registry.host,
            workspace,
            example_context,
            "e2e/no-push",
            PLUGIN_NO_PUSH="true",
            PLUGIN_TAR_PATH=str(tar_path),
        )
        result = run_plugin(env)
        assert result.returncode == 0, result.output
        assert "docker push" not in result.output
        assert registry.tags("e2e/no-push") == []
        with tarfile.open(tar_path) as tar:
            handle = tar.extractfile("manifest.json")
            assert handle is not None
            repo_tags = json.load(handle)[0]["RepoTags"]
        assert sorted(repo_tags) == sorted(f"{registry.host}/e2e/no-push:{t}" for t in TAGS)
        values = workspace.drone_values()
        assert values["IMAGE_TAR_PATH"] == str(tar_path)
        assert values["OTHER"] == "keep"
        assert "digest" not in values


class TestEngineAtDockerHost:
    """PLUGIN_DAEMON_OFF uses the engine at DOCKER_HOST (as on Harness VMs); push-only pushes what it has."""

    def test_push_only_pushes_an_image_already_in_the_engine(
        self, moto_server, registry, dockerd_engine, workspace, tmp_path
    ):
        """No dockerd of its own, no build: the local image is tagged and pushed, and the digest read back."""
        context = make_context(tmp_path, "FROM scratch\nCOPY busybox /bin/busybox\n")
        docker_env = {"PATH": "/usr/sbin:/usr/bin", "DOCKER_HOST": dockerd_engine, "DOCKER_BUILDKIT": "1"}
        built = subprocess.run(
            ["docker", "build", "--network=host", "--tag=prebuilt/app:ci", str(context)],
            env=docker_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert built.returncode == 0, built.stderr
        env = app_env(
            moto_server,
            registry.host,
            workspace,
            context,
            "e2e/push-only",
            PLUGIN_DAEMON_OFF="true",
            DOCKER_HOST=dockerd_engine,
            PLUGIN_PUSH_ONLY="true",
            PLUGIN_SOURCE_IMAGE="prebuilt/app:ci",
        )
        result = run_plugin(env)
        assert result.returncode == 0, result.output
        assert "+ dockerd" not in result.output
        assert "+ docker build" not in result.output
        assert not workspace.storage.exists()
        assert registry.tags("e2e/push-only") == sorted(TAGS)
        assert workspace.drone_values()["digest"] == registry.digest("e2e/push-only", "latest")

    def test_daemon_off_without_an_engine_fails_clearly(
        self, moto_server, registry, workspace, example_context
    ):
        """PLUGIN_DAEMON_OFF with nothing answering at DOCKER_HOST: exit 1 naming it, no outputs."""
        missing = f"unix://{workspace.base}/nothing.sock"
        env = app_env(
            moto_server,
            registry.host,
            workspace,
            example_context,
            "e2e/off",
            PLUGIN_DAEMON_OFF="true",
            DOCKER_HOST=missing,
        )
        result = run_plugin(env)
        assert result.returncode == 1
        assert f"no Docker engine answers at {missing}" in result.stderr
        workspace.assert_no_outputs()


class TestPushRetries:
    """Registry 5xx on a push: retried with backoff, bounded (PLUGIN_PUSH_RETRY, default 3)."""

    MANIFEST_PUT = r"^PUT /v2/.+/manifests/"

    def test_push_succeeds_after_transient_503s(self, moto_server, registry, workspace, example_context):
        """Two 503s on the manifest upload: the push is retried and the run succeeds."""
        with fault_proxy(registry.url) as proxy:
            proxy.add(
                Fault(
                    "respond",
                    status=503,
                    body=b"unavailable",
                    content_type="text/plain",
                    times=2,
                    pattern=self.MANIFEST_PUT,
                )
            )
            host = proxy.url.removeprefix("http://")
            result = run_plugin(app_env(moto_server, host, workspace, example_context, "e2e/retry"))
        assert result.returncode == 0, result.output
        assert result.output.count("push.retry") == 2
        assert sum(1 for op in proxy.seen if re.match(self.MANIFEST_PUT, op)) == len(TAGS) + 2
        assert registry.tags("e2e/retry") == sorted(TAGS)

    def test_persistent_503_fails_after_the_bound(self, moto_server, registry, workspace, example_context):
        """A registry that keeps failing: PLUGIN_PUSH_RETRY+1 attempts, then a clear failure, no outputs."""
        with fault_proxy(registry.url) as proxy:
            proxy.add(
                Fault(
                    "respond",
                    status=503,
                    body=b"unavailable",
                    content_type="text/plain",
                    pattern=self.MANIFEST_PUT,
                )
            )
            host = proxy.url.removeprefix("http://")
            env = app_env(moto_server, host, workspace, example_context, "e2e/down", PLUGIN_PUSH_RETRY="1")
            result = run_plugin(env)
        assert result.returncode == 1
        assert sum(1 for op in proxy.seen if re.match(self.MANIFEST_PUT, op)) == 2
        assert f"docker push {host}/e2e/down:{TAGS[0]} failed" in result.stderr
        workspace.assert_no_outputs()


class TestBaseImageRegistry:
    """PLUGIN_BASE_IMAGE_REGISTRY / USERNAME / PASSWORD log in to the registry the FROM image comes from."""

    PASSWORD = "base-image-password-SENTINEL-7"

    @pytest.fixture
    def base_image(self, dockerd_engine, tmp_path):
        """A private registry (its own credentials) holding a busybox base image."""
        with running_registry(tmp_path / "base-registry", "puller", self.PASSWORD) as base:
            context = make_context(tmp_path / "base", "FROM scratch\nCOPY busybox /bin/busybox\n")
            image = f"{base.host}/base/busybox:1"
            login, config = ("puller", self.PASSWORD), tmp_path / "base-config"
            docker_build_push(dockerd_engine, context, image, login, config, "--network=host", buildkit=True)
            yield base, image

    def test_base_image_comes_from_a_private_registry(
        self, moto_server, registry, workspace, base_image, tmp_path
    ):
        """With the base-image credentials the build pulls the FROM image; without them it fails."""
        base, image = base_image
        context = tmp_path / "app"
        context.mkdir()
        (context / "Dockerfile").write_text(f'FROM {image}\nRUN ["/bin/busybox", "true"]\n')
        login = {
            "PLUGIN_BASE_IMAGE_REGISTRY": base.host,
            "PLUGIN_BASE_IMAGE_USERNAME": "puller",
            "PLUGIN_BASE_IMAGE_PASSWORD": self.PASSWORD,
            "PLUGIN_SECRETS_FROM_ENV": "",
        }
        ok = run_plugin(app_env(moto_server, registry.host, workspace, context, "e2e/from-private", **login))
        assert ok.returncode == 0, ok.output
        assert self.PASSWORD not in ok.output
        assert registry.tags("e2e/from-private") == sorted(TAGS)
        refused = run_plugin(
            app_env(
                moto_server, registry.host, workspace, context, "e2e/no-login", PLUGIN_SECRETS_FROM_ENV=""
            )
        )
        assert refused.returncode != 0
        assert registry.tags("e2e/no-login") == []


class TestBuildInputs:
    """An SSH key for RUN --mount=type=ssh, and a cache-from image that cannot be pulled."""

    def test_ssh_key_reaches_the_build_and_a_missing_cache_image_is_a_warning(
        self, moto_server, registry, workspace, tmp_path
    ):
        """The key is served to RUN --mount=type=ssh; the failed cache-from pull does not stop the build."""
        key = (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
            .decode()
        )
        check = 'test -S "$SSH_AUTH_SOCK" && echo ssh-ok > /ssh-seen'
        dockerfile = (
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            f"RUN --mount=type=ssh {json.dumps(['/bin/busybox', 'sh', '-c', check])}\n"
        )
        context = make_context(tmp_path / "ssh", dockerfile)
        env = app_env(
            moto_server,
            registry.host,
            workspace,
            context,
            "e2e/ssh",
            PLUGIN_SSH_AGENT_KEY=key,
            PLUGIN_SECRETS_FROM_ENV="",
            PLUGIN_CACHE_FROM=f"{registry.host}/e2e/never-pushed:cache",
        )
        result = run_plugin(env)
        assert result.returncode == 0, result.output
        assert "step.failed_ignored" in result.output
        layers = oci(registry).layers("e2e/ssh", "latest")
        assert any(layer.get("ssh-seen") == b"ssh-ok\n" for layer in layers)
        key_lines = [line for line in key.splitlines() if len(line) > 20]
        assert not any(line in result.output for line in key_lines)
        workspace.assert_no_temp_files_left()


# -- faults of the plugin's own dockerd ---------------------------------------------------------------

SLEEP_LONG = ["/bin/busybox", "sleep", LONG_SLEEP]  # a week: only this test process's


@pytest.fixture(scope="module")
def sleeping_600_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = json.dumps(SLEEP_LONG)
    return make_context(
        tmp_path_factory.mktemp("sleep600"), f"FROM scratch\nCOPY busybox /bin/busybox\nRUN {run}\n"
    )


def mounts_below(root: Path) -> list[str]:
    with open("/proc/self/mounts", encoding="utf-8") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(str(root))]


def short_run_dirs(output: str) -> set[str]:
    """The /tmp/bpe-<12 hex> run dirs this run's log says it used (TMPDIR too deep for dockerd's
    sockets); read from the log, not from /tmp, where another run on the machine may have its own."""
    return set(re.findall(r"/tmp/bpe-[0-9a-f]{12}", output))


class TestDaemonFaults:
    def test_kill_9_of_dockerd_during_run_sleep_600_leaves_nothing(
        self, moto_server, registry, workspace, sleeping_600_context
    ):
        """Exit 1 naming dockerd; the RUN step, containerd and every mount are gone; no run dir, outputs."""
        env = app_env(moto_server, registry.host, workspace, sleeping_600_context, "e2e/kill9")
        plugin = LivePlugin(env)
        try:
            plugin.wait_until(
                lambda: bool(processes_with_argv(SLEEP_LONG)), "the RUN step running", timeout=90
            )
            (dockerd,) = dockerd_pids_for(workspace.storage)
            namespace = os.readlink(f"/proc/{dockerd}/ns/mnt")
            os.kill(dockerd, signal.SIGKILL)
            result = plugin.finish(timeout=60)
        finally:
            for pid in processes_with_argv(SLEEP_LONG):  # only if the plugin failed to end it
                os.kill(pid, signal.SIGKILL)
        assert result.returncode == 1, result.output
        assert "during the build; every process of the build was ended with it" in result.stderr
        assert processes_with_argv(SLEEP_LONG) == []
        assert dockerd_pids_for(workspace.storage) == []
        assert pids_in_mount_namespace(namespace) == []
        assert mounts_below(workspace.base) == []
        workspace.assert_no_temp_files_left()  # the run dir (Docker config, dockerd's sockets) is gone
        workspace.assert_no_outputs()
        assert registry.tags("e2e/kill9") == []

    def test_a_long_tmpdir_moves_the_daemon_run_dir_and_the_run_succeeds(
        self, moto_server, registry, workspace, example_context
    ):
        """With a TMPDIR too deep for containerd's sockets, dockerd's run dir goes under /tmp, then away."""
        deep = workspace.base / ("t" * 64)
        deep.mkdir()
        assert len(f"{deep}/build-push-ecr-12345678/dockerd/exec/containerd/containerd.sock.ttrpc") > 107
        env = app_env(moto_server, registry.host, workspace, example_context, "e2e/deep", TMPDIR=str(deep))
        result = run_plugin(env)
        assert result.returncode == 0, result.output
        assert "dockerd.run_dir_moved" in result.output
        assert registry.tags("e2e/deep") == sorted(TAGS)
        [moved] = short_run_dirs(result.output)
        assert not Path(moved).exists()
        assert list(deep.iterdir()) == []
        assert mounts_below(workspace.base) == []

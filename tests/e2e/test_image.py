"""The plugin image, run as a CI runner runs it: ``docker run`` with environment variables only.

The image is built (or reused from the layer cache) by scripts/build-image.sh on an engine this
module starts on the script's cached data root (.work/image/docker). The main test is a real
docker-builder run inside the container: the plugin starts its own dockerd (docker-in-docker),
gets an ECR token from moto on the host's loopback, builds examples/app and pushes it to a real
registry on the host's loopback. Real runners start the image with --privileged; these VMs refuse
--privileged, so the test grants the equivalent capabilities one by one (DIND_FLAGS).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.buildkit import RUNC_DROPCAP, buildkit_assets_dir, exit0_program
from tests.support.cmdline import CmdlinePoller
from tests.support.e2e import ECR_HOST, TOKYO_RULES, Engine, build_image, env_file
from tests.support.plugin_run import OciRegistry, drone_output_values
from tests.support.services import Registry
from tests.support.stack import ACCOUNT, ECR_PASSWORD

pytestmark = pytest.mark.e2e

MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)

# What --privileged gives dockerd-in-docker, granted one by one (--privileged fails on these VMs).
DIND_FLAGS = (
    "--network", "host",
    "--cap-add", "ALL",
    "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined",
    "--security-opt", "apparmor=unconfined",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup",
    "-v", "/var/lib/docker",  # an anonymous volume: overlay2 cannot nest on the container's overlay
)  # fmt: skip


@pytest.fixture(scope="session")
def image(engine: Engine) -> str:
    """build-push-ecr:dev, built by the script (a warm rebuild is a few seconds of cache hits)."""
    return build_image(engine)


ISSUE_EXAMPLE = {
    "PLUGIN_REGISTRY": ECR_HOST,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0,latest",
    "PLUGIN_BUILDER": "docker",
}


class TestImageBasics:
    def test_help(self, engine: Engine, image: str):
        done = engine.docker("run", "--rm", image, "--help")
        assert done.returncode == 0, done.stderr
        assert "usage: build-push-ecr" in done.stdout
        assert "PLUGIN_REPO" in done.stdout

    def test_plan_for_the_issue_example(self, engine: Engine, image: str, workspace: Path):
        """`plan` checks the workspace too (the Dockerfile must be there), as a runner mounts it."""
        flags = ("--network", "host", "-v", f"{workspace}:/drone/src", "-w", "/drone/src")
        done = engine.run(*flags, command="plan", env=ISSUE_EXAMPLE)
        assert done.returncode == 0, done.stderr
        plan = json.loads(done.stdout)
        assert plan["builder"] == "docker"
        assert plan["destinations"] == [f"{ECR_HOST}/team/app:1.0", f"{ECR_HOST}/team/app:latest"]
        assert plan["steps"][0]["name"] == "dockerd"

    def test_a_named_time_zone_in_the_tag_rules(self, engine: Engine, image: str, workspace: Path):
        """tz='Asia/Tokyo' needs the IANA database: the image has no /usr/share/zoneinfo, the tzdata
        package stands in (2023-11-14 22:13:20 UTC is 07:13 on the 15th in Tokyo)."""
        flags = ("--network", "host", "-v", f"{workspace}:/drone/src", "-w", "/drone/src")
        done = engine.run(*flags, command="plan", env={**ISSUE_EXAMPLE, **TOKYO_RULES})
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["tags"] == ["20231115-07"]

    def test_bad_input_exits_2_naming_every_bad_variable(self, engine: Engine, image: str):
        env = {**ISSUE_EXAMPLE, "PLUGIN_PUSH_ONLY": "maybe", "PLUGIN_BUILDER": "podman"}
        done = engine.run("--network", "host", command="plan", env=env)
        assert done.returncode == 2, done.stdout + done.stderr
        output = done.stdout + done.stderr
        assert "PLUGIN_PUSH_ONLY" in output
        assert "PLUGIN_BUILDER" in output
        assert "Traceback" not in output

    def test_runs_as_pid_1_without_a_shell_in_between(self, engine: Engine, image: str):
        done = engine.docker("inspect", "--format", "{{json .Config.Entrypoint}}", image)
        assert json.loads(done.stdout) == ["/usr/local/bin/entrypoint.sh"]
        done = engine.docker("run", "--rm", "--entrypoint", "cat", image, "/usr/local/bin/entrypoint.sh")
        assert "exec /opt/plugin/bin/python -m plugin" in done.stdout

    def test_tools_inside(self, engine: Engine, image: str):
        script = (
            "dockerd --version && docker --version && docker buildx version && python3 --version"
            " && unshare --version"  # dockerd runs in its own PID and mount namespace
        )
        done = engine.docker("run", "--rm", "--entrypoint", "sh", image, "-c", script)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith("Docker version 2")
        assert "github.com/docker/buildx" in lines[2]
        assert lines[3].startswith("Python 3.13")
        assert lines[4].startswith("unshare from util-linux")


def runner_env(moto_url: str, registry: Registry, **settings: str) -> dict[str, str]:
    """What a runner passes for a build+push against the host's moto and registry, plus ``settings``."""
    return {
        "PLUGIN_REGISTRY": registry.host,
        "PLUGIN_ACCOUNT": ACCOUNT,
        "PLUGIN_REGION": "us-east-1",
        "PLUGIN_CREATE_REPOSITORY": "true",
        "PLUGIN_SECRETS_FROM_ENV": "token=BUILD_TOKEN",
        "PLUGIN_NETWORK": "host",
        "PLUGIN_DAEMON_ARGS": "--iptables=false --ip-masq=false --bridge=none",
        "PLUGIN_ARTIFACT_FILE": "/drone/out/artifact.json",
        "DRONE_OUTPUT": "/drone/out/drone-output.env",
        "DRONE_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        "AWS_ENDPOINT_URL_ECR": moto_url,
        "AWS_ENDPOINT_URL_STS": moto_url,
        "AWS_ACCESS_KEY_ID": "e2e",
        "AWS_SECRET_ACCESS_KEY": "e2e-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        **settings,
    }


def run_in_image(engine: Engine, workspace: Path, out: Path, env: dict[str, str], *extra: str) -> str:
    """``docker run`` of the image as a runner does (docker-in-docker); returns its output, status 0.

    The environment goes through an env file, as a runner passes it through the engine's API: on the
    docker CLI's own argv the values would be in /proc/*/cmdline, which these tests poll.
    """
    done = engine.run(
        *DIND_FLAGS,
        "-v", f"{workspace}:/drone/src",
        "-v", f"{out}:/drone/out",
        "-w", "/drone/src",
        *extra,
        *env_file(env, out.parent / "env"),
        command="run",
        env={},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


BUILD_ARG_SENTINEL = "bpe-sentinel-docker-build-arg"
PROXY_SENTINEL = "bpe-sentinel-docker-proxy-pw"
CMDLINE_SECRETS = {
    # GREETING (examples/app's ARG) from the env too: the pushed label proves the builder read it there
    "PLUGIN_BUILD_ARGS_FROM_ENV": "BPE_BUILD_TOKEN,GREETING",
    "BPE_BUILD_TOKEN": BUILD_ARG_SENTINEL,
    "HTTPS_PROXY": f"http://proxyuser:{PROXY_SENTINEL}@proxy.invalid:3128",
}


def greeting_label(registry: Registry, repository: str, tag: str) -> str:
    config = OciRegistry(registry.url, (registry.username, registry.password)).config(repository, tag)
    return str(config["config"]["Labels"]["org.example.greeting"])


def assert_no_secret_on_any_cmdline(poller: CmdlinePoller, builder_argv: str) -> None:
    """The builder's process was seen while it ran, and no process ever had a sentinel on its argv."""
    assert poller.saw("--build-arg=BPE_BUILD_TOKEN"), f"{poller.scans} scans never met {builder_argv}"
    assert poller.hits == [], [" ".join(argv) for _, argv in poller.hits[:2]]


class TestDockerBuilderInsideTheImage:
    """The important one: a real build and push by the plugin inside its own image."""

    def test_builds_and_pushes_to_the_registry(
        self, engine: Engine, image: str, workspace: Path, moto_url: str, registry: Registry,
        tmp_path: Path,
    ):  # fmt: skip
        out = tmp_path / "out"
        out.mkdir()
        env = runner_env(
            moto_url, registry, PLUGIN_BUILDER="docker", PLUGIN_REPO="e2e/app", PLUGIN_TAGS="1.0.0,latest",
            GREETING="hello-from-the-env", BUILD_TOKEN="e2e-secret-value-never-printed",
            DRONE_CARD_PATH="/drone/out/card.json", **CMDLINE_SECRETS,
        )  # fmt: skip
        with CmdlinePoller([BUILD_ARG_SENTINEL, PROXY_SENTINEL, "e2e-secret-value-never-printed"]) as poller:
            output = run_in_image(engine, workspace, out, env)
        assert_no_secret_on_any_cmdline(poller, "docker build")
        assert greeting_label(registry, "e2e/app", "1.0.0") == "hello-from-the-env"
        assert BUILD_ARG_SENTINEL not in output and PROXY_SENTINEL not in output
        assert "e2e-secret-value-never-printed" not in output
        assert "e2e-secret" not in output.replace("e2e-secret-value", "")  # the AWS secret key neither
        assert registry.tags("e2e/app") == ["1.0.0", "latest"]
        digest = registry.digest("e2e/app", "1.0.0")
        assert digest and digest == registry.digest("e2e/app", "latest")
        artifact = json.loads((out / "artifact.json").read_text())
        assert {image["digest"] for image in artifact["data"]["images"]} == {digest}
        assert digest in (out / "drone-output.env").read_text()


class TestBuildxInsideTheImage:
    """PLUGIN_BUILDER=buildx inside the image: one buildx build pushes every tag (docker driver)."""

    def test_builds_and_pushes_every_tag_with_buildx(
        self, engine: Engine, image: str, workspace: Path, moto_url: str, registry: Registry,
        tmp_path: Path,
    ):  # fmt: skip
        """Tags, the digest the registry serves in DRONE_OUTPUT and the artifact, no secret in the output."""
        out = tmp_path / "out"
        out.mkdir()
        env = runner_env(
            moto_url, registry, PLUGIN_BUILDER="buildx", PLUGIN_REPO="e2e/buildx", PLUGIN_TAGS="3.0.0,latest",
            GREETING="hello-from-the-env", BUILD_TOKEN="e2e-buildx-secret-never-printed",
            PLUGIN_METADATA_FILE="/drone/out/metadata.json", PLUGIN_TAR_PATH="/drone/out/image.tar",
            **CMDLINE_SECRETS,
        )  # fmt: skip
        with CmdlinePoller([BUILD_ARG_SENTINEL, PROXY_SENTINEL, "e2e-buildx-secret-never-printed"]) as poller:
            output = run_in_image(engine, workspace, out, env)
        assert_no_secret_on_any_cmdline(poller, "docker buildx build")
        assert greeting_label(registry, "e2e/buildx", "3.0.0") == "hello-from-the-env"
        assert BUILD_ARG_SENTINEL not in output and PROXY_SENTINEL not in output
        assert "docker buildx build" in output
        assert "e2e-buildx-secret-never-printed" not in output
        assert "e2e-secret" not in output
        assert registry.tags("e2e/buildx") == ["3.0.0", "latest"]
        digest = registry.digest("e2e/buildx", "3.0.0")
        assert digest and digest == registry.digest("e2e/buildx", "latest")
        artifact = json.loads((out / "artifact.json").read_text())
        assert {image["digest"] for image in artifact["data"]["images"]} == {digest}
        assert digest in (out / "drone-output.env").read_text()
        metadata = json.loads((out / "metadata.json").read_text())
        assert metadata["containerimage.digest"] == digest
        assert "buildx.metadata_digest_differs" not in output
        assert (out / "image.tar").stat().st_size > 0
        assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # saved beside, moved in

    def test_buildx_talks_to_the_plugins_kind_of_daemon(self, engine: Engine, image: str):
        script = (
            "set -e; mkdir -p /tmp/d /tmp/ctx; "
            "dockerd --iptables=false --ip-masq=false --bridge=none --host unix:///tmp/d/s "
            "--exec-root /tmp/d/e --pidfile /tmp/d/p >/tmp/d/log 2>&1 & pid=$!; "
            "export DOCKER_HOST=unix:///tmp/d/s; "
            "for i in $(seq 150); do docker version >/dev/null 2>&1 && break; sleep 0.2; done; "
            "docker buildx version; docker buildx ls; "
            "echo hi > /tmp/ctx/f; printf 'FROM scratch\\nCOPY f /f\\n' > /tmp/ctx/Dockerfile; "
            "docker buildx build --network host --load -t smoke:1 /tmp/ctx; "
            "docker image inspect --format 'built {{.Id}}' smoke:1; "
            "kill $pid; wait $pid || true"
        )
        done = engine.docker("run", "--rm", *DIND_FLAGS, "--entrypoint", "sh", image, "-c", script)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "github.com/docker/buildx" in done.stdout
        assert "default" in done.stdout
        assert "built sha256:" in done.stdout


# -- buildx on a real BuildKit inside the image ---------------------------------------------------------

DROPCAP_IN_IMAGE = "/opt/test/runc-dropcap"
PER_ARCH = "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}/prog /bin/prog\n"


@pytest.fixture(scope="session")
def buildkit_flags() -> tuple[str, ...]:
    """The BuildKit image as buildx-ecr ships it (/buildkit/buildkit.tar + version.json), and the
    test-only runc-dropcap wrapper: the plugin's own dockerd makes it its default runtime, because
    these VMs refuse the privileged BuildKit container buildx starts (real runners do not need it)."""
    assets = buildkit_assets_dir()
    return ("-v", f"{assets}:/buildkit:ro", "-v", f"{RUNC_DROPCAP}:{DROPCAP_IN_IMAGE}:ro")


def multi_arch_workspace(root: Path) -> Path:
    root.mkdir()
    (root / "Dockerfile").write_text(PER_ARCH)
    for arch in ("amd64", "arm64"):
        (root / arch).mkdir()
        (root / arch / "prog").write_bytes(exit0_program(arch))
    return root


class TestBuildxOnBuildKitInsideTheImage:
    """The docker-container driver inside the image: the plugin's dockerd loads /buildkit/buildkit.tar,
    buildx starts BuildKit from it, and BuildKit pushes what the registry then serves."""

    def test_registry_cache_two_platforms_and_provenance_then_a_single_manifest(
        self, engine: Engine, image: str, moto_url: str, registry: Registry, buildkit_flags: tuple[str, ...],
        tmp_path: Path,
    ):  # fmt: skip
        ws = multi_arch_workspace(tmp_path / "ws")
        daemon = f"--iptables=false --ip-masq=false --bridge=none --add-runtime dropcap={DROPCAP_IN_IMAGE} "
        common = {
            "PLUGIN_BUILDER": "buildx",
            "PLUGIN_REPO": "e2e/buildkit",
            "PLUGIN_ENABLE_CACHE": "true",
            "PLUGIN_BUILDER_DRIVER_OPTS": "network=host",
            "PLUGIN_DAEMON_ARGS": daemon + "--default-runtime dropcap",
            "PLUGIN_SECRETS_FROM_ENV": "",
        }
        first_out, second_out = tmp_path / "out1", tmp_path / "out2"
        first_out.mkdir()
        second_out.mkdir()
        env = runner_env(
            moto_url, registry, **common, PLUGIN_TAGS="4.0.0", PLUGIN_PLATFORM="linux/amd64,linux/arm64",
            PLUGIN_PROVENANCE="max",
        )  # fmt: skip
        output = run_buildkit(engine, image, ws, first_out, env, buildkit_flags)
        assert "docker load --input=/buildkit/buildkit.tar" in output
        assert "docker-container" in output
        index = registry_manifest(registry, "e2e/buildkit", "4.0.0")
        assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
        platforms = {
            f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"] for m in index["manifests"]
        }
        assert {"linux/amd64", "linux/arm64", "unknown/unknown"} <= set(platforms)
        values = drone_values(first_out)
        assert values["digest"] == registry.digest("e2e/buildkit", "4.0.0")
        assert values["digest_linux_arm64"] == platforms["linux/arm64"]
        assert values["digest_linux_amd64"] == platforms["linux/amd64"]
        assert "buildcache" in registry.tags("e2e/buildkit-cache")

        env = runner_env(moto_url, registry, **common, PLUGIN_TAGS="4.0.1", PLUGIN_SINGLE_MANIFEST="true")
        output = run_buildkit(engine, image, ws, second_out, env, buildkit_flags)
        assert "importing cache manifest from" in output
        assert re.search(r"1 of \d+ Dockerfile steps came from the cache +\(buildx\.cache\)", output)
        single = registry_manifest(registry, "e2e/buildkit", "4.0.1")
        assert single["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
        assert drone_values(second_out)["digest"] == registry.digest("e2e/buildkit", "4.0.1")
        assert registry.password not in output


def run_buildkit(
    engine: Engine, image: str, ws: Path, out: Path, env: dict[str, str], flags: tuple[str, ...]
) -> str:
    """One run in the image; the ECR token and the AWS secret key are in no output and, while it
    runs, in no process's command line (the container's processes are in this machine's /proc)."""
    token = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
    secrets = (env["AWS_SECRET_ACCESS_KEY"], ECR_PASSWORD, token)
    env_flags = env_file(env, out.parent / "env")  # as a runner passes them: not on the docker CLI's argv
    with CmdlinePoller(list(secrets)) as argv:
        done = engine.docker(
            "run", "--rm", *DIND_FLAGS, *flags, "-v", f"{ws}:/drone/src", "-v", f"{out}:/drone/out",
            "-w", "/drone/src", *env_flags, image, "run",
        )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert argv.scans > 5 and argv.hits == [], argv.hits[:3]
    assert not any(secret in output for secret in secrets)
    assert "buildx.metadata_digest_differs" not in output
    return output


def registry_manifest(registry: Registry, repo: str, ref: str) -> dict[str, Any]:
    response = registry.manifest_response(repo, ref, MANIFEST_ACCEPT)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    assert document["mediaType"] == response.headers["Content-Type"]
    return document


def drone_values(out: Path) -> dict[str, str]:
    return drone_output_values(out / "drone-output.env")

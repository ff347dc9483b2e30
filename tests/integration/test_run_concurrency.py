"""What runs at the same time in a run, and that every ending cleans all of it up.

``python -m plugin`` forks the AWS worker first (it loads boto3 and does the ECR work), and the
docker builder launches its dockerd before that work: these tests run the plugin as a process
against real parts (moto over HTTP, dockerd, the registry) and read what is left from /proc, the
mount table and the file system. The parent of a run must never import boto3: a kaniko run (with
the stand-in executor of test_kaniko_run) records the modules the plugin's own process loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.exec.mounts import _mounts_under
from tests.integration.test_kaniko_run import DIGEST, FAKE_EXECUTOR, kaniko_flags
from tests.support.contexts import busybox_context
from tests.support.moto_server import ACCOUNT, MotoServer, put_image
from tests.support.plugin_run import (
    ROOT,
    LivePlugin,
    base_env,
    drone_output_values,
    ecr_client,
    run_plugin,
)
from tests.support.procs import dockerd_pids_for, processes_with_argv
from tests.support.services import Registry, require, short_tempdir, unmount_below
from tests.support.stack import free_port

pytestmark = pytest.mark.integration

PLUGIN_ARGV = [sys.executable, "-m", "plugin"]  # the plugin and its forked AWS worker show this argv


@pytest.fixture
def base() -> Iterator[Path]:
    require("dockerd", root=True)
    require("busybox")
    made = Path(short_tempdir("conc-"))  # under /tmp: unix socket paths stay short
    yield made
    unmount_below(str(made))
    shutil.rmtree(made, ignore_errors=True)


def context(base: Path) -> Path:
    dockerfile = 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "true"]\n'
    return busybox_context(base / "app", dockerfile)


def docker_env(moto: MotoServer, host: str, base: Path, repo: str, **extra: str) -> dict[str, str]:
    (base / "tmp").mkdir(exist_ok=True)
    app = base / "app" if (base / "app").exists() else context(base)
    env = base_env(moto.url, host, base / "docker", TMPDIR=str(base / "tmp"))
    env.update(
        PLUGIN_REPO=repo,
        PLUGIN_TAGS="1.0.0,latest",
        PLUGIN_CREATE_REPOSITORY="true",
        PLUGIN_CONTEXT=str(app),
        PLUGIN_DOCKERFILE=str(app / "Dockerfile"),
        DRONE_OUTPUT=str(base / "drone.env"),
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v}  # an empty value here means: leave the variable unset


def assert_nothing_left(base: Path) -> None:
    """No dockerd for the run's data root, no mount, no run directory, no worker, no data root."""
    assert dockerd_pids_for(base / "docker") == []
    assert _mounts_under(str(base)) == []
    assert list((base / "tmp").iterdir()) == []
    assert processes_with_argv(PLUGIN_ARGV) == []
    assert not (base / "docker").exists()  # the data root dockerd made is gone with it


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An HTTP endpoint that accepts connections and never answers (an AWS call that hangs)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


class TestEarlyDockerd:
    """dockerd is launched before the ECR work; an AWS failure or a signal stops it and cleans up."""

    def test_aws_failure_stops_and_unmounts_the_early_dockerd(self, moto_server, registry, base):
        env = docker_env(
            moto_server,
            registry.host,
            base,
            "conc/aws-down",
            AWS_ENDPOINT_URL_ECR=f"http://127.0.0.1:{free_port()}",  # nothing listens: refused
            PLUGIN_AWS_MAX_ATTEMPTS="1",
        )
        result = run_plugin(env)
        assert result.returncode == 3, result.output
        assert "+ unshare --pid --mount --fork --kill-child --mount-proc dockerd" in result.stderr
        assert (
            "AWS GetAuthorizationToken failed" in result.stderr or "AWS DescribeRepositories" in result.stderr
        )
        assert "dockerd.discarded" in result.stderr
        assert_nothing_left(base)

    def test_sigterm_while_the_worker_waits_on_aws_ends_everything(
        self, moto_server, registry, base, silent_endpoint
    ):
        env = docker_env(
            moto_server, registry.host, base, "conc/sigterm", AWS_ENDPOINT_URL_ECR=silent_endpoint
        )
        plugin = LivePlugin(env)
        plugin.wait_until(lambda: bool(dockerd_pids_for(base / "docker")), "the early dockerd", timeout=30)
        plugin.wait_until(lambda: len(processes_with_argv(PLUGIN_ARGV)) == 2, "the AWS worker", timeout=10)
        plugin.proc.send_signal(signal.SIGTERM)
        result = plugin.finish(timeout=30)
        assert result.returncode == 143, result.output
        assert "stopped by signal 15" in result.stderr
        assert_nothing_left(base)

    def test_every_tag_existing_discards_the_daemon_and_its_new_data_root(self, moto_server, registry, base):
        repo = "conc/immutable"
        client = ecr_client(moto_server.url)
        client.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
        digest = {put_image(client, repo, tag, "one") for tag in ("1.0.0", "latest")}.pop()
        result = run_plugin(docker_env(moto_server, registry.host, base, repo, PLUGIN_CREATE_REPOSITORY=""))
        assert result.returncode == 0, result.output
        assert "docker build" not in result.output
        assert drone_output_values(base / "drone.env")["digest"] == digest
        assert_nothing_left(base)

    def test_an_empty_data_root_given_stays_as_it_was(self, moto_server, registry, base):
        """An empty data root (a volume's mount point) is kept when the unused dockerd is discarded."""
        (base / "docker").mkdir()
        env = docker_env(
            moto_server,
            registry.host,
            base,
            "conc/empty-root",
            AWS_ENDPOINT_URL_ECR=f"http://127.0.0.1:{free_port()}",
            PLUGIN_AWS_MAX_ATTEMPTS="1",
        )
        assert run_plugin(env).returncode == 3
        assert list((base / "docker").iterdir()) == []
        assert dockerd_pids_for(base / "docker") == []

    def test_prune_is_skipped_on_a_fresh_data_root_and_run_on_a_used_one(
        self, moto_server, registry: Registry, base
    ):
        first = run_plugin(docker_env(moto_server, registry.host, base, "conc/prune"))
        assert first.returncode == 0, first.output
        assert "docker.prune_skipped" in first.stderr
        assert "+ docker system prune" not in first.stderr
        assert "+ docker rmi --force" in first.stderr  # the rest of the purge still runs
        second = run_plugin(docker_env(moto_server, registry.host, base, "conc/prune"))
        assert second.returncode == 0, second.output
        assert "+ docker system prune --force" in second.stderr
        digest = registry.digest("conc/prune", "latest")
        assert drone_output_values(base / "drone.env")["digest"] == digest  # what the push reported


WRAPPER = """
import json, sys
import plugin.builders.kaniko as kaniko, plugin.run.build_kaniko as kaniko_run
from plugin.__main__ import exit_now, main
kaniko.EXECUTOR = kaniko_run.EXECUTOR = sys.argv[1]
code = main(["run"], fork_worker=True)  # as `python -m plugin run`, with the AWS worker
with open(sys.argv[2], "w") as f:  # the plugin's own process: the worker ended with os._exit
    json.dump(sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore")), f)
exit_now(code)
"""


class TestAwsWorker:
    """The ECR work happens in the forked worker; the plugin's process never loads the AWS SDK."""

    def kaniko_run(self, moto_server, tmp_path: Path, **extra: str) -> list[str]:
        """A kaniko run through the command-line entry (fork included); the AWS modules its own
        process loaded. The repository, the login and the digest are checked here."""
        moto_server.reset()
        calls = tmp_path / "calls.jsonl"
        executor = tmp_path / "executor"
        executor.write_text(
            FAKE_EXECUTOR.format(python=sys.executable, flags=kaniko_flags(), calls=str(calls), digest=DIGEST)
        )
        executor.chmod(executor.stat().st_mode | stat.S_IXUSR)
        (tmp_path / "kaniko").mkdir()
        (tmp_path / "Dockerfile").write_text("FROM scratch\n")
        registry = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
        env = base_env(moto_server.url, registry, tmp_path / "unused")
        env.update(
            PLUGIN_BUILDER="kaniko",
            PLUGIN_REPO="conc/kaniko",
            PLUGIN_TAGS="1.0",
            PLUGIN_CREATE_REPOSITORY="true",
            KANIKO_DIR=str(tmp_path / "kaniko"),
            DRONE_OUTPUT=str(tmp_path / "drone.env"),
            PYTHONPATH=str(ROOT),
            **extra,
        )
        loaded = tmp_path / "loaded.json"
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(executor), str(loaded)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        names = [
            r["repositoryName"] for r in ecr_client(moto_server.url).describe_repositories()["repositories"]
        ]
        assert "conc/kaniko" in names  # the ECR work made it
        seen = json.loads(calls.read_text().splitlines()[0])
        assert seen["auths"] == [registry]  # its ECR login reached the executor's Docker config
        assert drone_output_values(tmp_path / "drone.env")["digest"] == DIGEST
        assert list((tmp_path / "kaniko").iterdir()) == []
        return list(json.loads(loaded.read_text()))

    def test_a_kaniko_run_never_loads_boto3_in_the_plugin_process(self, moto_server, tmp_path):
        assert self.kaniko_run(moto_server, tmp_path) == []  # boto3/botocore: in the worker only
        assert os.environ.get("PLUGIN_AWS_WORKER") is None

    @pytest.mark.parametrize("name", ["PLUGIN_AWS_WORKER", "BUILD_PUSH_ECR_WORKER"])
    def test_without_the_worker_the_plugin_does_the_ecr_work_itself(self, moto_server, tmp_path, name):
        assert "boto3" in self.kaniko_run(moto_server, tmp_path, **{name: "false"})

    def test_a_false_from_the_env_file_decides_too(self, moto_server, tmp_path):
        """The fork happened (the file is read later); the settings' false leaves that worker unused."""
        (tmp_path / "plugin.env").write_text("PLUGIN_AWS_WORKER=false\n")
        loaded = self.kaniko_run(moto_server, tmp_path, PLUGIN_ENV_FILE=str(tmp_path / "plugin.env"))
        assert "boto3" in loaded

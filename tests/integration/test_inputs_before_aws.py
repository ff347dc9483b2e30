"""A run that cannot build stops before the first AWS call: exit 2, no STS call, nothing in ECR.

The plugin runs as a process with every AWS endpoint pointed at a recording proxy in front of moto,
so any call it made would be seen; with valid inputs the same setup does reach STS and ECR.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.moto_server import MotoServer
from tests.support.plugin_run import base_env, ecr_client, run_plugin

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/ci"


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    moto_server.reset()
    with fault_proxy(moto_server.url) as recording:
        yield recording


def env_for(proxy: FaultProxy, workspace: Path, **extra: str) -> dict[str, str]:
    """A docker run that would assume a role and create the repository: every AWS call goes to the proxy."""
    (workspace / "Dockerfile").write_text("FROM scratch\n")
    env = base_env(proxy.url, "127.0.0.1:1", workspace / "docker", TMPDIR=str(workspace))
    env.update(
        PLUGIN_REPO="inputs/app",
        PLUGIN_TAGS="1.0",
        PLUGIN_CREATE_REPOSITORY="true",
        PLUGIN_ASSUME_ROLE=ROLE,
        PLUGIN_CONTEXT=str(workspace),
        PLUGIN_DOCKERFILE=str(workspace / "Dockerfile"),
        DRONE_OUTPUT=str(workspace / "drone.env"),
    )
    env.update(extra)
    return env


def bad_inputs(ws: Path) -> dict[str, dict[str, str]]:
    (ws / "policy.json").write_text('{"rules": [}')
    (ws / "latin1.json").write_bytes(b'{"auths": "\xe9"}')
    (ws / "ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n\xff\n-----END CERTIFICATE-----\n")
    return {
        "missing-dockerfile": {"PLUGIN_DOCKERFILE": str(ws / "Dockerfile.missing")},
        "invalid-lifecycle-policy": {"PLUGIN_LIFECYCLE_POLICY": str(ws / "policy.json")},
        "inline-policy": {"PLUGIN_REPOSITORY_POLICY": '{"rules": [}'},
        "plugin-config-list": {"PLUGIN_CONFIG": "[1]"},
        "plugin-config-not-utf-8": {"PLUGIN_CONFIG": str(ws / "latin1.json")},
        "ca-file": {"HARNESS_CA_PATH": str(ws / "ca.pem")},
        "secret-file": {"PLUGIN_SECRETS_FROM_FILE": f"npm={ws}/absent"},
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing-dockerfile",
        "invalid-lifecycle-policy",
        "inline-policy",
        "plugin-config-list",
        "plugin-config-not-utf-8",
        "ca-file",
        "secret-file",
    ],
)
def test_bad_local_input_is_exit_2_before_any_aws_call(proxy, moto_server, tmp_path, case):
    env = env_for(proxy, tmp_path, **bad_inputs(tmp_path)[case])
    result = run_plugin(env, timeout=60)
    assert result.returncode == 2, result.output
    assert "invalid configuration" in result.stderr
    assert "Traceback" not in result.output and "plugin.bug" not in result.output
    assert proxy.seen == []  # no AssumeRole, no token, no DescribeRepositories, no CreateRepository
    assert ecr_client(moto_server.url).describe_repositories()["repositories"] == []
    assert not (tmp_path / "drone.env").exists()


def test_with_valid_inputs_the_same_setup_reaches_sts_and_ecr(proxy, moto_server, tmp_path):
    """The control: with good inputs the run assumes the role and creates the repository (no engine after)."""
    env = env_for(proxy, tmp_path, PLUGIN_DAEMON_OFF="true", DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    result = run_plugin(env, timeout=60)
    assert result.returncode == 1, result.output
    assert "AssumeRole" in proxy.seen, result.output
    names = [r["repositoryName"] for r in ecr_client(moto_server.url).describe_repositories()["repositories"]]
    assert names == ["inputs/app"]

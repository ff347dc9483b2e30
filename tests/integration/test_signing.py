"""cosign signing through the plugin (docker builder), checked with the real cosign against a real registry.

``python -m plugin`` runs as a process with its own dockerd; ECR is moto, the registry Debian's
docker-registry accepting only moto's token. cosign is Debian trixie's (tests/support/cosign.py).
What is proven: the signature is in the registry and ``cosign verify`` with the public key accepts
the pushed tag and refuses a tag moved to another image; the key and its password are in no output
and on no command line (every /proc/*/cmdline is polled while the plugin runs); one signature per
registry, not per tag; a wrong password stops the run before any AWS call; a failed signature fails
the run after saying the image was pushed, and writes no outputs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.integration.test_docker_e2e import app_env
from tests.support.cmdline import CmdlinePoller
from tests.support.cosign import (
    KeyPair,
    cosign_dir,
    docker_config,
    generate_key_pair,
    move_tag,
    push_small_image,
    verify,
)
from tests.support.docker_workspace import KEEP, Workspace
from tests.support.moto_server import MotoServer
from tests.support.plugin_run import PluginRun, ecr_client, run_plugin
from tests.support.services import Registry
from tests.support.stack import free_port, running_registry

pytestmark = pytest.mark.integration

PASSWORD = "cosign-password-SENTINEL-2207"
ECR_PASSWORD = "123456789012-auth-token"
FLAGS = "--tlog-upload=false -a build=42"  # no Rekor is reachable (or wanted) here


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return generate_key_pair(tmp_path_factory.mktemp("cosign-key"), PASSWORD)


@pytest.fixture(scope="module")
def small_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("signed")
    (root / "hello.txt").write_text("signed by the plugin\n")
    (root / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    return root


def signing_env(
    moto: MotoServer, registry: Registry, ws: Workspace, ctx: Path, repo: str, key: KeyPair, **extra: str
) -> dict[str, str]:
    env = app_env(moto, registry.host, ws, ctx, repo, PLUGIN_SECRETS_FROM_ENV="", PLUGIN_BUILD_ARGS="")
    env["PATH"] = f"{cosign_dir()}:{env['PATH']}"
    env.update(
        PLUGIN_COSIGN_PRIVATE_KEY=key.private_pem,
        PLUGIN_COSIGN_PASSWORD=key.password,
        PLUGIN_COSIGN_PARAMS=FLAGS,
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v}


def run_watched(env: dict[str, str], secrets: list[str]) -> tuple[PluginRun, CmdlinePoller]:
    with CmdlinePoller(secrets) as poller:
        result = run_plugin(env, timeout=180)
    return result, poller


def signs(result: PluginRun) -> int:
    """How many ``cosign sign`` commands the run traced (``+ /path/to/cosign sign ...``)."""
    return len(re.findall(r"\+ \S*cosign sign ", result.output))


def assert_nothing_leaked(result: PluginRun, poller: CmdlinePoller, secrets: list[str]) -> None:
    assert poller.scans > 5
    assert poller.hits == [], [" ".join(argv)[:200] for _, argv in poller.hits]
    for secret in secrets:
        assert secret not in result.output


class TestSignedPush:
    def test_signed_by_digest_verified_and_a_moved_tag_refused(
        self, moto_server: MotoServer, registry: Registry, workspace: Workspace, small_context: Path,
        key_pair: KeyPair, tmp_path: Path,
    ):  # fmt: skip
        env = signing_env(moto_server, registry, workspace, small_context, "signed/app", key_pair)
        result, poller = run_watched(env, key_pair.secrets)
        assert result.returncode == 0, result.output[-4000:]
        assert_nothing_leaked(result, poller, key_pair.secrets)
        assert poller.saw("--key=env://COSIGN_PRIVATE_KEY"), "cosign sign was never seen running"

        digest = registry.digest("signed/app", "1.0.0")
        assert digest and digest == registry.digest("signed/app", "latest")
        sig_tag = digest.replace(":", "-") + ".sig"
        assert sig_tag in registry.tags("signed/app")
        assert signs(result) == 1  # once per registry, not per tag

        values = workspace.drone_values()
        assert values["digest"] == digest
        assert values["signature"] == f"{registry.host}/signed/app:{sig_tag}"
        assert values["signature_digest"] == registry.digest("signed/app", sig_tag)
        artifact = json.loads(workspace.artifact.read_text())
        assert artifact["data"]["signatures"] == [
            {
                "image": f"{registry.host}/signed/app@{digest}",
                "signature": values["signature"],
                "digest": values["signature_digest"],
            }
        ]

        config = docker_config(tmp_path / "verify", registry.host, registry.username, registry.password)
        good = verify(f"{registry.host}/signed/app:1.0.0", key_pair.public_path, config)
        assert good.returncode == 0, good.stderr
        claims = json.loads(good.stdout)
        assert claims[0]["critical"]["image"]["docker-manifest-digest"] == digest
        assert claims[0]["optional"]["build"] == "42"  # PLUGIN_COSIGN_PARAMS reached cosign

        other = push_small_image(registry.url, (registry.username, registry.password), "signed/app", "x", "x")
        move_tag(registry.url, (registry.username, registry.password), "signed/app", "latest", other)
        tampered = verify(f"{registry.host}/signed/app:latest", key_pair.public_path, config)
        assert tampered.returncode != 0
        assert "no signatures found" in tampered.stderr or "no matching signatures" in tampered.stderr

    def test_key_file_and_every_registry_signed_once(
        self, moto_server: MotoServer, registry: Registry, workspace: Workspace, small_context: Path,
        key_pair: KeyPair, tmp_path: Path,
    ):  # fmt: skip
        """PLUGIN_COSIGN_PRIVATE_KEY as a path; a second registry (PLUGIN_EXTRA_REGISTRIES) gets its own
        signature, and two tags still mean one signature per registry."""
        root = tmp_path / "second-registry"
        root.mkdir()
        with running_registry(root, "AWS", ECR_PASSWORD) as second:
            env = signing_env(
                moto_server, registry, workspace, small_context, "signed/twice", key_pair,
                PLUGIN_COSIGN_PRIVATE_KEY=str(key_pair.private_path), PLUGIN_EXTRA_REGISTRIES=second.host,
            )  # fmt: skip
            result, poller = run_watched(env, key_pair.secrets)
            assert result.returncode == 0, result.output[-4000:]
            assert_nothing_leaked(result, poller, key_pair.secrets)
            assert signs(result) == 2
            digest = registry.digest("signed/twice", "1.0.0")
            assert digest
            sig_tag = digest.replace(":", "-") + ".sig"
            config = docker_config(tmp_path / "verify", second.host, "AWS", ECR_PASSWORD)
            for host in (registry.host, second.host):
                if host == second.host:
                    checked = verify(f"{host}/signed/twice:latest", key_pair.public_path, config)
                else:
                    mine = docker_config(tmp_path / "v1", host, registry.username, registry.password)
                    checked = verify(f"{host}/signed/twice:latest", key_pair.public_path, mine)
                assert checked.returncode == 0, checked.stderr
            values = workspace.drone_values()
            assert values["signatures"] == (
                f"{registry.host}/signed/twice:{sig_tag},{second.host}/signed/twice:{sig_tag}"
            )


class TestSigningFailures:
    def test_wrong_password_stops_before_any_aws_call(
        self, moto_server: MotoServer, registry: Registry, workspace: Workspace, small_context: Path,
        key_pair: KeyPair,
    ):  # fmt: skip
        env = signing_env(
            moto_server, registry, workspace, small_context, "signed/never", key_pair,
            PLUGIN_COSIGN_PASSWORD="not-the-password-SENTINEL-9",
        )  # fmt: skip
        result = run_plugin(env, timeout=60)
        assert result.returncode == 2, result.output[-3000:]
        assert "PLUGIN_COSIGN_PASSWORD" in result.output
        assert "not-the-password-SENTINEL-9" not in result.output
        assert "Traceback" not in result.output
        found = ecr_client(moto_server.url).describe_repositories()["repositories"]
        names = [r["repositoryName"] for r in found]
        assert "signed/never" not in names  # no AWS call was made
        workspace.assert_no_outputs()

    def test_failed_signature_fails_the_run_after_saying_the_image_was_pushed(
        self, moto_server: MotoServer, registry: Registry, workspace: Workspace, small_context: Path,
        key_pair: KeyPair,
    ):  # fmt: skip
        """cosign's default Rekor upload, pointed at a closed loopback port: exit 1, the image is in the
        registry unsigned, the message says so and how to sign without Rekor; no outputs written."""
        closed = free_port()
        env = signing_env(
            moto_server, registry, workspace, small_context, "signed/unsigned", key_pair,
            PLUGIN_COSIGN_PARAMS=f"--rekor-url=http://127.0.0.1:{closed}",
        )  # fmt: skip
        result = run_plugin(env, timeout=180)
        assert result.returncode == 1, result.output[-3000:]
        digest = registry.digest("signed/unsigned", "1.0.0")
        assert digest
        assert "The image itself was pushed" in result.output
        assert "is NOT signed" in result.output
        assert "--tlog-upload=false" in result.output
        assert not [t for t in registry.tags("signed/unsigned") if t.endswith(".sig")]
        workspace.assert_no_outputs()
        assert workspace.drone_output.read_text() == KEEP
        shutil.rmtree(workspace.base / "out", ignore_errors=True)

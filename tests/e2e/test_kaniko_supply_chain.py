"""Signed, labelled, reproducible with the REAL kaniko executors (v1.24.0 and v1.28.3) in the plugin's
kaniko image, run as a runner runs it.

The workspace is a git checkout (made with git on the host) with a fixed commit time; the plugin
reads that time from ``.git`` (the image has no git). Each executor builds the same commit twice,
with the files' times changed in between as a fresh clone would have them, and must push the same
digest; the OCI labels are read back from the image config, the annotations (v1.28.3; v1.24.0 has no
--annotation and is refused before anything runs) from the manifest. ``/kaniko/cosign`` signs after
the executor pushed (when the root file system is already the built image's); ``cosign verify`` on
the host accepts the tag and refuses it once moved; the key and password are on no command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import test_kaniko_image
from tests.e2e.test_kaniko_image import (
    EXECUTORS,
    SCRATCH_BUSYBOX,
    KanikoImage,
    drone_output,
    kaniko_env,
    kaniko_image,
    oci,
    run_image,
    workspace,
)
from tests.support.cmdline import CmdlinePoller
from tests.support.cosign import docker_config, generate_key_pair, move_tag, push_small_image, verify
from tests.support.e2e import Engine
from tests.support.gitrepo import commit_everything, touch_everything
from tests.support.plugin_run import ecr_client
from tests.support.services import Registry

pytestmark = pytest.mark.e2e
image = test_kaniko_image.image  # the fixture that builds the kaniko image, per executor

COMMIT_TIME = 1710000000  # 2024-03-09T16:00:00Z
COMMIT_ISO = "2024-03-09T16:00:00Z"
OCI = "org.opencontainers.image"
PASSWORD = "kaniko-cosign-password-SENTINEL-83"
CI = {
    "DRONE_REMOTE_URL": "https://git.example.com/team/kaniko-app.git",
    "DRONE_REPO": "team/kaniko-app",
}


def test_same_digest_twice_labels_annotations_and_a_verified_signature(
    engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path
) -> None:
    ws = workspace(tmp_path, SCRATCH_BUSYBOX + "COPY Dockerfile /Dockerfile\n")
    commit_everything(ws, COMMIT_TIME)
    key = generate_key_pair(tmp_path / "key", PASSWORD)
    secrets = key.secrets
    repo = f"kaniko/signed-{image.label.replace('.', '-')}"
    settings = {
        **CI,
        "PLUGIN_REPRODUCIBLE": "true",
        "PLUGIN_OCI_LABELS": "true",
        "PLUGIN_COSIGN_PRIVATE_KEY": key.private_pem.replace("\n", "\\n"),
        "PLUGIN_COSIGN_PASSWORD": PASSWORD,
        "PLUGIN_COSIGN_PARAMS": "--tlog-upload=false",
    }
    if image.label != "v1.24.0":
        settings["PLUGIN_OCI_ANNOTATIONS"] = "true"
    digests = []
    for _ in range(2):
        env = kaniko_env(moto_url, registry, repo, PLUGIN_TAGS="7.0.0,latest", **settings)
        with CmdlinePoller(secrets) as poller:
            status, output, out = run_image(engine, image, ws, env)
        assert status == 0, output[-5000:]
        assert poller.scans > 5 and poller.hits == [], [" ".join(a)[:200] for _, a in poller.hits]
        assert poller.saw("--key=env://COSIGN_PRIVATE_KEY"), "cosign sign was never seen running"
        for secret in secrets:
            assert secret not in output
        assert "/kaniko/cosign sign --yes" in output
        digests.append(drone_output(out)["digest"])
        touch_everything(ws, COMMIT_TIME + 12345)
    assert digests[0] == digests[1] == registry.digest(repo, "7.0.0")  # reproducible with this executor

    manifest = oci(registry).manifest(repo, "7.0.0")
    labels = oci(registry).config(repo, "7.0.0")["config"]["Labels"]
    expected = {
        f"{OCI}.created": COMMIT_ISO,
        f"{OCI}.revision": "0123456789abcdef0123456789abcdef01234567",
        f"{OCI}.source": CI["DRONE_REMOTE_URL"],
        f"{OCI}.version": "7.0.0",
        f"{OCI}.title": "kaniko-app",
        f"{OCI}.vendor": "team",
        f"{OCI}.ref.name": repo,
    }
    assert {k: v for k, v in labels.items() if k.startswith(OCI)} == expected
    if image.label != "v1.24.0":
        assert manifest.get("annotations") == expected

    config = docker_config(tmp_path / "verify", registry.host, registry.username, registry.password)
    good = verify(f"{registry.host}/{repo}:7.0.0", key.public_path, config)
    assert good.returncode == 0, good.stderr
    auth = (registry.username, registry.password)
    move_tag(registry.url, auth, repo, "latest", push_small_image(registry.url, auth, repo, "x", "x"))
    assert verify(f"{registry.host}/{repo}:latest", key.public_path, config).returncode != 0


@pytest.mark.parametrize("label", [label for label, _ in EXECUTORS if label == "v1.24.0"])
def test_annotations_need_a_newer_executor(
    engine: Engine, label: str, moto_url: str, registry: Registry, tmp_path: Path
) -> None:
    """v1.24.0 has no --annotation: refused before any AWS call, naming the variable and the version."""
    older = kaniko_image(engine, label)
    ws = workspace(tmp_path, SCRATCH_BUSYBOX)
    env = kaniko_env(moto_url, registry, "kaniko/annotated", PLUGIN_OCI_ANNOTATIONS="true")
    status, output, _ = run_image(engine, older, ws, env)
    assert status == 2, output[-3000:]
    assert "PLUGIN_OCI_ANNOTATIONS" in output and "1.25.0" in output
    names = [r["repositoryName"] for r in ecr_client(moto_url).describe_repositories()["repositories"]]
    assert "kaniko/annotated" not in names

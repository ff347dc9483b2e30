"""The plugin image signs what it pushed: Debian's cosign inside build-push-ecr:dev, run as a runner runs it.

A docker-builder run inside the image (docker-in-docker, as in test_image.py) with a cosign key and
password from ``cosign generate-key-pair``; then, on the host, ``cosign verify`` with the public key
against the loopback registry accepts the pushed tag and refuses the tag once it is moved to another
image. While the container runs, every /proc/*/cmdline on the machine (the container's processes
included) is polled for the key and the password; neither is in the output either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import test_image
from tests.e2e.test_image import run_in_image, runner_env
from tests.support.cmdline import CmdlinePoller
from tests.support.cosign import docker_config, generate_key_pair, move_tag, push_small_image, verify
from tests.support.e2e import Engine
from tests.support.plugin_run import drone_output_values
from tests.support.services import Registry

pytestmark = pytest.mark.e2e
image = test_image.image  # the session fixture that builds build-push-ecr:dev

PASSWORD = "image-cosign-password-SENTINEL-57"


def test_pushed_signed_verified_and_a_moved_tag_refused(
    engine: Engine, image: str, workspace: Path, moto_url: str, registry: Registry, tmp_path: Path
) -> None:
    key = generate_key_pair(tmp_path / "key", PASSWORD)
    secrets = key.secrets
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "secrets").mkdir()
    key_file = tmp_path / "secrets" / "cosign.key"  # PLUGIN_COSIGN_PRIVATE_KEY as a path, mounted
    key_file.write_text(key.private_pem)
    env = runner_env(
        moto_url, registry, PLUGIN_BUILDER="docker", PLUGIN_REPO="e2e/signed", PLUGIN_TAGS="5.0.0,latest",
        BUILD_TOKEN="e2e-signing-build-secret", GREETING="signed",
        PLUGIN_COSIGN_PRIVATE_KEY="/drone/secrets/cosign.key", PLUGIN_COSIGN_PASSWORD=PASSWORD,
        PLUGIN_COSIGN_PARAMS="--tlog-upload=false",
    )  # fmt: skip
    with CmdlinePoller(secrets) as poller:
        output = run_in_image(engine, workspace, out, env, "-v", f"{tmp_path / 'secrets'}:/drone/secrets:ro")
    assert poller.scans > 5 and poller.hits == [], [" ".join(a)[:200] for _, a in poller.hits]
    assert poller.saw("--key=env://COSIGN_PRIVATE_KEY"), "cosign sign was never seen running"
    for secret in secrets:
        assert secret not in output
    assert "/usr/bin/cosign sign --yes" in output  # Debian's cosign, inside the image

    digest = registry.digest("e2e/signed", "5.0.0")
    assert digest
    values = drone_output_values(out / "drone-output.env")
    sig_tag = digest.replace(":", "-") + ".sig"
    assert values["signature"] == f"{registry.host}/e2e/signed:{sig_tag}"
    artifact = json.loads((out / "artifact.json").read_text())
    assert artifact["data"]["signatures"][0]["image"] == f"{registry.host}/e2e/signed@{digest}"

    config = docker_config(tmp_path / "verify", registry.host, registry.username, registry.password)
    good = verify(f"{registry.host}/e2e/signed:5.0.0", key.public_path, config)
    assert good.returncode == 0, good.stderr
    auth = (registry.username, registry.password)
    other = push_small_image(registry.url, auth, "e2e/signed", "other", "not what was signed")
    move_tag(registry.url, auth, "e2e/signed", "latest", other)
    tampered = verify(f"{registry.host}/e2e/signed:latest", key.public_path, config)
    assert tampered.returncode != 0
    assert "no signatures found" in tampered.stderr or "no matching signatures" in tampered.stderr

"""Signed, labelled, reproducible with buildx on a real BuildKit (v0.32.2, docker-container driver).

The engine, BuildKit image, registry and moto are those of test_buildx_buildkit.py (its fixtures).
The build context is a real git checkout (made with git) whose HEAD commit has a fixed committer
time: the plugin reads it from ``.git`` (no git program is used by the plugin) as SOURCE_DATE_EPOCH.
The base image is in the loopback registry, so ``base.name`` is a real FROM. What was pushed is read
back from the registry: labels from the image config, annotations from the manifest, the digest of
two builds of one commit (with the files' times changed in between), and the signature with
``cosign verify``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration import test_buildx_buildkit
from tests.integration.test_buildx_buildkit import (
    OCI_MANIFEST,
    Buildx,
    context,
    get_blob,
    get_manifest,
    no_process_held_a_credential,
    outputs,
)
from tests.support.cosign import (
    cosign_dir,
    docker_config,
    generate_key_pair,
    move_tag,
    push_small_image,
    verify,
)
from tests.support.gitrepo import commit_everything, touch_everything
from tests.support.services import Registry

pytestmark = pytest.mark.integration
# test_buildx_buildkit's fixtures: the engine with BuildKit loaded, the user's config, the runner.
buildkit_engine = test_buildx_buildkit.buildkit_engine
user_config = test_buildx_buildkit.user_config
buildx = test_buildx_buildkit.buildx

COMMIT_TIME = 1700000000  # 2023-11-14T22:13:20Z
COMMIT_ISO = "2023-11-14T22:13:20Z"
OCI = "org.opencontainers.image"
PASSWORD = "buildx-cosign-password-SENTINEL-31"
CI = {
    "DRONE_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
    "DRONE_REMOTE_URL": "https://git.example.com/team/app-src.git",
    "DRONE_REPO_LINK": "https://git.example.com/team/app-src",
    "DRONE_REPO": "team/app-src",
    "DRONE_REPO_NAME": "app-src",
    "DRONE_REPO_NAMESPACE": "team",
}


class TestSignedLabelledReproducible:
    def test_two_builds_of_one_commit_same_digest_with_labels_annotations_and_a_signature(
        self, buildx: Buildx, registry: Registry, tmp_path: Path
    ) -> None:
        auth = (registry.username, registry.password)
        push_small_image(registry.url, auth, "supply/base", "1", "the base image")
        dockerfile = (
            f"ARG BASE_TAG=0\nFROM {registry.host}/supply/base:${{BASE_TAG}}\nCOPY busybox /bin/busybox\n"
        )
        ctx = context(tmp_path / "ctx", dockerfile, {"app.txt": b"the app\n"})
        head = commit_everything(ctx, COMMIT_TIME, "+0200")
        key = generate_key_pair(tmp_path / "key", PASSWORD)
        secrets = tuple(key.secrets)

        def env(out: Path, tags: str) -> dict[str, str]:
            found = buildx.env("supply/app", ctx, outputs(out), PLUGIN_TAGS=tags, **CI)
            found.update(
                PATH=f"{cosign_dir()}:{found['PATH']}",
                PLUGIN_BUILD_ARGS="BASE_TAG=1",
                PLUGIN_REPRODUCIBLE="true",
                PLUGIN_OCI_LABELS="true",
                PLUGIN_OCI_ANNOTATIONS="true",
                PLUGIN_ANNOTATIONS=f"{OCI}.title=annotated-title",
                PLUGIN_CUSTOM_LABELS=f"{OCI}.vendor=label-vendor",
                PLUGIN_COSIGN_PRIVATE_KEY=key.private_pem,
                PLUGIN_COSIGN_PASSWORD=PASSWORD,
                PLUGIN_COSIGN_PARAMS="--tlog-upload=false",
            )
            return found

        first = buildx.run(env(tmp_path / "1", "2.0.0,latest"), secrets)
        assert first.returncode == 0, first.output[-4000:]
        assert f"commit {head[:12]}" in first.output  # the source date's origin is logged
        touch_everything(ctx, COMMIT_TIME + 99999)
        second = buildx.run(env(tmp_path / "2", "2.0.0,latest"), secrets)  # a rebuild: same commit, tags
        assert second.returncode == 0, second.output[-4000:]

        media_type, digest, manifest = get_manifest(registry, "supply/app", "2.0.0")
        assert media_type == OCI_MANIFEST  # no provenance index: BuildKit's default provenance is off
        assert outputs_values(tmp_path / "2")["digest"] == outputs_values(tmp_path / "1")["digest"] == digest
        assert manifest["annotations"] == {
            f"{OCI}.created": COMMIT_ISO,
            f"{OCI}.revision": CI["DRONE_COMMIT_SHA"],
            f"{OCI}.source": CI["DRONE_REMOTE_URL"],
            f"{OCI}.url": CI["DRONE_REPO_LINK"],
            f"{OCI}.version": "2.0.0",
            f"{OCI}.title": "annotated-title",  # PLUGIN_ANNOTATIONS wins
            f"{OCI}.vendor": "team",
            f"{OCI}.ref.name": "supply/app",
            f"{OCI}.base.name": f"{registry.host}/supply/base:1",
        }
        config = json.loads(get_blob(registry, "supply/app", manifest["config"]["digest"]))
        labels = config["config"]["Labels"]
        assert labels[f"{OCI}.created"] == COMMIT_ISO
        assert labels[f"{OCI}.title"] == "app-src"
        assert labels[f"{OCI}.vendor"] == "label-vendor"  # PLUGIN_CUSTOM_LABELS wins
        assert labels[f"{OCI}.base.name"] == f"{registry.host}/supply/base:1"
        assert config["created"] == COMMIT_ISO  # SOURCE_DATE_EPOCH reached BuildKit
        built = manifest["layers"][-1]  # the COPY layer (the base image's layer is taken as it is)
        assert built["annotations"]["buildkit/rewritten-timestamp"] == str(COMMIT_TIME)

        values = outputs_values(tmp_path / "1")
        assert values["digest"] == digest
        sig_tag = digest.replace(":", "-") + ".sig"
        assert values["signature"] == f"{registry.host}/supply/app:{sig_tag}"
        verifier = docker_config(tmp_path / "verify", registry.host, registry.username, registry.password)
        good = verify(f"{registry.host}/supply/app:2.0.0", key.public_path, verifier)
        assert good.returncode == 0, good.stderr
        move_tag(registry.url, auth, "supply/app", "latest", push_other(registry))
        bad = verify(f"{registry.host}/supply/app:latest", key.public_path, verifier)
        assert bad.returncode != 0
        no_process_held_a_credential(buildx)


def push_other(registry: Registry) -> str:
    return push_small_image(registry.url, (registry.username, registry.password), "supply/app", "other", "x")


def outputs_values(folder: Path) -> dict[str, str]:
    from tests.support.plugin_run import drone_output_values  # noqa: PLC0415

    return drone_output_values(folder / "drone-output.env")

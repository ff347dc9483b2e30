"""The buildx builder on a real BuildKit (v0.32.2, docker-container driver), `python -m plugin` as a process.

The engine is a test dockerd whose default runtime is the test-only runc-dropcap wrapper (buildx
starts BuildKit privileged, which these VMs refuse); the plugin is pointed at it (PLUGIN_DAEMON_OFF,
DOCKER_HOST) and loads the BuildKit image from a buildx-ecr style assets directory. buildx is Debian
trixie's, found through the user's DOCKER_CONFIG/cli-plugins. ECR is moto; the registry is Debian's
docker-registry, accepting only moto's token. What was pushed is read back through the registry API
(media types, digests, attestations); while each run goes, /proc/*/cmdline is polled for credentials.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.buildkit import (
    BUILDKIT_IMAGE,
    RUNC_DROPCAP,
    buildkit_assets_dir,
    buildx_config_dir,
    exit0_program,
    load_buildkit,
)
from tests.support.chattr import unreplaceable
from tests.support.cmdline import CmdlinePoller
from tests.support.contexts import busybox_context
from tests.support.moto_server import MotoServer
from tests.support.plugin_run import (
    AWS_KEY_ID,
    AWS_SECRET,
    PluginRun,
    base_env,
    drone_output_values,
    ecr_client,
    run_plugin,
)
from tests.support.registry_auth import docker_build_push
from tests.support.services import Registry, require, short_tempdir, unmount_below
from tests.support.stack import ServiceError, running_dockerd, running_registry

pytestmark = pytest.mark.integration

ECR_PASSWORD = "123456789012-auth-token"  # moto's token: the only password the registry takes
ECR_AUTH = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
BASE_PASSWORD = "base-registry-password-SENTINEL-13"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
IN_TOTO = "application/vnd.in-toto+json"
ACCEPT = ", ".join(
    [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json"]
)
RUN_TIMEOUT = 240.0


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def buildkit_engine() -> Iterator[str]:
    """A dockerd whose default runtime is runc-dropcap, with the BuildKit image loaded; its DOCKER_HOST."""
    require("dockerd", "ldd", root=True)
    base = Path(short_tempdir("t-bk-"))
    try:
        with running_dockerd(base, runtime=RUNC_DROPCAP) as host:
            load_buildkit(host)
            yield host
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        unmount_below(str(base))
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def user_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's Docker config directory: an empty config.json and cli-plugins/docker-buildx."""
    return buildx_config_dir(tmp_path_factory.mktemp("docker-config"))


def context(root: Path, dockerfile: str, files: dict[str, bytes] | None = None) -> Path:
    """A build context: a static busybox, extra files (relative path -> content), and the Dockerfile."""
    return busybox_context(root, dockerfile, files)


@dataclass
class Outputs:
    """Where one run's outputs go."""

    base: Path

    @property
    def drone_output(self) -> Path:
        return self.base / "drone-output.env"

    @property
    def artifact(self) -> Path:
        return self.base / "artifact.json"

    def values(self) -> dict[str, str]:
        return drone_output_values(self.drone_output)


@dataclass
class Buildx:
    """Runs the plugin (buildx, docker-container driver) against the module's engine and registry."""

    moto: MotoServer
    registry: Registry
    engine: str
    config: Path
    tmp: Path
    runs: list[PluginRun] = field(default_factory=list)
    argv_hits: list[str] = field(default_factory=list)

    def env(self, repo: str, ctx: Path, outputs: Outputs, **extra: str) -> dict[str, str]:
        run_tmp = self.tmp / "run"
        run_tmp.mkdir(parents=True, exist_ok=True)
        env = base_env(self.moto.url, self.registry.host, self.tmp / "unused-storage", TMPDIR=str(run_tmp))
        env.update(
            PLUGIN_BUILDER="buildx",
            PLUGIN_DAEMON_OFF="true",
            DOCKER_HOST=self.engine,
            DOCKER_CONFIG=str(self.config),
            PLUGIN_BUILDER_DRIVER="docker-container",
            PLUGIN_BUILDER_DRIVER_OPTS="network=host",  # the test engine has no bridge
            PLUGIN_BUILDKIT_ASSETS_DIR=str(buildkit_assets_dir()),
            PLUGIN_REPO=repo,
            PLUGIN_TAGS="1.0.0,latest",
            PLUGIN_CREATE_REPOSITORY="true",
            PLUGIN_CONTEXT=str(ctx),
            PLUGIN_DOCKERFILE=str(ctx / "Dockerfile"),
            DRONE_OUTPUT=str(outputs.drone_output),
            PLUGIN_ARTIFACT_FILE=str(outputs.artifact),
        )
        env.update(extra)
        return {k: v for k, v in env.items() if v}

    def run(self, env: dict[str, str], secrets: tuple[str, ...] = ()) -> PluginRun:
        """One plugin run while /proc/*/cmdline is polled for every credential (and ``secrets``)."""
        watched = (AWS_SECRET, ECR_PASSWORD, ECR_AUTH, BASE_PASSWORD, *secrets)
        with CmdlinePoller(list(watched)) as argv:
            result = run_plugin(env, timeout=RUN_TIMEOUT)
        self.argv_hits += [f"{pid}: {' '.join(a)[:200]}" for pid, a in argv.hits]
        self.runs.append(result)
        for secret in (AWS_KEY_ID, *watched):
            assert secret not in result.output, f"{secret!r} in the plugin's output"
        assert "buildx.metadata_digest_differs" not in result.output  # buildx and the registry agree
        assert argv.scans > 5
        return result


@pytest.fixture(scope="module")
def buildx(
    moto_server: MotoServer, registry: Registry, buildkit_engine: str, user_config: Path, tmp_path_factory
) -> Iterator[Buildx]:
    tmp = Path(short_tempdir("t-bx-"))
    runner = Buildx(moto_server, registry, buildkit_engine, user_config, tmp)
    yield runner
    shutil.rmtree(tmp, ignore_errors=True)


def outputs(folder: Path) -> Outputs:
    folder.mkdir(parents=True)
    return Outputs(folder)


def get_manifest(registry: Registry, repo: str, ref: str) -> tuple[str, str, dict[str, Any]]:
    """(Content-Type, Docker-Content-Digest, document) of repo:ref, as the registry serves it."""
    response = registry.manifest_response(repo, ref, ACCEPT)
    response.raise_for_status()
    return response.headers["Content-Type"], response.headers["Docker-Content-Digest"], response.json()


def get_blob(registry: Registry, repo: str, digest: str) -> bytes:
    response = requests.get(
        f"{registry.url}/v2/{repo}/blobs/{digest}", auth=(registry.username, registry.password), timeout=20
    )
    response.raise_for_status()
    return response.content


def no_process_held_a_credential(buildx: Buildx) -> None:
    assert buildx.argv_hits == [], "\n".join(buildx.argv_hits[:5])


# -- the registry cache ------------------------------------------------------------------------------

SLOW_STEP = 'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 2; /bin/busybox date > /built-at"]'


class TestRegistryCacheInEcr:
    """PLUGIN_ENABLE_CACHE: an ECR-style registry cache in <repo>-cache, created through the ECR layer."""

    def test_second_run_on_a_new_builder_takes_every_step_from_the_registry_cache(
        self, buildx: Buildx, registry: Registry, moto_server: MotoServer, tmp_path: Path
    ) -> None:
        ctx = context(tmp_path / "ctx", f"FROM scratch\nCOPY busybox /bin/busybox\n{SLOW_STEP}\n")
        first_out, second_out = outputs(tmp_path / "1"), outputs(tmp_path / "2")
        metrics = tmp_path / "metrics.json"
        first = buildx.run(buildx.env("cache/app", ctx, first_out, PLUGIN_ENABLE_CACHE="true"))
        assert first.returncode == 0, first.output
        repos = ecr_client(moto_server.url).describe_repositories()["repositories"]
        assert {"cache/app", "cache/app-cache"} <= {r["repositoryName"] for r in repos}
        media_type, _, cache = get_manifest(registry, "cache/app-cache", "buildcache")
        assert media_type == OCI_MANIFEST  # image-manifest=true,oci-mediatypes=true: what ECR accepts
        assert cache["config"]["mediaType"] == "application/vnd.buildkit.cacheconfig.v0"
        second = buildx.run(
            buildx.env(
                "cache/app",
                ctx,
                second_out,
                PLUGIN_ENABLE_CACHE="true",
                PLUGIN_CACHE_METRICS_FILE=str(metrics),
            )
        )
        assert second.returncode == 0, second.output
        assert "importing cache manifest from" in second.output
        # the human line names both numbers in its sentence (plugin/core/events.py)
        line = "2 of 2 Dockerfile steps came from the cache  (buildx.cache)"
        assert line in second.output, second.output[-3000:]
        document = json.loads(metrics.read_text())
        assert document["cached"] >= 2 and document["total_layers"] >= document["cached"]
        first_layers = image_layers(registry, "cache/app", first_out.values()["digest"])
        second_layers = image_layers(registry, "cache/app", second_out.values()["digest"])
        assert first_layers == second_layers  # the slow RUN's layer came from the cache, not a rerun
        no_process_held_a_credential(buildx)


class TestOutputFilesAllOrNothing:
    """PLUGIN_METADATA_FILE, PLUGIN_CACHE_METRICS_FILE and the exported PLUGIN_TAR_PATH are outputs like
    DRONE_OUTPUT: in place with them once the run succeeded, never when it fails after the build."""

    def test_a_run_failing_after_the_push_leaves_the_previous_files(
        self, buildx: Buildx, tmp_path: Path
    ) -> None:
        ctx = context(tmp_path / "ctx", "FROM scratch\nCOPY busybox /bin/busybox\n")
        kept = tmp_path / "kept"
        kept.mkdir()
        metadata, metrics = kept / "metadata.json", kept / "metrics.json"
        metadata.write_text('{"previous": "metadata"}')
        metrics.write_text('{"previous": "metrics"}')
        tarball = kept / "image.tar"
        tarball.write_bytes(b"the previous tarball")
        files = {
            "PLUGIN_METADATA_FILE": str(metadata),
            "PLUGIN_CACHE_METRICS_FILE": str(metrics),
            "PLUGIN_TAR_PATH": str(tarball),  # a second build exports it (--output=type=docker,dest=)
        }
        out = outputs(tmp_path / "out")
        # DRONE_OUTPUT cannot be replaced: the run fails in its outputs phase, after the push
        with unreplaceable(out.drone_output, "KEPT=1\n"):
            failed = buildx.run(buildx.env("files/app", ctx, out, **files))
        assert failed.returncode == 1, failed.output
        assert f"cannot write {out.drone_output}" in failed.output
        assert out.drone_output.read_text() == "KEPT=1\n"
        assert "+ docker buildx build" in failed.output  # built and pushed before that
        exported = re.search(r"--output=type=docker,dest=(\S+)", failed.output)
        assert exported and Path(exported[1]).parent == kept, failed.output  # exported, beside
        assert metadata.read_text() == '{"previous": "metadata"}'
        assert metrics.read_text() == '{"previous": "metrics"}'
        assert tarball.read_bytes() == b"the previous tarball"
        assert sorted(p.name for p in kept.iterdir()) == ["image.tar", "metadata.json", "metrics.json"]

        done = buildx.run(buildx.env("files/app", ctx, out, **files))
        assert done.returncode == 0, done.output
        written = json.loads(metadata.read_text())
        assert written["containerimage.digest"] == out.values()["digest"]
        assert json.loads(metrics.read_text())["total_layers"] >= 1
        with tarfile.open(tarball) as tar:
            assert "manifest.json" in tar.getnames() and "index.json" in tar.getnames()
        assert sorted(p.name for p in kept.iterdir()) == ["image.tar", "metadata.json", "metrics.json"]
        assert out.values()["IMAGE_TAR_PATH"] == str(tarball)


def image_layers(registry: Registry, repo: str, digest: str) -> list[str]:
    """The layer digests of the amd64 image under ``digest`` (an index or a manifest)."""
    _, _, document = get_manifest(registry, repo, digest)
    if "manifests" in document:
        entry = next(m for m in document["manifests"] if m.get("platform", {}).get("architecture") == "amd64")
        _, _, document = get_manifest(registry, repo, entry["digest"])
    return [layer["digest"] for layer in document["layers"]]


# -- multi-platform ------------------------------------------------------------------------------------

TWO_PLATFORMS = "linux/amd64,linux/arm64"
PER_ARCH = "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}/prog /bin/prog\n"


class TestTwoPlatforms:
    def test_one_index_with_both_manifests_and_outputs_naming_each(
        self, buildx: Buildx, registry: Registry, tmp_path: Path
    ) -> None:
        """An index with an amd64 and an arm64 image manifest; DRONE_OUTPUT and the artifact carry the
        index digest and each platform's manifest digest, equal to what the registry serves."""
        ctx = context(
            tmp_path / "ctx", PER_ARCH, {"amd64/prog": b"amd64 program", "arm64/prog": exit0_program("arm64")}
        )
        out = outputs(tmp_path / "out")
        result = buildx.run(buildx.env("multi/app", ctx, out, PLUGIN_PLATFORM=TWO_PLATFORMS))
        assert result.returncode == 0, result.output
        media_type, digest, index = get_manifest(registry, "multi/app", "1.0.0")
        assert media_type == OCI_INDEX
        images = {
            f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
            for m in index["manifests"]
            if m.get("annotations", {}).get("vnd.docker.reference.type") != "attestation-manifest"
        }
        assert set(images) == {"linux/amd64", "linux/arm64"}
        for platform, manifest_digest in images.items():
            kind, served, _ = get_manifest(registry, "multi/app", manifest_digest)
            assert (kind, served) == (OCI_MANIFEST, manifest_digest), platform
        arm64_layer = image_layers_for(registry, "multi/app", images["linux/arm64"])[-1]
        assert exit0_program("arm64") in get_blob_uncompressed(registry, "multi/app", arm64_layer)
        values = out.values()
        assert values["digest"] == values["index_digest"] == digest
        assert values["digest_linux_amd64"] == images["linux/amd64"]
        assert values["digest_linux_arm64"] == images["linux/arm64"]
        assert (
            values["platform_digests"]
            == f"linux/amd64={images['linux/amd64']},linux/arm64={images['linux/arm64']}"
        )
        artifact = json.loads(out.artifact.read_text())["data"]
        assert {i["digest"] for i in artifact["images"]} == {digest}
        assert {p["platform"]: p["digest"] for p in artifact["platforms"]} == images
        assert get_manifest(registry, "multi/app", "latest")[1] == digest
        no_process_held_a_credential(buildx)

    def test_a_run_step_for_a_platform_without_emulation_fails_naming_it(
        self, buildx: Buildx, registry: Registry, tmp_path: Path
    ) -> None:
        """RUN of the arm64 program on this amd64 builder: 'exec format error', explained by platform."""
        dockerfile = PER_ARCH + 'RUN ["/bin/prog"]\n'
        ctx = context(
            tmp_path / "ctx",
            dockerfile,
            {"amd64/prog": exit0_program("amd64"), "arm64/prog": exit0_program("arm64")},
        )
        out = outputs(tmp_path / "out")
        result = buildx.run(
            buildx.env("multi/emulation", ctx, out, PLUGIN_PLATFORM=TWO_PLATFORMS, PLUGIN_TAGS="1")
        )
        assert result.returncode != 0
        assert "exec format error" in result.output
        assert "the builder cannot run linux/arm64 programs (it runs linux/amd64" in result.stderr
        assert "no emulation is registered" in result.stderr
        assert "Traceback" not in result.output
        assert registry.tags("multi/emulation") == []
        assert not out.drone_output.exists()


def image_layers_for(registry: Registry, repo: str, digest: str) -> list[str]:
    return [layer["digest"] for layer in get_manifest(registry, repo, digest)[2]["layers"]]


def get_blob_uncompressed(registry: Registry, repo: str, digest: str) -> bytes:
    import gzip  # noqa: PLC0415

    data = get_blob(registry, repo, digest)
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


# -- attestations and the single manifest ------------------------------------------------------------

STATEMENT = {
    "_type": "https://in-toto.io/Statement/v0.1",
    "predicateType": "https://spdx.dev/Document",
    "subject": [],
    "predicate": {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "stand-in-scanner",
        "dataLicense": "CC0-1.0",
        "documentNamespace": "https://example.invalid/stand-in",
        "creationInfo": {"created": "1970-01-01T00:00:00Z", "creators": ["Tool: stand-in-scanner"]},
        "comment": "FILES files scanned",
    },
}
# A stand-in for BuildKit's SBOM scanner protocol: one SPDX in-toto statement per scanned root.
SCANNER = """#!/bin/sh
bb=/bin/busybox
name=$($bb basename "$BUILDKIT_SCAN_SOURCE")
files=$(cd "$BUILDKIT_SCAN_SOURCE" && $bb find . -type f | $bb wc -l)
$bb sed "s/FILES/$files/" /statement.json > "$BUILDKIT_SCAN_DESTINATION/$name.spdx.json"
"""


@pytest.fixture(scope="module")
def sbom_scanner(buildkit_engine: str, registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The stand-in scanner image (busybox + SCANNER), pushed to the registry with the engine."""
    ctx = context(
        tmp_path_factory.mktemp("scanner"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\nCOPY scan /bin/scan\n"
        'COPY statement.json /statement.json\nENTRYPOINT ["/bin/busybox", "sh", "/bin/scan"]\n',
        {"scan": SCANNER.encode(), "statement.json": json.dumps(STATEMENT).encode()},
    )
    config = tmp_path_factory.mktemp("scanner-config")
    (config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": ECR_AUTH}}}))
    image = f"{registry.host}/tools/sbom-scanner:1"
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DOCKER_HOST": buildkit_engine,
        "DOCKER_CONFIG": str(config),
    }
    for argv in (["build", "--network=host", f"--tag={image}", str(ctx)], ["push", image]):
        done = subprocess.run(["/usr/bin/docker", *argv], env={**env, "DOCKER_BUILDKIT": "0"},
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    return image


class TestAttestations:
    def test_provenance_and_sbom_are_attached_in_one_index(
        self, buildx: Buildx, registry: Registry, sbom_scanner: str, tmp_path: Path
    ) -> None:
        """PLUGIN_PROVENANCE=max and PLUGIN_SBOM with a (stand-in) scanner: the tag is an index whose
        attestation manifest holds an SLSA provenance and an SPDX statement."""
        ctx = context(tmp_path / "ctx", "FROM scratch\nCOPY busybox /bin/busybox\n")
        out = outputs(tmp_path / "out")
        env = buildx.env(
            "attest/app",
            ctx,
            out,
            PLUGIN_PROVENANCE="max",
            PLUGIN_SBOM="true",
            PLUGIN_SBOM_GENERATOR=sbom_scanner,
        )
        result = buildx.run(env)
        assert result.returncode == 0, result.output
        media_type, digest, index = get_manifest(registry, "attest/app", "1.0.0")
        assert media_type == OCI_INDEX
        assert out.values()["digest"] == digest
        [image] = [m for m in index["manifests"] if m["platform"]["architecture"] == "amd64"]
        [attestation] = [m for m in index["manifests"] if m["platform"]["architecture"] == "unknown"]
        assert attestation["annotations"] == {
            "vnd.docker.reference.digest": image["digest"],
            "vnd.docker.reference.type": "attestation-manifest",
        }
        kind, _, statement_manifest = get_manifest(registry, "attest/app", attestation["digest"])
        assert kind == OCI_MANIFEST
        predicates = {
            layer["annotations"]["in-toto.io/predicate-type"]: layer for layer in statement_manifest["layers"]
        }
        assert set(predicates) == {"https://slsa.dev/provenance/v1", "https://spdx.dev/Document"}
        assert all(layer["mediaType"] == IN_TOTO for layer in predicates.values())
        provenance = json.loads(
            get_blob(registry, "attest/app", predicates["https://slsa.dev/provenance/v1"]["digest"])
        )
        assert (
            provenance["predicate"]["runDetails"]["builder"]["id"] == ""
            or "buildDefinition" in provenance["predicate"]
        )
        assert "buildkit_metadata" in json.dumps(provenance)  # mode=max
        sbom = json.loads(get_blob(registry, "attest/app", predicates["https://spdx.dev/Document"]["digest"]))
        assert sbom["predicate"]["name"] == "stand-in-scanner"
        assert sbom["subject"][0]["digest"]["sha256"] == image["digest"].removeprefix("sha256:")
        no_process_held_a_credential(buildx)

    def test_single_manifest_pushes_one_docker_v2_image_manifest(
        self, buildx: Buildx, registry: Registry, tmp_path: Path
    ) -> None:
        """PLUGIN_SINGLE_MANIFEST (AWS Lambda): no index, no attestation; Docker v2 schema 2 media types."""
        ctx = context(tmp_path / "ctx", 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox"]\n')
        out = outputs(tmp_path / "out")
        result = buildx.run(buildx.env("lambda/app", ctx, out, PLUGIN_SINGLE_MANIFEST="true"))
        assert result.returncode == 0, result.output
        for tag in ("1.0.0", "latest"):
            media_type, digest, manifest = get_manifest(registry, "lambda/app", tag)
            assert media_type == DOCKER_MANIFEST
            assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
            assert {layer["mediaType"] for layer in manifest["layers"]} == {
                "application/vnd.docker.image.rootfs.diff.tar.gzip"
            }
            assert out.values()["digest"] == digest
        assert "index_digest" not in out.values()
        no_process_held_a_credential(buildx)

    def test_single_manifest_on_the_engines_own_docker_driver(
        self, buildx: Buildx, registry: Registry, tmp_path: Path
    ) -> None:
        """No builder is needed for a Lambda image: the engine's docker driver pushes the same way."""
        ctx = context(
            tmp_path / "ctx", 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "true"]\n'
        )
        out = outputs(tmp_path / "out")
        env = buildx.env(
            "lambda/engine", ctx, out, PLUGIN_SINGLE_MANIFEST="true", PLUGIN_BUILDER_DRIVER="",
            PLUGIN_BUILDER_DRIVER_OPTS="", PLUGIN_BUILDKIT_ASSETS_DIR="",
        )  # fmt: skip
        result = buildx.run(env)
        assert result.returncode == 0, result.output
        assert "buildx create" not in result.output
        media_type, digest, _ = get_manifest(registry, "lambda/engine", "1.0.0")
        assert (media_type, digest) == (DOCKER_MANIFEST, out.values()["digest"])


# -- what BuildKit is given: generated buildkitd.toml, base-image credentials, a remote builder -------


class TestWhatBuildKitIsGiven:
    def test_docker_hub_mirror_from_the_settings_and_private_base_image_credentials(
        self, buildx: Buildx, registry: Registry, buildkit_engine: str, tmp_path: Path
    ) -> None:
        """``FROM busybox:1`` (Docker Hub, unreachable) comes through PLUGIN_MIRROR, written into the
        builder's buildkitd.toml by the plugin (with HARNESS_CA_PATH as a `ca` file); that mirror is a
        private registry whose credentials (PLUGIN_BASE_IMAGE_*) BuildKit gets from the per-run Docker
        config, never from a command line. Without them the build is refused."""
        with running_registry(tmp_path / "mirror", "puller", BASE_PASSWORD) as mirror:
            push_busybox(buildkit_engine, mirror.host, "puller", BASE_PASSWORD, tmp_path)
            ctx = context(
                tmp_path / "ctx", 'FROM busybox:1\nRUN ["/bin/busybox", "touch", "/from-the-mirror"]\n'
            )
            out = outputs(tmp_path / "out")
            login = {
                "PLUGIN_MIRROR": f"http://{mirror.host}",
                "PLUGIN_BASE_IMAGE_REGISTRY": mirror.host,
                "PLUGIN_BASE_IMAGE_USERNAME": "puller",
                "PLUGIN_BASE_IMAGE_PASSWORD": BASE_PASSWORD,
            }
            ca = {"HARNESS_CA_PATH": "/etc/ssl/certs/ca-certificates.crt"}  # a `ca` entry buildx copies in
            result = buildx.run(buildx.env("mirror/app", ctx, out, **login, **ca))
            assert result.returncode == 0, result.output
            assert "buildx.buildkitd_config" in result.output
            assert f"sharing credentials for {mirror.host}" in result.output
            base_layers = [
                layer["digest"]
                for layer in requests.get(
                    f"http://{mirror.host}/v2/library/busybox/manifests/1",
                    auth=("puller", BASE_PASSWORD),
                    headers={"Accept": ACCEPT},
                    timeout=20,
                ).json()["layers"]
            ]
            refused = buildx.run(
                buildx.env(
                    "mirror/refused", ctx, outputs(tmp_path / "no"), PLUGIN_MIRROR=login["PLUGIN_MIRROR"]
                )
            )
        assert refused.returncode != 0
        assert registry.tags("mirror/refused") == []
        layers = image_layers(registry, "mirror/app", out.values()["digest"])
        assert layers[: len(base_layers)] == base_layers  # the base came from the mirror
        assert len(layers) == len(base_layers) + 1  # and the RUN step ran on it
        no_process_held_a_credential(buildx)

    def test_remote_driver_builds_on_a_buildkitd_the_runner_started(
        self, buildx: Buildx, registry: Registry, buildkit_engine: str, tmp_path: Path
    ) -> None:
        """PLUGIN_BUILDER_DRIVER=remote: an unprivileged BuildKit container the test started; same push."""
        sockets = Path(short_tempdir("t-bkr-"))
        name = f"bk-remote-{sockets.name}"
        engine = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DOCKER_HOST": buildkit_engine}
        started = subprocess.run(
            ["/usr/bin/docker", "run", "-d", "--name", name, "--network", "host", "--cap-add", "ALL",
             "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined", "--security-opt",
             "apparmor=unconfined", "-v", "/sys/fs/cgroup:/sys/fs/cgroup", "-v", f"{sockets}:/run/buildkit",
             BUILDKIT_IMAGE, "--addr", "unix:///run/buildkit/buildkitd.sock",
             "--allow-insecure-entitlement=network.host"],
            env=engine, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        try:
            assert started.returncode == 0, started.stderr
            ctx = context(
                tmp_path / "ctx", 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "true"]\n'
            )
            out = outputs(tmp_path / "out")
            env = buildx.env(
                "remote/app", ctx, out, PLUGIN_BUILDER_DRIVER="remote", PLUGIN_BUILDER_DRIVER_OPTS="",
                PLUGIN_BUILDER_REMOTE_CONN=f"unix://{sockets}/buildkitd.sock",
            )  # fmt: skip
            result = buildx.run(env)
            assert result.returncode == 0, result.output
            assert out.values()["digest"] == get_manifest(registry, "remote/app", "1.0.0")[1]
        finally:
            subprocess.run(
                ["/usr/bin/docker", "rm", "-f", name], env=engine, capture_output=True, check=False
            )
            shutil.rmtree(sockets, ignore_errors=True)
        no_process_held_a_credential(buildx)


def push_busybox(engine: str, host: str, user: str, password: str, tmp_path: Path) -> None:
    """``<host>/library/busybox:1`` (what Docker Hub's ``busybox:1`` is called on a mirror)."""
    ctx = context(tmp_path / "busybox", "FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\n")
    image = f"{host}/library/busybox:1"
    docker_build_push(engine, ctx, image, (user, password), tmp_path / "busybox-config", buildkit=False)

"""The kaniko image with REAL executors, run as a runner runs it (environment only, workspace mounted
as the working directory), against moto and a loopback registry that accepts only moto's token.

The official executor image layout (FROM scratch: no shell, no /tmp) is assembled from the executors
in ``../shared/tools/kaniko`` (v1.24.0 and v1.28.3), or from the one binary ``KANIKO_EXECUTOR``
names, by ``scripts/build-image.sh --kaniko``; Dockerfile.kaniko is built on it. In CI a missing
executor fails the tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cmdline import CmdlinePoller
from tests.support.contexts import busybox_context
from tests.support.e2e import DOCKER, ECR_HOST, ROOT, TOKYO_RULES, Engine, build_image, env_file, in_ci
from tests.support.moto_server import put_image
from tests.support.plugin_run import OciRegistry, drone_output_values, ecr_client
from tests.support.procs import LONG_SLEEP, living_with_argv_prefix
from tests.support.registry_auth import skopeo_copy
from tests.support.services import Registry
from tests.support.stack import ACCOUNT, ServiceError, running_registry

pytestmark = pytest.mark.e2e

SHARED = [ROOT.parent / "shared" / "tools" / "kaniko", Path("/work/shared/tools/kaniko")]
RUN_TIMEOUT = 240


def executors() -> list[tuple[str, Path | None]]:
    """(version label, executor) to test: KANIKO_EXECUTOR alone, else every executor in shared/."""
    given = os.environ.get("KANIKO_EXECUTOR")
    if given:
        return [("custom", Path(given))]
    for folder in SHARED:
        found = sorted(folder.glob("executor-v*.gz"))
        if found:
            return [(p.name.removeprefix("executor-").removesuffix(".gz"), p) for p in found]
    return [("missing", None)]


EXECUTORS = executors()
NEWEST = EXECUTORS[-1][0]


@dataclass(frozen=True)
class KanikoImage:
    """A built plugin image on a real executor: its name, the executor version, whether it has /tmp."""

    name: str
    label: str
    with_tmp: bool

    @property
    def has_secrets(self) -> bool:
        """kaniko --secret (RUN --mount=type=secret) exists from the osscontainertools fork on."""
        return self.label not in ("v1.24.0",)


_BUILT: dict[tuple[str, bool], KanikoImage] = {}


def kaniko_image(engine: Engine, label: str, with_tmp: bool = False) -> KanikoImage:
    """The plugin's kaniko image on that executor (built once per session)."""
    key = (label, with_tmp)
    if key not in _BUILT:
        path = dict(EXECUTORS)[label]
        if path is None or not path.exists():
            why = "no kaniko executor: ../shared/tools/kaniko is missing; set KANIKO_EXECUTOR=<binary>"
            if in_ci():
                pytest.fail(f"CI: {why}", pytrace=False)
            pytest.skip(why)
        args = ["--kaniko", str(path), *(["--with-tmp"] if with_tmp else [])]
        _BUILT[key] = KanikoImage(build_image(engine, *args), label, with_tmp)
    return _BUILT[key]


@pytest.fixture(params=[label for label, _ in EXECUTORS])
def image(request: pytest.FixtureRequest, engine: Engine) -> KanikoImage:
    return kaniko_image(engine, request.param)


# -- running the image ---------------------------------------------------------------------------

SCRATCH_BUSYBOX = 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'


def workspace(tmp_path: Path, dockerfile: str) -> Path:
    """A runner workspace: the Dockerfile and a static busybox (no base image from any registry)."""
    return busybox_context(tmp_path / "ws", dockerfile)


def kaniko_env(moto_url: str, registry: Registry, repo: str, **settings: str) -> dict[str, str]:
    """What a runner passes: only environment variables (the builder defaults to kaniko in this image)."""
    return {
        "PLUGIN_REGISTRY": registry.host,
        "PLUGIN_ACCOUNT": ACCOUNT,
        "PLUGIN_REGION": "us-east-1",
        "PLUGIN_REPO": repo,
        "PLUGIN_TAGS": "1.0.0",
        "PLUGIN_CREATE_REPOSITORY": "true",
        "PLUGIN_ARTIFACT_FILE": "/drone/out/artifact.json",
        "DRONE_OUTPUT": "/drone/out/drone-output.env",
        "DRONE_CARD_PATH": "/drone/out/card.json",
        "DRONE_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        "AWS_ENDPOINT_URL_ECR": moto_url,
        "AWS_ENDPOINT_URL_STS": moto_url,
        "AWS_ACCESS_KEY_ID": "AKIAKANIKOE2E0000001",
        "AWS_SECRET_ACCESS_KEY": "kaniko-e2e-aws-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        **settings,
    }


def run_flags(ws: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--network",
        "host",
        "-v",
        f"{ws}:/drone/src",
        "-w",
        "/drone/src",
        "-v",
        f"{out}:/drone/out",
        *extra,
    ]


def run_image(
    engine: Engine, image: KanikoImage, ws: Path, env: dict[str, str], *extra: str
) -> tuple[int, str, Path]:
    """``docker run --rm`` the image as a runner does; returns (status, output, the outputs folder)."""
    out = ws.parent / f"out-{uuid.uuid4().hex[:6]}"
    out.mkdir()
    flags = [*run_flags(ws, out, *extra), *env_file(env, ws.parent / "env")]
    done = engine.run(*flags, command="run", env={}, image=image.name, timeout=RUN_TIMEOUT)
    return done.returncode, done.stdout + done.stderr, out


def oci(registry: Registry) -> OciRegistry:
    return OciRegistry(registry.url, (registry.username, registry.password))


def drone_output(out: Path) -> dict[str, str]:
    return drone_output_values(out / "drone-output.env")


# -- the image itself ----------------------------------------------------------------------------


class TestKanikoImage:
    def test_layout_version_and_default_builder(self, engine: Engine, image: KanikoImage, tmp_path: Path):
        """No shell, no /tmp (the official layout); KANIKO_VERSION set; plan defaults to kaniko (in a
        mounted workspace: plan checks that the Dockerfile is there)."""
        (tmp_path / "Dockerfile").write_text("FROM scratch\n")
        inspect = json.loads(engine.docker("image", "inspect", image.name).stdout)[0]["Config"]
        env = dict(item.split("=", 1) for item in inspect["Env"])
        assert parse_label(env["KANIKO_VERSION"]) == image.label or image.label == "custom"
        assert inspect["Entrypoint"] == ["/kaniko/plugin/bin/python", "-m", "plugin"]
        for missing in ("/bin/sh", "/tmp", "/busybox"):
            done = engine.docker("run", "--rm", "--entrypoint", "/kaniko/executor", image.name, "version")
            assert done.returncode == 0
            probe = engine.docker(
                "run", "--rm", "--entrypoint", "/kaniko/plugin/bin/python", image.name,
                "-c", f"import os, sys; sys.exit(os.path.exists({missing!r}))",
            )  # fmt: skip
            assert probe.returncode == 0, f"{missing} exists in {image.name}"
        plan = engine.run(
            "--network", "host", "-v", f"{tmp_path}:/workspace", command="plan", image=image.name,
            env={"PLUGIN_REPO": "team/app", "PLUGIN_REGISTRY": ECR_HOST},
        )  # fmt: skip
        assert plan.returncode == 0, plan.stderr
        document = json.loads(plan.stdout)
        assert document["builder"] == "kaniko"
        assert document["executor"]["version"] == env["KANIKO_VERSION"]
        assert document["executor"]["run_dir"] == "/kaniko/build-push-ecr-<run>"
        [step] = document["steps"]
        assert step["env"]["DOCKER_CONFIG"] == "/kaniko/build-push-ecr-<run>/docker-config"
        assert "--digest-file=/kaniko/build-push-ecr-<run>/digest" in step["argv"]

    def test_a_named_time_zone_in_the_tag_rules(self, engine: Engine, image: KanikoImage, tmp_path: Path):
        """The image's Python under /kaniko has no zoneinfo of the system: the tzdata package serves."""
        (tmp_path / "Dockerfile").write_text("FROM scratch\n")
        plan = engine.run(
            "--network", "host", "-v", f"{tmp_path}:/workspace", command="plan", image=image.name,
            env={"PLUGIN_REPO": "team/app", "PLUGIN_REGISTRY": ECR_HOST, **TOKYO_RULES},
        )  # fmt: skip
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert json.loads(plan.stdout)["tags"] == ["20231115-07"]


def parse_label(version: str) -> str:
    match = re.match(r"v?\d+\.\d+\.\d+", version)
    return ("v" + match.group(0).lstrip("v")) if match else version


# -- nothing of the plugin, and no secret, in the pushed image ------------------------------------

AWS_SECRET = "bpe-sentinel-aws-secret-0451"
CONFIG_PASSWORD = "bpe-sentinel-plugin-config-pw"
BASE_PASSWORD = "bpe-sentinel-base-image-pw"
BUILD_ARG_VALUE = "bpe-sentinel-build-arg-value"
PROXY_PASSWORD = "bpe-sentinel-proxy-password"
SECRET_ENV_VALUE = "bpe-sentinel-build-secret-env"
SECRET_FILE_VALUE = "bpe-sentinel-build-secret-file"

STAGE_ONE = SCRATCH_BUSYBOX.replace("FROM scratch", "FROM scratch AS build") + (
    'ARG BPE_BUILD_TOKEN\nRUN echo "stage one" > /built && touch /stage-one-ran\n'
)
STAGE_TWO = SCRATCH_BUSYBOX + (
    'COPY --from=build /built /built\nRUN echo "stage two" > /final\nCOPY . /ctx\n'
)
SECRET_ONE = "RUN --mount=type=secret,id=token sha256sum /run/secrets/token | cut -d' ' -f1 > /secret-one\n"
SECRET_TWO = "RUN --mount=type=secret,id=file sha256sum /run/secrets/file | cut -d' ' -f1 > /secret-two\n"
PLUGIN_TRACES = ("build-push-ecr", "docker-config", "config.json", "digest", "ca-bundle")


def sentinels(registry: Registry) -> list[str]:
    """Every secret of the run: AWS, Docker config, base image, build arg, proxy, build secrets, ECR token."""
    token_auth = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    return [
        AWS_SECRET, CONFIG_PASSWORD, BASE_PASSWORD, BUILD_ARG_VALUE, PROXY_PASSWORD, SECRET_ENV_VALUE,
        SECRET_FILE_VALUE, registry.password, token_auth,
    ]  # fmt: skip


def multistage_env(moto_url: str, registry: Registry, repo: str, image: KanikoImage) -> dict[str, str]:
    config = {
        "auths": {"other.example.com": {"auth": base64.b64encode(f"u:{CONFIG_PASSWORD}".encode()).decode()}}
    }
    env = kaniko_env(
        moto_url, registry, repo,
        AWS_SECRET_ACCESS_KEY=AWS_SECRET,
        PLUGIN_CONFIG=json.dumps(config),
        PLUGIN_BASE_IMAGE_REGISTRY="base.example.com",
        PLUGIN_BASE_IMAGE_USERNAME="base-user",
        PLUGIN_BASE_IMAGE_PASSWORD=BASE_PASSWORD,
        PLUGIN_BUILD_ARGS_FROM_ENV="BPE_BUILD_TOKEN",
        BPE_BUILD_TOKEN=BUILD_ARG_VALUE,
        HTTPS_PROXY=f"http://proxyuser:{PROXY_PASSWORD}@proxy.invalid:3128",
    )  # fmt: skip
    if image.has_secrets:
        env.update(
            PLUGIN_SECRETS_FROM_ENV="token=BPE_SECRET",
            PLUGIN_SECRETS_FROM_FILE="file=/drone/secrets/file.txt",
            BPE_SECRET=SECRET_ENV_VALUE,
        )
    return env


def layer_files(layers: list[dict[str, bytes]]) -> list[str]:
    return [name for layer in layers for name in layer]


@pytest.fixture(params=[(label, tmp) for label, _ in EXECUTORS for tmp in (False, True)],
                ids=lambda p: f"{p[0]}{'-with-tmp' if p[1] else ''}")  # fmt: skip
def any_image(request: pytest.FixtureRequest, engine: Engine) -> KanikoImage:
    """Each executor, in the official layout and in an image that has a /tmp."""
    label, with_tmp = request.param
    return kaniko_image(engine, label, with_tmp)


class TestNothingOfThePluginInTheImage:
    def test_multistage_build_leaks_no_file_and_no_secret(
        self, engine: Engine, any_image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """RUN in both stages, ``COPY . /ctx`` last; every layer, the config and the history searched."""
        image = any_image
        secret_lines = (SECRET_ONE, SECRET_TWO) if image.has_secrets else ("", "")
        ws = workspace(
            tmp_path,
            STAGE_ONE
            + secret_lines[0]
            + STAGE_TWO.replace("COPY . /ctx\n", secret_lines[1] + "COPY . /ctx\n"),
        )
        secrets_dir = tmp_path / "secrets"
        secrets_dir.mkdir()
        (secrets_dir / "file.txt").write_text(SECRET_FILE_VALUE)
        repo = f"e2e/leak-{image.label.replace('.', '-')}{'-tmp' if image.with_tmp else ''}"
        env = multistage_env(moto_url, registry, repo, image)
        secret_values = sentinels(registry)
        with CmdlinePoller(secret_values) as poller:
            status, output, _ = run_image(engine, image, ws, env, "-v", f"{secrets_dir}:/drone/secrets:ro")
        assert status == 0, output[-6000:]
        for value in secret_values:
            assert value not in output
        # the executor's command line was seen while it ran, with no secret value on it or any other
        assert poller.saw("--build-arg=BPE_BUILD_TOKEN"), f"{poller.scans} scans never met the executor"
        assert poller.hits == [], [" ".join(argv) for _, argv in poller.hits[:2]]
        assert set(os.listdir(ws)) == {"Dockerfile", "busybox"}  # nothing written into the workspace
        registry_view = oci(registry)
        layers = registry_view.layers(repo, "1.0.0")
        names = layer_files(layers)
        assert {"built", "final", "ctx/Dockerfile", "ctx/busybox"} <= set(names)
        assert "stage-one-ran" not in names  # stage one's file system stayed out of the final image
        assert [n for n in names if any(trace in n for trace in PLUGIN_TRACES)] == []
        config = registry_view.config(repo, "1.0.0")
        assert len(config["history"]) >= 5
        for blob in registry_view.raw_blobs(repo, "1.0.0"):
            for value in secret_values:
                assert value.encode() not in blob, f"{value} is in the pushed image"
        if image.has_secrets:
            files = {name: data for layer in layers for name, data in layer.items()}
            assert (
                files["secret-two"].strip() == hashlib.sha256(SECRET_FILE_VALUE.encode()).hexdigest().encode()
            )
            assert "secret-one" not in files  # stage one's file, not copied
            assert not [n for n in names if n.startswith(("run/secrets", "kaniko"))]

    def test_v1_24_refuses_build_secrets_before_anything_runs(
        self, engine: Engine, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """With KANIKO_EXECUTOR naming one newer binary, the image's version is overridden to v1.24.0."""
        old = "v1.24.0" in dict(EXECUTORS)
        image = kaniko_image(engine, "v1.24.0" if old else EXECUTORS[0][0])
        ws = workspace(tmp_path, SCRATCH_BUSYBOX)
        env = kaniko_env(moto_url, registry, "e2e/refused", PLUGIN_SECRETS_FROM_ENV="token=T", T="x" * 10)
        if not old:
            env["KANIKO_VERSION"] = "v1.24.0"
        status, output, _ = run_image(engine, image, ws, env)
        assert status == 2, output[-3000:]
        assert (
            "PLUGIN_SECRETS_FROM_ENV: needs kaniko 1.28.0 or newer (--secret); this kaniko is v1.24.0"
            in output
        )
        assert "Traceback" not in output
        assert "e2e/refused" not in {
            r["repositoryName"] for r in ecr_client(moto_url).describe_repositories()["repositories"]
        }


# -- signals -------------------------------------------------------------------------------------


def sleepers() -> list[int]:
    """Host PIDs of living ``sleep LONG_SLEEP`` processes (this test process's build's RUN step)."""
    return living_with_argv_prefix(["sleep", LONG_SLEEP])


class TestSignals:
    def test_sigterm_stops_the_build_within_2s(
        self, engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """``RUN sleep LONG_SLEEP`` in its own process group: stopped with the executor; 143 within 2 s."""
        stop_build(engine, image, moto_url, registry, tmp_path, "TERM")

    def test_sigint_stops_the_build_within_2s(
        self, engine: Engine, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """The same with SIGINT (Ctrl-C of ``docker run``), newest executor: 130 within 2 s."""
        stop_build(engine, kaniko_image(engine, NEWEST), moto_url, registry, tmp_path, "INT")


def stop_build(
    engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path, signame: str
) -> None:
    """Start a ``RUN sleep LONG_SLEEP`` build, signal the container once the sleep runs, check the stop."""
    ws = workspace(tmp_path, SCRATCH_BUSYBOX + f"RUN sleep {LONG_SLEEP}\n")
    out = tmp_path / "out"
    out.mkdir()
    name = f"bpe-signal-{uuid.uuid4().hex[:8]}"
    env = kaniko_env(moto_url, registry, "e2e/signal")
    argv = [
        DOCKER,
        "run",
        "--rm",
        "--name",
        name,
        *run_flags(ws, out),
        *env_file(env, tmp_path / "env"),
        image.name,
        "run",
    ]
    proc = subprocess.Popen(argv, env=engine.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not sleepers() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        found = sleepers()
        assert found, "the RUN step never started"
        assert os.getpgid(found[0]) == found[0]  # kaniko runs it in a process group of its own
        sent = time.monotonic()
        killed = engine.docker("kill", "--signal", signame, name)
        assert killed.returncode == 0, killed.stderr
        output, _ = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            engine.docker("kill", name)
            proc.kill()
    assert proc.returncode == (143 if signame == "TERM" else 130), output[-3000:]
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert sleepers() == []
    assert "stopped by signal" in output


# -- pulling from the private registry without pushing --------------------------------------------


def push_base(engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path) -> str:
    """Push a busybox base image into the registry with the plugin itself; returns its repository."""
    repo = f"e2e/base-{image.label.replace('.', '-')}"
    if "1" not in registry.tags(repo):
        base_dir = tmp_path / "base"
        base_dir.mkdir()
        ws = workspace(base_dir, SCRATCH_BUSYBOX)
        status, output, _ = run_image(
            engine, image, ws, kaniko_env(moto_url, registry, repo, PLUGIN_TAGS="1")
        )
        assert status == 0, output[-4000:]
    return repo


class TestPullWithoutPush:
    def test_no_push_build_from_the_private_registry(
        self, engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """PLUGIN_NO_PUSH (and a tarball): the ECR token still logs in, so the private FROM pulls."""
        base = push_base(engine, image, moto_url, registry, tmp_path)
        ws = workspace(tmp_path, f"FROM {registry.host}/{base}:1\nRUN echo from-private > /from-private\n")
        env = kaniko_env(
            moto_url, registry, "e2e/pr-build", PLUGIN_NO_PUSH="true", PLUGIN_TAR_PATH="/drone/out/image.tar"
        )
        status, output, out = run_image(engine, image, ws, env)
        assert status == 0, output[-4000:]
        assert "ecr.pull_login" in output
        assert (out / "image.tar").stat().st_size > 0
        assert registry.tags("e2e/pr-build") == []
        assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # written beside, moved in

    def test_base_image_credentials_and_a_mirror(
        self, engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """FROM a second registry with PLUGIN_BASE_IMAGE_*; FROM a Docker Hub name through a mirror."""
        base = push_base(engine, image, moto_url, registry, tmp_path)
        password = "bpe-second-registry-password"
        try:
            with running_registry(tmp_path / "second", "base-user", password) as second:
                source = f"docker://{registry.host}/{base}:1"
                ecr_login = {registry.host: (registry.username, registry.password)}
                logins = {**ecr_login, second.host: ("base-user", password)}
                skopeo_copy(source, f"docker://{second.host}/library/bpe-base:1", logins)
                skopeo_copy(source, f"docker://{registry.host}/library/bpe-mirror:1", ecr_login)
                ws = workspace(tmp_path, f"FROM {second.host}/library/bpe-base:1\nRUN echo based > /based\n")
                env = kaniko_env(
                    moto_url, registry, "e2e/based",
                    PLUGIN_BASE_IMAGE_REGISTRY=second.host,
                    PLUGIN_BASE_IMAGE_USERNAME="base-user",
                    PLUGIN_BASE_IMAGE_PASSWORD=password,
                )  # fmt: skip
                status, output, _ = run_image(engine, image, ws, env)
                assert status == 0, output[-4000:]
                assert password not in output
                assert registry.tags("e2e/based") == ["1.0.0"]
        except ServiceError as exc:
            pytest.fail(str(exc), pytrace=False)
        mirror_ws = tmp_path / "mirror"
        mirror_ws.mkdir()
        ws = workspace(mirror_ws, "FROM bpe-mirror:1\nRUN echo mirrored > /mirrored\n")
        env = kaniko_env(
            moto_url, registry, "e2e/mirrored",
            PLUGIN_REGISTRY_MIRRORS=registry.host,
            PLUGIN_SKIP_DEFAULT_REGISTRY_FALLBACK="true",
        )  # fmt: skip
        status, output, _ = run_image(engine, image, ws, env)
        assert status == 0, output[-4000:]
        assert registry.tags("e2e/mirrored") == ["1.0.0"]


# -- the same outputs as the docker builder --------------------------------------------------------


class TestOutputs:
    def test_digest_outputs_cache_and_skip(
        self, engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """Digest equal to the registry's in DRONE_OUTPUT, artifact and card; cache repository created and
        hit by the second run; every tag existing: skipped with no executor started."""
        repo = f"e2e/out-{image.label.replace('.', '-')}"
        arg = 'ARG BPE_ARG\nRUN echo "$BPE_ARG" > /arg\n'  # the executor reads the value from its env
        ws = workspace(tmp_path, SCRATCH_BUSYBOX + "RUN echo cached-step > /cached\n" + arg)
        env = kaniko_env(
            moto_url, registry, repo, PLUGIN_TAGS="1.0.0,latest", PLUGIN_ENABLE_CACHE="true",
            PLUGIN_BUILD_ARGS_FROM_ENV="BPE_ARG", BPE_ARG="hello-from-the-env",
            PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE="/drone/out/digests/name",
            PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE="/drone/out/digests/name-tag",
        )  # fmt: skip
        status, output, out = run_image(engine, image, ws, env)
        assert status == 0, output[-4000:]
        files = {name: data for layer in oci(registry).layers(repo, "1.0.0") for name, data in layer.items()}
        assert files["arg"] == b"hello-from-the-env\n"
        digest = registry.digest(repo, "1.0.0")
        assert digest and digest == registry.digest(repo, "latest")
        assert drone_output(out)["digest"] == digest
        artifact = json.loads((out / "artifact.json").read_text())
        assert {i["digest"] for i in artifact["data"]["images"]} == {digest}
        assert digest in (out / "card.json").read_text()
        # the real executor wrote them in the run dir; the plugin moved them here with the outputs
        # (v1.24 and v1.28 write <destination>@<digest>, one line per destination, in the first one too)
        lines = "".join(f"{registry.host}/{repo}:{tag}@{digest}\n" for tag in ("1.0.0", "latest"))
        assert (out / "digests" / "name").read_text() == lines
        assert f"{registry.host}/{repo}:1.0.0@{digest}" in (out / "digests" / "name-tag").read_text()
        names = {r["repositoryName"] for r in ecr_client(moto_url).describe_repositories()["repositories"]}
        assert {repo, f"{repo}-cache"} <= names
        assert registry.tags(f"{repo}-cache")  # kaniko pushed its layer cache there

        again = dict(env, PLUGIN_TAGS="2.0.0")
        status, output, _ = run_image(engine, image, ws, again)
        assert status == 0, output[-4000:]
        assert re.search(r"(Using caching version of cmd|Found cached layer)", output), output[-4000:]

        client = ecr_client(moto_url)
        seeded = {tag: put_image(client, repo, tag, "same") for tag in ("3.0.0", "latest-seeded")}
        skip = dict(env, PLUGIN_TAGS="3.0.0,latest-seeded", PLUGIN_SKIP_PUSH_IF_TAG_EXISTS="true")
        status, output, out = run_image(engine, image, ws, skip)
        assert status == 0, output[-4000:]
        assert "build.skipped" in output
        assert "/kaniko/executor" not in output  # no executor started, not even `executor version`
        assert drone_output(out)["skipped"] == "true"
        assert drone_output(out)["digest"] == seeded["3.0.0"]


class TestTarballAndLayout:
    def test_the_real_executor_writes_them_beside_and_the_plugin_moves_them_in(
        self, engine: Engine, image: KanikoImage, moto_url: str, registry: Registry, tmp_path: Path
    ):
        """PLUGIN_TAR_PATH and PLUGIN_OCI_LAYOUT_PATH with the real executor in the image: written under
        hidden names beside the user's paths, then replacing the previous tarball and layout; the
        layout's manifest is the one the registry holds."""
        repo = f"e2e/layout-{image.label.replace('.', '-')}"
        ws = workspace(tmp_path, SCRATCH_BUSYBOX + "RUN echo layout > /layout\n")
        out = tmp_path / "images"
        (out / "oci").mkdir(parents=True)
        (out / "oci" / "index.json").write_text("previous layout")
        (out / "image.tar").write_bytes(b"previous tarball")
        env = kaniko_env(
            moto_url, registry, repo,
            PLUGIN_TAR_PATH="/drone/images/image.tar", PLUGIN_OCI_LAYOUT_PATH="/drone/images/oci",
        )  # fmt: skip
        status, output, _ = run_image(engine, image, ws, env, "-v", f"{out}:/drone/images")
        assert status == 0, output[-4000:]
        hidden = r"\.(image\.tar|oci)\.build-push-ecr-\S+\.tmp"
        written = dict(re.findall(r"--(tar-path|oci-layout-path)=/drone/images/(\S+)", output))
        assert set(written) == {"tar-path", "oci-layout-path"}, output[-4000:]
        assert all(re.fullmatch(hidden, name) for name in written.values()), written
        with tarfile.open(out / "image.tar") as tar:
            assert "manifest.json" in tar.getnames()
        index = json.loads((out / "oci" / "index.json").read_text())
        digest = registry.digest(repo, "1.0.0")
        assert digest and [m["digest"] for m in index["manifests"]] == [digest]
        assert (out / "oci" / "blobs" / "sha256" / digest.removeprefix("sha256:")).is_file()
        assert sorted(p.name for p in out.iterdir()) == ["image.tar", "oci"]  # nothing hidden left


@pytest.fixture(autouse=True)
def _no_leftover_containers(engine: Engine) -> Iterator[None]:
    yield
    done = engine.docker("ps", "-aq", "--filter", "name=bpe-signal-")
    for cid in done.stdout.split():
        engine.docker("rm", "-f", cid)

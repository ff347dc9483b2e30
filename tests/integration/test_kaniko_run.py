"""The kaniko run path's argv contract, with a stand-in executor on the host.

The real executors must never run on the host (kaniko replaces the root file system with the image
it builds): they run inside the plugin's kaniko image in tests/e2e/test_kaniko_image.py. Here a tiny
stand-in refuses any flag that kaniko does not have (as kaniko does: "Error: unknown flag"), checks
the Docker config it is handed and writes a digest file; the kaniko directory is a temp dir
(KANIKO_DIR). Everything around it is real: moto over HTTP, the ECR work, the outputs.
"""

from __future__ import annotations

import json
import re
import signal
import stat
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import structlog
from dotenv import dotenv_values

from plugin.__main__ import main
from plugin.builders import kaniko as kaniko_module
from plugin.run import build_kaniko as kaniko_run_module
from tests.support.chattr import unreplaceable
from tests.support.moto_server import ACCOUNT, AwsEnv, ecr_client, put_image
from tests.support.reference import reference_file

REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32
FAKE_EXECUTOR = """#!{python}
import json, os, re, sys
allowed = set({flags!r})
args = sys.argv[1:]
if args == ["version"]:
    print("Kaniko version :  v1.24.0")
    sys.exit(0)
for arg in args:
    name = arg.split("=", 1)[0]
    if name not in allowed:
        print(f"Error: unknown flag: {{name}}", file=sys.stderr)
        sys.exit(1)
config = json.load(open(os.path.join(os.environ["DOCKER_CONFIG"], "config.json")))
with open({calls!r}, "a") as log:
    seen = {{"argv": args, "auths": sorted(config["auths"]), "docker_config": os.environ["DOCKER_CONFIG"],
            "cwd": sorted(os.listdir(".")),
            "env": {{k: v for k, v in os.environ.items() if k.startswith("BPE_")}}}}
    log.write(json.dumps(seen) + "\\n")
digest_file = next(a.split("=", 1)[1] for a in args if a.startswith("--digest-file="))
open(digest_file, "w").write({digest!r})
destinations = [a.split("=", 1)[1] for a in args if a.startswith("--destination=")]
for arg in args:  # as v1.24 and v1.28 were seen to (tests/e2e): <destination>@<digest>, one a line
    if arg.startswith(("--image-name-with-digest-file=", "--image-name-tag-with-digest-file=")):
        lines = [d + "@" + {digest!r} for d in destinations]
        open(arg.split("=", 1)[1], "w").write("\\n".join(lines) + "\\n")
for arg in args:  # the tarball and the OCI layout, where the plugin says (a tiny stand-in of each)
    if arg.startswith("--tar-path="):
        import io, tarfile
        with tarfile.open(arg.split("=", 1)[1], "w") as tar:
            data = json.dumps([{{"RepoTags": destinations}}]).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    if arg.startswith("--oci-layout-path="):
        layout = arg.split("=", 1)[1]
        os.makedirs(os.path.join(layout, "blobs", "sha256"))
        open(os.path.join(layout, "oci-layout"), "w").write('{{"imageLayoutVersion": "1.0.0"}}')
        open(os.path.join(layout, "index.json"), "w").write('{{"schemaVersion": 2}}')
if os.environ.get("BPE_SIGNAL_PARENT"):  # the CI runner cancels the step once the files are written
    import signal, time
    os.kill(os.getppid(), signal.SIGTERM)
    time.sleep(10)
print("INFO pushed", flush=True)
"""


def kaniko_flags() -> list[str]:
    text = reference_file("builder-flags.md").read_text()
    table = text.split("## kaniko executor", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| (--[a-zA-Z-]+) \|", table, re.MULTILINE)


@pytest.fixture
def executor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in /kaniko/executor; returns the file where it records each call."""
    calls = tmp_path / "calls.jsonl"
    script = tmp_path / "executor"
    script.write_text(
        FAKE_EXECUTOR.format(python=sys.executable, flags=kaniko_flags(), calls=str(calls), digest=DIGEST)
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(kaniko_module, "EXECUTOR", str(script))
    monkeypatch.setattr(kaniko_run_module, "EXECUTOR", str(script))
    (tmp_path / "kaniko").mkdir()
    monkeypatch.setenv("KANIKO_DIR", str(tmp_path / "kaniko"))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    monkeypatch.chdir(tmp_path)
    return calls


@pytest.fixture(autouse=True)
def restore_process_state() -> Iterator[None]:
    """main() installs signal handlers and configures logging; put both back afterwards."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
    structlog.reset_defaults()


def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> int:
    base = {
        "PLUGIN_BUILDER": "kaniko",
        "PLUGIN_REGISTRY": REGISTRY,
        "PLUGIN_REPO": "team/app",
        "PLUGIN_TAGS": "1.0,latest",
        "PLUGIN_CREATE_REPOSITORY": "true",
        "DRONE_OUTPUT": str(tmp_path / "drone.env"),
        "PLUGIN_ARTIFACT_FILE": str(tmp_path / "artifact.json"),
    }
    for name, value in {**base, **env}.items():
        monkeypatch.setenv(name, value)
    return main(["run"])


class TestKanikoRun:
    """kaniko runs once, with only real kaniko flags and the ECR credentials in its Docker config."""

    def test_build_push_and_outputs(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every flag of a full plan is accepted; the digest file becomes the outputs."""
        status = run(
            monkeypatch,
            tmp_path,
            PLUGIN_ENABLE_CACHE="true",
            PLUGIN_CACHE_TTL="6",
            PLUGIN_SNAPSHOT_MODE="redo",
            PLUGIN_SKIP_TLS_VERIFY_REGISTRY="true",
            PLUGIN_IGNORE_VAR_RUN="false",
            PLUGIN_CUSTOM_LABELS="a=b",
            PLUGIN_BUILD_ARGS="X=1",
        )
        assert status == 0
        calls = [json.loads(line) for line in executor.read_text().splitlines()]
        assert len(calls) == 1
        assert calls[0]["auths"] == [REGISTRY]
        assert f"--destination={REGISTRY}/team/app:1.0" in calls[0]["argv"]
        assert f"--cache-repo={REGISTRY}/team/app-cache" in calls[0]["argv"]
        assert dotenv_values(tmp_path / "drone.env")["digest"] == DIGEST
        artifact = json.loads((tmp_path / "artifact.json").read_text())
        assert {i["image"] for i in artifact["data"]["images"]} == {
            f"{REGISTRY}/team/app:1.0",
            f"{REGISTRY}/team/app:latest",
        }
        assert {i["digest"] for i in artifact["data"]["images"]} == {DIGEST}
        repos = {r["repositoryName"] for r in ecr_client().describe_repositories()["repositories"]}
        assert repos == {"team/app", "team/app-cache"}

    def test_immutable_tags_that_exist_skip_kaniko(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every tag already on one image in an immutable repository: kaniko never starts; outputs still."""
        ecr = ecr_client()
        ecr.create_repository(repositoryName="team/app", imageTagMutability="IMMUTABLE")
        digest = put_image(ecr, "team/app", "1.0", "same")
        ecr.put_image(
            repositoryName="team/app",
            imageManifest=ecr.batch_get_image(repositoryName="team/app", imageIds=[{"imageTag": "1.0"}])[
                "images"
            ][0]["imageManifest"],
            imageTag="latest",
            imageDigest=digest,
        )
        assert run(monkeypatch, tmp_path, PLUGIN_SKIP_PUSH_IF_TAG_EXISTS="true") == 0
        assert not executor.exists()
        values = dotenv_values(tmp_path / "drone.env")
        assert (values["digest"], values["skipped"]) == (digest, "true")

    def test_kaniko_failure_is_the_exit_status(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A kaniko failure (here: a flag it refuses) is the plugin's exit status; no outputs are written."""
        monkeypatch.setattr(kaniko_module, "flag_argv", lambda *_a, **_k: ["--no-such-kaniko-flag"])
        assert run(monkeypatch, tmp_path) == 1
        assert not (tmp_path / "drone.env").exists()
        assert not (tmp_path / "artifact.json").exists()


class TestKanikoDigestFiles:
    """PLUGIN_IMAGE_NAME(_TAG)_WITH_DIGEST_FILE: kaniko writes them in the run directory; they reach the
    user's paths with the other outputs, only when the whole run succeeded."""

    NAMES: ClassVar[dict[str, str]] = {
        "PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE": "kept/name-digest",
        "PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE": "kept/name-tag-digest",
    }

    def settings(self, tmp_path: Path) -> dict[str, str]:
        (tmp_path / "kept").mkdir()
        for name in self.NAMES.values():
            (tmp_path / name).write_text("from the previous run\n")
        return {variable: str(tmp_path / name) for variable, name in self.NAMES.items()}

    def test_written_to_the_users_paths_after_the_run(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert run(monkeypatch, tmp_path, **self.settings(tmp_path)) == 0
        argv = json.loads(executor.read_text().splitlines()[0])["argv"]
        kaniko_dir = tmp_path / "kaniko"
        assert any(a.startswith(f"--image-name-with-digest-file={kaniko_dir}/") for a in argv)
        lines = f"{REGISTRY}/team/app:1.0@{DIGEST}\n{REGISTRY}/team/app:latest@{DIGEST}\n"
        assert (tmp_path / "kept/name-digest").read_text() == lines
        assert (tmp_path / "kept/name-tag-digest").read_text() == lines
        assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["name-digest", "name-tag-digest"]

    def test_a_failed_run_leaves_the_previous_files(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """kaniko succeeded and wrote its files; DRONE_OUTPUT cannot be replaced (an immutable file,
        which stops root too): exit 1, and the digest files are those of the previous run."""
        settings = self.settings(tmp_path)
        drone_output = tmp_path / "out" / "drone.env"
        with unreplaceable(drone_output, "KEPT=1\n"):
            status = run(monkeypatch, tmp_path, DRONE_OUTPUT=str(drone_output), **settings)
        assert status == 1
        assert drone_output.read_text() == "KEPT=1\n"
        assert executor.exists()  # kaniko ran
        for name in self.NAMES.values():
            assert (tmp_path / name).read_text() == "from the previous run\n"
        assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["name-digest", "name-tag-digest"]
        assert not (tmp_path / "artifact.json").exists()


class TestKanikoTarballAndLayout:
    """PLUGIN_TAR_PATH and PLUGIN_OCI_LAYOUT_PATH: kaniko writes them under hidden temporary names beside
    the user's paths; they replace the old ones with the other outputs, only when the whole run succeeded."""

    OLD_TAR = b"the previous tarball\n" * 100

    def previous(self, tmp_path: Path) -> dict[str, str]:
        (tmp_path / "images" / "oci" / "blobs").mkdir(parents=True)
        (tmp_path / "images" / "oci" / "index.json").write_text("previous layout")
        (tmp_path / "images" / "image.tar").write_bytes(self.OLD_TAR)
        return {
            "PLUGIN_TAR_PATH": str(tmp_path / "images" / "image.tar"),
            "PLUGIN_OCI_LAYOUT_PATH": str(tmp_path / "images" / "oci"),
        }

    @staticmethod
    def written_to(executor: Path) -> dict[str, str]:
        argv = json.loads(executor.read_text().splitlines()[0])["argv"]
        return dict(a[2:].split("=", 1) for a in argv if a.startswith(("--tar-path=", "--oci-layout-path=")))

    def test_moved_into_place_after_the_run(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        paths = self.previous(tmp_path)
        assert run(monkeypatch, tmp_path, **paths) == 0
        written = self.written_to(executor)
        assert re.fullmatch(r"\.image\.tar\.build-push-ecr-\w+\.tmp", Path(written["tar-path"]).name)
        assert re.fullmatch(r"\.oci\.build-push-ecr-\w+\.tmp", Path(written["oci-layout-path"]).name)
        assert {Path(w).parent for w in written.values()} == {tmp_path / "images"}
        with tarfile.open(paths["PLUGIN_TAR_PATH"]) as tar:
            assert tar.getnames() == ["manifest.json"]
        layout = Path(paths["PLUGIN_OCI_LAYOUT_PATH"])
        assert sorted(p.name for p in layout.iterdir()) == ["blobs", "index.json", "oci-layout"]
        assert (layout / "index.json").read_text() == '{"schemaVersion": 2}'
        assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["image.tar", "oci"]
        assert dotenv_values(tmp_path / "drone.env")["IMAGE_TAR_PATH"] == paths["PLUGIN_TAR_PATH"]

    def test_a_failed_run_leaves_the_previous_ones(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """kaniko wrote both; DRONE_OUTPUT cannot be replaced (an immutable file): exit 1, the old
        tarball byte for byte, the old layout as it was, no temporary name left."""
        paths = self.previous(tmp_path)
        drone_output = tmp_path / "out" / "drone.env"
        with unreplaceable(drone_output, "KEPT=1\n"):
            status = run(monkeypatch, tmp_path, DRONE_OUTPUT=str(drone_output), **paths)
        assert status == 1
        assert all(a.startswith(str(tmp_path / "images" / ".")) for a in self.written_to(executor).values())
        assert Path(paths["PLUGIN_TAR_PATH"]).read_bytes() == self.OLD_TAR
        layout = Path(paths["PLUGIN_OCI_LAYOUT_PATH"])
        assert sorted(p.name for p in layout.iterdir()) == ["blobs", "index.json"]
        assert (layout / "index.json").read_text() == "previous layout"
        assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["image.tar", "oci"]

    def test_a_signal_after_kaniko_wrote_them_removes_them(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SIGTERM (the runner cancels the step) once kaniko wrote both: 143, the old ones untouched."""
        paths = self.previous(tmp_path)
        status = run(monkeypatch, tmp_path, BPE_SIGNAL_PARENT="1", **paths)
        assert status == 128 + signal.SIGTERM
        assert all(Path(a).parent == tmp_path / "images" for a in self.written_to(executor).values())
        assert Path(paths["PLUGIN_TAR_PATH"]).read_bytes() == self.OLD_TAR
        assert (Path(paths["PLUGIN_OCI_LAYOUT_PATH"]) / "index.json").read_text() == "previous layout"
        assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["image.tar", "oci"]
        assert not (tmp_path / "drone.env").exists()


class TestKanikoRunFiles:
    """Every file of the run is below the kaniko directory, gone afterwards; the workspace is untouched."""

    def test_run_dir_is_under_the_kaniko_dir_and_removed(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        before = sorted(p.name for p in tmp_path.iterdir())
        assert run(monkeypatch, tmp_path) == 0
        [call] = [json.loads(line) for line in executor.read_text().splitlines()]
        kaniko_dir = tmp_path / "kaniko"
        config = Path(call["docker_config"])
        assert config.parent.parent == kaniko_dir and config.parent.name.startswith("build-push-ecr-")
        digest_file = next(a.split("=", 1)[1] for a in call["argv"] if a.startswith("--digest-file="))
        assert Path(digest_file).parent == config.parent
        assert list(kaniko_dir.iterdir()) == []  # removed at the end
        # nothing of the plugin in the workspace while kaniko ran (calls.jsonl is the stand-in's own)
        assert [name for name in call["cwd"] if name != "calls.jsonl"] == before
        after = {p.name for p in tmp_path.iterdir()} - {"calls.jsonl", "drone.env", "artifact.json"}
        assert after == set(before)

    def test_build_arg_values_reach_the_executor_by_env_only(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        value = "bpe-build-arg-sentinel-value"
        assert run(monkeypatch, tmp_path, PLUGIN_BUILD_ARGS_FROM_ENV="BPE_TOKEN", BPE_TOKEN=value) == 0
        [call] = [json.loads(line) for line in executor.read_text().splitlines()]
        assert "--build-arg=BPE_TOKEN" in call["argv"]
        assert not [a for a in call["argv"] if value in a]
        assert call["env"]["BPE_TOKEN"] == value

    def test_no_push_still_logs_in_to_the_registry(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A PR build (no push) gets a read token for its registry: a private FROM there pulls."""
        assert run(monkeypatch, tmp_path, PLUGIN_NO_PUSH="true") == 0
        [call] = [json.loads(line) for line in executor.read_text().splitlines()]
        assert call["auths"] == [REGISTRY]
        assert not [a for a in call["argv"] if a.startswith("--destination")]
        assert ecr_client().describe_repositories()["repositories"] == []  # nothing created


class TestKanikoVersions:
    """Settings an older executor lacks are refused before any AWS call or process (exit 2)."""

    def test_build_secrets_on_v1_24_are_refused_naming_setting_and_version(
        self,
        aws_env: AwsEnv,
        executor: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        status = run(
            monkeypatch,
            tmp_path,
            KANIKO_VERSION="v1.24.0",
            PLUGIN_SECRETS_FROM_ENV="token=BPE_SECRET",
            PLUGIN_IMAGE_FORMAT="oci",
            BPE_SECRET="x" * 12,
        )
        assert status == 2
        err = capsys.readouterr().err
        assert (
            "PLUGIN_SECRETS_FROM_ENV: needs kaniko 1.28.0 or newer (--secret); this kaniko is v1.24.0" in err
        )
        assert "PLUGIN_IMAGE_FORMAT: needs kaniko 1.28.0 or newer (--image-format)" in err
        assert not executor.exists()
        assert ecr_client().describe_repositories()["repositories"] == []

    def test_the_version_is_asked_of_the_executor_when_not_given(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No KANIKO_VERSION: `executor version` answers (the stand-in says v1.24.0) and decides."""
        assert run(monkeypatch, tmp_path, PLUGIN_ANNOTATIONS="a=b") == 2
        assert not executor.exists()

    def test_a_new_enough_executor_gets_the_flags(
        self, aws_env: AwsEnv, executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        status = run(
            monkeypatch,
            tmp_path,
            KANIKO_VERSION="v1.28.3-23-g6bcc93443",
            PLUGIN_SECRETS_FROM_ENV="token=BPE_SECRET",
            PLUGIN_ANNOTATIONS="team=core",
            BPE_SECRET="x" * 12,
        )
        assert status == 0
        [call] = [json.loads(line) for line in executor.read_text().splitlines()]
        assert "--secret=id=token,env=BPE_SECRET,type=env" in call["argv"]
        assert "--annotation=team=core" in call["argv"]

"""Local inputs are checked before any network call and by `plan`: bad content is exit 2, never 70.

Each check is driven through the real loading path (settings → resolve → check_inputs), and the
command line through ``main()``, in a workspace of real files.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from plugin.__main__ import main
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, Problem
from plugin.run.inputs import check_inputs
from plugin.run.resolve import resolve

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BASE = {
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0",
    "PLUGIN_BUILDER": "docker",
}
NOT_UTF8 = b"\xff\xfe\x00bad"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace with a Dockerfile; the tests run in it."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


@contextlib.contextmanager
def inside(folder: Path, env: dict[str, str]) -> Iterator[None]:
    with contextlib.chdir(folder), mock.patch.dict(os.environ, env):
        yield


def problems(ws: Path, **env: str) -> list[Problem]:
    """The problems check_inputs reports for BASE + ``env`` in ``ws`` ([] when it passes)."""
    with inside(ws, {}):
        try:
            check_inputs(resolve(load_settings({**BASE, **env}), ws))
        except ConfigError as exc:
            return exc.problems
    return []


def plan_status(ws: Path, **env: str) -> tuple[int, str]:
    """``python -m plugin plan`` in-process: its exit status and what it wrote to stderr."""
    err = io.StringIO()
    with (
        inside(ws, {**BASE, **env}),
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        status = main(["plan"])
    return status, err.getvalue()


def write(folder: Path, name: str, data: bytes | str) -> str:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


class TestPlanRefuses:
    """The issue's cases: `plan` used to exit 0 with these."""

    def test_invalid_inline_lifecycle_policy(self, ws):
        status, err = plan_status(ws, PLUGIN_LIFECYCLE_POLICY='{"rules": [}')
        assert status == 2
        assert (
            "PLUGIN_LIFECYCLE_POLICY: valid JSON (the inline policy: Expecting value at line 1 column 12)"
            in err
        )

    def test_plugin_config_that_is_a_list(self, ws):
        status, err = plan_status(ws, PLUGIN_CONFIG="[1]")
        assert status == 2
        assert "PLUGIN_CONFIG: a JSON object (inline JSON holds a list)" in err
        assert "No such file" not in err

    @pytest.mark.parametrize(
        ("variable", "name"),
        [
            ("PLUGIN_LIFECYCLE_POLICY", "policy.json"),
            ("PLUGIN_REPOSITORY_POLICY", "policy.json"),
            ("PLUGIN_CONFIG", "config.json"),
            ("PLUGIN_ENV_FILE", "plugin.env"),
            ("HARNESS_CA_PATH", "ca.pem"),
        ],
    )
    def test_files_that_are_not_utf_8_are_exit_2(self, ws, variable, name):
        status, err = plan_status(ws, **{variable: write(ws, name, NOT_UTF8)})
        assert status == 2, err
        assert variable in err
        assert "Traceback" not in err and "plugin.bug" not in err

    def test_tags_file_that_is_not_utf_8(self, ws):
        write(ws, ".tags", NOT_UTF8)
        env = {k: v for k, v in BASE.items() if k != "PLUGIN_TAGS"}
        err = io.StringIO()
        with inside(ws, env), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main(["plan"]) == 2
        assert f"{ws}/.tags: a readable tags file (not UTF-8 text: byte 0 is invalid)" in err.getvalue()

    def test_docker_config_that_is_not_utf_8(self, ws):
        folder = ws / "dockercfg"
        folder.mkdir()
        write(folder, "config.json", NOT_UTF8)
        status, err = plan_status(ws, DOCKER_CONFIG=str(folder))
        assert status == 2
        assert f"DOCKER_CONFIG='{folder}/config.json': a readable Docker config file (not UTF-8" in err

    def test_missing_dockerfile(self, ws):
        (ws / "Dockerfile").unlink()
        status, err = plan_status(ws)
        assert status == 2
        assert (
            f"PLUGIN_DOCKERFILE='Dockerfile': an existing file (dockerfile does not exist at path: {ws}"
            in err
        )


class TestChecks:
    def test_a_good_workspace_passes(self, ws):
        assert problems(ws) == []

    def test_every_bad_input_is_named_at_once(self, ws):
        bad = write(ws, "bad.json", "[]")
        found = problems(
            ws,
            PLUGIN_LIFECYCLE_POLICY=bad,
            PLUGIN_REPOSITORY_POLICY=str(ws / "absent.json"),
            PLUGIN_CONFIG="{",
            PLUGIN_CONTEXT=str(ws / "nowhere"),
        )
        assert found == [
            Problem("PLUGIN_LIFECYCLE_POLICY", bad, f"a JSON policy object (file {bad!r} holds a list)"),
            Problem(
                "PLUGIN_REPOSITORY_POLICY",
                str(ws / "absent.json"),
                "a JSON policy file (No such file or directory)",
            ),
            Problem(
                "PLUGIN_CONFIG",
                None,
                "valid JSON (inline JSON: Expecting property name enclosed in double "
                "quotes at line 1 column 2)",
            ),
            Problem("PLUGIN_CONTEXT", str(ws / "nowhere"), "the build context directory (does not exist)"),
        ]

    @pytest.mark.parametrize("target", ["/dev/zero", "fifo", "dir"], ids=["device", "fifo", "directory"])
    def test_policies_are_read_from_regular_files_only(self, ws, target):
        """A device or a FIFO would hang the plugin or fill its memory: refused without reading."""
        path = target
        if target == "fifo":
            path = str(ws / "fifo")
            os.mkfifo(path)
        elif target == "dir":
            path = str(ws)
        reason = "Is a directory" if target == "dir" else "not a regular file"
        assert problems(ws, PLUGIN_LIFECYCLE_POLICY=path) == [
            Problem("PLUGIN_LIFECYCLE_POLICY", path, f"a JSON policy file ({reason})")
        ]

    def test_oversized_policy_file(self, ws):
        path = write(ws, "big.json", b" " * (1 << 20) + b"{}")
        assert problems(ws, PLUGIN_LIFECYCLE_POLICY=path) == [
            Problem("PLUGIN_LIFECYCLE_POLICY", path, f"a JSON policy file (larger than {1 << 20} bytes)")
        ]

    def test_dockerfile_inside_the_context_is_found(self, ws):
        (ws / "Dockerfile").unlink()
        (ws / "app").mkdir()
        (ws / "app" / "Dockerfile").write_text("FROM scratch\n")
        assert problems(ws, PLUGIN_CONTEXT=str(ws / "app")) == []

    def test_remote_context_is_not_checked(self, ws):
        assert problems(ws, PLUGIN_CONTEXT="https://github.com/o/r.git#main", PLUGIN_DOCKERFILE="x") == []

    def test_ssh_key_must_be_the_key_itself(self, ws):
        path = write(
            ws, "id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
        )
        assert problems(ws, PLUGIN_SSH_AGENT_KEY=(ws / "id_ed25519").read_text()) == []
        assert problems(ws, PLUGIN_SSH_AGENT_KEY=path) == [
            Problem(
                "PLUGIN_SSH_AGENT_KEY",
                "***",
                "a private key (-----BEGIN ... PRIVATE KEY-----); it names a file: pass the key's content",
            )
        ]

    def test_build_secret_files_and_variables(self, ws):
        good = write(ws, "token", "t0ken")
        found = problems(
            ws,
            PLUGIN_SECRETS_FROM_FILE=f"ok={good},gone={ws}/gone",
            PLUGIN_SECRET=f"id=npm,src={ws}",
            PLUGIN_SECRETS_FROM_ENV="a=SET_ONE,b=UNSET_ONE",
            SET_ONE="x",
        )
        assert found == [
            Problem(
                "PLUGIN_SECRETS_FROM_FILE", f"{ws}/gone", "a readable secret file (No such file or directory)"
            ),
            Problem("PLUGIN_SECRET", str(ws), "a readable secret file (Is a directory)"),
            Problem("PLUGIN_SECRETS_FROM_ENV", "b=UNSET_ONE", "the variable UNSET_ONE to be set"),
        ]

    def test_kaniko_push_only_tarball_is_checked_before_the_push(self, ws):
        path = write(ws, "image.tar", b"not a tarball")
        found = problems(ws, PLUGIN_BUILDER="kaniko", PLUGIN_PUSH_ONLY="true", PLUGIN_SOURCE_TAR_PATH=path)
        assert [p.variable for p in found] == ["PLUGIN_SOURCE_TAR_PATH"]
        assert found[0].expected.startswith("a readable image tarball (")

    def test_tarball_with_a_manifest_naming_missing_layers(self, ws):
        path = ws / "image.tar"
        with tarfile.open(path, "w") as tar:
            data = json.dumps([{"Config": "c.json", "Layers": ["l.tar"]}]).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        found = problems(
            ws, PLUGIN_BUILDER="kaniko", PLUGIN_PUSH_ONLY="true", PLUGIN_SOURCE_TAR_PATH=str(path)
        )
        assert found == [
            Problem("PLUGIN_SOURCE_TAR_PATH", None, "an image tarball; 'c.json' is missing in it")
        ]

    def test_output_places(self, ws):
        (ws / "file").write_text("")
        found = problems(
            ws,
            DRONE_OUTPUT=str(ws),
            PLUGIN_ARTIFACT_FILE=f"{ws}/file/artifact.json",
            DRONE_CARD_PATH=f"{ws}/out.json",
            PLUGIN_TAR_PATH=f"{ws}/out.json",
        )
        assert found == [
            Problem("DRONE_OUTPUT", str(ws), "a file path (it is a directory)"),
            Problem(
                "PLUGIN_ARTIFACT_FILE",
                f"{ws}/file/artifact.json",
                f"a file path ({ws}/file is not a directory)",
            ),
            Problem("PLUGIN_TAR_PATH", f"{ws}/out.json", "a file of its own (DRONE_CARD_PATH names it too)"),
        ]

    @pytest.mark.parametrize(
        ("builder", "variable"),
        [
            ("buildx", "PLUGIN_METADATA_FILE"),
            ("buildx", "PLUGIN_CACHE_METRICS_FILE"),
            ("kaniko", "PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE"),
            ("kaniko", "PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE"),
        ],
    )
    def test_the_files_a_build_makes_are_outputs_too(self, ws, builder, variable):
        """Staged with DRONE_OUTPUT, so checked like it before any AWS call: not a directory, not shared."""
        (ws / "kaniko").mkdir()
        env = {"PLUGIN_BUILDER": builder, "KANIKO_DIR": str(ws / "kaniko")}
        assert problems(ws, **env, **{variable: str(ws)}) == [
            Problem(variable, str(ws), "a file path (it is a directory)")
        ]
        shared = {variable: f"{ws}/out.json", "PLUGIN_ARTIFACT_FILE": f"{ws}/out.json"}
        assert problems(ws, **env, **shared) == [
            Problem(variable, f"{ws}/out.json", "a file of its own (PLUGIN_ARTIFACT_FILE names it too)")
        ]

    CANNOT_CARRY = (
        "a path DRONE_OUTPUT can carry as IMAGE_TAR_PATH: no backslash or carriage return, "
        "and no ' together with \" or $ (rename the tarball, e.g. image.tar)"
    )

    @pytest.mark.parametrize("name", ["it's $x.tar", 'it\'s "x".tar', "back\\slash.tar", "cr\r.tar"])
    def test_a_tar_path_drone_output_cannot_carry(self, ws, name):
        """The message states the whole rule: a backslash alone is refused too (no ' needed)."""
        path = f"{ws}/{name}"
        assert problems(ws, PLUGIN_TAR_PATH=path, DRONE_OUTPUT=f"{ws}/out.env") == [
            Problem("PLUGIN_TAR_PATH", path, self.CANNOT_CARRY)
        ]

    @pytest.mark.parametrize("name", ["it's.tar", 'say "hi" $HOME.tar', "new\nline.tar"])
    def test_a_tar_path_drone_output_can_carry(self, ws, name):
        assert problems(ws, PLUGIN_TAR_PATH=f"{ws}/{name}", DRONE_OUTPUT=f"{ws}/out.env") == []

    def test_any_tar_path_without_drone_output(self, ws):
        """The path goes nowhere but the artifact file (JSON): nothing to refuse."""
        assert problems(ws, PLUGIN_TAR_PATH=f"{ws}/it's $x\\.tar") == []

    def test_auto_tag_skip_reads_nothing(self, ws):
        """On a branch that auto-tag skips, nothing is built: a bad policy does not fail the step."""
        env = {k: v for k, v in BASE.items() if k != "PLUGIN_TAGS"}
        err = io.StringIO()
        skip = {
            **env,
            "PLUGIN_AUTO_TAG": "true",
            "DRONE_COMMIT_REF": "refs/heads/feature",
            "DRONE_REPO_BRANCH": "main",
            "PLUGIN_LIFECYCLE_POLICY": "{",
        }
        with inside(ws, skip), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main(["plan"]) == 0

    def test_outputs_to_a_device_only_for_the_card(self, ws):
        """The card may go to /dev/null; DRONE_OUTPUT and the artifact file must be files."""
        assert problems(ws, DRONE_CARD_PATH="/dev/null") == []
        assert problems(ws, DRONE_OUTPUT="/dev/null") == [
            Problem("DRONE_OUTPUT", "/dev/null", "a regular file path (it is a device, socket or FIFO)")
        ]

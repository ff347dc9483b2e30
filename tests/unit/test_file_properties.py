"""Property tests from variables to files: whatever bytes a file a setting names holds, `plan` exits 0 or 2.

Every file the plugin reads (or checks) before any network call gets random bytes, truncated or
mutated valid content, or valid content; ``main(["plan"])`` runs in-process in a workspace. Exit 70
(a traceback) or anything but 0 and 2 fails the property.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.__main__ import main
from tests.support.certs import make_ca

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BASE = {
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0",
    "PLUGIN_BUILDER": "docker",
}


def _image_tarball() -> bytes:
    """A small valid docker-save tarball (one empty layer)."""
    out = io.BytesIO()
    members = {
        "manifest.json": json.dumps([{"Config": "c.json", "Layers": ["l/layer.tar"]}]).encode(),
        "c.json": b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}',
        "l/layer.tar": b"\0" * 1024,
    }
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


with tempfile.TemporaryDirectory() as _folder:
    CA_PEM = make_ca(Path(_folder)).ca_pem.read_bytes()
TARBALL = _image_tarball()


@dataclass(frozen=True)
class FileSetting:
    """How a setting names a file: the env that points at ``path``, and valid content to mutate."""

    name: str
    env: Callable[[Path], dict[str, str]]
    valid: bytes


def _docker_config(path: Path) -> dict[str, str]:
    return {"DOCKER_CONFIG": str(path.parent)}


def _no_tags(path: Path) -> dict[str, str]:
    return {"PLUGIN_TAGS": ""}


SETTINGS = [
    FileSetting("env-file", lambda p: {"PLUGIN_ENV_FILE": str(p)}, b"PLUGIN_TARGET=x\nexport A='b c'\n"),
    FileSetting("lifecycle", lambda p: {"PLUGIN_LIFECYCLE_POLICY": str(p)}, b'{"rules": []}'),
    FileSetting("repository-policy", lambda p: {"PLUGIN_REPOSITORY_POLICY": str(p)}, b'{"Version": "x"}'),
    FileSetting("plugin-config", lambda p: {"PLUGIN_CONFIG": str(p)}, b'{"auths": {}}'),
    FileSetting("docker-config", _docker_config, b'{"auths": {"r": {"auth": "dTpw"}}}'),
    FileSetting("tags", _no_tags, b"1.0,latest\n2.0\n"),
    FileSetting("ca", lambda p: {"HARNESS_CA_PATH": str(p)}, CA_PEM),
    FileSetting("secret-file", lambda p: {"PLUGIN_SECRETS_FROM_FILE": f"npm={p}"}, b"token"),
    FileSetting("secret-spec", lambda p: {"PLUGIN_SECRET": f"id=npm,src={p}"}, b"token"),
    FileSetting(
        "kaniko-tarball",
        lambda p: {"PLUGIN_BUILDER": "kaniko", "PLUGIN_PUSH_ONLY": "true", "PLUGIN_SOURCE_TAR_PATH": str(p)},
        TARBALL,
    ),
    FileSetting(
        "docker-tarball", lambda p: {"PLUGIN_PUSH_ONLY": "true", "PLUGIN_SOURCE_TAR_PATH": str(p)}, TARBALL
    ),
    FileSetting(
        "buildkitd-config",
        lambda p: {"PLUGIN_BUILDER": "buildx", "PLUGIN_BUILDER_CONFIG": str(p)},
        b'debug = true\n[registry."docker.io"]\n',
    ),
    FileSetting("dockerfile", lambda p: {"PLUGIN_DOCKERFILE": str(p)}, b"FROM scratch\n"),
    FileSetting("drone-output", lambda p: {"DRONE_OUTPUT": str(p)}, b"A=1\n"),
]
FILE_NAMES = {"docker-config": "config.json", "tags": ".tags"}


@st.composite
def contents(draw: st.DrawFn, valid: bytes) -> bytes:
    """Random bytes, valid content cut short or with bytes flipped, or the valid content itself."""
    kind = draw(st.sampled_from(["random", "truncated", "flipped", "valid"]))
    if kind == "random":
        return draw(st.binary(max_size=600))
    if kind == "valid" or not valid:
        return valid
    if kind == "truncated":
        return valid[: draw(st.integers(0, len(valid)))]
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def cases(draw: st.DrawFn) -> tuple[FileSetting, bytes]:
    setting = draw(st.sampled_from(SETTINGS))
    return setting, draw(contents(setting.valid))


def plan_in_workspace(setting: FileSetting, data: bytes) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        ws = Path(folder)
        (ws / "Dockerfile").write_text("FROM scratch\n")
        path = ws / "named" / FILE_NAMES.get(setting.name, "file")
        path.parent.mkdir()
        path.write_bytes(data)
        env = {**BASE, **setting.env(path)}
        env = {k: v for k, v in env.items() if v}
        err = io.StringIO()
        with (
            contextlib.chdir(path.parent if setting.name == "tags" else ws),
            mock.patch.dict(os.environ, env),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(err),
        ):
            if setting.name == "tags":
                (path.parent / "Dockerfile").write_text("FROM scratch\n")
                os.environ.pop("PLUGIN_TAGS", None)
            status = main(["plan"])
        return status, err.getvalue()


class TestFilesGiveExit0Or2:
    @settings(
        max_examples=500,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(cases())
    def test_plan_exits_0_or_2(self, case: tuple[FileSetting, bytes]):
        setting, data = case
        status, err = plan_in_workspace(setting, data)
        assert status in (0, 2), f"{setting.name}: exit {status}\n{err}"
        assert "Traceback" not in err and "plugin.bug" not in err
        if status == 2:
            assert "invalid configuration" in err

    def test_every_setting_accepts_its_valid_content(self):
        """The property is not vacuous: each valid file plans (exit 0)."""
        for setting in SETTINGS:
            status, err = plan_in_workspace(setting, setting.valid)
            assert status == 0, f"{setting.name}: {err}"

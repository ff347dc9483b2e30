"""A real BuildKit for buildx's docker-container driver, and the buildx CLI plugin, without a registry.

- ``buildx_plugin_dir()``: Debian trixie's ``docker-buildx`` (the binary the plugin image ships),
  taken from the ``.deb`` in the host's Debian mirror pool (sha256-pinned) and extracted with
  ``dpkg-deb`` (tests/support/debs.py); trixie is never added to the host's apt sources. The docker
  CLI finds it through a Docker config directory's ``cli-plugins/`` (``buildx_config_dir``).
- ``buildkit_tar()``: the minimal BuildKit image of ``<checkout>/../shared/tools/buildkit/README.md``
  (static buildkitd/buildctl v0.32.2, the host's runc and its libraries, CA bundle, working dirs),
  written directly in ``docker save`` format (one layer, fixed timestamps: the same bytes every time),
  so no engine or base image is needed to make it. ``docker load`` takes it; so does the plugin from
  PLUGIN_BUILDKIT_ASSETS_DIR (``buildkit_assets_dir``, with buildx-ecr's ``version.json``).
- ``RUNC_DROPCAP``: the test-only runtime wrapper. buildx starts the BuildKit container privileged,
  which these VMs refuse (one capability is withheld); a dockerd with the wrapper as its default
  runtime drops that capability from the container spec. Real runners do not need it.

Everything is cached under ``.work/buildkit/`` (gitignored). A missing part fails in CI, skips elsewhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from tests.support.debs import DebFile, file_from_deb, missing, sha256_file

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "tools" / "buildkit"
RUNC_DROPCAP = SHARED / "runc-dropcap"
WORK = ROOT / ".work" / "buildkit"
BUILDKIT_VERSION = "v0.32.2"
BUILDKIT_IMAGE = f"local/buildkit:{BUILDKIT_VERSION}"
BUILDKIT_SHA256 = {
    "buildkitd": "9f91b23c08549803ed3d830efdae610aa51398baed5f0129f243e2b6c3d41d5b",
    "buildctl": "d6522fab310d8420ab2a467d73869f4657a759767fe284ede93069004b968119",
}
RUNC = Path("/usr/sbin/runc")
BUILDX_DEB = DebFile(
    "pool/main/d/docker-buildx/docker-buildx_0.13.1+ds1-3_amd64.deb",
    "fcf8c48204d1603c8f209451d7827eb91bf30759578baf7704e9e1a87e5f1d7f",
    "usr/libexec/docker/cli-plugins/docker-buildx",
)
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_EPOCH = 0


# -- buildx ------------------------------------------------------------------------------------------


def buildx_plugin_dir() -> Path:
    """A directory holding ``docker-buildx`` (0.13.1, Debian trixie's), fetched and extracted once."""
    target = WORK / "cli-plugins"
    file_from_deb(BUILDX_DEB, WORK, target / "docker-buildx")
    return target


def buildx_config_dir(base: Path) -> Path:
    """A user Docker config directory (``config.json`` + ``cli-plugins/docker-buildx``) for DOCKER_CONFIG."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "config.json").write_text("{}\n")
    plugins = base / "cli-plugins"
    plugins.mkdir(exist_ok=True)
    link = plugins / "docker-buildx"
    if not link.exists():
        link.symlink_to(buildx_plugin_dir() / "docker-buildx")
    return base


# -- the BuildKit image --------------------------------------------------------------------------------


def _runc_libraries() -> list[Path]:
    """The shared libraries runc loads (ldd), including the dynamic loader."""
    done = subprocess.run(["ldd", str(RUNC)], capture_output=True, text=True, check=True)
    found = re.findall(r"(?:=>\s*)?(/\S+)\s+\(0x", done.stdout)
    return [Path(p) for p in dict.fromkeys(found)]


def _add(tar: tarfile.TarFile, name: str, data: bytes | None = None, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.mode = _EPOCH, 0, 0, mode
    if data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        return
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _layer() -> bytes:
    """The image's one layer: the README's layout, deterministic."""
    files: dict[str, tuple[bytes, int]] = {}
    for name in ("buildkitd", "buildctl"):
        data = gzip.decompress((SHARED / f"{name}.gz").read_bytes())
        if hashlib.sha256(data).hexdigest() != BUILDKIT_SHA256[name]:
            missing(f"{SHARED / name}.gz does not unpack to the sha256 its README lists")
        files[f"usr/bin/{name}"] = (data, 0o755)
    files["usr/bin/runc"] = (RUNC.read_bytes(), 0o755)
    for lib in _runc_libraries():
        files[str(lib).lstrip("/")] = (lib.resolve().read_bytes(), 0o755)
    files["etc/ssl/certs/ca-certificates.crt"] = (
        Path("/etc/ssl/certs/ca-certificates.crt").read_bytes(),
        0o644,
    )
    files["etc/passwd"] = (b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
    files["etc/group"] = (b"root:x:0:\n", 0o644)
    dirs = {
        "tmp": 0o1777,
        "run": 0o755,
        "var/lib/buildkit": 0o755,
        "etc/buildkit/cdi": 0o755,
        "etc/cdi": 0o755,
        "var/run/cdi": 0o755,
    }
    for name in files:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.setdefault("/".join(parts[:i]), 0o755)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(dirs):
            _add(tar, f"{name}/", None, dirs[name])
        for name in sorted(files):
            data, mode = files[name]
            _add(tar, name, data, mode)
    return out.getvalue()


def _inputs_key() -> str:
    digest = hashlib.sha256()
    for path in (SHARED / "buildkitd.gz", SHARED / "buildctl.gz", RUNC, Path(__file__)):
        digest.update(path.read_bytes() if path.stat().st_size < (1 << 22) else sha256_file(path).encode())
    return digest.hexdigest()[:16]


def buildkit_tar() -> Path:
    """``docker save`` tarball of BUILDKIT_IMAGE (cached under .work/buildkit by its inputs' hash)."""
    for part in (SHARED / "buildkitd.gz", SHARED / "buildctl.gz", RUNC_DROPCAP):
        if not part.is_file():
            missing(f"{part} is missing (the shared BuildKit tools sit beside the checkout)")
    if not RUNC.is_file() or shutil.which("ldd") is None:
        missing(f"{RUNC} and ldd are needed for the BuildKit image (scripts/install-deps.sh)")
    target = WORK / f"buildkit-{_inputs_key()}.tar"
    if target.is_file():
        return target
    WORK.mkdir(parents=True, exist_ok=True)
    layer = _layer()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": {
                "Env": [PATH_ENV],
                "Entrypoint": ["/usr/bin/buildkitd"],
                "Volumes": {"/var/lib/buildkit": {}},
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        sort_keys=True,
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = f"{diff_id[7:]}/layer.tar"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [BUILDKIT_IMAGE], "Layers": [layer_name]}]
    ).encode()
    with (
        tempfile.NamedTemporaryFile(dir=WORK, delete=False) as tmp,
        tarfile.open(fileobj=tmp, mode="w") as tar,
    ):
        _add(tar, f"{diff_id[7:]}/", None)
        _add(tar, layer_name, layer, 0o644)
        _add(tar, config_name, config, 0o644)
        _add(tar, "manifest.json", manifest, 0o644)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, target)
    for old in WORK.glob("buildkit-*.tar"):
        if old != target:
            old.unlink()
    return target


def buildkit_assets_dir() -> Path:
    """buildx-ecr's assets layout: ``buildkit.tar`` and ``version.json`` naming its image."""
    folder = WORK / "assets"
    folder.mkdir(parents=True, exist_ok=True)
    tar = folder / "buildkit.tar"
    source = buildkit_tar()
    if not tar.is_file() or tar.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, tar)
    (folder / "version.json").write_text(json.dumps({"buildkit_version": BUILDKIT_IMAGE}) + "\n")
    return folder


def load_buildkit(docker_host: str) -> str:
    """``docker load`` BUILDKIT_IMAGE into the engine at ``docker_host``; returns the image name."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DOCKER_HOST": docker_host}
    with buildkit_tar().open("rb") as source:
        done = subprocess.run(
            ["/usr/bin/docker", "load"],
            stdin=source,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        pytest.fail(f"docker load of the BuildKit image failed: {done.stderr}", pytrace=False)
    return BUILDKIT_IMAGE


# (ELF e_machine, machine code of exit(0)) per architecture.
_EXIT0 = {
    "amd64": (62, bytes.fromhex("31ffb83c0000000f05")),  # xor edi,edi; mov eax,60; syscall
    "arm64": (183, struct.pack("<III", 0xD2800000, 0xD2800BA8, 0xD4000001)),  # mov x0,#0; mov x8,#93; svc #0
}


def exit0_program(arch: str) -> bytes:
    """A complete static Linux ELF program for ``arch`` (amd64 or arm64) that exits 0.

    On an amd64 builder without emulation, running the arm64 one fails with 'exec format error', as
    any arm64 RUN step would; on arm64 it runs. No arm64 image has to be downloaded for the test.
    """
    machine, code = _EXIT0[arch]
    base, header, program = 0x400000, 64, 56
    size = header + program + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little endian, ELF version 1
    fields = (2, machine, 1, base + header + program, header, 0, 0, header, program, 1, 0, 0, 0)
    elf = ident + struct.pack("<HHIQQQIHHHHHH", *fields)
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)  # PT_LOAD, read+execute
    return elf + segment + code

"""A real cosign for the tests, and what they do with it: key pairs, ``cosign verify``, a moved tag.

``cosign_binary()`` is Debian trixie's ``cosign`` (the binary both plugin images ship), taken from
the ``.deb`` in the host's Debian mirror pool (sha256-pinned) and unpacked with ``dpkg-deb`` under
``.work/cosign/``, by tests/support/debs.py, as for docker-buildx: trixie is never added to
the host's apt sources. It is dynamically linked against glibc only (>= 2.34), so it runs on
bookworm. A missing part fails in CI and skips elsewhere.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.debs import DebFile, file_from_deb
from tests.support.registry_auth import docker_config_json

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".work" / "cosign"
COSIGN_DEB = DebFile(
    "pool/main/c/cosign/cosign_2.5.0-2+b5_amd64.deb",
    "3b6eadd27f3c4c00bfa7eab5c2397a6a15a763630c7a1d40d06ff60d24799eef",
    "usr/bin/cosign",
    timeout=300,
)
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def cosign_dir() -> Path:
    """A directory holding ``cosign`` (2.5.0, Debian trixie's), fetched and unpacked once."""
    target = WORK / "bin"
    file_from_deb(COSIGN_DEB, WORK, target / "cosign")
    return target


def cosign_binary() -> Path:
    return cosign_dir() / "cosign"


@dataclass(frozen=True)
class KeyPair:
    """A cosign key pair made by ``cosign generate-key-pair``: the private key's text, its password,
    the files."""

    private_pem: str
    password: str
    private_path: Path
    public_path: Path

    @property
    def secrets(self) -> list[str]:
        """What must never be seen: the password and every line of the key's body."""
        body = [line for line in self.private_pem.splitlines() if line and not line.startswith("-----")]
        return [self.password, *body]


def generate_key_pair(folder: Path, password: str) -> KeyPair:
    folder.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "COSIGN_PASSWORD": password}
    subprocess.run(
        [str(cosign_binary()), "generate-key-pair"], cwd=folder, env=env, check=True, capture_output=True
    )
    key = folder / "cosign.key"
    return KeyPair(key.read_text(), password, key, folder / "cosign.pub")


def docker_config(folder: Path, host: str, username: str, password: str) -> Path:
    """A Docker config directory with one registry login (for cosign verify)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(docker_config_json({host: (username, password)}))
    return folder


def verify(image: str, public_key: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """``cosign verify --key <pub> --insecure-ignore-tlog=true <image>`` (signatures were made with
    --tlog-upload=false: no Rekor is reachable here)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(config),
        "DOCKER_CONFIG": str(config),
        "TUF_ROOT": str(config),
    }
    argv = [str(cosign_binary()), "verify", f"--key={public_key}", "--insecure-ignore-tlog=true", image]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)


def move_tag(registry_url: str, auth: tuple[str, str], repository: str, tag: str, to_reference: str) -> None:
    """Tamper: point ``repository:tag`` at the manifest ``to_reference`` names (another image)."""
    got = requests.get(
        f"{registry_url}/v2/{repository}/manifests/{to_reference}",
        auth=auth,
        headers={"Accept": MANIFEST_TYPES},
        timeout=20,
    )
    got.raise_for_status()
    put = requests.put(
        f"{registry_url}/v2/{repository}/manifests/{tag}",
        auth=auth,
        data=got.content,
        headers={"Content-Type": got.headers["Content-Type"]},
        timeout=20,
    )
    put.raise_for_status()


def push_small_image(registry_url: str, auth: tuple[str, str], repository: str, tag: str, text: str) -> str:
    """Push a one-file image (Docker v2 manifest) straight through the registry API; returns its digest."""
    import gzip  # noqa: PLC0415
    import hashlib  # noqa: PLC0415
    import io  # noqa: PLC0415
    import tarfile  # noqa: PLC0415

    base = f"{registry_url}/v2/{repository}"

    def blob(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        started = requests.post(f"{base}/blobs/uploads/", auth=auth, timeout=20)
        started.raise_for_status()
        location = started.headers["Location"]
        location = location if location.startswith("http") else f"{registry_url}{location}"
        separator = "&" if "?" in location else "?"
        requests.put(
            f"{location}{separator}digest={digest}", data=data, auth=auth, timeout=20
        ).raise_for_status()
        return digest

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("file")
        info.size = len(text.encode())
        tar.addfile(info, io.BytesIO(text.encode()))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": blob(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": blob(layer),
            }
        ],
    }
    put = requests.put(
        f"{base}/manifests/{tag}",
        data=json.dumps(manifest).encode(),
        auth=auth,
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=20,
    )
    put.raise_for_status()
    return str(put.headers["Docker-Content-Digest"])

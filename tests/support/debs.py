"""One file out of a Debian ``.deb``, fetched from the host's Debian mirror pool (sha256-pinned).

The tests take Debian trixie's ``docker-buildx`` (tests/support/buildkit.py) and ``cosign``
(tests/support/cosign.py) this way: the ``.deb`` is downloaded once into a cache folder, checked
against its pinned sha256 and unpacked with ``dpkg-deb``; trixie is never added to the host's apt
sources. A missing part fails in CI and skips elsewhere (``missing``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_MIRROR = "http://deb.debian.org/debian"


def missing(why: str) -> None:
    """Fail in CI (a part the suite needs is absent), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"CI: {why}", pytrace=False)
    pytest.skip(why)


def debian_mirror() -> str:
    """The host's first http(s) Debian mirror (one-line or deb822 apt sources)."""
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    for text in texts:
        for match in re.finditer(
            r"(?:^deb\s+(?:\[[^]]*\]\s+)?|^URIs:\s*)(https?://\S+/debian)/?\s", text, re.M
        ):
            return match[1]
    return DEFAULT_MIRROR


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class DebFile:
    """One file of a pinned ``.deb``: the package's path in the pool, its sha256, the file's path
    inside the package, and how long the download may take."""

    pool_path: str
    sha256: str
    member: str
    timeout: float = 120


def file_from_deb(deb_file: DebFile, work: Path, binary: Path) -> Path:
    """``binary``, unpacked from the ``.deb`` (cached in ``work``) unless it is already there."""
    if binary.is_file():
        return binary
    if shutil.which("dpkg-deb") is None:
        missing(f"dpkg-deb is needed to unpack {binary.name}")
    work.mkdir(parents=True, exist_ok=True)
    deb = work / Path(deb_file.pool_path).name
    if not deb.is_file() or sha256_file(deb) != deb_file.sha256:
        url = f"{debian_mirror()}/{deb_file.pool_path}"
        try:
            with urllib.request.urlopen(url, timeout=deb_file.timeout) as response, deb.open("wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as exc:
            missing(f"cannot download {url}: {exc}")
        if sha256_file(deb) != deb_file.sha256:
            deb.unlink()
            missing(f"{url} does not have the pinned sha256 {deb_file.sha256}")
    with tempfile.TemporaryDirectory(dir=work) as unpacked:
        subprocess.run(["dpkg-deb", "-x", str(deb), unpacked], check=True)
        binary.parent.mkdir(parents=True, exist_ok=True)
        os.replace(Path(unpacked) / deb_file.member, binary)
    return binary

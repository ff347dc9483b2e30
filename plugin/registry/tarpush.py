"""Push an image tarball (docker save / kaniko --tar-path) to a registry over its HTTP API, no daemon.

This is kaniko-ecr's push-only (`PLUGIN_PUSH_ONLY` + `PLUGIN_SOURCE_TAR_PATH`, the "build, scan,
push" flow), which the anchor did with go-containerregistry. Layers that are not compressed in the
tarball are gzipped (deterministically: the same tarball gives the same digests); blobs the registry
already has are not sent again; the manifest is Docker's v2 schema 2, and its digest is returned.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from plugin.core.errors import ConfigError, RunError
from plugin.core.files import check_regular
from plugin.core.log import get_logger
from plugin.registry.api import api_base, auth_headers, registry_retry

log = get_logger("plugin.registry.tarpush")
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_CHUNK = 1 << 20
VARIABLE = "PLUGIN_SOURCE_TAR_PATH"


@dataclass(frozen=True)
class Blob:
    """A file ready to upload: where it is, its digest and size."""

    path: Path
    digest: str
    size: int


def _digest_of(path: Path) -> Blob:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return Blob(path, f"sha256:{sha.hexdigest()}", path.stat().st_size)


def _gzip_to(source: IO[bytes], target: Path) -> None:
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        shutil.copyfileobj(source, packed, _CHUNK)


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        handle = tar.extractfile(name)
    except KeyError:  # no member of that name
        handle = None
    if handle is None:
        raise ConfigError.single(VARIABLE, None, f"an image tarball; {name!r} is missing in it")
    return handle


_TAR_ERRORS = (OSError, EOFError, ValueError, tarfile.TarError, zlib.error, lzma.LZMAError)


def _first_image(tar: tarfile.TarFile) -> dict[str, Any]:
    """The first entry of ``manifest.json``, checked: a config and layers that are all in the tarball."""
    try:
        entries = json.loads(_member(tar, "manifest.json").read())
    except (ValueError, RecursionError):
        entries = None
    entry = entries[0] if isinstance(entries, list) and entries else None
    if not isinstance(entry, dict):
        raise ConfigError.single(
            VARIABLE, None, "a docker image tarball (manifest.json is not a list of images)"
        )
    config, layers = entry.get("Config"), entry.get("Layers")
    if (
        not isinstance(config, str)
        or not isinstance(layers, list)
        or not all(isinstance(x, str) for x in layers)
    ):
        raise ConfigError.single(
            VARIABLE, None, "a docker image tarball (manifest.json has no Config and Layers)"
        )
    files = {m.name for m in tar.getmembers() if m.isfile()}
    for name in [config, *layers]:
        if name not in files:
            raise ConfigError.single(VARIABLE, None, f"an image tarball; {name!r} is missing in it")
    return entry


def check_tarball(tar_path: str) -> None:
    """PLUGIN_SOURCE_TAR_PATH is a docker-save tarball this push can read (before any network call)."""
    check_regular(tar_path, VARIABLE, what="an image tarball")
    try:
        with tarfile.open(tar_path) as tar:
            _first_image(tar)
    except _TAR_ERRORS as exc:
        raise ConfigError.single(VARIABLE, tar_path, f"a readable image tarball ({exc})") from None


def _read_tarball(tar_path: Path, work: Path) -> tuple[Blob, list[Blob]]:
    """The config and the (compressed) layers of the tarball's first image, as files in ``work``."""
    check_tarball(str(tar_path))
    try:
        with tarfile.open(tar_path) as tar:
            return _extract(tar, _first_image(tar), work)
    except _TAR_ERRORS as exc:
        raise ConfigError.single(VARIABLE, str(tar_path), f"a readable image tarball ({exc})") from None


def _extract(tar: tarfile.TarFile, manifest: dict[str, Any], work: Path) -> tuple[Blob, list[Blob]]:
    config_path = work / "config.json"
    config_path.write_bytes(_member(tar, manifest["Config"]).read())
    layers = []
    for index, name in enumerate(manifest["Layers"]):
        target = work / f"layer-{index}.tar.gz"
        compressed = _member(tar, name).read(2) == b"\x1f\x8b"
        with _member(tar, name) as source:
            if compressed:
                with target.open("wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
            else:
                _gzip_to(source, target)
        layers.append(_digest_of(target))
    return _digest_of(config_path), layers


class _Registry:
    """Just enough of the distribution API to upload blobs and a manifest, with Basic auth."""

    def __init__(self, host: str, repository: str, auth: tuple[str, str] | None) -> None:
        self.base = api_base(host, repository)
        self.headers = auth_headers(auth)

    @registry_retry
    def request(self, method: str, url: str, body: Path | bytes | None = None, **headers: str) -> Any:
        data: Any = body
        if isinstance(body, Path):
            data = body.open("rb")
            headers["Content-Length"] = str(body.stat().st_size)
        request = urllib.request.Request(url, data=data, method=method, headers={**self.headers, **headers})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 - https, or loopback http
                return response.status, dict(response.headers)
        finally:
            if isinstance(body, Path):
                data.close()

    def has_blob(self, blob: Blob) -> bool:
        try:
            status, _ = self.request("HEAD", f"{self.base}/blobs/{blob.digest}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            raise
        return bool(status == 200)

    def upload(self, blob: Blob) -> None:
        if self.has_blob(blob):
            return
        _, headers = self.request("POST", f"{self.base}/blobs/uploads/")
        location = urllib.parse.urljoin(f"{self.base}/", headers["Location"])
        joiner = "&" if "?" in location else "?"
        url = f"{location}{joiner}digest={urllib.parse.quote(blob.digest)}"
        self.request("PUT", url, blob.path, **{"Content-Type": "application/octet-stream"})

    def put_manifest(self, tag: str, manifest: bytes) -> None:
        self.request("PUT", f"{self.base}/manifests/{tag}", manifest, **{"Content-Type": MANIFEST_TYPE})


def _manifest(config: Blob, layers: list[Blob]) -> bytes:
    document = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "size": config.size, "digest": config.digest},
        "layers": [{"mediaType": LAYER_TYPE, "size": b.size, "digest": b.digest} for b in layers],
    }
    return json.dumps(document, separators=(",", ":")).encode()


@contextmanager
def _workdir(parent: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tarpush-", dir=parent) as folder:
        yield Path(folder)


def push_tarball(
    tar_path: Path,
    destinations: list[tuple[str, str, str]],
    auths: dict[str, tuple[str, str]],
    work_parent: Path | None = None,
) -> str:
    """Push the tarball's image to every (host, repository, tag); returns the manifest digest."""
    with _workdir(work_parent) as work:
        config, layers = _read_tarball(tar_path, work)
        manifest = _manifest(config, layers)
        digest = f"sha256:{hashlib.sha256(manifest).hexdigest()}"
        for host, repository, tag in destinations:
            registry = _Registry(host, repository, auths.get(host))
            try:
                for blob in [*layers, config]:
                    registry.upload(blob)
                registry.put_manifest(tag, manifest)
            except urllib.error.HTTPError as exc:
                raise RunError(
                    f"push of {host}/{repository}:{tag} refused: HTTP {exc.code} {exc.reason}"
                ) from None
            except (urllib.error.URLError, OSError) as exc:
                raise RunError(f"push of {host}/{repository}:{tag} failed: {exc}") from None
            log.info("push.tarball", image=f"{host}/{repository}:{tag}", digest=digest, layers=len(layers))
    return digest

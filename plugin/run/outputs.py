"""The same outputs from every builder: DRONE_OUTPUT variables, the artifact file and the card.

They are written only after a successful build or a skip, all together (``plugin.run.staging``), and hold
nothing but what ``BuildResult`` holds: image names, tags, the digest, the tar path. No secret ever
goes in. DRONE_OUTPUT is merged with ``plugin.core.envfile``: every line the plugin does not own is kept.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plugin.core import envfile
from plugin.core.errors import RunError
from plugin.run.staging import StagedFiles

CARD_SCHEMA = "https://drone-plugins.github.io/drone-docker/card.json"
ARTIFACT_KIND = "docker/v1"
STREAMS = ("/dev/stdout", "/dev/stderr")
_ECR_HOST = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.(?P<domain>amazonaws\.com(?:\.cn)?)$"
)


@dataclass
class BuildResult:
    """What one run produced. ``images`` are full references with the final tags, every registry."""

    registry: str
    repository: str
    tags: list[str]
    digest: str | None = None
    images: list[str] = field(default_factory=list)
    tar_path: str | None = None
    skipped: bool = False
    index_digest: str | None = None  # the digest, when the tags point to an index (buildx)
    platform_digests: dict[str, str] = field(default_factory=dict)  # "linux/arm64" -> image manifest digest
    # cosign signatures, one per registry: {"image": <reg>/<repo>@<digest>, "signature": <.sig ref>,
    # "digest": <signature manifest digest> (when the registry said it)}
    signatures: list[dict[str, str]] = field(default_factory=list)
    # files the build made for outputs the user named (PLUGIN_METADATA_FILE, PLUGIN_CACHE_METRICS_FILE,
    # kaniko's digest files): path -> content, staged with DRONE_OUTPUT and the others
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.images:
            self.images = [f"{self.registry}/{self.repository}:{tag}" for tag in self.tags]


def output_values(result: BuildResult) -> dict[str, str]:
    """The DRONE_OUTPUT variables for a result (``digest`` only when known, as kaniko does)."""
    values: dict[str, str] = {}
    if result.digest:
        values["digest"] = result.digest
    if result.tar_path:
        values["IMAGE_TAR_PATH"] = result.tar_path
    values["image"] = result.images[0] if result.images else ""
    values["images"] = ",".join(result.images)
    values["tags"] = ",".join(result.tags)
    values["skipped"] = "true" if result.skipped else "false"
    if result.index_digest:
        values["index_digest"] = result.index_digest
    if result.platform_digests:
        values["platform_digests"] = ",".join(f"{p}={d}" for p, d in result.platform_digests.items())
        for platform, digest in result.platform_digests.items():
            values[platform_key(platform)] = digest
    if result.signatures:
        values["signature"] = result.signatures[0]["signature"]
        values["signatures"] = ",".join(s["signature"] for s in result.signatures)
        if result.signatures[0].get("digest"):
            values["signature_digest"] = result.signatures[0]["digest"]
    return values


def platform_key(platform: str) -> str:
    """The DRONE_OUTPUT key of one platform's manifest digest: ``linux/arm/v7`` -> ``digest_linux_arm_v7``."""
    return "digest_" + re.sub(r"[^A-Za-z0-9]+", "_", platform).strip("_").lower()


# -- DRONE_OUTPUT ----------------------------------------------------------------------------------


def read_existing(path: str | Path) -> bytes:
    """The current DRONE_OUTPUT file's bytes (empty when it does not exist yet)."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as err:
        raise RunError(f"cannot read the DRONE_OUTPUT file {path}: {err.strerror or err}") from err


def drone_output_bytes(path: str | Path, values: dict[str, str]) -> bytes:
    """The DRONE_OUTPUT file with ``values`` merged in: every other line is kept byte for byte."""
    return envfile.encode(envfile.merge(envfile.decode(read_existing(path)), values))


def write_drone_output(path: str | Path, values: dict[str, str]) -> None:
    """Merge ``values`` into the DRONE_OUTPUT file (replaced atomically; its mode is kept)."""
    with StagedFiles() as files:
        files.stage(path, drone_output_bytes(path, values))


# -- artifact file ---------------------------------------------------------------------------------


def artifact(result: BuildResult, registry_type: str = "ECR") -> dict[str, Any]:
    images = [{"image": image, "digest": result.digest or ""} for image in result.images]
    data: dict[str, Any] = {"registryType": registry_type, "registryUrl": result.registry, "images": images}
    if result.platform_digests:
        data["platforms"] = [{"platform": p, "digest": d} for p, d in result.platform_digests.items()]
    if result.signatures:
        data["signatures"] = [dict(s) for s in result.signatures]
    return {"kind": ARTIFACT_KIND, "data": data}


def artifact_bytes(result: BuildResult, registry_type: str = "ECR") -> bytes:
    """The anchors' artifact JSON (``docker/v1``), tab-indented."""
    return json.dumps(artifact(result, registry_type), indent="\t").encode()


def write_artifact(path: str | Path, result: BuildResult, registry_type: str = "ECR") -> None:
    """The artifact file (atomically; new files 0644, parent dirs 0755)."""
    with StagedFiles() as files:
        files.stage(path, artifact_bytes(result, registry_type))


# -- card ------------------------------------------------------------------------------------------


def ecr_console_url(
    registry_host: str, repository: str, account: str | None = None, region: str | None = None
) -> str | None:
    """The console page of a repository: the AWS console for private ECR, the gallery for ECR Public.

    Account and region default to those in the registry host; None if they cannot be known.
    """
    if registry_host == "public.ecr.aws":
        return f"https://gallery.ecr.aws/{repository}"
    match = _ECR_HOST.match(registry_host)
    account = account or (match["account"] if match else None)
    region = region or (match["region"] if match else None)
    if not account or not region:
        return None
    if region.startswith("cn-") or registry_host.endswith(".amazonaws.com.cn"):
        console = f"https://{region}.console.amazonaws.cn"
    elif region.startswith("us-gov-"):
        console = "https://console.amazonaws-us-gov.com"
    else:
        console = f"https://{region}.console.aws.amazon.com"
    return f"{console}/ecr/repositories/private/{account}/{repository}?region={region}"


def card(result: BuildResult, console_url: str | None, now: datetime | None = None) -> dict[str, Any]:
    """Card data in the drone-docker template's field names (RepoDigests, ParsedRepoTags, Time, URL)."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = f"{result.registry}/{result.repository}"
    data: dict[str, Any] = {
        "Registry": result.registry,
        "Repository": result.repository,
        "RepoTags": list(result.images),
        "ParsedRepoTags": [{"Tag": tag} for tag in result.tags],
        "RepoDigests": [f"{base}@{result.digest}"] if result.digest else [],
        "Digest": result.digest or "",
        "Tags": ",".join(result.tags),
        "Skipped": result.skipped,
        "Time": when,
        "URL": console_url or "",
    }
    return {"schema": CARD_SCHEMA, "data": data}


def card_bytes(result: BuildResult, console_url: str | None, now: datetime | None = None) -> bytes:
    return json.dumps(card(result, console_url, now), separators=(",", ":")).encode()


def is_stream(path: str | Path) -> bool:
    """/dev/stdout, /dev/stderr, or another device or FIFO: written to directly, not staged."""
    if str(path) in STREAMS:
        return True
    target = Path(path)
    return target.exists() and not target.is_file() and not target.is_dir()


def write_card_stream(path: str | Path, encoded: bytes) -> None:
    """The card on the runner's stdout or stderr as ``ESC]1338;<base64>ESC]0m``; to another device as is."""
    if str(path) not in STREAMS:
        try:
            with open(path, "wb") as device:
                device.write(encoded)
        except OSError as err:
            raise RunError(f"cannot write the card to {path}: {err.strerror or err}") from err
        return
    stream = sys.stdout if str(path) == "/dev/stdout" else sys.stderr
    stream.write(f"\x1b]1338;{base64.b64encode(encoded).decode()}\x1b]0m\n")
    stream.flush()


def write_card(
    path: str | Path, result: BuildResult, console_url: str | None, now: datetime | None = None
) -> None:
    """Write the card to a file (0644), or to /dev/stdout or /dev/stderr in the escape-sequence form."""
    encoded = card_bytes(result, console_url, now)
    if is_stream(path):
        write_card_stream(path, encoded)
        return
    with StagedFiles() as files:
        files.stage(path, encoded)

"""The same outputs from every builder: DRONE_OUTPUT variables, the artifact file and the card.

They are written only after a successful build or a skip, and hold nothing but what
``BuildResult`` holds: image names, tags, the digest, the tar path. No secret ever goes in.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plugin.errors import RunError

CARD_SCHEMA = "https://drone-plugins.github.io/drone-docker/card.json"
ARTIFACT_KIND = "docker/v1"
_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*(.*?)\s*$")
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t"}
_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.(?P<domain>amazonaws\.com(?:\.cn)?)$"
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
    return values


def platform_key(platform: str) -> str:
    """The DRONE_OUTPUT key of one platform's manifest digest: ``linux/arm/v7`` -> ``digest_linux_arm_v7``."""
    return "digest_" + re.sub(r"[^A-Za-z0-9]+", "_", platform).strip("_").lower()


# -- files ---------------------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write via a temp file in the same directory and rename, so readers never see half a file."""
    try:
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise RunError(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise RunError(f"cannot write {path}: {err.strerror or err}") from err


# -- DRONE_OUTPUT ----------------------------------------------------------------------------------


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m[1], m[1]), raw[1:-1])
    return raw.split(" #", 1)[0].rstrip()


def parse_dotenv(text: str) -> dict[str, str]:
    """KEY=VALUE lines (optionally ``export``-ed, quoted); comments and junk lines are skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _DOTENV_LINE.match(line)
        if match:
            values[match[1]] = _unquote(match[2])
    return values


def _quote(value: str) -> str:
    """Double-quoted the way godotenv writes it: backslash, quote, $, ! and backtick escaped."""
    escaped = re.sub(r'([\\"$!`])', r"\\\1", value).replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def write_drone_output(path: str | Path, values: dict[str, str]) -> None:
    """Merge ``values`` into the DRONE_OUTPUT dotenv file, keeping every other key."""
    target = Path(path)
    try:
        current = parse_dotenv(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        current = {}
    except (OSError, UnicodeDecodeError) as err:
        raise RunError(f"cannot read DRONE_OUTPUT file {target}: {err}") from err
    current.update(values)
    text = "".join(f"{key}={_quote(value)}\n" for key, value in current.items())
    _write_atomic(target, text.encode(), 0o644)


# -- artifact file ---------------------------------------------------------------------------------


def artifact(result: BuildResult, registry_type: str = "ECR") -> dict[str, Any]:
    images = [{"image": image, "digest": result.digest or ""} for image in result.images]
    data: dict[str, Any] = {"registryType": registry_type, "registryUrl": result.registry, "images": images}
    if result.platform_digests:
        data["platforms"] = [{"platform": p, "digest": d} for p, d in result.platform_digests.items()]
    return {"kind": ARTIFACT_KIND, "data": data}


def write_artifact(path: str | Path, result: BuildResult, registry_type: str = "ECR") -> None:
    """The anchors' artifact JSON (``docker/v1``), tab-indented, file 0644, parent dirs 0755."""
    text = json.dumps(artifact(result, registry_type), indent="\t")
    _write_atomic(Path(path), text.encode(), 0o644)


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


def write_card(
    path: str | Path, result: BuildResult, console_url: str | None, now: datetime | None = None
) -> None:
    """Write the card to a file (0644); for /dev/stdout or /dev/stderr as ``ESC]1338;<base64>ESC]0m``."""
    encoded = json.dumps(card(result, console_url, now), separators=(",", ":")).encode()
    target = str(path)
    if target in ("/dev/stdout", "/dev/stderr"):
        stream = sys.stdout if target == "/dev/stdout" else sys.stderr
        stream.write(f"\x1b]1338;{base64.b64encode(encoded).decode()}\x1b]0m\n")
        stream.flush()
        return
    _write_atomic(Path(target), encoded, 0o644)

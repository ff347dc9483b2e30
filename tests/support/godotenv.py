"""joho/godotenv, as a real reader of DRONE_OUTPUT: a tiny Go program built against Debian's package.

The Drone and Harness runners read the file a step leaves in DRONE_OUTPUT with joho/godotenv; the
plugin writes its keys in a form python-dotenv and godotenv read alike. ``GodotenvReader.read`` runs
the real library on bytes and returns what it read (or its error). Needs ``go`` and
golang-github-joho-godotenv-dev (scripts/install-deps.sh); missing: a skip, in CI a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.services import in_ci, require

GOPATH = Path("/usr/share/gocode")  # where Debian's golang-*-dev packages put their sources
PACKAGE = GOPATH / "src" / "github.com" / "joho" / "godotenv"
SOURCE = Path(__file__).with_name("godotenv_reader.go")


@dataclass(frozen=True)
class Reading:
    """What godotenv read: the values, or its error message."""

    values: dict[str, str] | None
    error: str | None = None


@dataclass(frozen=True)
class GodotenvReader:
    binary: Path
    folder: Path

    def read(self, data: bytes) -> Reading:
        path = self.folder / "drone-output.env"
        path.write_bytes(data)
        done = subprocess.run(
            [str(self.binary), str(path)], capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            return Reading(None, done.stderr.strip())
        values: dict[str, str] = json.loads(done.stdout)
        return Reading(values)


def build_reader(folder: Path) -> GodotenvReader:
    """Compile the reader (GOPATH mode: Debian's sources, no network), under ``folder``."""
    require("go")
    if not (PACKAGE / "godotenv.go").is_file():
        why = f"no joho/godotenv sources at {PACKAGE} (run scripts/install-deps.sh)"
        if in_ci():
            pytest.fail(f"CI: {why}", pytrace=False)
        pytest.skip(why)
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "godotenv-reader"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(folder / "go-cache"),
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    done = subprocess.run(
        ["go", "build", "-o", str(binary), str(SOURCE)], env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"go build of the godotenv reader failed:\n{done.stderr}"
    return GodotenvReader(binary, folder)

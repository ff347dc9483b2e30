"""The plugin images, run as a CI runner runs them: an engine on the image build's cached data root,
the build script, and ``docker run`` with environment variables only. Shared by tests/e2e.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.services import in_ci

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".work" / "image"
DOCKER = "/usr/bin/docker"  # Debian's 20.10 CLI (the /usr/local 28.x CLI has no buildx)
IMAGE = "build-push-ecr:dev"
BUILD_TIMEOUT = 1200  # a cold build (debootstrap, apt, wheels) takes 2-3 minutes on 2 cores
RUN_TIMEOUT = 300
LOCK_TIMEOUT = 900
ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

__all__ = ["in_ci"]

# A tag rule with a named time zone (the IANA database), on a build created at 2023-11-14T22:13:20Z:
# the tag is 20231115-07 (07:13 on the 15th in Tokyo).
TOKYO_RULES = {
    "PLUGIN_TAGS": "",
    "PLUGIN_TAG_RULES": "type=raw,value={{date 'YYYYMMDD-HH' tz='Asia/Tokyo'}}",
    "DRONE_BUILD_CREATED": "1700000000",
    "DRONE_BUILD_EVENT": "push",
    "DRONE_COMMIT_REF": "refs/heads/main",
}


@dataclass(frozen=True)
class Engine:
    """The test engine: its DOCKER_HOST, and the environment for docker CLI calls."""

    host: str

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PLUGIN_"))}
        return {**keep, "DOCKER_HOST": self.host}

    def docker(
        self, *args: str, timeout: float = RUN_TIMEOUT, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DOCKER, *args], env={**self.env, **(extra_env or {})}, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    def run(
        self, *flags: str, command: str, env: dict[str, str], image: str = IMAGE, timeout: float = RUN_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """``docker run --rm FLAGS -e NAME... IMAGE COMMAND``: what a runner does. Only the names are on
        the docker CLI's command line; it takes the values from its own environment, so no value (a
        secret one day) is ever on an argv."""
        clash = sorted(name for name in env if name.startswith("DOCKER_"))
        if clash:  # they would steer the docker CLI itself: pass those with env_file()
            raise ValueError(f"Engine.run: {clash} would reach the docker CLI too; use env_file()")
        names = [arg for name in env for arg in ("-e", name)]
        return self.docker("run", "--rm", *flags, *names, image, command, timeout=timeout, extra_env=env)


def env_file(env: dict[str, str], folder: Path) -> list[str]:
    """``--env-file`` for ``docker run``: the values reach the container without being on the docker
    CLI's own command line (a runner passes them through the engine's API, never an argv)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"env-{os.urandom(4).hex()}"
    lines = []
    for name, value in env.items():
        if "\n" in value:
            raise ValueError(f"{name}: an env file cannot hold a newline")
        lines.append(f"{name}={value}\n")
    path.write_text("".join(lines))
    path.chmod(0o600)
    return ["--env-file", str(path)]


def build_image(engine: Engine, *args: str) -> str:
    """scripts/build-image.sh ARGS on the engine; returns the image name it printed."""
    try:
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build-image.sh"), *args],
            env=engine.env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/build-image.sh {' '.join(args)} took more than {BUILD_TIMEOUT}s", pytrace=False)
    if done.returncode != 0:
        tail = done.stderr[-4000:]
        pytest.fail(f"scripts/build-image.sh failed ({done.returncode}):\n{tail}", pytrace=False)
    return done.stdout.split()[0]

"""Run the plugin as a CI runner does: ``python -m plugin`` as a real child process, environment only.

``base_env`` is the environment `make demo` uses (docker builder, its own dockerd with test-friendly
flags, moto for ECR/STS, the local registry); a test adds or overrides what it declares. ``run_plugin``
waits with a bound and returns the exit status and both streams. ``OciRegistry`` reads what a push left
in the registry over its HTTP API: manifest, config blob and layer tarballs.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
import requests
from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's account for any unknown access key
REGION = "us-east-1"
AWS_KEY_ID = "AKIAE2ESENTINELKEY01"
AWS_SECRET = "e2e-aws-secret-sentinel-value"
TEST_DAEMON_ARGS = "--iptables=false --ip-masq=false --bridge=none"  # no bridge or iptables to spare here
RUN_TIMEOUT = 120.0
_DROPPED = ("PLUGIN_", "DRONE_", "CI_", "HARNESS_", "GITHUB_", "AWS_", "DOCKER_")


@dataclass(frozen=True)
class PluginRun:
    """One finished plugin process: its exit status, both streams and how long it took."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def drone_output_values(path: str | Path) -> dict[str, str]:
    """DRONE_OUTPUT as the runners read it (a dotenv file; the plugin quotes its values)."""
    return {key: value or "" for key, value in dotenv_values(path).items()}


def base_env(moto_url: str, registry_host: str, storage_path: str | Path, **extra: str) -> dict[str, str]:
    """The demo's environment: docker builder, own dockerd on ``storage_path``, moto, the registry."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    # Debian's docker CLI (20.10) drives BuildKit without the buildx plugin; it must come first on PATH.
    keep["PATH"] = "/usr/sbin:/usr/bin:" + keep.get("PATH", "")
    env = {
        **keep,
        "PLUGIN_BUILDER": "docker",
        "PLUGIN_REGISTRY": registry_host,
        "PLUGIN_ACCOUNT": ACCOUNT,
        "PLUGIN_REGION": REGION,
        "PLUGIN_NETWORK": "host",
        "PLUGIN_DAEMON_ARGS": TEST_DAEMON_ARGS,
        "PLUGIN_STORAGE_PATH": str(storage_path),
        "AWS_ENDPOINT_URL_ECR": moto_url,
        "AWS_ENDPOINT_URL_STS": moto_url,
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


def start_plugin(
    env: dict[str, str], *, python: str | None = None, root: Path | None = None
) -> subprocess.Popen[str]:
    """``python -m plugin`` started with exactly ``env``; stdout and stderr are pipes (text).

    ``python``/``root``: another interpreter, and the checkout whose ``plugin`` it runs (the benchmarks
    run a runtime-only venv, and the commit before a change)."""
    return subprocess.Popen(
        [python or sys.executable, "-m", "plugin"],
        env=env,
        cwd=root or ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], started: float, timeout: float = RUN_TIMEOUT) -> PluginRun:
    """Wait for a started plugin (bounded; killed on timeout, which raises) and collect its result."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise AssertionError(f"plugin did not finish within {timeout}s:\n{stdout}\n{stderr}") from None
    return PluginRun(proc.returncode, stdout, stderr, time.monotonic() - started)


def run_plugin(
    env: dict[str, str], timeout: float = RUN_TIMEOUT, *, python: str | None = None, root: Path | None = None
) -> PluginRun:
    """Run the plugin to its end with ``env``; returns exit status, stdout, stderr and duration."""
    started = time.monotonic()
    return finish(start_plugin(env, python=python, root=root), started, timeout)


class LivePlugin:
    """A running plugin whose streams are read as they come, so a test can act on what it printed."""

    def __init__(self, env: dict[str, str]) -> None:
        self.started = time.monotonic()
        self.proc = start_plugin(env)
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self._stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self._stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str] | None, into: list[str]) -> None:
        assert stream is not None
        with stream:
            for line in stream:
                into.append(line)

    @property
    def output(self) -> str:
        return "".join(self._stdout) + "".join(self._stderr)

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float) -> None:
        """Poll ``check()`` until true; fail with the output so far if the plugin ends or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"never saw {what} (status {self.proc.poll()}):\n{self.output}")

    def finish(self, timeout: float = RUN_TIMEOUT) -> PluginRun:
        """Wait for the plugin to end (bounded: killed and failed on timeout) and collect its result."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"plugin did not finish within {timeout}s:\n{self.output}") from None
        for reader in self._readers:
            reader.join(5)
        seconds = time.monotonic() - self.started
        return PluginRun(self.proc.returncode, "".join(self._stdout), "".join(self._stderr), seconds)


def ecr_client(moto_url: str) -> Any:
    """A boto3 ECR client on moto, for seeding repositories and tags."""
    return boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


_MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


@dataclass(frozen=True)
class OciRegistry:
    """Reads an image back from a registry over HTTP with basic auth."""

    url: str
    auth: tuple[str, str]

    def _get(self, path: str, **headers: str) -> requests.Response:
        response = requests.get(f"{self.url}{path}", auth=self.auth, headers=headers, timeout=20)
        response.raise_for_status()
        return response

    def manifest(self, repository: str, reference: str) -> dict[str, Any]:
        return dict(self._get(f"/v2/{repository}/manifests/{reference}", Accept=_MANIFEST_TYPES).json())

    def blob(self, repository: str, digest: str) -> bytes:
        return self._get(f"/v2/{repository}/blobs/{digest}").content

    def config(self, repository: str, reference: str) -> dict[str, Any]:
        """The image config (labels, env, history) of ``repository:reference``."""
        digest = self.manifest(repository, reference)["config"]["digest"]
        return dict(json.loads(self.blob(repository, digest)))

    def layers(self, repository: str, reference: str) -> list[dict[str, bytes]]:
        """Every layer as {path: file content} (regular files only)."""
        out = []
        for layer in self.manifest(repository, reference)["layers"]:
            data = self.blob(repository, layer["digest"])
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            files: dict[str, bytes] = {}
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for member in tar.getmembers():
                    handle = tar.extractfile(member) if member.isfile() else None
                    files[member.name] = handle.read() if handle else b""
            out.append(files)
        return out

    def raw_blobs(self, repository: str, reference: str) -> list[bytes]:
        """The manifest, the config and every layer (uncompressed): everywhere a secret could hide."""
        manifest = self.manifest(repository, reference)
        blobs = [json.dumps(manifest).encode(), self.blob(repository, manifest["config"]["digest"])]
        for layer in manifest["layers"]:
            data = self.blob(repository, layer["digest"])
            blobs.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        return blobs

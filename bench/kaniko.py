"""`make bench` (kaniko side): the plugin's kaniko image against the same executor run directly.

Both sides build the same small Dockerfile (a static busybox, two RUN steps) and push two tags to
the same loopback registry that accepts only the ECR token from moto, with the same executor image
(the plugin's kaniko image; the direct side overrides its entrypoint with /kaniko/executor) and the
same credentials: the direct side fetches the token with boto3 and writes the Docker config the
executor reads, as a careful script would. Runs alternate (plugin, direct, ...).

Measured per run: the whole build + push (docker run start to exit, plus the direct side's token and
config), and container start to executor start (for the plugin, the "+ /kaniko/executor" line it logs
right before starting it; for the direct side, the executor's first line of output).

Environment: BENCH_RUNS (default 3), KANIKO_EXECUTOR (default ../shared/tools/kaniko/executor-v1.28.3.gz).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.plugin_run import ecr_client  # noqa: E402
from tests.support.stack import ACCOUNT, RegistryProcess, running_dockerd, running_moto, running_registry  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
DOCKER = "/usr/bin/docker"
WORK = ROOT / ".work" / "image"
DOCKERFILE = (
    'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
    "RUN echo bench > /bench\n"
)


def default_executor() -> Path:
    for folder in (ROOT.parent / "shared" / "tools" / "kaniko", Path("/work/shared/tools/kaniko")):
        if (folder / "executor-v1.28.3.gz").is_file():
            return folder / "executor-v1.28.3.gz"
    raise SystemExit("bench: no kaniko executor; set KANIKO_EXECUTOR")


def build_image(host: str, executor: Path) -> str:
    env = {**os.environ, "DOCKER_HOST": host}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-image.sh"), "--kaniko", str(executor)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench: image build failed:\n{done.stderr[-3000:]}")
    return done.stdout.split()[0]


def timed_run(argv: list[str], host: str, marker: str | None) -> tuple[float, float]:
    """(whole seconds, seconds until the first line containing ``marker`` or any line when None)."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env={**os.environ, "DOCKER_HOST": host}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert proc.stdout is not None
    first = None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if first is None and (marker is None or marker in line):
            first = time.monotonic() - started
    status = proc.wait()
    whole = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"bench: run failed ({status}):\n{''.join(lines)[-3000:]}")
    return whole, first if first is not None else whole


def env_file(folder: Path, env: dict[str, str]) -> Path:
    path = folder / f"env-{uuid.uuid4().hex[:6]}"
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return path


@dataclass(frozen=True)
class Setup:
    """What both sides share: the engine, the image, the workspace, moto and the registry."""

    host: str
    image: str
    ws: Path
    moto: str
    registry: RegistryProcess


def plugin_side(setup: Setup, repo: str) -> tuple[float, float]:
    host, image, ws, moto, registry = setup.host, setup.image, setup.ws, setup.moto, setup.registry
    env = {
        "PLUGIN_REGISTRY": registry.host, "PLUGIN_ACCOUNT": ACCOUNT, "PLUGIN_REGION": "us-east-1",
        "PLUGIN_REPO": repo, "PLUGIN_TAGS": "1.0.0,latest", "PLUGIN_CREATE_REPOSITORY": "true",
        "AWS_ENDPOINT_URL_ECR": moto, "AWS_ENDPOINT_URL_STS": moto, "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1",
    }  # fmt: skip
    argv = [DOCKER, "run", "--rm", "--network", "host", "-v", f"{ws}:/workspace", "-w", "/workspace",
            "--env-file", str(env_file(ws.parent, env)), image, "run"]  # fmt: skip
    return timed_run(argv, host, "+ /kaniko/executor")


def direct_side(setup: Setup, repo: str) -> tuple[float, float]:
    host, image, ws, moto, registry = setup.host, setup.image, setup.ws, setup.moto, setup.registry
    started = time.monotonic()
    client = ecr_client(moto)
    client.create_repository(repositoryName=repo)
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    config = ws.parent / f"docker-{uuid.uuid4().hex[:6]}"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": token}}}))
    assert base64.b64decode(token)
    prep = time.monotonic() - started
    argv = [DOCKER, "run", "--rm", "--network", "host", "-v", f"{ws}:/workspace", "-w", "/workspace",
            "-v", f"{config}:/kaniko/.docker:ro", "--entrypoint", "/kaniko/executor", image,
            "--context=dir:///workspace", "--dockerfile=Dockerfile",
            f"--destination={registry.host}/{repo}:1.0.0",
            f"--destination={registry.host}/{repo}:latest"]  # fmt: skip
    whole, first = timed_run(argv, host, None)
    return prep + whole, prep + first


def main() -> int:
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        print("bench: needs root and dockerd (scripts/install-deps.sh)", file=sys.stderr)
        return 1
    executor = Path(os.environ.get("KANIKO_EXECUTOR") or default_executor())
    WORK.mkdir(parents=True, exist_ok=True)
    with (
        (WORK / "docker.lock").open("w") as lock,
        tempfile.TemporaryDirectory(prefix="bench-k-", dir="/tmp") as tmp,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX)
        base = Path(tmp)
        ws = base / "ws"
        ws.mkdir()
        subprocess.run(["bash", str(ROOT / "scripts" / "prepare-example.sh"), str(ws)], check=True)
        (ws / "Dockerfile").write_text(DOCKERFILE)
        with running_dockerd(base / "d", WORK / "docker") as host, running_moto() as moto, \
                running_registry(base / "registry") as registry:  # fmt: skip
            setup = Setup(host, build_image(host, executor), ws, moto, registry)
            sides = {"plugin image": plugin_side, "executor directly": direct_side}
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
            for i in range(RUNS):
                for name, side in sides.items():
                    repo = f"bench/{name.split()[0]}-{i}"
                    times[name].append(side(setup, repo))
            report(setup.image, times)
    return 0


def report(image: str, times: dict[str, list[tuple[float, float]]]) -> None:
    print(
        f"\nkaniko build + push of a two-RUN image, two tags, {image}, {RUNS} alternating runs (median s)\n"
    )
    print(f"{'':<20}{'whole':>8}{'to executor':>14}   runs (whole / to executor)")
    for name, values in times.items():
        whole = statistics.median(v[0] for v in values)
        start = statistics.median(v[1] for v in values)
        runs = "  ".join(f"{w:.2f}/{s:.2f}" for w, s in values)
        print(f"{name:<20}{whole:>8.2f}{start:>14.2f}   {runs}")


if __name__ == "__main__":
    sys.exit(main())

"""`make bench` (kaniko side): the plugin's kaniko image against the same executor run directly.

Both sides build the same small Dockerfile (a static busybox, two RUN steps) and push two tags to
the same loopback registry that accepts only the ECR token from moto, with the same executor image
(the plugin's kaniko image; the direct side overrides its entrypoint with /kaniko/executor) and the
same credentials: the direct side fetches the token with boto3 (already imported, in this process)
and writes the Docker config the executor reads, as a careful script would. Runs alternate (plugin,
direct, ...), after one unmeasured warm-up run of each.

Measured per run: the whole build + push (``docker run`` start to exit, plus the direct side's token
and config); container start to executor start, and the plugin's memory at that moment, watched
from the host through the container's cgroup (bench/procwatch.py: PID 1's VmRSS and VmHWM, and the
AWS worker's peak). ``--before CHECKOUT`` also builds that checkout's kaniko image and measures it in
the same alternation (e.g. the commit before a change, from ``git worktree add``).

Environment: BENCH_RUNS (default 5), KANIKO_EXECUTOR (default ../shared/tools/kaniko/executor-v1.28.3.gz).
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkouts import RUNS, from_command_line  # noqa: E402
from bench.procwatch import ProcWatch, Seen  # noqa: E402
from tests.support.contexts import busybox_context  # noqa: E402
from tests.support.plugin_run import ecr_client  # noqa: E402
from tests.support.stack import ACCOUNT, RegistryProcess, running_dockerd, running_moto, running_registry  # noqa: E402

DOCKER = "/usr/bin/docker"
WORK = ROOT / ".work" / "image"
DOCKERFILE = (
    'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
    "RUN echo bench > /bench\n"
)
DIRECT = "executor directly"


def default_executor() -> Path:
    for folder in (ROOT.parent / "shared" / "tools" / "kaniko", Path("/work/shared/tools/kaniko")):
        if (folder / "executor-v1.28.3.gz").is_file():
            return folder / "executor-v1.28.3.gz"
    raise SystemExit("bench: no kaniko executor; set KANIKO_EXECUTOR")


def build_image(host: str, executor: Path, checkout: Path, image: str) -> str:
    """The kaniko image of ``checkout`` (its own Dockerfile.kaniko and build script), tagged ``image``."""
    env = {**os.environ, "DOCKER_HOST": host, "IMAGE": image}
    done = subprocess.run(
        ["bash", str(checkout / "scripts" / "build-image.sh"), "--kaniko", str(executor)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench: image build failed for {checkout}:\n{done.stderr[-3000:]}")
    return done.stdout.split()[0]


@dataclass
class Sample:
    """One run: whole seconds, and what the watch saw."""

    whole: float
    seen: Seen


def timed_run(argv: list[str], host: str, cidfile: Path) -> tuple[float, Seen]:
    started = time.monotonic()
    watch = ProcWatch(cidfile)
    watch.start()
    proc = subprocess.run(
        argv, env={**os.environ, "DOCKER_HOST": host}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, check=False,
    )  # fmt: skip
    whole = time.monotonic() - started
    seen = watch.stop()
    cidfile.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench: run failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    return whole, seen


def env_file(folder: Path, env: dict[str, str]) -> Path:
    path = folder / f"env-{uuid.uuid4().hex[:6]}"
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return path


@dataclass(frozen=True)
class Setup:
    """What every side shares: the engine, the workspace, moto and the registry; the direct image."""

    host: str
    ws: Path
    moto: str
    registry: RegistryProcess
    direct_image: str


def _docker_run(setup: Setup, cidfile: Path, *args: str) -> list[str]:
    return [DOCKER, "run", "--rm", "--cidfile", str(cidfile), "--network", "host",
            "-v", f"{setup.ws}:/workspace", "-w", "/workspace", *args]  # fmt: skip


def plugin_side(image: str) -> Callable[[Setup, str], Sample]:
    def run(setup: Setup, repo: str) -> Sample:
        env = {
            "PLUGIN_REGISTRY": setup.registry.host, "PLUGIN_ACCOUNT": ACCOUNT, "PLUGIN_REGION": "us-east-1",
            "PLUGIN_REPO": repo, "PLUGIN_TAGS": "1.0.0,latest", "PLUGIN_CREATE_REPOSITORY": "true",
            "AWS_ENDPOINT_URL_ECR": setup.moto, "AWS_ENDPOINT_URL_STS": setup.moto,
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1",
        }  # fmt: skip
        cidfile = setup.ws.parent / f"cid-{uuid.uuid4().hex[:8]}"
        argv = _docker_run(setup, cidfile, "--env-file", str(env_file(setup.ws.parent, env)), image, "run")
        return Sample(*timed_run(argv, setup.host, cidfile))

    return run


def direct_side(setup: Setup, repo: str) -> Sample:
    started = time.monotonic()
    client = ecr_client(setup.moto)
    client.create_repository(repositoryName=repo)
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    config = setup.ws.parent / f"docker-{uuid.uuid4().hex[:6]}"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"auths": {setup.registry.host: {"auth": token}}}))
    assert base64.b64decode(token)
    prep = time.monotonic() - started
    cidfile = setup.ws.parent / f"cid-{uuid.uuid4().hex[:8]}"
    host = setup.registry.host
    argv = _docker_run(
        setup, cidfile, "-v", f"{config}:/kaniko/.docker:ro", "--entrypoint", "/kaniko/executor",
        setup.direct_image, "--context=dir:///workspace", "--dockerfile=Dockerfile",
        f"--destination={host}/{repo}:1.0.0", f"--destination={host}/{repo}:latest",
    )  # fmt: skip
    whole, seen = timed_run(argv, setup.host, cidfile)
    return Sample(prep + whole, seen)


def measure(checkouts: dict[str, Path], runs: int = RUNS) -> dict[str, list[Sample]]:
    """Build the images, then alternate the sides ``runs`` times (after one warm-up each)."""
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        raise SystemExit("bench: needs root and dockerd (scripts/install-deps.sh)")
    executor = Path(os.environ.get("KANIKO_EXECUTOR") or default_executor())
    WORK.mkdir(parents=True, exist_ok=True)
    with (
        (WORK / "docker.lock").open("w") as lock,
        tempfile.TemporaryDirectory(prefix="bench-k-", dir="/tmp") as tmp,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX)
        base = Path(tmp)
        ws = busybox_context(base / "ws", DOCKERFILE)
        with running_dockerd(base / "d", WORK / "docker") as host, running_moto() as moto, \
                running_registry(base / "registry") as registry:  # fmt: skip
            images = {
                name: build_image(host, executor, checkout, f"build-push-ecr:bench-{i}")
                for i, (name, checkout) in enumerate(checkouts.items())
            }
            setup = Setup(host, ws, moto, registry, next(iter(images.values())))
            sides: dict[str, Callable[[Setup, str], Sample]] = {
                **{name: plugin_side(image) for name, image in images.items()},
                DIRECT: direct_side,
            }
            times: dict[str, list[Sample]] = {name: [] for name in sides}
            for i in range(runs + 1):
                for name, side in sides.items():
                    sample = side(setup, f"bench/k{i}-{uuid.uuid4().hex[:6]}")
                    if i:  # the first round warms the page cache and the engine
                        times[name].append(sample)
            return times


def _median(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


def summary(times: dict[str, list[Sample]]) -> dict[str, dict[str, float | None]]:
    """Medians per side: whole s, start→executor s, RSS/HWM MB at hand-over, worker peak MB."""
    return {
        name: {
            "whole": _median([s.whole for s in samples]),
            "start_to_executor": _median([s.seen.start_to_executor for s in samples]),
            "rss_mb": _median([s.seen.rss_mb for s in samples]),
            "hwm_mb": _median([s.seen.hwm_mb for s in samples]),
            "worker_mb": _median([s.seen.worker_mb for s in samples]),
        }
        for name, samples in times.items()
    }


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(times: dict[str, list[Sample]]) -> None:
    runs = len(next(iter(times.values())))
    print(f"\nkaniko build + push of a two-RUN image, two tags, {runs} alternating runs (medians)\n")
    print(f"{'':<26}{'whole s':>8}{'start→exec ms':>15}{'RSS MB':>8}{'HWM MB':>8}{'worker MB':>10}")
    for name, row in summary(times).items():
        start = row["start_to_executor"]
        print(
            f"{name:<26}{_fmt(row['whole'], '8.2f')}{_fmt(None if start is None else start * 1000, '15.0f')}"
            f"{_fmt(row['rss_mb'], '8.1f')}{_fmt(row['hwm_mb'], '8.1f')}{_fmt(row['worker_mb'], '10.1f')}"
        )
    print("\nruns (whole s / start→executor ms):")
    for name, samples in times.items():
        starts = [s.seen.start_to_executor for s in samples]
        cells = "  ".join(
            f"{s.whole:.2f}/{_fmt(None if start is None else start * 1000, '.0f')}"
            for s, start in zip(samples, starts, strict=True)
        )
        print(f"  {name:<24}{cells}")


def main() -> int:
    checkouts, runs = from_command_line(__doc__, "plugin image", "also measure this checkout's kaniko image")
    report(measure(checkouts, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

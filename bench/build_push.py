"""`make bench` (docker side): what the plugin costs over doing the same build and push by hand.

Both sides start their own dockerd with the same flags on fresh storage, build examples/app with
BuildKit (the same build arg and secret), tag it twice and push both tags to the same local registry,
with the ECR token from the same AWS emulator (moto); then stop dockerd. The plugin also does its ECR
calls (create repository, token) and its default purge, as a user's run would. Runs alternate
(plugin, by hand, ...) after one unmeasured warm-up round, so that machine noise hits all alike. A
last line times the plugin's "every tag already exists in an immutable repository" path, which
builds nothing.

The plugin runs in the runtime-only venv (bench/runtime.py), as the images install it.
``--before CHECKOUT`` also runs that checkout's plugin in the same alternation.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkouts import RUNS, from_command_line  # noqa: E402
from bench.runtime import runtime_python  # noqa: E402
from plugin.builders.dockerd import ping, unmount_all  # noqa: E402
from tests.support.contexts import example_app  # noqa: E402
from tests.support.moto_server import put_image  # noqa: E402
from tests.support.plugin_run import TEST_DAEMON_ARGS, base_env, ecr_client, run_plugin  # noqa: E402
from tests.support.stack import RegistryProcess, running_moto, running_registry  # noqa: E402

TAGS = ("1.0.0", "latest")
BUILD_ARG = "GREETING=hello-from-bench"
SECRET = "bench-secret-value"  # noqa: S105 - a stand-in build secret
DOCKER = "/usr/bin/docker"  # Debian's 20.10 CLI: BuildKit built in
START_TIMEOUT = 30.0
BY_HAND = "by hand"
SKIP = ", all tags exist"  # appended to a plugin side's name


def prepare_context(root: Path) -> Path:
    """examples/app with its static busybox, in a temp dir."""
    return example_app(root)


# -- through the plugin ----------------------------------------------------------------------------


def plugin_env(
    moto_url: str, registry: RegistryProcess, work: Path, context: Path, repo: str
) -> dict[str, str]:
    return base_env(
        moto_url,
        registry.host,
        work / "docker",
        PLUGIN_REPO=repo,
        PLUGIN_TAGS=",".join(TAGS),
        PLUGIN_CREATE_REPOSITORY="true",
        PLUGIN_CONTEXT=str(context),
        PLUGIN_DOCKERFILE=str(context / "Dockerfile"),
        PLUGIN_BUILD_ARGS=BUILD_ARG,
        PLUGIN_SECRETS_FROM_ENV="token=BENCH_TOKEN",
        BENCH_TOKEN=SECRET,
        DRONE_OUTPUT=str(work / "drone-output.env"),
    )


Side = Callable[[str, RegistryProcess, Path, Path, str], None]


def through_plugin(checkout: Path) -> Side:
    python = runtime_python()

    def run(moto_url: str, registry: RegistryProcess, work: Path, context: Path, repo: str) -> None:
        result = run_plugin(plugin_env(moto_url, registry, work, context, repo), python=python, root=checkout)
        if result.returncode != 0:
            raise SystemExit(f"bench: the plugin failed ({result.returncode}):\n{result.output[-3000:]}")

    return run


# -- by hand ---------------------------------------------------------------------------------------


def _docker(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([DOCKER, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: docker {args[0]} failed:\n{done.stdout}{done.stderr}")


def _ecr_login(moto_url: str) -> tuple[str, str]:
    data = ecr_client(moto_url).get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return user, password


def _start_dockerd(work: Path) -> subprocess.Popen[bytes]:
    sock = work / "run" / "docker.sock"
    sock.parent.mkdir(parents=True)
    argv = [
        "dockerd",
        "--data-root", str(work / "docker"),
        "--host", f"unix://{sock}",
        "--exec-root", str(work / "run" / "exec"),
        "--pidfile", str(work / "run" / "docker.pid"),
        *TEST_DAEMON_ARGS.split(),
    ]  # fmt: skip
    with (work / "dockerd.log").open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while not ping(f"unix://{sock}"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"bench: dockerd did not start:\n{(work / 'dockerd.log').read_text()[-2000:]}")
        time.sleep(0.05)
    return proc


def _stop_dockerd(proc: subprocess.Popen[bytes], work: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    unmount_all(str(work))


def by_hand(moto_url: str, registry: RegistryProcess, work: Path, context: Path, repo: str) -> None:
    """What a careful shell script does: token, dockerd, build, tag, push, stop dockerd."""
    ecr_client(moto_url).create_repository(repositoryName=repo)
    user, password = _ecr_login(moto_url)
    config = work / "docker-config"
    config.mkdir()
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    proc = _start_dockerd(work)
    try:
        env = {
            **os.environ,
            "DOCKER_HOST": f"unix://{work / 'run' / 'docker.sock'}",
            "DOCKER_CONFIG": str(config),
            "DOCKER_BUILDKIT": "1",
            "BENCH_TOKEN": SECRET,
        }
        local = "bench-local:build"
        mount = "--secret=id=token,env=BENCH_TOKEN"
        _docker(
            env, "build", "--network=host", f"--build-arg={BUILD_ARG}", mount, f"--tag={local}", str(context)
        )
        for tag in TAGS:
            _docker(env, "tag", local, f"{registry.host}/{repo}:{tag}")
        for tag in TAGS:
            _docker(env, "push", f"{registry.host}/{repo}:{tag}")
    finally:
        _stop_dockerd(proc, work)


# -- main ------------------------------------------------------------------------------------------


def fresh_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))  # short: unix socket paths


def remove(work: Path) -> None:
    unmount_all(str(work))
    shutil.rmtree(work, ignore_errors=True)


def _skip_runs(
    moto_url: str, registry: RegistryProcess, context: Path, checkout: Path, runs: int
) -> list[float]:
    """The plugin's run when every tag exists in an immutable repository (nothing is built)."""
    python = runtime_python()
    client = ecr_client(moto_url)
    repo = f"bench/immutable-{re.sub('[^a-z0-9]+', '-', checkout.name.lower()).strip('-')}"
    client.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    assert len({put_image(client, repo, tag, "one") for tag in TAGS}) == 1
    seconds = []
    for i in range(runs + 1):
        work = fresh_dir("bench-")
        try:
            env = plugin_env(moto_url, registry, work, context, repo)
            del env["PLUGIN_CREATE_REPOSITORY"]
            started = time.monotonic()
            result = run_plugin(env, python=python, root=checkout)
            if i:  # the first one warms up
                seconds.append(time.monotonic() - started)
            if result.returncode != 0 or (work / "docker").exists():
                raise SystemExit(f"bench: the skip path built or failed:\n{result.output[-3000:]}")
        finally:
            remove(work)
    return seconds


def measure(checkouts: dict[str, Path], runs: int = RUNS) -> dict[str, list[float]]:
    """Seconds per run of each side: every plugin checkout, by hand, and each checkout's skip path."""
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        raise SystemExit("bench: needs root and dockerd (scripts/install-deps.sh)")
    sides: dict[str, Side] = {name: through_plugin(path) for name, path in checkouts.items()}
    sides[BY_HAND] = by_hand
    times: dict[str, list[float]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory(prefix="bench-", dir="/tmp") as tmp:
        context = prepare_context(Path(tmp) / "app")
        with running_moto() as moto_url, running_registry(Path(tmp) / "registry") as registry:
            for i in range(runs + 1):
                for name, side in sides.items():
                    work = fresh_dir("bench-")
                    try:
                        repo = f"bench/{re.sub('[^a-z0-9]+', '-', name).strip('-')}-{i}"
                        started = time.monotonic()
                        side(moto_url, registry, work, context, repo)
                        if i:  # the first round warms up the page cache and the registry
                            times[name].append(time.monotonic() - started)
                    finally:
                        remove(work)
            for name, checkout in checkouts.items():
                times[name + SKIP] = _skip_runs(moto_url, registry, context, checkout, runs)
    return times


def report(times: dict[str, list[float]]) -> None:
    hand = statistics.median(times[BY_HAND])
    runs = len(times[BY_HAND])
    print(f"\nbuild + push of examples/app, {runs} alternating runs each (median wall seconds)\n")
    print(f"{'':<34}{'median s':>10}{'vs hand':>10}   runs")
    for name, values in times.items():
        median = statistics.median(values)
        cells = " ".join(f"{v:.2f}" for v in values)
        ratio = "" if name.endswith(SKIP) else f"{median / hand:>9.2f}x"
        print(f"{name:<34}{median:>10.2f}{ratio:>10}   {cells}")


def main() -> int:
    checkouts, runs = from_command_line(__doc__, "plugin", "also run this checkout's plugin (another commit)")
    report(measure(checkouts, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

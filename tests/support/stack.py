"""Local stand-ins for the cloud, shared by the test fixtures and `make demo`.

A real OCI registry (Debian's docker-registry) with htpasswd auth that accepts only the ECR token
the AWS emulator issues (user ``AWS``, password ``<account>-auth-token``), and the AWS emulator
itself (moto serving ECR and STS over HTTP on loopback). Each starts with a bounded wait and stops
cleanly; none needs a pytest fixture, so the demo script uses them as they are.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from moto.server import ThreadedMotoServer

from plugin.builders.dockerd import ping
from plugin.exec.mounts import unmount_all

REGISTRY_BINARY = "/usr/bin/docker-registry"
HTPASSWD = "htpasswd"
ECR_USER = "AWS"
ACCOUNT = "123456789012"  # moto's account for any unknown access key
ECR_PASSWORD = f"{ACCOUNT}-auth-token"  # what moto's ECR token decodes to
START_TIMEOUT = 30.0


class ServiceError(RuntimeError):
    """A local service did not start; the message holds the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(
    check: Callable[[], bool],
    what: str,
    proc: subprocess.Popen[bytes] | None,
    log: Path | None,
    timeout: float = START_TIMEOUT,
) -> None:
    """Poll ``check()`` every 50 ms until true; ServiceError with the log tail if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        if check():
            return
        time.sleep(0.05)
    text = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    if proc is not None:
        stop_process(proc)
    raise ServiceError(f"{what} did not start (status {proc.poll() if proc else None}):\n{text}")


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _registry_config(root: Path, port: int, htpasswd: Path) -> str:
    return f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root / "data"}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
auth:
  htpasswd:
    realm: ecr-stand-in
    path: {htpasswd}
"""


@dataclass(frozen=True)
class RegistryProcess:
    """A running registry: its host (127.0.0.1:PORT) and the only credentials it accepts."""

    host: str
    username: str
    password: str

    @property
    def url(self) -> str:
        return f"http://{self.host}"


@contextlib.contextmanager
def running_registry(
    root: Path, username: str = ECR_USER, password: str = ECR_PASSWORD
) -> Iterator[RegistryProcess]:
    """Debian's docker-registry on a free loopback port, with one bcrypt htpasswd user."""
    root.mkdir(parents=True, exist_ok=True)
    htpasswd = root / "htpasswd"
    entry = subprocess.run(  # the password on stdin (-i), never on an argv other test runs can read
        [HTPASSWD, "-Bin", username], input=password, check=True, capture_output=True, text=True
    )
    htpasswd.write_text(entry.stdout.strip() + "\n")
    port = free_port()
    config = root / "config.yml"
    config.write_text(_registry_config(root, port, htpasswd))
    log = root / "registry.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    found = RegistryProcess(f"127.0.0.1:{port}", username, password)
    try:
        wait_for(lambda: _status(f"{found.url}/v2/") == 401, "docker-registry", proc, log)
        yield found
    finally:
        stop_process(proc)


@contextlib.contextmanager
def running_moto() -> Iterator[str]:
    """moto serving every AWS API (ECR, ECR Public, STS) on a free loopback port; yields its URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per AWS call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    starter = threading.Thread(target=server.start, daemon=True)  # start() itself waits without a bound
    starter.start()
    starter.join(START_TIMEOUT)
    if starter.is_alive():
        raise ServiceError(f"moto server did not start within {START_TIMEOUT}s")
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        wait_for(lambda: _status(f"{url}/moto-api/data.json") == 200, "moto server", None, None)
        yield url
    finally:
        server.stop()


TEST_DAEMON_FLAGS = ("--iptables=false", "--ip-masq=false", "--bridge=none")  # nothing to spare on these VMs


def runtime_flags(wrapper: Path, name: str = "dropcap") -> list[str]:
    """dockerd flags that make ``wrapper`` (an OCI runtime such as runc-dropcap) the default runtime."""
    return ["--add-runtime", f"{name}={wrapper}", "--default-runtime", name]


@contextlib.contextmanager
def running_dockerd(base: Path, data_root: Path | None = None, runtime: Path | None = None) -> Iterator[str]:
    """A test dockerd (no bridge, no iptables: RUN steps need --network host) with its files under
    ``base`` (keep it short: the unix socket path limit); yields DOCKER_HOST. Stopped and unmounted
    (``<exec-root>/netns/default``) on exit, with the plugin's own ``ping`` and ``unmount_all``.
    ``runtime``: an OCI runtime wrapper made the default (the test-only runc-dropcap for buildx's
    privileged BuildKit container, which these VMs refuse).
    """
    sock = base / "docker.sock"
    log = base / "dockerd.log"
    argv = [
        "dockerd", *TEST_DAEMON_FLAGS,
        "--data-root", str(data_root or base / "data"),
        "--exec-root", str(base / "exec"),
        "--pidfile", str(base / "docker.pid"),
        "--host", f"unix://{sock}",
        *(runtime_flags(runtime) if runtime else []),
    ]  # fmt: skip
    base.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: ping(f"unix://{sock}"), "dockerd", proc, log)
        yield f"unix://{sock}"
    finally:
        stop_process(proc)
        unmount_all(str(base))

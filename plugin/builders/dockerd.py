"""The plugin's own dockerd: argv from options, start, bounded readiness wait, and a clean stop.

Each run keeps its socket, exec-root, pidfile and log in its own run directory, so two runs on
one machine never collide. A daemon that exits or never answers is an error that shows the tail
of the daemon's own log.

dockerd runs as PID 1 of a PID and mount namespace of its own (``unshare``): when it ends, however
it ends (stopped, killed with SIGKILL, or failing to start), the kernel ends every process it
started (containerd, shims, runc, the build's RUN steps) and drops every mount it made, wherever
its data root is. The run directory is placed so that every socket below it fits a unix socket path.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from plugin.core.errors import RunError
from plugin.core.log import get_logger
from plugin.exec.mounts import unmount_all
from plugin.exec.steps import Step

if TYPE_CHECKING:  # `plan` shows the dockerd step without loading the process runner
    from plugin.exec.runner import Background, Runner

SECCOMP_PROFILE = "/etc/docker/default.json"
DEFAULT_RETRY_COUNT = 15  # anchor PLUGIN_DAEMON_RETRY_COUNT: about one second per attempt
_POLL_INTERVAL = 0.05
_PING_TIMEOUT = 1.0
_LOG_TAIL = 20
_DEATH_WAIT = 5.0
_MAX_UNIX_PATH = 107  # sun_path holds 108 bytes including the final NUL
# The sockets dockerd (20.10 to 26) and the containerd it starts create below the exec root.
EXEC_ROOT_SOCKETS = (
    "containerd/containerd.sock",
    "containerd/containerd.sock.ttrpc",
    "containerd/containerd-debug.sock",
    "metrics.sock",
    "libnetwork/0123456789ab.sock",  # the controller id's first 12 hex digits
)
# PID 1 of new PID and mount namespaces, with its own /proc; killed if unshare itself dies.
ISOLATION = ("unshare", "--pid", "--mount", "--fork", "--kill-child", "--mount-proc")
SHORT_RUN_ROOT = "/tmp"  # noqa: S108 - where a run dir goes when the preferred one is too deep

# dockerd's last line of its own shutdown; it then waits for its containerd to exit (about 1 s of
# gRPC reconnecting), which holds nothing the run needs: the namespace is ended at once instead.
_SHUTDOWN_DONE = "Daemon shutdown complete"

log = get_logger("plugin.builders.dockerd")


def _fresh_run_dir() -> str:
    """A unique, not yet created directory under the system temp dir (created when dockerd starts)."""
    return os.path.join(tempfile.gettempdir(), f"ecr-dockerd-{uuid.uuid4().hex[:12]}")


@dataclass(frozen=True, kw_only=True)
class DaemonOptions:
    """How to launch dockerd: the anchors' daemon settings plus where this run keeps its files."""

    storage_driver: str | None = None
    storage_path: str = "/var/lib/docker"
    mirrors: tuple[str, ...] = ()
    bip: str | None = None
    mtu: str | None = None
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    ipv6: bool = False
    experimental: bool = False
    insecure_registries: tuple[str, ...] = ()
    debug: bool = False
    extra_args: tuple[str, ...] = ()
    run_dir: str = field(default_factory=_fresh_run_dir)

    @property
    def socket_path(self) -> str:
        return os.path.join(self.run_dir, "docker.sock")

    @property
    def exec_root(self) -> str:
        return os.path.join(self.run_dir, "exec")

    @property
    def pidfile(self) -> str:
        return os.path.join(self.run_dir, "docker.pid")

    @property
    def log_path(self) -> str:
        return os.path.join(self.run_dir, "dockerd.log")

    @property
    def tmp_dir(self) -> str:
        """dockerd's and containerd's TMPDIR (containerd's stack dumps land there): gone with the run dir."""
        return os.path.join(self.run_dir, "tmp")

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"


def socket_paths(opts: DaemonOptions) -> list[str]:
    """Every unix socket dockerd and its containerd create for these options."""
    return [opts.socket_path, *(os.path.join(opts.exec_root, name) for name in EXEC_ROOT_SOCKETS)]


def too_long_socket(opts: DaemonOptions) -> str | None:
    """The longest socket path when it is over the unix limit (107 bytes), or None when every one fits."""
    longest = max(socket_paths(opts), key=lambda p: len(p.encode()))
    return longest if len(longest.encode()) > _MAX_UNIX_PATH else None


def _too_long(longest: str, more: str = "") -> RunError:
    size = len(longest.encode())
    return RunError(
        f"dockerd socket path is too long for a unix socket ({size} bytes, at most {_MAX_UNIX_PATH}): "
        f"{longest}; shorten TMPDIR by at least {size - _MAX_UNIX_PATH} bytes{more}"
    )


def place_run_dir(preferred: str) -> str:
    """``preferred`` when every socket below it fits; else a fresh, short directory name under /tmp."""
    longest = too_long_socket(DaemonOptions(run_dir=preferred))
    if longest is None:
        return preferred
    if not os.access(SHORT_RUN_ROOT, os.W_OK | os.X_OK):  # a read-only root file system, a deep TMPDIR
        raise _too_long(longest, f", or make {SHORT_RUN_ROOT} writable (the run directory moves there)")
    short = os.path.join(SHORT_RUN_ROOT, f"bpe-{uuid.uuid4().hex[:12]}")
    log.info("dockerd.run_dir_moved", preferred=preferred, run_dir=short, reason="socket paths too long")
    return short


def _repeat(flag: str, values: tuple[str, ...]) -> list[str]:
    return [arg for value in values for arg in (flag, value)]


def dockerd_argv(opts: DaemonOptions, seccomp_profile: str = SECCOMP_PROFILE) -> list[str]:
    """The dockerd command line for these options (the seccomp profile is used if the file exists)."""
    argv = [
        "dockerd",
        "--data-root",
        opts.storage_path,
        "--host",
        opts.docker_host,
        "--exec-root",
        opts.exec_root,
        "--pidfile",
        opts.pidfile,
    ]
    if os.path.isfile(seccomp_profile):
        argv.append(f"--seccomp-profile={seccomp_profile}")
    if opts.storage_driver:
        argv += ["--storage-driver", opts.storage_driver]
    argv += _repeat("--insecure-registry", opts.insecure_registries)
    if opts.ipv6:
        argv.append("--ipv6")
    argv += _repeat("--registry-mirror", opts.mirrors)
    if opts.bip:
        argv += ["--bip", opts.bip]
    argv += _repeat("--dns", opts.dns)
    argv += _repeat("--dns-search", opts.dns_search)
    if opts.mtu:
        argv += ["--mtu", opts.mtu]
    if opts.experimental:
        argv.append("--experimental")
    if opts.debug:
        argv.append("--debug")
    return argv + list(opts.extra_args)


def daemon_step(opts: DaemonOptions, seccomp_profile: str = SECCOMP_PROFILE) -> Step:
    """The dockerd launch as a plan step (kind ``daemon``)."""
    return Step(
        "dockerd", tuple(dockerd_argv(opts, seccomp_profile)), {"TMPDIR": opts.tmp_dir}, kind="daemon"
    )


def ping(docker_host: str, timeout: float = _PING_TIMEOUT) -> bool:
    """True if the Docker API at ``docker_host`` (unix:// or tcp://, plain HTTP) answers GET /_ping.

    One HTTP/1.0 request on a plain socket (the server closes the connection after its answer): this
    module then needs no http.client, which brings ssl (about 8 ms of `plan` with the docker builder).
    """
    url = urlsplit(docker_host)
    if url.scheme not in ("unix", "tcp", "http"):
        return False
    try:
        if url.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            sock = socket.create_connection((url.hostname or "localhost", url.port or 2375), timeout)
        with sock:  # closed however the exchange ends
            if url.scheme == "unix":
                sock.settimeout(timeout)
                sock.connect(url.path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: localhost\r\n\r\n")
            answer = b""
            while len(answer) < 65536 and (chunk := sock.recv(4096)):
                answer += chunk
    except OSError:
        return False
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    return len(status) >= 2 and status[1] == b"200" and body.strip() == b"OK"


class Dockerd:
    """A dockerd for this run: ``with Dockerd(opts, runner) as d:`` then use ``d.docker_host``."""

    def __init__(
        self,
        opts: DaemonOptions,
        runner: Runner,
        *,
        retry_count: int = DEFAULT_RETRY_COUNT,
        stop_timeout: float = 15.0,
        seccomp_profile: str = SECCOMP_PROFILE,
    ) -> None:
        self.opts = opts
        self.runner = runner
        self.wait_seconds = float(max(retry_count, 1))
        self.stop_timeout = stop_timeout
        self._seccomp_profile = seccomp_profile
        self._process: Background | None = None
        self._created_run_dir = False
        self._created_data_root = False
        self.fresh_data_root = False  # the data root was absent or empty: all it holds is this run's
        self.used = False  # something waited for it to answer (a build), so it is stopped, never discarded
        self._launched = 0.0

    @property
    def docker_host(self) -> str:
        return self.opts.docker_host

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def __enter__(self) -> Dockerd:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start dockerd and wait (bounded) until it answers; on failure stop it and raise RunError."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start dockerd without waiting for it (``wait_ready`` does), so a run does other work meanwhile."""
        if long_path := too_long_socket(self.opts):  # a run dir not placed by place_run_dir
            raise _too_long(long_path)
        if shutil.which(ISOLATION[0]) is None:
            raise RunError("dockerd is started through `unshare` (util-linux), which is not on PATH")
        run_dir = Path(self.opts.run_dir)
        self._created_run_dir = not run_dir.exists()
        try:
            run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            Path(self.opts.tmp_dir).mkdir(mode=0o700, exist_ok=True)
        except OSError as err:
            raise RunError(f"cannot create dockerd's run directory {run_dir}: {err.strerror}") from None
        data_root = Path(self.opts.storage_path)
        self._created_data_root = not data_root.exists()
        empty = data_root.is_dir() and not any(data_root.iterdir())
        self.fresh_data_root = self._created_data_root or empty
        step = daemon_step(self.opts, self._seccomp_profile)
        isolated = Step(step.name, (*ISOLATION, *step.argv), step.env, kind="daemon")
        try:
            self._process = self.runner.start(isolated, self.opts.log_path)
            self._launched = time.monotonic()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self) -> None:
        """Wait (bounded) until the launched dockerd answers; on failure stop it and raise RunError."""
        self.used = True
        assert self._process is not None, "launch() first"  # noqa: S101 - a bug, not a user's error
        try:
            self._wait_ready(self._process)
        except BaseException:
            self.stop()
            raise

    def discard(self) -> None:
        """End a dockerd no build used (an AWS error, every tag exists, a signal). On a data root it
        made (absent or empty before) it is killed at once and what it wrote there removed; on one
        that held data before, it is stopped as usual so that its files stay consistent."""
        if not self.fresh_data_root or self._process is None:
            self.stop()
            return
        self._process.kill()
        self._process = None
        self.stop()
        root = Path(self.opts.storage_path)
        entries = [root] if self._created_data_root else list(root.iterdir()) if root.is_dir() else []
        for entry in entries:  # an empty data root given (a volume) keeps its mount point
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        log.info("dockerd.discarded", data_root=str(root), reason="no build used it")

    def exit_status(self) -> int | None:
        """dockerd's exit status once it has ended, else None (as unshare reports it: util-linux 2.38
        says 1 for a dockerd killed by a signal, later versions 128+N)."""
        return self._process.poll() if self._process else None

    def died(self) -> RunError | None:
        """The error to report when dockerd ended on its own while the build was running.

        The docker CLI sees the socket close before unshare has reaped dockerd: a daemon that no
        longer answers is given a few seconds to be seen gone.
        """
        if self._process is None or (self.exit_status() is None and ping(self.docker_host)):
            return None
        deadline = time.monotonic() + _DEATH_WAIT
        while self.exit_status() is None and time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL)
        status = self.exit_status()
        if status is None:
            return None
        how = f"was killed by signal {status - 128}" if status > 128 else f"ended (status {status})"
        tail = "\n".join(f"  {line}" for line in self._process.tail(_LOG_TAIL)) or "  (the log is empty)"
        return RunError(
            f"dockerd {how} during the build; every process of the build was ended with it. "
            f"Last lines of the dockerd log:\n{tail}"
        )

    def _wait_ready(self, process: Background) -> None:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            self.runner.check_signal()
            status = process.poll()
            if status is not None:
                self._fail(process, f"exited with status {status}")
            if ping(self.docker_host):
                log.info("dockerd.ready", seconds=round(time.monotonic() - self._launched, 2))
                return
            if time.monotonic() >= deadline:
                self._fail(process, f"did not answer on {self.docker_host} within {self.wait_seconds:g}s")
            time.sleep(_POLL_INTERVAL)

    def _fail(self, process: Background, why: str) -> None:
        tail = "\n".join(f"  {line}" for line in process.tail(_LOG_TAIL)) or "  (the log is empty)"
        raise RunError(f"dockerd did not start: {why}. Last lines of the dockerd log:\n{tail}")

    def stop(self) -> None:
        """Stop dockerd (SIGTERM, bounded wait, SIGKILL), unmount what it left, remove the run dir."""
        if self._process is not None:
            process = self._process
            status = process.terminate(self.stop_timeout, done=lambda: _SHUTDOWN_DONE in process.text_tail())
            log.info("dockerd.stopped", status=status)
            self._process = None
        run_dir = self.opts.run_dir
        if not os.path.isdir(run_dir):
            return
        failed = unmount_all(run_dir)  # dockerd's own mounts ended with its namespace; these are others'
        if self._created_run_dir and not failed:
            shutil.rmtree(run_dir, ignore_errors=True)

"""The AWS worker: a process that loads the AWS SDK while the plugin reads its settings, then does the
ECR work (``plugin.aws.work``) and ends.

On a CI machine, importing boto3 takes about as long as importing pydantic and reading the settings
(0.1 s each on two cores). ``python -m plugin`` therefore forks the worker first thing, before any
thread exists and before either import: the worker loads boto3 on the other core, waits for the
``EcrJob`` the plugin sends once it knows its settings, answers with the ``EcrOutcome`` (or the error,
which the plugin raises as its own) and exits. The plugin itself never imports boto3, so its memory
stays small while it supervises the builder, and the worker's is given back when it ends.

The worker logs like the plugin (same stream, format and Redactor secrets, sent with the job). It
ignores SIGINT and SIGTERM (the plugin handles them and ends it), and dies with the plugin
(PR_SET_PDEATHSIG). Without a worker (the plugin called in-process, as the tests do, or
``PLUGIN_AWS_WORKER=false``) ``run_job`` does the same work in the calling process.

PLUGIN_AWS_WORKER (alias ``BUILD_PUSH_ECR_WORKER``) is a setting of the model like any other; the fork
happens before the model is loaded, so ``wanted`` reads the same variables with the same spellings
(``tests/unit/test_worker_switch.py`` holds them together), and the settings' value decides in
``run_job`` (a false from PLUGIN_ENV_FILE ends the forked worker unused).
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from plugin.core.booleans import FALSE
from plugin.core.errors import EXIT_BUG, PluginError, RunError

if TYPE_CHECKING:
    from plugin.aws.job import EcrJob, EcrOutcome

# The settings' aws_worker field, in its order (first non-empty wins); false: no worker process.
SWITCHES = ("PLUGIN_AWS_WORKER", "BUILD_PUSH_ECR_WORKER")
_HEADER = struct.Struct("!Q")
_PR_SET_PDEATHSIG = 1


class WorkerBug(Exception):
    """An unexpected exception in the worker, with its traceback as the message."""


class Worker:
    """The parent's handle on a forked worker: send one job, read one answer."""

    def __init__(self, pid: int, job_fd: int, answer_fd: int) -> None:
        self.pid = pid
        self._job_fd: int | None = job_fd
        self._answer_fd: int | None = answer_fd
        self.status: int | None = None

    def run(self, job: EcrJob) -> EcrOutcome:
        """Hand the job over and wait for the answer; the worker's error is raised here."""
        if self._job_fd is None or self._answer_fd is None:
            raise RunError("the AWS worker process was already used or closed")
        try:
            _send(self._job_fd, pickle.dumps(job))
        except OSError:
            pass  # it ended early: its exit status says why, below
        finally:
            os.close(self._job_fd)
            self._job_fd = None
        try:
            data = _receive(self._answer_fd)
        finally:  # also when a signal ends the wait: the worker is ended with it
            self.close()
        if data is None:
            raise RunError(f"the AWS worker process ended without an answer (status {self.status})")
        kind, value = pickle.loads(data)  # noqa: S301 - our own child's answer, over a private pipe
        if kind == "ok":
            outcome: EcrOutcome = value
            return outcome
        if kind == "error":
            raise value
        raise WorkerBug(f"the AWS worker process failed:\n{value}")  # a bug there is one here (exit 70)

    def close(self) -> None:
        """End the worker if it still runs (SIGKILL: it holds nothing to clean up) and reap it."""
        for name in ("_job_fd", "_answer_fd"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)
        if self.status is not None:
            return
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == 0:
                os.kill(self.pid, signal.SIGKILL)
                pid, status = os.waitpid(self.pid, 0)
        except ChildProcessError:  # reaped elsewhere (PID 1 reaping orphans)
            self.status = -1
            return
        self.status = os.waitstatus_to_exitcode(status)


_CURRENT: Worker | None = None


def wanted(env: Mapping[str, str]) -> bool:
    """PLUGIN_AWS_WORKER as the settings read it (a junk value forks: the settings then refuse it)."""
    value = next((v.strip() for name in SWITCHES if (v := env.get(name, "")).strip()), "")
    return value.lower() not in FALSE  # the settings' spellings, read before pydantic loads


def prefork() -> Worker | None:
    """Fork the worker (``python -m plugin`` only: call it before any thread exists)."""
    global _CURRENT  # noqa: PLW0603 - one worker per process, like the Redactor
    if not wanted(os.environ):
        return None
    job_r, job_w = os.pipe()
    answer_r, answer_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the worker
        os.close(job_w)
        os.close(answer_r)
        code = EXIT_BUG
        try:
            code = _serve(job_r, answer_w, parent)
        finally:
            os._exit(code)
    os.close(job_r)
    os.close(answer_w)
    _CURRENT = Worker(pid, job_w, answer_r)
    return _CURRENT


def run_job(job: EcrJob, *, in_worker: bool = True) -> EcrOutcome:
    """The ECR work: in the worker when there is one (once) and ``in_worker``, else here."""
    global _CURRENT
    worker, _CURRENT = _CURRENT, None
    if worker is not None and in_worker:
        return worker.run(job)
    if worker is not None:  # PLUGIN_AWS_WORKER=false came with PLUGIN_ENV_FILE, after the fork
        worker.close()
    from plugin.aws.work import run_job as run_here  # noqa: PLC0415 - the AWS SDK, only now

    return run_here(job)


def shutdown() -> None:
    """End an unused worker (``plan``, a configuration error, a skipped build)."""
    global _CURRENT
    worker, _CURRENT = _CURRENT, None
    if worker is not None:
        worker.close()


# -- the worker's side --------------------------------------------------------------------------------


def _serve(job_fd: int, answer_fd: int, parent: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    answer: tuple[str, Any]
    run: Callable[[EcrJob], EcrOutcome] | None = None
    try:
        from plugin.aws.session import warm_up  # noqa: PLC0415 - the worker's point: boto3 loads now
        from plugin.aws.work import run_job as run  # noqa: PLC0415 - with boto3, in the worker

        warm_up()
    except BaseException as exc:  # reported when the job comes
        failed = f"{type(exc).__name__}: {exc}"
    data = _receive(job_fd)
    os.close(job_fd)
    if data is None:  # the plugin did not need us (plan, bad settings, a skipped build)
        return 0
    job: EcrJob = pickle.loads(data)  # noqa: S301 - our own parent's job, over a private pipe
    from plugin.core.log import REDACTOR, configure  # noqa: PLC0415 - structlog, once a job came

    REDACTOR.add(*job.secrets)
    configure(job.log_level, job.log_json)
    if run is None:
        answer = ("bug", failed)
    else:
        try:
            answer = ("ok", run(job))
        except PluginError as exc:
            answer = ("error", exc)
        except Exception:
            import traceback  # noqa: PLC0415 - only for a bug

            answer = ("bug", REDACTOR.text(traceback.format_exc()))
    sys.stderr.flush()
    try:
        _send(answer_fd, pickle.dumps(answer))
    except OSError:
        return 1  # the plugin is gone
    return 0


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the plugin ends, however it ends (Linux prctl; elsewhere the pipe's EOF does it)."""
    try:
        import ctypes  # noqa: PLC0415 - the worker only

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the plugin ended before prctl took effect
        os._exit(1)


def _send(fd: int, payload: bytes) -> None:
    data = _HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _receive(fd: int) -> bytes | None:
    """One length-prefixed message, or None at end of file (the other side closed or died)."""
    head = _read_exactly(fd, _HEADER.size)
    if head is None:
        return None
    return _read_exactly(fd, _HEADER.unpack(head)[0])


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)

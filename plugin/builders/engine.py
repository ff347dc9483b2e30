"""The Docker engine a docker or buildx build uses: the plugin's own dockerd, launched before the ECR
work so that both run at once, or the user's (PLUGIN_DAEMON_OFF).

dockerd takes a while to answer (0.1-0.5 s); the credentials, repository and token take about as
long. So the run launches the plugin's dockerd as soon as the settings are known and waits for it
only when the build needs it. Whatever ends the run (an AWS error, a signal, a build failure) stops
it: dockerd runs in PID and mount namespaces of its own (``plugin.builders.dockerd``), so stopping
it ends every process it started and drops every mount it made. A daemon no build used (the ECR work failed
or showed that every tag exists, or a signal came first) is discarded: on a data root it created
(absent or empty before) it is killed and its files removed, which leaves nothing behind, as if it had
never started; on a data root that held data it is stopped as usual.

Not launched early: with PLUGIN_DAEMON_OFF (the user's engine), or with PLUGIN_INSECURE when the
registry is only known from the ECR token (the daemon's insecure registries need its name).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from plugin.builders.docker import daemon_options
from plugin.builders.dockerd import Dockerd, ping, place_run_dir
from plugin.core.errors import BuildError, RunError

if TYPE_CHECKING:
    from plugin.config.settings import Settings
    from plugin.exec.runner import Runner
    from plugin.target.destinations import Target


def launches_early(settings: Settings, builder: str, target: Target) -> bool:
    """Whether this run's dockerd can be launched before the ECR work."""
    if builder not in ("docker", "buildx") or settings.daemon_off:
        return False
    return not (settings.insecure and not target.registries)


@contextlib.contextmanager
def early_dockerd(
    settings: Settings, builder: str, target: Target, run_dir: Path, runner: Runner
) -> Iterator[Dockerd | None]:
    """The run's dockerd, launched (not yet answering), or None; always stopped at the end."""
    if not launches_early(settings, builder, target):
        yield None
        return
    opts = daemon_options(settings, target, place_run_dir(str(run_dir / "dockerd")))
    daemon = Dockerd(opts, runner, retry_count=settings.daemon_retry_count)
    daemon.launch()
    try:
        yield daemon
    finally:  # a daemon no build waited for (an AWS error, a signal, a skip) leaves nothing behind
        if daemon.used:
            daemon.stop()
        else:
            daemon.discard()


@contextlib.contextmanager
def engine_for_build(
    settings: Settings, target: Target, run_dir: Path, runner: Runner, launched: Dockerd | None = None
) -> Iterator[tuple[str, Dockerd | None]]:
    """DOCKER_HOST of the engine to build with, and the plugin's own dockerd (None: PLUGIN_DAEMON_OFF)."""
    s = settings
    if s.daemon_off:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if host.startswith("unix://") and not ping(host):
            raise RunError(f"PLUGIN_DAEMON_OFF is set but no Docker engine answers at {host}")
        yield host, None
        return
    daemon = launched or Dockerd(
        daemon_options(s, target, place_run_dir(str(run_dir / "dockerd"))),
        runner,
        retry_count=s.daemon_retry_count,
    )
    try:
        if launched is None:
            daemon.launch()
        daemon.wait_ready()
        yield daemon.docker_host, daemon
    except BuildError as exc:
        died = daemon.died()  # a failed step because dockerd itself ended: say so
        if died is None:
            raise
        raise died from exc
    finally:
        daemon.stop()

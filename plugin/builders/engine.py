"""The docker and buildx builders' engine, launched before the ECR work so that both run at once.

dockerd takes a while to answer (0.1-0.5 s); the credentials, repository and token take about as
long. So the run launches the plugin's dockerd as soon as the settings are known and waits for it
only when the build needs it. Whatever ends the run (an AWS error, a signal, a build failure) stops
it: dockerd runs in PID and mount namespaces of its own (``plugin.builders.dockerd``), so stopping it ends
every process it started and drops every mount it made. A daemon no build used (the ECR work failed
or showed that every tag exists, or a signal came first) is discarded: on a data root it created
(absent or empty before) it is killed and its files removed, which leaves nothing behind, as if it had
never started; on a data root that held data it is stopped as usual.

Not launched early: with PLUGIN_DAEMON_OFF (the user's engine), or with PLUGIN_INSECURE when the
registry is only known from the ECR token (the daemon's insecure registries need its name).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from plugin.builders.docker import daemon_options
from plugin.builders.dockerd import Dockerd, place_run_dir

if TYPE_CHECKING:
    from plugin.exec.runner import Runner
    from plugin.run.resolve import Resolved


def launches_early(r: Resolved) -> bool:
    """Whether this run's dockerd can be launched before the ECR work."""
    s = r.settings
    if r.builder not in ("docker", "buildx") or s.daemon_off:
        return False
    return not (s.insecure and not r.target.registries)


@contextlib.contextmanager
def early_dockerd(r: Resolved, run_dir: Path, runner: Runner) -> Iterator[Dockerd | None]:
    """The run's dockerd, launched (not yet answering), or None; always stopped at the end."""
    if not launches_early(r):
        yield None
        return
    s = r.settings
    opts = daemon_options(s, r.target, place_run_dir(str(run_dir / "dockerd")))
    daemon = Dockerd(opts, runner, retry_count=s.daemon_retry_count)
    daemon.launch()
    try:
        yield daemon
    finally:  # a daemon no build waited for (an AWS error, a signal, a skip) leaves nothing behind
        if daemon.used:
            daemon.stop()
        else:
            daemon.discard()

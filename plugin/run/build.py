"""The build phase: docker or buildx against the run's engine, kaniko's push-only (kaniko itself:
``plugin.run.build_kaniko``).

After the pushes the digest is read back (kaniko's digest file; the registry for docker; buildx's
metadata file, checked against the registry), and tags that already existed in an immutable
repository are verified against it: the same digest counts as pushed, a different one is an error
naming the tag and both digests.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from plugin.builders.buildkitd import CONFIGURABLE_DRIVERS, buildkitd_toml, load_user_config
from plugin.builders.buildx import (
    BuildxRun,
    buildx_plan,
    created_driver,
    new_builder_name,
    pushes,
    writes_config,
)
from plugin.builders.buildx_results import (
    BuildWatch,
    builder_platforms,
    emulation_message,
    metrics_bytes,
    requested_platforms,
)
from plugin.builders.docker import DockerRun, daemon_options, docker_plan, new_temp_tag
from plugin.builders.dockerd import Dockerd
from plugin.builders.engine import engine_for_build
from plugin.core.errors import BuildError, RunError
from plugin.core.log import get_logger
from plugin.exec.runner import Runner
from plugin.exec.steps import Step
from plugin.registry.api import Manifest, manifest, manifest_digest
from plugin.registry.tarpush import push_tarball
from plugin.run.build_kaniko import build_kaniko
from plugin.run.prepare import Prepared, verify_existing
from plugin.run.resolve import Resolved

log = get_logger("plugin.run.build")
# Push failures worth another try: registry 5xx, timeouts, dropped connections.
_TRANSIENT_PUSH = re.compile(
    r"(5\d\d |50[0-4]|internal server error|bad gateway|service unavailable|gateway time-?out|timeout|"
    r"timed out|connection reset|connection refused|broken pipe|EOF|i/o timeout|TLS handshake)",
    re.IGNORECASE,
)
# A failed buildx build is retried only when its output shows the push failing (not a RUN step).
_PUSH_PHASE = re.compile(r"(failed to push|pushing layers|pushing manifest|exporting to image)", re.I)
DEFAULT_PUSH_RETRIES = 3
# What `docker push` prints once the registry accepted the manifest (moby's push_v2.go; a stable format).
_PUSHED = re.compile(r"^(?P<tag>[\w][\w.-]{0,127}): digest: (?P<digest>sha256:[0-9a-f]{64}) size: \d+$")


def build(r: Resolved, prep: Prepared, runner: Runner, daemon: Dockerd | None = None) -> str | None:
    """Build and push with the chosen builder; returns the pushed digest (None when not pushed).

    ``daemon``: the run's dockerd, already launched (``plugin.builders.engine``) for docker and buildx."""
    if r.builder == "kaniko" and not r.settings.push_only:
        return build_kaniko(r, prep, runner)
    if r.builder == "kaniko":
        digest = push_tarball_only(r, prep)
        verify_existing(prep, digest)
        return digest
    if r.builder == "buildx" and not r.settings.push_only:
        return run_buildx(r, prep, runner, daemon)
    return run_docker(r, prep, runner, daemon)


def push_tarball_only(r: Resolved, prep: Prepared) -> str:
    """kaniko-ecr's push-only: PLUGIN_SOURCE_TAR_PATH pushed over the registry API, no executor or daemon."""
    target = prep.target
    hosts = target.registries
    destinations = [(host, target.repository, tag) for host in hosts for tag in prep.push_tags]
    return push_tarball(Path(r.settings.source_tar_path or ""), destinations, prep.auths, prep.run_dir)


def _transient(lines: list[str], phase: re.Pattern[str] | None) -> bool:
    """A registry hiccup (5xx, timeout, reset); with ``phase``, only when the output shows that phase."""
    if phase is not None and not any(phase.search(line) for line in lines):
        return False
    return any(_TRANSIENT_PUSH.search(line) for line in lines)


def _push(
    step: Step,
    runner: Runner,
    retries: int,
    what: str | None = None,
    phase: re.Pattern[str] | None = None,
    *,
    watch: Callable[[str], None] | None = None,
) -> None:
    """Run a pushing step, again (with backoff) while it fails on a transient registry error."""
    what = what or f"docker push {step.argv[-1]}"
    for attempt in range(retries + 1):
        status = runner.run(step, watch=watch)
        if status == 0:
            return
        if attempt == retries or not _transient(list(runner.last_lines), phase):
            # The CLI's last line says why (refused, unauthorized); last_lines are already redacted.
            why = next((line.strip() for line in reversed(runner.last_lines) if line.strip()), "")
            raise BuildError(f"{what} failed with exit status {status}" + (f": {why}" if why else ""), status)
        wait = min(8.0, 0.5 * 2**attempt)
        log.info("push.retry", image=what, attempt=attempt + 1, wait=wait)
        time.sleep(wait)


def reported_digest(lines: list[str], reference: str) -> str | None:
    """The digest ``docker push`` printed for ``reference`` (``TAG: digest: sha256:... size: N``)."""
    tag = reference.rsplit("/", 1)[-1].partition(":")[2]
    for line in reversed(lines):
        found = _PUSHED.match(line.strip())
        if found and found["tag"] == tag:
            return found["digest"]
    return None


def _run_steps(
    steps: list[Step],
    runner: Runner,
    retries: int,
    after_first_push: Callable[[str | None], None] | None = None,
) -> None:
    """Run the steps in order; ``after_first_push`` runs once, right after the first push succeeded,
    with the digest that push reported (None when its output did not say)."""
    pushed = False
    for step in steps:
        if step.kind == "daemon":
            continue
        if step.name == "push":
            seen: list[str] = []
            _push(step, runner, retries, watch=seen.append)
            if not pushed and after_first_push is not None:
                after_first_push(reported_digest(seen, step.argv[-1]))
            pushed = True
            continue
        status = runner.run(step)
        if status != 0 and step.allow_failure:
            log.warning("step.failed_ignored", step=step.name, status=status)
        elif status != 0:
            raise BuildError(_failed(step, status), status)


def _failed(step: Step, status: int) -> str:
    """`docker build failed with exit status 1 ...`: the command was traced just above, with its output."""
    words = step.argv[:3] if step.argv[1:2] == ("buildx",) else step.argv[:2]
    return f"{' '.join(words)} failed with exit status {status}; its output above says why"


def _write_ssh_key(r: Resolved, path: str) -> None:
    """PLUGIN_SSH_AGENT_KEY reaches the build through a 0400 file in the run dir, never argv."""
    if not r.settings.ssh_agent_key:
        return
    key = Path(path)
    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key.write_text(r.settings.ssh_agent_key.get_secret_value().strip() + "\n", encoding="utf-8")
    key.chmod(0o400)


def _with_host(steps: list[Step], docker_host: str) -> list[Step]:
    return [
        Step(st.name, st.argv, {**st.env, "DOCKER_HOST": docker_host}, st.stdin, st.kind, st.allow_failure)
        for st in steps
    ]


def run_docker(r: Resolved, prep: Prepared, runner: Runner, launched: Dockerd | None = None) -> str | None:
    s = r.settings
    run = DockerRun(str(prep.docker_config), str(prep.run_dir / "ssh" / "id_key"), new_temp_tag())
    _write_ssh_key(r, run.ssh_key_path)
    with engine_for_build(s, prep.target, prep.run_dir, runner, launched) as (docker_host, dockerd):
        daemon = daemon_options(s, prep.target, str(prep.run_dir / "dockerd"))
        plan = docker_plan(
            s, r.ctx, prep.target, r.loaded.env, run=run, daemon=daemon, push_tags=prep.push_tags
        )
        steps = _with_host(plan.steps, docker_host)
        if dockerd is not None and dockerd.fresh_data_root:
            steps = _without_prune(steps)
        retries = DEFAULT_PUSH_RETRIES if s.push_retry is None else s.push_retry
        pushed: list[str] = []

        def first_digest(reported: str | None) -> None:
            # The first push gives the digest; existing immutable tags are verified before any other push.
            pushed.append(reported or _pushed_digest(prep))
            verify_existing(prep, pushed[0])

        _run_steps(steps, runner, retries, after_first_push=first_digest)
    return pushed[0] if pushed else None


def _without_prune(steps: list[Step]) -> list[Step]:
    """No `docker system prune` on a data root this run's dockerd made: all it holds is this build's,
    and it goes with the container's volume (or is the cache the next run prunes)."""
    kept = [st for st in steps if st.argv[1:3] != ("system", "prune")]
    if len(kept) != len(steps):
        log.info("docker.prune_skipped", reason="the data root was empty when dockerd started")
    return kept


def _pushed_digest(prep: Prepared) -> str:
    """The digest of the first pushed tag, as the main registry serves it."""
    registry = prep.target.registry or ""
    return manifest_digest(registry, prep.target.repository, prep.push_tags[0], prep.auths.get(registry))


def run_buildx(r: Resolved, prep: Prepared, runner: Runner, launched: Dockerd | None = None) -> str | None:
    """Create the builder (if any), build and push every tag at once, then read the digest back.

    buildx pushes all tags together, so tags that existed in an immutable repository are verified
    after the push, as with kaniko. The builder is removed even when the build fails; a build that
    failed with 'exec format error' is explained (which platform the builder cannot run) first.
    """
    s = r.settings
    run = BuildxRun(
        str(prep.docker_config),
        str(prep.run_dir / "ssh" / "id_key"),
        str(prep.run_dir / "metadata.json"),
        new_builder_name(),
        str(prep.run_dir / "buildkitd.toml"),
    )
    _write_ssh_key(r, run.ssh_key_path)
    _write_buildkitd_config(r, prep, run)
    watch = BuildWatch()
    with engine_for_build(s, prep.target, prep.run_dir, runner, launched) as (docker_host, _):
        daemon = daemon_options(s, prep.target, str(prep.run_dir / "dockerd"))
        plan = buildx_plan(
            s, r.ctx, prep.target, r.loaded.env, run=run, daemon=daemon, push_tags=prep.push_tags
        )
        steps = [st for st in _with_host(plan.steps, docker_host) if st.kind != "daemon"]
        removes = [st for st in steps if st.name == "builder-rm"]
        try:
            _run_buildx_steps([st for st in steps if st.name != "builder-rm"], runner, s.push_retry, watch)
        except BuildError as exc:
            if watch.exec_format_error:
                build = next(st for st in steps if st.name == "build")
                raise BuildError(_emulation_problem(r, runner, build), exc.exit_code) from None
            raise
        finally:
            for step in removes:
                _run_steps([step], runner, 0)
    _report_cache(r, prep, watch)
    digest = _buildx_digest(r, prep, Path(run.metadata_file))
    verify_existing(prep, digest)
    return digest


def _write_buildkitd_config(r: Resolved, prep: Prepared, run: BuildxRun) -> None:
    """The builder's buildkitd.toml (generated tables under PLUGIN_BUILDER_CONFIG), or a check of the
    user's own file: a bad PLUGIN_BUILDER_CONFIG is refused (exit 2) before the engine starts."""
    s = r.settings
    if writes_config(s, prep.target, r.ctx):
        text = buildkitd_toml(s, prep.target, r.ctx)
        Path(run.buildkitd_config).write_text(text, encoding="utf-8")
        log.info("buildx.buildkitd_config", path=run.buildkitd_config, user_config=s.builder_config)
    elif s.builder_config and created_driver(s) in CONFIGURABLE_DRIVERS:
        load_user_config(s.builder_config)


def _emulation_problem(r: Resolved, runner: Runner, build: Step) -> str:
    """The 'exec format error' explained with the platforms ``docker buildx inspect`` lists."""
    name = next((a.split("=", 1)[1] for a in build.argv if a.startswith("--builder=")), None)
    inspect = Step("inspect", ("docker", "buildx", "inspect", *([name] if name else [])), env=build.env)
    status, output = runner.capture(inspect)
    available = builder_platforms(output) if status == 0 else []
    return emulation_message(requested_platforms(r.settings.platform), available)


def _report_cache(r: Resolved, prep: Prepared, watch: BuildWatch) -> None:
    """How many Dockerfile steps came from the cache; PLUGIN_CACHE_METRICS_FILE gets the anchor's JSON
    (staged with the outputs)."""
    total, cached = watch.steps()
    if total:
        log.info("buildx.cache", steps=total, cached=cached)
    if r.settings.cache_metrics_file:
        prep.files[r.settings.cache_metrics_file] = metrics_bytes(watch.metrics())


def _run_buildx_steps(
    steps: list[Step], runner: Runner, push_retry: int | None, watch: Callable[[str], None] | None = None
) -> None:
    """The create fallback runs only when the first create failed; a pushing build may be retried."""
    retries = DEFAULT_PUSH_RETRIES if push_retry is None else push_retry
    created = False
    for step in steps:
        if step.name == "builder-fallback" and created:
            continue
        if step.name == "build" and pushes(step):
            _push(step, runner, retries, what="docker buildx build --push", phase=_PUSH_PHASE, watch=watch)
            continue
        status = runner.run(step, watch=watch if step.name == "build" else None)
        if step.name == "builder" and status == 0:
            created = True
        elif status != 0 and step.allow_failure:
            log.warning("step.failed_ignored", step=step.name, status=status)
        elif status != 0:
            raise BuildError(_failed(step, status), status)


def _pushed_manifest(prep: Prepared) -> Manifest:
    """What the first pushed tag points to in the main registry (media type, digest, platforms)."""
    registry = prep.target.registry or ""
    return manifest(registry, prep.target.repository, prep.push_tags[0], prep.auths.get(registry))


def _buildx_digest(r: Resolved, prep: Prepared, metadata: Path) -> str | None:
    """``containerimage.digest`` from buildx's metadata file (kept at PLUGIN_METADATA_FILE when set).

    When pushed, the registry's digest for the first tag is what the outputs report (with each
    platform's manifest digest when it is an index); a metadata digest that differs is logged.
    PLUGIN_SINGLE_MANIFEST is checked here: an index in the registry fails the run.
    """
    s = r.settings
    found: str | None = None
    if metadata.is_file():
        if s.metadata_file:  # staged: in place with the other outputs, once the run succeeded
            prep.files[s.metadata_file] = metadata.read_bytes()
        with contextlib.suppress(ValueError, AttributeError):
            found = json.loads(metadata.read_text(encoding="utf-8")).get("containerimage.digest")
    if s.no_push:
        return None
    pushed = _pushed_manifest(prep)
    prep.pushed = pushed
    log.info("buildx.pushed", media_type=pushed.media_type, digest=pushed.digest, platforms=pushed.platforms)
    if s.single_manifest and pushed.is_index:
        image = prep.target.destinations(prep.push_tags[:1])[0]
        raise RunError(
            f"PLUGIN_SINGLE_MANIFEST is set, but the registry serves an index ({pushed.media_type}) for "
            f"{image}; AWS Lambda and other single-manifest consumers will refuse it"
        )
    if found != pushed.digest:
        log.warning("buildx.metadata_digest_differs", metadata=found, registry=pushed.digest)
    return pushed.digest

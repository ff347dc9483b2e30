"""The build phase for kaniko: the executor's version checked against the settings, then its one step.

The version comes from ``KANIKO_VERSION`` (set in the plugin's kaniko image) or ``executor version``.
Settings that this executor lacks are refused before any AWS call or build (exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from plugin.builders.kaniko import EXECUTOR, KanikoRun, kaniko_plan
from plugin.config.versions import parse_version, unchecked, version_problems
from plugin.core.errors import BuildError, ConfigError, RunError
from plugin.core.log import get_logger
from plugin.exec.runner import Runner
from plugin.exec.steps import Step
from plugin.run.prepare import Prepared, verify_existing
from plugin.run.resolve import Resolved

log = get_logger("plugin.kaniko")


def given_version(env: Mapping[str, str]) -> str | None:
    """``KANIKO_VERSION`` as the image sets it, or None."""
    return (env.get("KANIKO_VERSION") or "").strip() or None


def executor_version(env: Mapping[str, str], runner: Runner) -> str | None:
    """The executor's version: ``KANIKO_VERSION``, else what ``executor version`` prints (None if neither)."""
    given = given_version(env)
    if given:
        return given
    status, out = runner.capture(Step("version", (EXECUTOR, "version")))
    text = out.strip().rpartition(":")[2].strip()
    return text if status == 0 and parse_version(text) else None


def check_executor(r: Resolved, runner: Runner) -> str | None:
    """The executor exists and understands every setting given; returns its version (None: unknown).

    Returns None too when no setting depends on the version and ``KANIKO_VERSION`` is not set.
    """
    if not os.path.exists(EXECUTOR):
        raise RunError(
            f"the kaniko executor is not at {EXECUTOR}: use the kaniko image, or PLUGIN_BUILDER=docker"
        )
    needs = unchecked(r.settings, "kaniko")
    # `executor version` is asked only when a setting depends on it (a skipped run starts nothing).
    version = given_version(r.loaded.env) or (executor_version(r.loaded.env, runner) if needs else None)
    problems = version_problems(r.settings, r.loaded.env, "kaniko", version)
    if problems:
        raise ConfigError(problems)
    if version is None and needs:
        log.warning("kaniko.version_unknown", unchecked=needs, hint="the executor refuses a flag it lacks")
    elif version is not None:
        log.info("kaniko.version", version=version)
    return version


def build_kaniko(r: Resolved, prep: Prepared, runner: Runner) -> str | None:
    """The kaniko builder's build: the executor, then the check of tags that existed (immutable)."""
    digest = run_kaniko(r, prep, runner)
    verify_existing(prep, digest)
    return digest


def run_kaniko(r: Resolved, prep: Prepared, runner: Runner) -> str | None:
    """The executor builds and pushes; the digest comes from its digest file in the run directory."""
    run = KanikoRun(str(prep.run_dir))
    plan = kaniko_plan(r.settings, r.ctx, prep.target, r.loaded.env, run=run, push_tags=prep.push_tags)
    for step in plan.steps:
        status = runner.run(step)
        if status != 0:
            raise BuildError(f"kaniko failed with exit status {status}", status)
    for path, written in run.produced(r.settings).items():  # staged with the outputs
        if Path(written).is_file():
            prep.files[path] = Path(written).read_bytes()
    digest_file = prep.run_dir / "digest"
    if r.settings.no_push or not digest_file.is_file():
        return None
    return digest_file.read_text(encoding="utf-8").strip() or None

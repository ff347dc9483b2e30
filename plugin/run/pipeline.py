"""The run: prepare (credentials → ECR work → Docker config) → build → sign → outputs, the same for
every builder. Whatever happens, the run directory is removed and the run's dockerd (launched before
the ECR work) stopped.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from plugin.aws.trust import trust_from_context
from plugin.core.log import get_logger
from plugin.exec.rundir import run_directory
from plugin.run import summary
from plugin.run.builder_outputs import BuilderOutput, builder_outputs, for_builder
from plugin.run.outputs import (
    BuildResult,
    artifact_bytes,
    card_bytes,
    drone_output_bytes,
    ecr_console_url,
    is_stream,
    output_values,
    write_card_stream,
)
from plugin.run.prepare import Prepared, prepare
from plugin.run.resolve import Resolved
from plugin.run.signing import prepare_signer
from plugin.run.staging import StagedFiles

if TYPE_CHECKING:
    from plugin.builders.dockerd import Dockerd
    from plugin.exec.runner import Runner

log = get_logger("plugin.run.pipeline")


def write_outputs(r: Resolved, result: BuildResult, files: StagedFiles | None = None) -> None:
    """DRONE_OUTPUT (merged), the artifact file, the card, the files the build made for paths the
    user named (PLUGIN_METADATA_FILE, ...) and what the builder wrote beside the user's paths
    (PLUGIN_TAR_PATH, PLUGIN_OCI_LAYOUT_PATH: ``files``), all in place together or none of them.

    Called only after a success or a skip. A card on /dev/stdout or /dev/stderr is printed once the
    files are in place.
    """
    s, ctx = r.settings, r.ctx
    card = card_bytes(result, ecr_console_url(result.registry, result.repository, s.account, s.region))
    with files or StagedFiles() as staged:
        if ctx.output_file:
            staged.stage(ctx.output_file, drone_output_bytes(ctx.output_file, output_values(result)))
        if s.artifact_file:
            staged.stage(s.artifact_file, artifact_bytes(result, s.registry_type))
        if ctx.card_path and not is_stream(ctx.card_path):
            staged.stage(ctx.card_path, card)
        for path, data in result.files.items():
            staged.stage(path, data)
    if ctx.card_path and is_stream(ctx.card_path):
        write_card_stream(ctx.card_path, card)
    log.info("outputs.written", digest=result.digest, images=result.images, skipped=result.skipped)


def result_for(
    r: Resolved,
    prep: Prepared,
    digest: str | None,
    skipped: bool = False,
    written: list[BuilderOutput] | None = None,
) -> BuildResult:
    """What the run did; IMAGE_TAR_PATH names the user's path (the tarball is moved there with the
    outputs) when the builder wrote one, or, on a skip, when one is there already."""
    target = prep.target
    tar = next((out for out in written or [] if out.field == "tar_path"), None)
    if tar is not None:
        tar_path = tar.final if Path(tar.temp).exists() else None
    else:
        old = r.settings.tar_path
        tar_path = old if skipped and old and Path(old).exists() else None
    return BuildResult(
        registry=target.registry or "",
        repository=target.repository,
        tags=list(target.tags),
        digest=digest,
        images=target.destinations(),
        tar_path=tar_path,
        skipped=skipped,
        index_digest=prep.pushed.digest if prep.pushed and prep.pushed.is_index else None,
        platform_digests=dict(prep.pushed.platforms) if prep.pushed else {},
        files=dict(prep.files),
    )


def _early_dockerd(r: Resolved, run_dir: Path, runner: Runner) -> AbstractContextManager[Dockerd | None]:
    if r.builder == "kaniko":  # without docker's modules
        return nullcontext(None)
    from plugin.builders.engine import early_dockerd  # noqa: PLC0415 - docker and buildx only

    return early_dockerd(r.settings, r.builder, r.target, run_dir, runner)


def _build(r: Resolved, prep: Prepared, runner: Runner, daemon: Dockerd | None) -> str | None:
    if r.builder == "kaniko" and not r.settings.push_only:  # without docker's and buildx's modules
        from plugin.run.build_kaniko import build_kaniko  # noqa: PLC0415 - kaniko only

        return build_kaniko(r, prep, runner)
    from plugin.run.build import build  # noqa: PLC0415 - every builder's modules

    return build(r, prep, runner, daemon)


def run(r: Resolved) -> int:
    """The whole job; returns the exit status (errors are raised and mapped by main)."""
    from plugin.exec.runner import Runner  # noqa: PLC0415 - the builders import the process runner

    if r.tags.skip_reason:
        log.warning("build.skipped", reason=r.tags.skip_reason)
        return 0
    runner = Runner()
    runner.install_signal_handlers()
    if r.builder == "kaniko" and not r.settings.push_only:
        from plugin.run.build_kaniko import check_executor  # noqa: PLC0415 - kaniko only

        check_executor(r, runner)  # settings this executor lacks: exit 2 before any AWS call
    # kaniko's push-only pushes a tarball over the registry API: no executor, no /kaniko needed
    where = "push-only" if r.builder == "kaniko" and r.settings.push_only else r.builder
    phase = summary.TIMELINE.phase
    signer = prepare_signer(r.settings, r.loaded.env)  # the cosign key and cosign itself, before AWS
    # The run dir is removed and dockerd (launched before the ECR work) stopped, whatever happens.
    with run_directory(where, r.loaded.env) as run_dir, ExitStack() as stack:
        if signer is not None:
            signer.check(runner, run_dir)  # the key's password: exit 2 before any AWS call
        with phase("prepare"):
            trust_from_context(r.ctx.ca_path, run_dir)  # dockerd and the AWS worker trust the CA too
            daemon = stack.enter_context(_early_dockerd(r, run_dir, runner))
            prep = prepare(r, run_dir)
        if prep.skipped:
            assert prep.decision is not None  # noqa: S101 - skipped implies a decision
            if daemon is not None:
                daemon.discard()
            log.info("build.skipped", reason=prep.decision.reason, digest=prep.decision.digest)
            result = result_for(r, prep, prep.decision.digest, skipped=True)
            with phase("outputs"):
                write_outputs(r, result)
            summary.log_summary(result, pushed=False, reason=prep.decision.reason)
            return 0
        # What the builder writes (the tarball, kaniko's OCI layout) goes beside the user's paths,
        # moved into place with the outputs; any failure from here on (or a signal) removes it.
        files = stack.enter_context(StagedFiles())
        written = builder_outputs(r.settings, r.builder, run_dir.name)
        for out in written:
            files.expect(out.final, out.temp, directory=out.directory)
        with phase("build"):
            digest = _build(for_builder(r, written), prep, runner, daemon)
        result = result_for(r, prep, digest, written=written)
        if signer is not None and digest:
            with phase("sign"):  # a failure is exit 1 after saying the image was pushed; no outputs
                result.signatures = signer.sign(runner, prep.target, digest, prep.auths, prep.docker_config)
        with phase("outputs"):
            write_outputs(r, result, files)
        summary.log_summary(result, pushed=not r.settings.no_push)
        return 0

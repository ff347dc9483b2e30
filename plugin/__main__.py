"""Entrypoint: load → resolve → check inputs → ``plan`` | ``prepare`` | run. The only place that decides
exit codes, above every layer of the plugin (docs/architecture.md).

Run as a program (``python -m plugin``, the ``build-push-ecr`` script), a run first forks the AWS
worker (``plugin.aws.worker``), which loads boto3 while this process reads the settings; everything
else is imported only by the command that needs it, so ``--help`` and ``plan`` never load the AWS SDK.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from plugin import __version__
from plugin.core.booleans import TRUE, parse_bool
from plugin.core.deferred import defer_all

defer_all()  # asyncio, importlib.metadata, secrets: before the libraries import them (core/deferred.py)
# The plugin uses no pydantic plugin: without this, building the settings model scans every installed
# distribution's entry points for one (about 13 ms of `plan`). The processes the plugin starts inherit
# it and ignore it (none is Python); a RUN step never sees the plugin's environment.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from plugin.core.errors import EXIT_BUG, EXIT_CONFIG, EXIT_OK, PluginError  # noqa: E402 - after the deferral
from plugin.core.log import REDACTOR, configure, get_logger  # noqa: E402 - structlog: after the deferral
from plugin.run import summary  # noqa: E402 - after the deferral

COMMANDS = ("run", "plan", "prepare")
_AWS_COMMANDS = (None, "run", "prepare")  # the commands that do ECR work (None: no command is "run")


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@contextmanager
def error_handler() -> Iterator[None]:
    """Map every failure to an exit status: PluginError knows its own; anything else is a bug (70)."""
    log = get_logger()
    try:
        yield
    except PluginError as exc:
        # One event: the message (multi-line for configuration errors) first, then where and how long.
        log.error(
            "plugin.failed",
            error=exc.message,
            exit_code=exc.exit_code,
            phase=summary.TIMELINE.current,
            seconds=round(summary.TIMELINE.elapsed(), 2),
            error_type=type(exc).__name__,
        )
        raise _Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise _Exit(130) from None
    except Exception:
        import traceback  # noqa: PLC0415 - only for a bug

        log.error("plugin.bug", traceback=REDACTOR.text(traceback.format_exc()), exit_code=EXIT_BUG)
        raise _Exit(EXIT_BUG) from None


def _json_requested() -> bool:
    """PLUGIN_LOG_JSON before the settings are read, so that an early failure is JSON too."""
    try:
        return bool(parse_bool(os.environ.get("PLUGIN_LOG_JSON") or "false"))
    except ValueError:
        return False


def _print_json(document: Any) -> None:
    import json  # noqa: PLC0415 - only the commands that print JSON

    sys.stdout.write(json.dumps(REDACTOR.value(document), indent=2) + "\n")
    sys.stdout.flush()


def _command(argv: Sequence[str]) -> str | None:
    if not argv:
        return "run"
    if argv[0] in ("-h", "--help", "help"):
        from plugin.config.docs import render_help  # noqa: PLC0415 - --help only

        sys.stdout.write(render_help())
        return None
    if argv[0] == "--version":
        sys.stdout.write(f"build-push-ecr {__version__}\n")
        return None
    if argv[0] not in COMMANDS:
        sys.stderr.write(f"unknown command {argv[0]!r}; expected one of {', '.join(COMMANDS)} or --help\n")
        raise _Exit(EXIT_CONFIG)
    return argv[0]


def _dispatch(command: str) -> int:
    from plugin.config.load import load_settings  # noqa: PLC0415 - pydantic: keeps --help fast
    from plugin.run.resolve import resolve  # noqa: PLC0415 - keeps --help fast

    with summary.TIMELINE.phase("settings"):
        loaded = load_settings()
        configure(loaded.settings.log_level, loaded.settings.log_json)
        log = get_logger()
        REDACTOR.add(*loaded.settings.secret_values())
        for event, fields in loaded.warnings:
            log.warning(event, **fields)
        resolved = resolve(loaded)
        for note in resolved.tags.notes:
            log.warning("tags.adjusted", note=note)
        if not resolved.tags.skip_reason:  # nothing is read when auto-tag skips the build
            from plugin.run.inputs import check_inputs  # noqa: PLC0415 - after the settings

            check_inputs(resolved)  # before the first network call, for every command
    if command == "plan" or loaded.settings.plan_only:
        from plugin.run.plan import plan_document  # noqa: PLC0415 - `plan` only

        _print_json(plan_document(resolved))
        return EXIT_OK
    if command == "prepare":
        from plugin.run.prepare import prepare  # noqa: PLC0415 - the `prepare` command only

        _print_json(prepare(resolved, check_tags=True).to_json())
        return EXIT_OK
    from plugin.run.pipeline import run  # noqa: PLC0415 - a run only

    return run(resolved)


def _wants_worker(args: Sequence[str]) -> bool:
    """A run or `prepare` (not `plan`, even through PLUGIN_PLAN_ONLY): it will do ECR work."""
    command = args[0] if args else None
    plan_only = os.environ.get("PLUGIN_PLAN_ONLY", "").strip().lower() in TRUE
    return command in _AWS_COMMANDS and not plan_only


def main(argv: Sequence[str] | None = None, *, fork_worker: bool = False) -> int:
    """The whole program; ``fork_worker`` (the command-line entry points only: it forks) starts the
    AWS worker first, before any thread or heavy import."""
    args = list(sys.argv[1:] if argv is None else argv)
    if fork_worker and _wants_worker(args):
        from plugin.aws import worker  # noqa: PLC0415 - a run's only

        worker.prefork()
    summary.reset()
    configure(json_lines=_json_requested())
    try:
        command = _command(args)
        if command is None:
            return EXIT_OK
        with error_handler():
            return _dispatch(command)
    except _Exit as stop:
        return stop.code
    finally:
        forked = sys.modules.get("plugin.aws.worker")  # imported by a run (fork or in-process work)
        if forked is not None:
            forked.shutdown()


def exit_now(code: int) -> None:
    """End the process once its output is out: the interpreter's teardown (every module, about 15 ms
    with pydantic loaded) does nothing a finished run needs; every file and process of the run was
    closed, removed or reaped before ``main`` returned."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # `plan | head`, or a stream already closed
            code = code or 1
    os._exit(code)


def cli() -> int:
    """The ``build-push-ecr`` script."""
    exit_now(main(fork_worker=True))
    return 0  # pragma: no cover - exit_now does not return


if __name__ == "__main__":
    exit_now(main(fork_worker=True))

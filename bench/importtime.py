"""`make bench` (start-up): ``plan`` and ``--help`` times, and where start-up time goes (``-X importtime``).

For each checkout, in the runtime-only venv (bench/runtime.py): the median wall time of ``python -c
pass``, ``python -m plugin --help`` and ``python -m plugin plan``; whether ``plan`` imported boto3 or
botocore; and per group of packages the median of the summed *self* import times (every module
counted once, so the groups add up to the whole) of ``plan`` and of the run path: what the process
that starts the kaniko executor imports (and, with the AWS worker, what the worker imports).

    python bench/importtime.py [--before CHECKOUT] [--runs N]

``python -m plugin`` imports the plugin from the working directory first, so one venv measures any
checkout.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkouts import from_command_line  # noqa: E402
from bench.runtime import runtime_python  # noqa: E402

AWS = ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six")
PYDANTIC = ("pydantic", "pydantic_core", "pydantic_settings", "annotated_types", "typing_extensions")
GROUPS = {
    "aws (boto3, botocore, urllib3, ...)": AWS,
    "pydantic (+ settings, core, dotenv)": (*PYDANTIC, "typing_inspection", "dotenv"),
    "structlog (+ rich if installed)": ("structlog", "rich", "pygments", "markdown_it", "mdurl", "colorama"),
    "tenacity, sh": ("tenacity", "sh"),
    "plugin": ("plugin",),
    "site (venv start-up)": ("site", "_distutils_hack", "sitecustomize"),
}
PLAN_ENV = {
    "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0,latest",
    "PLUGIN_BUILDER": "kaniko",
}
# What the process that starts the kaniko executor imports: the settings, the decisions before any AWS
# call, the input checks, the pipeline, the kaniko build and the process runner. The same modules under
# their names before plugin/ was layered (issue 10), for a --before checkout; before the AWS worker,
# the run imported plugin/build.py (every builder's modules) first thing.
RUN_PATH = (
    "import plugin.__main__, plugin.config.load, plugin.run.resolve, plugin.run.inputs, plugin.run.pipeline, "
    "plugin.run.build_kaniko, plugin.exec.runner"
)
RUN_PATH_FLAT = (
    "import importlib.util, plugin.__main__, plugin.settings, plugin.planning, plugin.inputs, "
    "plugin.pipeline, plugin.kaniko_run, plugin.run; "
    "importlib.util.find_spec('plugin.engine') or importlib.import_module('plugin.build')"
)
WORKER = "import plugin.aws.session, plugin.aws.work; plugin.aws.session.warm_up()"
WORKER_FLAT = "import plugin.aws, plugin.ecr_work; plugin.aws.warm_up()"


def commands_for(root: Path) -> dict[str, list[str]]:
    """What to time in a checkout: its run path and worker under the module names it has."""
    layered = (root / "plugin" / "run" / "__init__.py").exists()
    commands = {
        "pass": ["-c", "pass"],
        "help": ["-m", "plugin", "--help"],
        "plan": ["-m", "plugin", "plan"],
        "run path": ["-c", RUN_PATH if layered else RUN_PATH_FLAT],
    }
    if layered:
        commands["worker"] = ["-c", WORKER]
    elif (root / "plugin" / "worker.py").exists():
        commands["worker"] = ["-c", WORKER_FLAT]
    return commands


def group_of(module: str) -> str:
    root = module.split(".", maxsplit=1)[0]
    if root.startswith("__editable__"):
        return "site (venv start-up)"
    return next((name for name, roots in GROUPS.items() if root in roots), "stdlib")


def parse(stderr: str) -> tuple[dict[str, float], bool]:
    """Milliseconds of self time per group (and 'total'), and whether boto3/botocore was imported."""
    out: dict[str, float] = defaultdict(float)
    aws = False
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:") :].split("|", 2)
        module = name.strip()
        aws = aws or module.split(".", maxsplit=1)[0] in ("boto3", "botocore")
        out[group_of(module)] += int(self_us) / 1000
        out["total"] += int(self_us) / 1000
    return out, aws


def _run(python: str, root: Path, argv: list[str], env: dict[str, str], profile: bool) -> tuple[float, str]:
    flags = ["-X", "importtime"] if profile else []
    started = time.monotonic()
    done = subprocess.run(
        [python, *flags, *argv], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: {argv} in {root} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done.stderr


def profile(python: str, root: Path, argv: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median wall seconds (without -X importtime), median self ms per group, boto3/botocore imported."""
    walls: list[float] = []
    groups: dict[str, list[float]] = defaultdict(list)
    aws = False
    _run(python, root, argv, env, profile=False)  # warm the page cache and the bytecode
    for _ in range(runs):
        walls.append(_run(python, root, argv, env, profile=False)[0])
        parsed, imported = parse(_run(python, root, argv, env, profile=True)[1])
        aws = aws or imported
        for name in (*GROUPS, "stdlib", "total"):
            groups[name].append(parsed.get(name, 0.0))
    return {
        "wall": statistics.median(walls),
        "aws": aws,
        "groups": {name: statistics.median(values) for name, values in groups.items()},
    }


def measure(checkouts: dict[str, Path], runs: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Per checkout: 'pass', 'help', 'plan', 'run path' (and 'worker' where there is one)."""
    python = runtime_python()
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PLUGIN_", "DRONE_", "CI_", "AWS_"))}
    env = {**keep, **PLAN_ENV}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, root in checkouts.items():
        out[name] = {
            what: profile(python, root, argv, env, runs) for what, argv in commands_for(root).items()
        }
    return out


def report(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    for name, commands in results.items():
        print(f"\n{name}: median wall s, and import self time per group (ms; -X importtime adds overhead)")
        header = "".join(f"{what:>12}" for what in commands)
        print(f"{'':<38}{header}")
        print(f"{'wall s':<38}" + "".join(f"{c['wall']:>12.3f}" for c in commands.values()))
        print(f"{'boto3/botocore imported':<38}" + "".join(f"{c['aws']!s:>12}" for c in commands.values()))
        for group in (*GROUPS, "stdlib", "total"):
            cells = "".join(f"{c['groups'].get(group, 0.0):>12.1f}" for c in commands.values())
            print(f"{group:<38}{cells}")


def main() -> int:
    checkouts, runs = from_command_line(
        __doc__, "plugin", "also measure this checkout (another commit)", runs=True
    )
    report(measure(checkouts, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

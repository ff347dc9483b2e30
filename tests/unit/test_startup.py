"""What the plugin loads, and what crosses to its AWS worker process (no services needed).

``plan`` and ``--help`` never import the AWS SDK, nor does the plugin's own process on the run path
(the worker does the ECR work): checked in a fresh interpreter that reports its ``sys.modules``.
Everything the worker and the plugin hand each other pickles to itself.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.existing_tags import TagDecision
from plugin.aws.job import EcrJob, EcrOutcome
from plugin.aws.repositories import RepositorySpec
from plugin.core.errors import AwsError, BuildError, ConfigError, PluginError, Problem, RunError, Signalled
from plugin.run.build import reported_digest
from tests.support.plugin_run import ROOT

AWS_ROOTS = ("boto3", "botocore", "s3transfer")
PROBE = """
import json, sys
from plugin.__main__ import main
code = main(sys.argv[1:], fork_worker=True)  # what `python -m plugin` runs, before it exits
print(json.dumps({"code": code, "aws": sorted(m for m in sys.modules if m.split(".")[0] in %r)}))
""" % (AWS_ROOTS,)  # noqa: UP031 - a literal tuple in the probe's source
ENV = {
    "PATH": "/usr/bin:/bin",
    "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0,latest",
}


def probe(*args: str, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, env={**ENV, **env}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


class TestNothingOfAwsIsLoaded:
    @pytest.mark.parametrize("builder", ["docker", "kaniko", "buildx"])
    def test_plan(self, builder: str) -> None:
        assert probe("plan", PLUGIN_BUILDER=builder) == {"code": 0, "aws": []}

    def test_plan_only(self) -> None:
        assert probe("run", PLUGIN_PLAN_ONLY="true", PLUGIN_BUILDER="docker") == {"code": 0, "aws": []}

    def test_plan_of_a_no_push_build_with_pull_logins(self) -> None:
        assert probe("plan", PLUGIN_BUILDER="docker", PLUGIN_NO_PUSH="true") == {"code": 0, "aws": []}

    def test_help_and_version(self) -> None:
        assert probe("--help") == {"code": 0, "aws": []}
        assert probe("--version") == {"code": 0, "aws": []}

    def test_the_modules_of_the_run_path(self) -> None:
        """What the plugin's own process imports to run any builder: the worker imports boto3."""
        modules = ", ".join(
            (
                "plugin.__main__",
                "plugin.config.settings",
                "plugin.run.plan",
                "plugin.run.inputs",
                "plugin.run.pipeline",
                "plugin.builders.engine",
                "plugin.run.build_kaniko",
                "plugin.run.build",
                "plugin.exec.runner",
                "plugin.aws.worker",
                "plugin.aws.job",
            )
        )
        found = f"sorted(m for m in sys.modules if m.split('.')[0] in {AWS_ROOTS!r})"
        code = f"import sys, {modules}; print({found})"
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "[]"


# What `plan` and a kaniko run need not load: the registry HTTP client (urllib.request, tenacity: about
# 19 ms) is for docker/buildx digests, the tarball push and signing; the process runner is for a run.
REGISTRY_CLIENT = ("tenacity", "plugin.registry.api")
LEAN_PROBE = """
import json, sys
from plugin.__main__ import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": sorted(m for m in sys.modules if m in %r)}))
"""


def loaded(modules: tuple[str, ...], *args: str, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", LEAN_PROBE % (modules,), *args], cwd=ROOT, env={**ENV, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


# What the process that starts the kaniko executor imports (bench/importtime.py's run path).
KANIKO_RUN_PATH = (
    "plugin.__main__, plugin.config.load, plugin.run.resolve, plugin.run.inputs, "
    "plugin.run.pipeline, plugin.run.build_kaniko, plugin.exec.runner"
)


def loaded_by_the_kaniko_run_path(modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded once it imported the kaniko run path."""
    found = f"sorted(m for m in sys.modules if m in {modules!r})"
    code = f"import json, sys, {KANIKO_RUN_PATH}; print(json.dumps({found}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    names: list[str] = json.loads(done.stdout)
    return names


class TestNoRegistryClientWhereItIsNotUsed:
    @pytest.mark.parametrize("builder", ["docker", "kaniko", "buildx"])
    def test_plan_loads_neither_the_registry_client_nor_the_process_runner(self, builder: str) -> None:
        found = loaded((*REGISTRY_CLIENT, "plugin.exec.runner"), "plan", PLUGIN_BUILDER=builder)
        assert found == {"code": 0, "loaded": []}

    def test_the_kaniko_run_path_loads_no_registry_client(self) -> None:
        """What the process that starts the kaniko executor imports (bench/importtime.py's run path)."""
        assert loaded_by_the_kaniko_run_path(REGISTRY_CLIENT) == []


class TestWhatCrossesToTheWorker:
    @pytest.mark.parametrize(
        "error",
        [
            PluginError("plain"),
            RunError("a run error"),
            ConfigError(
                [Problem("PLUGIN_REPO", "x y", "a repository name"), Problem("PLUGIN_TAGS", None, "tags")]
            ),
            AwsError("CreateRepository", "team/app", "AccessDeniedException", "not allowed"),
            BuildError("kaniko failed", 7),
            Signalled(15),
        ],
        ids=lambda e: type(e).__name__,
    )
    def test_every_error_pickles_to_itself(self, error: PluginError) -> None:
        back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
        assert type(back) is type(error)
        assert (back.message, back.exit_code, str(back)) == (error.message, error.exit_code, str(error))
        assert vars(back) == vars(error)

    def test_a_job_and_an_outcome_pickle_whole(self) -> None:
        job = EcrJob(
            auth=AwsAuth(
                region="eu-west-1", access_key="AKIA", secret_key="s3cr3t", role_arn="arn:aws:iam::1:role/r"
            ),
            retry=RetryPolicy(attempts=2),
            account="123456789012",
            region="eu-west-1",
            registries=(None, "210987654321.dkr.ecr.eu-west-1.amazonaws.com"),
            repository="team/app",
            spec=RepositorySpec("team/app", create=True, tag_mutability="IMMUTABLE"),
            caches=(RepositorySpec("team/app/cache", create=True),),
            tags=("1.0", "latest"),
            env={"SSL_CERT_FILE": "/run/ca.pem"},
            secrets=("s3cr3t",),
        )
        assert pickle.loads(pickle.dumps(job)) == job  # noqa: S301
        outcome = EcrOutcome(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": ("AWS", "token")},
            [{"registry": "x", "created": True}],
            TagDecision(
                "build", ["latest"], {"1.0": "sha256:" + "a" * 64}, {"1.0": "sha256:" + "a" * 64}, "why"
            ),
            ("token",),
        )
        assert pickle.loads(pickle.dumps(outcome)) == outcome  # noqa: S301

    def test_secrets_stay_out_of_the_job_repr(self) -> None:
        job = EcrJob(
            auth=AwsAuth(secret_key="sentinel-secret"), retry=RetryPolicy(), account=None, region="us-east-1",
            registries=(None,), repository="a", secrets=("sentinel-secret",),
        )  # fmt: skip
        assert "sentinel-secret" not in repr(job)


DIGEST = "sha256:" + "0123456789abcdef" * 4


class TestPushedDigest:
    """`docker push` prints the digest of the manifest the registry accepted; the run takes it from there."""

    def test_the_line_of_the_pushed_tag(self) -> None:
        lines = [
            "The push refers to repository [127.0.0.1:5000/team/app]\n",
            "5f70bf18a086: Pushed\n",
            f"1.0.0: digest: {DIGEST} size: 527\n",
        ]
        assert reported_digest(lines, "127.0.0.1:5000/team/app:1.0.0") == DIGEST

    def test_another_tag_or_no_line_is_none(self) -> None:
        assert reported_digest([f"latest: digest: {DIGEST} size: 527\n"], "host/team/app:1.0.0") is None
        assert reported_digest(["1.0.0: Pushed\n"], "host/team/app:1.0.0") is None
        assert reported_digest([f"1.0.0: digest: {DIGEST[:-1]} size: 527\n"], "host/team/app:1.0.0") is None

    def test_a_registry_port_is_not_a_tag(self) -> None:
        assert reported_digest([f"v2: digest: {DIGEST} size: 1\n"], "localhost:5000/app:v2") == DIGEST


class TestTheProgramsEnd:
    """`python -m plugin` ends with os._exit once its output is flushed: nothing is lost, the status kept."""

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "plugin", *args], cwd=ROOT, env={**ENV, **env}, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip

    def test_the_whole_plan_is_printed(self) -> None:
        done = self.run("plan", PLUGIN_BUILDER="docker", PLUGIN_TAGS=",".join(f"t{i}" for i in range(300)))
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["destinations"]) == 300  # a complete JSON document

    def test_a_bad_setting_keeps_its_status_and_message(self) -> None:
        done = self.run("plan", PLUGIN_REPO="", PLUGIN_BUILDER="docker")
        assert done.returncode == 2
        assert "PLUGIN_REPO" in done.stderr


class TestDeferredModules:
    """plugin/core/deferred.py: asyncio, importlib.metadata and secrets are loaded only by what uses
    them, and then work as usual; the tag rules' parser only with PLUGIN_TAG_RULES."""

    # What only the real modules bring (the stand-ins have no submodules and import nothing).
    REAL = ("asyncio.base_events", "ssl", "importlib.metadata._meta", "zipfile", "hmac")
    TAG_RULES = ("plugin.ci.tagrules.rules", "plugin.ci.tagrules.engine", "csv")

    @pytest.mark.parametrize("builder", ["docker", "kaniko", "buildx"])
    def test_plan_loads_none_of_them(self, builder: str) -> None:
        found = loaded(self.REAL + self.TAG_RULES, "plan", PLUGIN_BUILDER=builder)
        assert found == {"code": 0, "loaded": []}

    def test_the_kaniko_run_path_loads_none_of_them(self) -> None:
        """(A docker or buildx run reads digests over HTTPS: there ssl is used.)"""
        assert loaded_by_the_kaniko_run_path(self.REAL + self.TAG_RULES) == []

    def test_tag_rules_load_their_parser_and_work(self) -> None:
        env = {"PLUGIN_BUILDER": "kaniko", "PLUGIN_TAGS": "", "PLUGIN_TAG_RULES": "type=raw,value=ruled"}
        assert loaded(self.TAG_RULES, "plan", **env) == {"code": 0, "loaded": sorted(self.TAG_RULES)}

    @pytest.mark.parametrize(
        ("name", "use"),
        [
            ("asyncio", "import asyncio\nasync def f():\n    return 7\nresult = asyncio.run(f())"),
            ("asyncio", "from asyncio import Queue\nresult = Queue().qsize() + 7"),
            (
                "asyncio",
                "import asyncio.coroutines\nresult = 7 if asyncio.coroutines.iscoroutinefunction else 0",
            ),
            ("asyncio", "import asyncio\nresult = 7 if 'run' in dir(asyncio) else 0"),
            ("asyncio", "import sh\nresult = int(str(sh.echo('7')).strip())"),
            (
                "importlib.metadata",
                "from importlib.metadata import version\nresult = 7 if version('pydantic') else 0",
            ),
            (
                "importlib.metadata",
                "import importlib.metadata\nresult = 7 if importlib.metadata.distribution('pydantic') else 0",
            ),
            (
                "importlib.metadata",
                "from importlib.metadata import entry_points\n"
                "result = 7 if isinstance(entry_points(group='console_scripts'), tuple | object) else 0",
            ),
            (
                "importlib.metadata",
                "import os\nos.environ.pop('PYDANTIC_DISABLE_PLUGINS', None)\nimport pydantic\n"
                "class M(pydantic.BaseModel):\n    x: int\nresult = M(x=7).x",
            ),
            ("secrets", "import secrets\nresult = len(secrets.token_hex(4)) - 1"),
            (
                "secrets",
                "from pydantic import SecretStr\nresult = 7 if SecretStr('a') == SecretStr('a') else 0",
            ),
        ],
        ids=[
            "asyncio-attribute",
            "asyncio-from-import",
            "asyncio-submodule",
            "asyncio-dir",
            "asyncio-sh",
            "metadata-from-import",
            "metadata-attribute",
            "metadata-entry-points",
            "metadata-pydantic-plugins",
            "secrets-attribute",
            "secrets-secretstr",
        ],
    )
    def test_what_uses_one_gets_the_real_one(self, name: str, use: str) -> None:
        code = (
            "import os, sys, types\nfrom plugin.core.deferred import DEFERRED, defer, is_deferred\n"
            "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'  # as the entrypoint sets it\n"
            "for name in DEFERRED:\n    sys.modules.pop(name, None)\n    defer(name)\n"
            "import structlog, pydantic_settings\n"
            "assert [n for n in DEFERRED if not is_deferred(n)] == []\n"
            f"{use}\nassert not is_deferred({name!r}) and type(sys.modules[{name!r}]) is types.ModuleType\n"
            "print(result)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert (done.returncode, done.stdout.strip()) == (0, "7"), done.stderr

    def test_the_plugin_process_disables_pydantic_plugins(self) -> None:
        code = "import os, plugin.__main__; print(os.environ['PYDANTIC_DISABLE_PLUGINS'])"
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "__all__"

"""The command line: `plan` prints JSON and exits 0, PLUGIN_PLAN_ONLY does the same, bad input exits 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from inline_snapshot import snapshot

from plugin.__main__ import main

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ISSUE_EXAMPLE = {
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0,latest",
    "PLUGIN_BUILDER": "kaniko",
}


def run_plugin(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m plugin <args>` with exactly ``env`` (plus PATH), in a workspace with a Dockerfile."""
    (cwd / "Dockerfile").touch()
    return subprocess.run(
        [sys.executable, "-m", "plugin", *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestPlanCommand:
    """`python -m plugin plan` prints the plan as JSON on stdout and exits 0."""

    def test_issue_example_prints_two_destinations_and_the_executor_argv(self, tmp_path: Path) -> None:
        result = run_plugin(["plan"], ISSUE_EXAMPLE, tmp_path)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["destinations"] == [f"{REGISTRY}/team/app:1.0", f"{REGISTRY}/team/app:latest"]
        assert [step["argv"] for step in document["steps"]] == snapshot(
            [
                [
                    "/kaniko/executor",
                    "--dockerfile=Dockerfile",
                    "--context=dir://.",
                    "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                    "--destination=123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest",
                    "--digest-file=/kaniko/build-push-ecr-<run>/digest",
                ]
            ]
        )

    def test_plan_document_names_builder_registry_repository_and_tags(self, tmp_path: Path) -> None:
        document = json.loads(run_plugin(["plan"], ISSUE_EXAMPLE, tmp_path).stdout)
        assert {
            k: document[k] for k in ("builder", "registry", "repository", "tags", "extra_registries")
        } == {
            "builder": "kaniko",
            "registry": REGISTRY,
            "repository": "team/app",
            "tags": ["1.0", "latest"],
            "extra_registries": [],
        }

    def test_plan_only_does_the_same_for_the_default_command(self, tmp_path: Path) -> None:
        planned = run_plugin(["plan"], ISSUE_EXAMPLE, tmp_path)
        plan_only = run_plugin([], {**ISSUE_EXAMPLE, "PLUGIN_PLAN_ONLY": "true"}, tmp_path)
        assert plan_only.returncode == 0, plan_only.stderr
        assert json.loads(plan_only.stdout) == json.loads(planned.stdout)

    def test_tags_file_in_the_working_directory_is_used(self, tmp_path: Path) -> None:
        (tmp_path / ".tags").write_text("2.0\n2.0.1\n", encoding="utf-8")
        env = {k: v for k, v in ISSUE_EXAMPLE.items() if k != "PLUGIN_TAGS"}
        assert json.loads(run_plugin(["plan"], env, tmp_path).stdout)["tags"] == ["2.0", "2.0.1"]

    def test_skipped_auto_tag_plan_exits_0_with_the_reason(self, tmp_path: Path) -> None:
        env = {
            **ISSUE_EXAMPLE,
            "PLUGIN_TAGS": "",
            "PLUGIN_AUTO_TAG": "true",
            "DRONE_COMMIT_REF": "refs/heads/feature",
            "DRONE_REPO_BRANCH": "main",
        }
        result = run_plugin(["plan"], env, tmp_path)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert (document["skip"], document["steps"]) == (
            "auto-tag: refs/heads/feature is not a tag nor the default branch main",
            [],
        )


class TestBadInput:
    """Bad configuration exits 2 with a message naming the variable, and never a traceback."""

    def test_bad_variable_exits_2_naming_it(self, tmp_path: Path) -> None:
        result = run_plugin(["plan"], {**ISSUE_EXAMPLE, "PLUGIN_CACHE_TTL": "1d"}, tmp_path)
        assert result.returncode == 2
        assert result.stdout == ""
        assert "PLUGIN_CACHE_TTL='1d': expected a whole number" in result.stderr
        assert "Traceback" not in result.stderr

    def test_missing_repo_exits_2(self, tmp_path: Path) -> None:
        result = run_plugin(["plan"], {"PLUGIN_BUILDER": "kaniko"}, tmp_path)
        assert result.returncode == 2
        assert "PLUGIN_REPO: a repository name such as team/app (required)" in result.stderr
        assert "Traceback" not in result.stderr

    def test_invalid_semver_tag_ref_exits_2_naming_drone_commit_ref(self, tmp_path: Path) -> None:
        env = {
            **ISSUE_EXAMPLE,
            "PLUGIN_TAGS": "",
            "PLUGIN_AUTO_TAG": "1",
            "DRONE_COMMIT_REF": "refs/tags/nightly",
        }
        result = run_plugin(["plan"], env, tmp_path)
        assert result.returncode == 2
        assert "DRONE_COMMIT_REF='refs/tags/nightly'" in result.stderr
        assert "Traceback" not in result.stderr

    def test_unknown_command_exits_2(self, tmp_path: Path) -> None:
        result = run_plugin(["deploy"], ISSUE_EXAMPLE, tmp_path)
        assert result.returncode == 2
        assert result.stderr == "unknown command 'deploy'; expected one of run, plan, prepare or --help\n"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """main() configures structlog onto the captured stderr; put the previous configuration back."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.mark.usefixtures("restore_logging")
class TestMain:
    """main() returns the exit status instead of exiting (in-process, no subprocess)."""

    @pytest.mark.parametrize("flag", ["--help", "-h", "help"])
    def test_help_exits_0_and_lists_variables(self, flag: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main([flag]) == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: build-push-ecr")
        assert "PLUGIN_REPO" in out

    def test_version_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--version"]) == 0
        assert capsys.readouterr().out.startswith("build-push-ecr ")

    def test_unknown_command_returns_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["nope"]) == 2
        assert "unknown command 'nope'" in capsys.readouterr().err

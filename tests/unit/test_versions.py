"""Version gating: settings a builder version lacks are named with the version (plugin.config.versions)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from plugin.config.load import load_settings
from plugin.config.versions import parse_version, requirements, unchecked, version_problems
from plugin.core.errors import ConfigError, RunError
from plugin.exec.rundir import kaniko_dir, new_run_dir, plan_dir, run_directory
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve

BASE = {
    "PLUGIN_BUILDER": "kaniko",
    "PLUGIN_REPO": "team/app",
    "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
}


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("v1.24.0-2-g236ba5690", (1, 24, 0)),
        ("Kaniko version :  v1.28.3-23-g6bcc93443", (1, 28, 3)),
        ("1.25", (1, 25, 0)),
        ("", None),
        (None, None),
        ("dev", None),
    ],
)
def test_parse_version(text, version):
    assert parse_version(text) == version


class TestVersionProblems:
    def test_every_newer_kaniko_setting_is_gated(self):
        gated = set(requirements("kaniko"))
        assert {
            "secret", "secrets_from_env", "secrets_from_file", "annotations", "image_format",
            "credential_helpers", "materialize", "pre_cleanup", "preserve_context", "oci_annotations",
        } == gated  # fmt: skip

    def test_old_executor_names_each_setting_and_the_version(self):
        env = {
            **BASE,
            "PLUGIN_SECRETS_FROM_ENV": "t=X",
            "PLUGIN_ANNOTATIONS": "a=b",
            "PLUGIN_MATERIALIZE": "true",
        }
        s = load_settings(env).settings
        problems = version_problems(s, env, "kaniko", "v1.24.0")
        assert [(p.variable, p.expected) for p in problems] == [
            ("PLUGIN_SECRETS_FROM_ENV", "needs kaniko 1.28.0 or newer (--secret); this kaniko is v1.24.0"),
            ("PLUGIN_ANNOTATIONS", "needs kaniko 1.25.0 or newer (--annotation); this kaniko is v1.24.0"),
            ("PLUGIN_MATERIALIZE", "needs kaniko 1.28.0 or newer (--materialize); this kaniko is v1.24.0"),
        ]

    def test_between_versions_only_what_is_missing(self):
        env = {**BASE, "PLUGIN_SECRETS_FROM_ENV": "t=X", "PLUGIN_ANNOTATIONS": "a=b"}
        s = load_settings(env).settings
        assert [p.variable for p in version_problems(s, env, "kaniko", "v1.25.5")] == [
            "PLUGIN_SECRETS_FROM_ENV"
        ]
        assert version_problems(s, env, "kaniko", "v1.28.3-23-g6bcc93443") == []

    def test_unknown_version_checks_nothing_but_lists_what_it_could_not_check(self):
        env = {**BASE, "PLUGIN_IMAGE_FORMAT": "oci"}
        s = load_settings(env).settings
        assert version_problems(s, env, "kaniko", None) == []
        assert unchecked(s, "kaniko") == ["image_format"]
        assert unchecked(load_settings(BASE).settings, "kaniko") == []

    def test_plan_refuses_with_exit_2_when_kaniko_version_is_given(self, tmp_path: Path):
        env = {**BASE, "KANIKO_VERSION": "v1.24.0", "PLUGIN_SECRETS_FROM_ENV": "t=X"}
        with pytest.raises(ConfigError) as info:
            plan_document(resolve(load_settings(env), tmp_path))
        assert info.value.exit_code == 2
        assert "PLUGIN_SECRETS_FROM_ENV" in info.value.message

    def test_plan_shows_the_executor_and_run_dir(self, tmp_path: Path):
        env = {**BASE, "KANIKO_VERSION": "v1.28.3", "KANIKO_DIR": "/k"}
        document = plan_document(resolve(load_settings(env), tmp_path))
        assert document["executor"] == {
            "path": "/kaniko/executor",
            "version": "v1.28.3",
            "needs_version": [],
            "run_dir": "/k/build-push-ecr-<run>",
        }
        [step] = document["steps"]
        assert step["env"]["DOCKER_CONFIG"] == "/k/build-push-ecr-<run>/docker-config"


class TestRunDir:
    def test_kaniko_runs_keep_their_files_under_the_kaniko_dir(self, tmp_path: Path):
        env = {"KANIKO_DIR": str(tmp_path)}
        assert kaniko_dir(env) == tmp_path
        assert kaniko_dir({}) == Path("/kaniko")
        assert plan_dir("kaniko", env) == tmp_path / "build-push-ecr-<run>"
        with run_directory("kaniko", env) as run_dir:
            assert run_dir.parent == tmp_path
            assert oct(run_dir.stat().st_mode & 0o777) == "0o700"
            assert Path(tempfile.gettempdir()).parent == run_dir  # the plugin's own temp files too
        assert list(tmp_path.iterdir()) == []

    def test_a_missing_kaniko_dir_is_a_clear_error(self, tmp_path: Path):
        with pytest.raises(RunError, match=r"kaniko directory .* does not exist"):
            new_run_dir("kaniko", {"KANIKO_DIR": str(tmp_path / "none")})

    def test_other_builders_use_the_temp_dir(self):
        path = new_run_dir("docker", {})
        try:
            assert path.name.startswith("build-push-ecr-")
        finally:
            path.rmdir()

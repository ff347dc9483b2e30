"""Settings semantics: empty is unset, aliases, booleans, lists, PLUGIN_ENV_FILE, warnings, ConfigError."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, Problem
from plugin.core.log import REDACTOR
from tests.support.plugin_run import ROOT

REPO = {"PLUGIN_REPO": "team/app"}
BOOL_MESSAGE = "expected a boolean: true/false, 1/0, yes/no or on/off"


@pytest.fixture
def redactor() -> Iterator[None]:
    """A Redactor that holds only what this test adds."""
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def load(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({**REPO, **env}).settings


def problems_of(env: dict[str, str]) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    return caught.value.problems


class TestEmptyVariable:
    """An empty (or blank) variable counts as unset."""

    @pytest.mark.parametrize("value", ["", " ", "\t\n"])
    def test_empty_variable_is_unset(self, value: str) -> None:
        """The default applies, and a blank boolean is not an error."""
        s = load(PLUGIN_DOCKERFILE=value, PLUGIN_NO_PUSH=value, PLUGIN_CACHE_TTL=value)
        assert (s.dockerfile, s.no_push, s.cache_ttl) == ("Dockerfile", False, 0)

    def test_empty_first_alias_lets_the_next_one_win(self) -> None:
        """First non-empty wins (the ECR wrappers' getenv), not first defined (urfave/cli)."""
        assert load(PLUGIN_TAGS="", PLUGIN_TAG="v1").tags == ["v1"]

    def test_empty_repo_is_missing(self) -> None:
        assert problems_of({"PLUGIN_REPO": " "}) == [
            Problem("PLUGIN_REPO", None, "a repository name such as team/app (required)")
        ]


class TestAliasPrecedence:
    """Where several variables feed one setting, the first non-empty in the documented order wins."""

    def test_plugin_tag_wins_over_plugin_tags_for_docker(self) -> None:
        """plugins/ecr (urfave `PLUGIN_TAG,PLUGIN_TAGS`) reads PLUGIN_TAG first (plugin.config.anchors)."""
        assert load(PLUGIN_BUILDER="docker", PLUGIN_TAGS="a,b", PLUGIN_TAG="c").tags == ["c"]

    def test_kaniko_reads_plugin_tags_only(self) -> None:
        assert load(PLUGIN_BUILDER="kaniko", PLUGIN_TAGS="a,b", PLUGIN_TAG="c").tags == ["a", "b"]

    @pytest.mark.parametrize(
        ("env", "region"),
        [
            (
                {"PLUGIN_REGION": "eu-west-1", "ECR_REGION": "eu-west-2", "AWS_REGION": "eu-west-3"},
                "eu-west-1",
            ),
            ({"ECR_REGION": "eu-west-2", "AWS_REGION": "eu-west-3"}, "eu-west-2"),
            ({"AWS_REGION": "eu-west-3"}, "eu-west-3"),
            ({}, "us-east-1"),
        ],
        ids=["plugin-region", "ecr-region", "aws-region", "default"],
    )
    def test_region_precedence(self, env: dict[str, str], region: str) -> None:
        """PLUGIN_REGION > ECR_REGION > AWS_REGION > us-east-1."""
        assert load(**env).region == region

    def test_plugin_username_wins_over_docker_username(self) -> None:
        assert load(PLUGIN_USERNAME="mine", DOCKER_USERNAME="AWS").base_username == "mine"

    def test_error_names_the_alias_the_user_set(self) -> None:
        """A bad PLUGIN_DRY_RUN is reported as PLUGIN_DRY_RUN, not as the field's first variable."""
        assert problems_of({**REPO, "PLUGIN_DRY_RUN": "maybe"}) == [
            Problem("PLUGIN_DRY_RUN", "maybe", BOOL_MESSAGE)
        ]


class TestBooleans:
    """Booleans accept true/false, 1/0, yes/no, on/off in any case, and nothing else."""

    @pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes", "YES", "on", "On", " true "])
    def test_true_spellings(self, value: str) -> None:
        assert load(PLUGIN_NO_PUSH=value).no_push is True

    @pytest.mark.parametrize("value", ["false", "FALSE", "False", "0", "no", "NO", "off", "Off"])
    def test_false_spellings(self, value: str) -> None:
        """Also for a field whose default is true."""
        assert load(PLUGIN_PULL_IMAGE=value).pull_image is False

    @pytest.mark.parametrize("value", ["t", "y", "2", "maybe", "truee", "-1"])
    def test_other_values_are_rejected_with_the_exact_message(self, value: str) -> None:
        with pytest.raises(ConfigError) as caught:
            load_settings({**REPO, "PLUGIN_NO_PUSH": value})
        assert caught.value.message == (
            f"invalid configuration (1 bad setting):\n  - PLUGIN_NO_PUSH={value!r}: {BOOL_MESSAGE}"
        )

    def test_unset_tristate_stays_unset(self) -> None:
        """Tri-state booleans (kaniko's --compressed-caching) are None until the user sets them."""
        assert load().compressed_caching is None
        assert load(PLUGIN_COMPRESSED_CACHING="off").compressed_caching is False


class TestLists:
    """Comma lists are split and trimmed; the `_NEW` and `_SEMICOLON` variants split on `;`."""

    def test_comma_list_is_trimmed_and_empty_items_dropped(self) -> None:
        assert load(PLUGIN_CUSTOM_LABELS=" a=1 , b=2,, ,c=3 ").custom_labels == ["a=1", "b=2", "c=3"]

    def test_build_args_new_splits_on_semicolons(self) -> None:
        s = load(PLUGIN_BUILD_ARGS_NEW=" A=1,2 ; B=x,y ;", PLUGIN_MULTIPLE_BUILD_ARGS="true")
        assert s.build_args_new == ["A=1,2", "B=x,y"]
        assert s.effective_build_args() == ["A=1,2", "B=x,y"]

    def test_build_args_new_is_ignored_without_multiple_build_args(self) -> None:
        """As in every anchor: PLUGIN_BUILD_ARGS is used unless PLUGIN_MULTIPLE_BUILD_ARGS is on."""
        s = load(PLUGIN_BUILD_ARGS="A=1,B=2", PLUGIN_BUILD_ARGS_NEW="C=3;D=4")
        assert s.effective_build_args() == ["A=1", "B=2"]

    def test_semicolon_options_keep_commas(self) -> None:
        s = load(PLUGIN_BUILDX_OPTIONS_SEMICOLON="--attest=type=sbom,generator=x; --quiet")
        assert s.buildx_options_semicolon == ["--attest=type=sbom,generator=x", "--quiet"]

    def test_cache_specs_with_commas_stay_whole(self) -> None:
        """A single key=value cache spec is not split on its commas."""
        assert load(PLUGIN_CACHE_FROM="type=registry,ref=x/y:cache").cache_from == [
            "type=registry,ref=x/y:cache"
        ]


class TestEnvFile:
    """PLUGIN_ENV_FILE is loaded first; variables that are set win over the file."""

    def test_file_values_are_loaded(self, tmp_path: Path) -> None:
        env_file = tmp_path / "plugin.env"
        env_file.write_text(
            "# comment\nexport PLUGIN_TARGET=prod\nPLUGIN_TAGS='1.0,2.0'\n\nPLUGIN_REPO=\"from/file\"\n",
            encoding="utf-8",
        )
        s = load_settings({"PLUGIN_ENV_FILE": str(env_file)}).settings
        assert (s.target, s.tags, s.repo) == ("prod", ["1.0", "2.0"], "from/file")

    def test_set_variables_win_over_the_file(self, tmp_path: Path) -> None:
        env_file = tmp_path / "plugin.env"
        env_file.write_text("PLUGIN_TARGET=from-file\nPLUGIN_VERBOSITY=debug\n", encoding="utf-8")
        s = load(PLUGIN_ENV_FILE=str(env_file), PLUGIN_TARGET="from-env")
        assert (s.target, s.verbosity) == ("from-env", "debug")

    def test_missing_file_is_a_config_error(self, tmp_path: Path) -> None:
        path = str(tmp_path / "absent.env")
        assert problems_of({**REPO, "PLUGIN_ENV_FILE": path}) == [
            Problem("PLUGIN_ENV_FILE", path, "a readable dotenv file (No such file or directory)")
        ]

    def test_line_without_equals_is_a_config_error(self, tmp_path: Path) -> None:
        env_file = tmp_path / "plugin.env"
        env_file.write_text("PLUGIN_TARGET=x\nnot a pair\n", encoding="utf-8")
        assert problems_of({**REPO, "PLUGIN_ENV_FILE": str(env_file)}) == [
            Problem("PLUGIN_ENV_FILE", str(env_file), "KEY=VALUE lines (line 2 is not)")
        ]

    def test_a_nul_character_is_a_config_error_naming_each_variable(self, tmp_path: Path) -> None:
        """Found by the property tests: a NUL in PLUGIN_TAR_PATH (env file) was a traceback, exit 70."""
        env_file = tmp_path / "plugin.env"
        env_file.write_bytes(
            b"PLUGIN_TAR_PATH=/out/a\x00b.tar\nPLUGIN_SECRET_KEY=sent\x00inel\nOTHER=x\x00\n"
        )
        assert problems_of({**REPO, "PLUGIN_ENV_FILE": str(env_file)}) == [
            Problem("OTHER", "x\x00", "text without a NUL character"),
            Problem("PLUGIN_SECRET_KEY", "***", "text without a NUL character"),
            Problem("PLUGIN_TAR_PATH", "/out/a\x00b.tar", "text without a NUL character"),
        ]

    def test_a_nul_character_exits_2_from_the_command_line(self, tmp_path: Path) -> None:
        env_file = tmp_path / "plugin.env"
        env_file.write_bytes(b"PLUGIN_DOCKERFILE=Dock\x00erfile\n")
        env = {"PATH": "/usr/bin:/bin", **REPO, "PLUGIN_BUILDER": "kaniko", "PLUGIN_ENV_FILE": str(env_file)}
        done = subprocess.run(
            [sys.executable, "-m", "plugin", "plan"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "PLUGIN_DOCKERFILE='Dock\\x00erfile': text without a NUL character" in done.stderr
        assert "Traceback" not in done.stderr

    def test_godotenv_forms_are_read_as_godotenv_reads_them(self, tmp_path: Path) -> None:
        """Inline comments, escapes in double quotes, multi-line quoted values (python-dotenv's grammar)."""
        env_file = tmp_path / "plugin.env"
        env_file.write_text(
            'PLUGIN_TARGET=prod # the stage\nPLUGIN_BUILD_ARGS_NEW="A=1;B=two\\nlines"\n'
            "PLUGIN_CUSTOM_LABELS='x=1,\ny=2'\n",
            encoding="utf-8",
        )
        s = load_settings({**REPO, "PLUGIN_ENV_FILE": str(env_file)}).settings
        assert s.target == "prod"
        assert s.build_args_new == ["A=1", "B=two\nlines"]
        assert s.custom_labels == ["x=1", "y=2"]

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (b"PLUGIN_TARGET=\xff\n", "a readable dotenv file (not UTF-8 text: byte 14 is invalid)"),
            (None, "a readable dotenv file (Is a directory)"),
        ],
        ids=["not-utf-8", "a-directory"],
    )
    def test_unreadable_content_is_a_config_error(self, tmp_path: Path, content, expected) -> None:
        path = tmp_path / "plugin.env"
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        assert problems_of({**REPO, "PLUGIN_ENV_FILE": str(path)}) == [
            Problem("PLUGIN_ENV_FILE", str(path), expected)
        ]

    def test_bad_values_in_the_file_are_reported_like_set_ones(self, tmp_path: Path) -> None:
        env_file = tmp_path / "plugin.env"
        env_file.write_text("PLUGIN_NO_PUSH=maybe\n", encoding="utf-8")
        assert problems_of({**REPO, "PLUGIN_ENV_FILE": str(env_file)}) == [
            Problem("PLUGIN_NO_PUSH", "maybe", BOOL_MESSAGE)
        ]


class TestUnknownVariables:
    """An unknown PLUGIN_* variable is a warning naming it and the closest known name."""

    def test_typo_warns_with_the_closest_name(self) -> None:
        loaded = load_settings({**REPO, "PLUGIN_TAGZ": "1.0", "PLUGIN_DOCKERFLE": "x"})
        assert loaded.warnings == [
            ("settings.unknown_variable", {"variable": "PLUGIN_DOCKERFLE", "closest": "PLUGIN_DOCKERFILE"}),
            ("settings.unknown_variable", {"variable": "PLUGIN_TAGZ", "closest": "PLUGIN_TAG"}),
        ]

    def test_nothing_close_gives_no_suggestion(self) -> None:
        loaded = load_settings({**REPO, "PLUGIN_ZZZZZZZZZZZZZZZZZZ": "1"})
        assert loaded.warnings == [
            ("settings.unknown_variable", {"variable": "PLUGIN_ZZZZZZZZZZZZZZZZZZ", "closest": None})
        ]

    def test_known_and_foreign_variables_do_not_warn(self) -> None:
        """Known variables, and variables of other tools (HOME, CI_*), are not reported."""
        assert load_settings({**REPO, "PLUGIN_TARGET": "x", "HOME": "/root", "CI_FOO": "1"}).warnings == []


class TestConfigError:
    """Bad input gives ONE ConfigError (exit 2) naming every bad variable, its value and what was expected."""

    def test_three_bad_variables_in_one_exact_message(self) -> None:
        with pytest.raises(ConfigError) as caught:
            load_settings(
                {
                    **REPO,
                    "PLUGIN_BUILDER": "kaniko",
                    "PLUGIN_ENABLE_CACHE": "y",
                    "PLUGIN_CACHE_TTL": "2d",
                    "PLUGIN_ROLE_DURATION": "60",
                }
            )
        assert caught.value.exit_code == 2
        assert caught.value.message == (
            "invalid configuration (3 bad settings):\n"
            "  - PLUGIN_ROLE_DURATION='60': Input should be greater than or equal to 900\n"
            f"  - PLUGIN_ENABLE_CACHE='y': {BOOL_MESSAGE}\n"
            "  - PLUGIN_CACHE_TTL='2d': expected a whole number"
        )

    def test_type_errors_and_cross_field_problems_come_together(self) -> None:
        """A bad boolean does not hide a missing PLUGIN_REPO or a lone access key."""
        assert problems_of({"PLUGIN_NO_PUSH": "maybe", "PLUGIN_ACCESS_KEY": "AKIAEXAMPLE"}) == [
            Problem("PLUGIN_NO_PUSH", "maybe", BOOL_MESSAGE),
            Problem("PLUGIN_REPO", None, "a repository name such as team/app (required)"),
            Problem("PLUGIN_SECRET_KEY", None, "required with PLUGIN_ACCESS_KEY"),
        ]

    def test_cross_field_problems_are_listed_together(self) -> None:
        assert problems_of(
            {**REPO, "PLUGIN_NO_PUSH": "1", "PLUGIN_PUSH_ONLY": "on", "PLUGIN_KMS_KEY": "k"}
        ) == [
            Problem("PLUGIN_NO_PUSH", "true", "not together with PLUGIN_PUSH_ONLY"),
            Problem("PLUGIN_KMS_KEY", "k", "only with PLUGIN_ENCRYPTION=KMS"),
        ]

    @pytest.mark.usefixtures("redactor")
    def test_secrets_are_masked_in_the_printed_message(self) -> None:
        """A secret's value never shows, even when the user pasted it into another (bad) variable."""
        secret = "hunter2-very-secret"
        with pytest.raises(ConfigError) as caught:
            load_settings({**REPO, "PLUGIN_PASSWORD": secret, "PLUGIN_NO_PUSH": secret})
        printed = REDACTOR.text(caught.value.message)  # what main() prints
        assert printed == f"invalid configuration (1 bad setting):\n  - PLUGIN_NO_PUSH='***': {BOOL_MESSAGE}"

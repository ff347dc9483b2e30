"""Drop-in rules per builder: what the chosen builder's anchor never read cannot change a run.

kaniko stands in for plugins/kaniko-ecr, docker for plugins/ecr, buildx for plugins/buildx-ecr
(docs/compatibility.md, "Per builder: variables the anchor never read").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import pytest

from plugin.ci.context import CIContext
from plugin.config.anchors import ANCHOR_BOOLEANS, BOOLEANS_READ, IGNORED_FOR_BUILDER, builder_from_env
from plugin.config.load import load_settings
from plugin.config.settings import boolean_variables, known_variables
from plugin.core.errors import ConfigError
from plugin.target.tags import resolve_tags
from tests.support.reference import reference_file

BASE = {"PLUGIN_REPO": "team/app", "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com"}


def tags_for(builder: str, env: dict[str, str], tmp_path: Path) -> tuple[list[str], list[str]]:
    """(final tags, warning events) for a builder and variables."""
    full = {**BASE, "PLUGIN_BUILDER": builder, **env}
    loaded = load_settings(full)
    result = resolve_tags(loaded.settings, CIContext.from_env(loaded.env), tmp_path, loaded.env)
    return result.tags, [event for event, _ in loaded.warnings]


def _table_booleans(section: str) -> set[str]:
    """Names in rows whose type column says bool (bool, boolT, tri-state bool)."""
    found: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("| `") and len(cells) > 3 and "bool" in cells[2]:
            found.update(re.findall(r"`([A-Z0-9_]+)`", cells[1]))
    return found


class TestBooleanSetsMatchTheReference:
    """BOOLEANS_READ is anchor-env.md section A, read at test time."""

    TEXT = reference_file("anchor-env.md").read_text(encoding="utf-8")
    A1 = TEXT.split("### A1.", 1)[1].split("### A2.", 1)[0]
    A2 = TEXT.split("### A2.", 1)[1].split("### A3.", 1)[0]
    A3 = TEXT.split("### A3.", 1)[1].split("\n## B.", 1)[0]

    def test_kaniko_ecr_booleans(self) -> None:
        assert _table_booleans(self.A1) == BOOLEANS_READ["kaniko"]

    def test_plugins_ecr_booleans(self) -> None:
        assert _table_booleans(self.A2) == BOOLEANS_READ["docker"]

    def test_buildx_ecr_booleans(self) -> None:
        """A3: the docker base without PLUGIN_EXPERIMENTAL, its own table, and the wrapper's two."""
        base = _table_booleans(self.A2.split("**Base `drone-docker`", 1)[1]) - {"PLUGIN_EXPERIMENTAL"}
        wrapper = {"PLUGIN_CREATE_REPOSITORY", "ECR_CREATE_REPOSITORY", "PLUGIN_SCAN_ON_PUSH"}
        assert base | wrapper | _table_booleans(self.A3) == BOOLEANS_READ["buildx"]

    def test_every_anchor_boolean_is_a_boolean_field(self) -> None:
        assert boolean_variables() >= ANCHOR_BOOLEANS

    def test_only_the_plugins_own_booleans_are_outside_the_anchor_vocabulary(self) -> None:
        """New booleans of this plugin are strict: a junk value is always an error."""
        assert boolean_variables() - ANCHOR_BOOLEANS == {
            "PLUGIN_PLAN_ONLY",
            "PLUGIN_LOG_JSON",
            "PLUGIN_MATERIALIZE",  # newer kaniko flags (#7)
            "PLUGIN_PRESERVE_CONTEXT",
            "PLUGIN_PRE_CLEANUP",
            "PLUGIN_SBOM",  # buildx attestations and the single manifest (#13)
            "PLUGIN_SINGLE_MANIFEST",
            "PLUGIN_OCI_LABELS",  # OCI labels and annotations from the CI context (#11)
            "PLUGIN_OCI_ANNOTATIONS",
            "PLUGIN_AWS_WORKER",  # the AWS worker process (#10), and its first name
            "BUILD_PUSH_ECR_WORKER",
        }


class TestBuilderFromEnv:
    """The builder is known before validation, to apply its anchor's rules."""

    def test_plugin_builder_in_any_case(self) -> None:
        assert builder_from_env({"PLUGIN_BUILDER": " BuildX "}) == "buildx"

    def test_unknown_builder_gives_none(self) -> None:
        assert builder_from_env({"PLUGIN_BUILDER": "podman"}) is None

    def test_default_is_kaniko_where_the_executor_exists(self, tmp_path: Path) -> None:
        executor = tmp_path / "executor"
        executor.write_text("")
        assert builder_from_env({}, str(executor)) == "kaniko"
        assert builder_from_env({}, str(tmp_path / "missing")) == "docker"


class TestExpandTag:
    """PLUGIN_EXPAND_TAG is kaniko-ecr's: docker and buildx push v1.2.3 as given, as their anchors did."""

    def test_kaniko_expands(self, tmp_path: Path) -> None:
        tags, warnings = tags_for("kaniko", {"PLUGIN_TAGS": "v1.2.3", "PLUGIN_EXPAND_TAG": "true"}, tmp_path)
        assert tags == ["1", "1.2", "1.2.3"]
        assert "settings.ignored_for_builder" not in warnings

    @pytest.mark.parametrize("builder", ["docker", "buildx"])
    def test_docker_and_buildx_push_it_as_given_with_a_warning(self, builder: str, tmp_path: Path) -> None:
        tags, warnings = tags_for(builder, {"PLUGIN_TAGS": "v1.2.3", "PLUGIN_EXPAND_TAG": "true"}, tmp_path)
        assert tags == ["v1.2.3"]
        assert warnings == ["settings.ignored_for_builder"]

    def test_the_warning_names_the_variable_the_builder_and_why(self) -> None:
        env = {**BASE, "PLUGIN_BUILDER": "docker", "PLUGIN_EXPAND_TAG": "true"}
        assert load_settings(env).warnings == [
            (
                "settings.ignored_for_builder",
                {
                    "variable": "PLUGIN_EXPAND_TAG",
                    "builder": "docker",
                    "reason": "plugins/ecr never expanded tags; they are pushed as given",
                },
            )
        ]


class TestKanikoTagVocabulary:
    """kaniko-ecr read PLUGIN_TAGS, PLUGIN_AUTO_TAG and PLUGIN_AUTO_TAG_SUFFIX only."""

    REF: ClassVar[dict[str, str]] = {"DRONE_COMMIT_REF": "refs/tags/v2.0.0", "DRONE_REPO_BRANCH": "main"}

    def test_default_tags_does_not_turn_auto_tag_on_under_kaniko(self, tmp_path: Path) -> None:
        tags, warnings = tags_for("kaniko", {"PLUGIN_DEFAULT_TAGS": "true", **self.REF}, tmp_path)
        assert tags == ["latest"]
        assert warnings == ["settings.ignored_for_builder"]

    @pytest.mark.parametrize("builder", ["docker", "buildx"])
    def test_default_tags_is_auto_tag_for_docker_and_buildx(self, builder: str, tmp_path: Path) -> None:
        tags, _ = tags_for(builder, {"PLUGIN_DEFAULT_TAGS": "true", **self.REF}, tmp_path)
        assert tags == ["2", "2.0", "2.0.0"]

    def test_default_suffix_is_ignored_under_kaniko(self, tmp_path: Path) -> None:
        env = {"PLUGIN_AUTO_TAG": "true", "PLUGIN_DEFAULT_SUFFIX": "arm64", **self.REF}
        tags, _ = tags_for("kaniko", env, tmp_path)
        assert tags == ["2", "2.0", "2.0.0"]

    def test_auto_tag_suffix_works_under_kaniko(self, tmp_path: Path) -> None:
        env = {"PLUGIN_AUTO_TAG": "true", "PLUGIN_AUTO_TAG_SUFFIX": "arm64", **self.REF}
        tags, _ = tags_for("kaniko", env, tmp_path)
        assert tags == ["2-arm64", "2.0-arm64", "2.0.0-arm64"]

    def test_plugin_tag_is_ignored_under_kaniko(self, tmp_path: Path) -> None:
        """kaniko-ecr pushed `latest` when only PLUGIN_TAG was set; it still does, with a warning."""
        tags, warnings = tags_for("kaniko", {"PLUGIN_TAG": "1.0"}, tmp_path)
        assert tags == ["latest"]
        assert warnings == ["settings.ignored_for_builder"]

    @pytest.mark.parametrize("builder", ["docker", "buildx"])
    def test_plugin_tag_is_read_by_docker_and_buildx(self, builder: str, tmp_path: Path) -> None:
        tags, _ = tags_for(builder, {"PLUGIN_TAG": "1.0"}, tmp_path)
        assert tags == ["1.0"]

    def test_every_ignored_variable_is_a_known_variable(self) -> None:
        names = {v for ignored in IGNORED_FOR_BUILDER.values() for v in ignored}
        assert names <= set(known_variables())


class TestJunkBooleans:
    """A junk boolean where the chosen builder's anchor never looked is a warning; elsewhere an error."""

    def test_junk_in_a_docker_only_boolean_is_a_warning_under_kaniko(self) -> None:
        loaded = load_settings({**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_SQUASH": "maybe"})
        assert loaded.settings.squash is False
        assert loaded.warnings == [
            (
                "settings.junk_boolean_ignored",
                {
                    "variable": "PLUGIN_SQUASH",
                    "value": "maybe",
                    "builder": "kaniko",
                    "reason": "plugins/kaniko-ecr never read it; the default is used",
                },
            )
        ]

    def test_junk_in_a_boolean_the_anchor_read_is_an_error(self) -> None:
        with pytest.raises(ConfigError) as caught:
            load_settings({**BASE, "PLUGIN_BUILDER": "docker", "PLUGIN_SQUASH": "maybe"})
        assert [p.variable for p in caught.value.problems] == ["PLUGIN_SQUASH"]

    def test_junk_in_a_kaniko_only_boolean_is_a_warning_under_buildx(self) -> None:
        loaded = load_settings({**BASE, "PLUGIN_BUILDER": "buildx", "PLUGIN_REPRODUCIBLE": "sure"})
        assert loaded.settings.reproducible is False
        assert [w[0] for w in loaded.warnings] == ["settings.junk_boolean_ignored"]

    def test_junk_in_a_tri_state_boolean_leaves_it_unset(self) -> None:
        loaded = load_settings({**BASE, "PLUGIN_BUILDER": "docker", "PLUGIN_IGNORE_VAR_RUN": "dunno"})
        assert loaded.settings.ignore_var_run is None

    def test_junk_in_skip_tls_verify_is_a_warning_for_every_builder(self) -> None:
        """No anchor read PLUGIN_SKIP_TLS_VERIFY (kaniko-ecr had no such flag)."""
        for builder in ("kaniko", "docker", "buildx"):
            loaded = load_settings({**BASE, "PLUGIN_BUILDER": builder, "PLUGIN_SKIP_TLS_VERIFY": "x"})
            assert loaded.settings.skip_tls_verify is False

    @pytest.mark.parametrize("variable", ["PLUGIN_PLAN_ONLY", "PLUGIN_LOG_JSON"])
    def test_junk_in_the_plugins_own_booleans_is_always_an_error(self, variable: str) -> None:
        with pytest.raises(ConfigError) as caught:
            load_settings({**BASE, "PLUGIN_BUILDER": "kaniko", variable: "maybe"})
        assert [p.variable for p in caught.value.problems] == [variable]

    def test_a_valid_boolean_the_anchor_never_read_is_kept(self) -> None:
        """Only junk is dropped: a real value still means what it says."""
        loaded = load_settings({**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_COMPRESS": "true"})
        assert loaded.settings.compress is True
        assert loaded.warnings == []


class TestLogFormat:
    """PLUGIN_LOG_FORMAT stays kaniko's --log-format; the plugin's own lines follow PLUGIN_LOG_JSON."""

    def test_kaniko_gets_it_as_its_flag_without_a_warning(self) -> None:
        loaded = load_settings({**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_LOG_FORMAT": "json"})
        assert loaded.settings.log_format == "json"
        assert loaded.settings.log_json is False
        assert loaded.warnings == []

    @pytest.mark.parametrize("builder", ["docker", "buildx"])
    def test_other_builders_warn_that_it_does_nothing(self, builder: str) -> None:
        loaded = load_settings({**BASE, "PLUGIN_BUILDER": builder, "PLUGIN_LOG_FORMAT": "json"})
        [(event, fields)] = loaded.warnings
        assert (event, fields["variable"]) == ("settings.kaniko_log_format_unused", "PLUGIN_LOG_FORMAT")
        assert "PLUGIN_LOG_JSON=true" in fields["hint"]


class TestTagPrecedence:
    """PLUGIN_TAG and PLUGIN_TAGS both set: docker and buildx read PLUGIN_TAG first, as their anchors."""

    @pytest.mark.parametrize("builder", ["docker", "buildx"])
    def test_plugin_tag_wins_for_docker_and_buildx(self, builder: str, tmp_path: Path) -> None:
        tags, warnings = tags_for(builder, {"PLUGIN_TAG": "1.0", "PLUGIN_TAGS": "2.0"}, tmp_path)
        assert tags == ["1.0"]
        assert warnings == ["settings.ignored_for_builder"]

    def test_the_same_value_in_both_says_nothing(self, tmp_path: Path) -> None:
        tags, warnings = tags_for("docker", {"PLUGIN_TAG": "1.0", "PLUGIN_TAGS": "1.0"}, tmp_path)
        assert (tags, warnings) == (["1.0"], [])

    def test_kaniko_reads_plugin_tags_only(self, tmp_path: Path) -> None:
        tags, _ = tags_for("kaniko", {"PLUGIN_TAG": "1.0", "PLUGIN_TAGS": "2.0"}, tmp_path)
        assert tags == ["2.0"]


class TestDryRun:
    """PLUGIN_DRY_RUN is plugins/ecr's name: kaniko-ecr never read it, and pushed."""

    def test_kaniko_still_pushes(self) -> None:
        loaded = load_settings({**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_DRY_RUN": "true"})
        assert loaded.settings.no_push is False
        assert [w[1]["variable"] for w in loaded.warnings] == ["PLUGIN_DRY_RUN"]

    @pytest.mark.parametrize("builder", ["docker", "buildx"])
    def test_docker_and_buildx_do_not_push(self, builder: str) -> None:
        assert load_settings({**BASE, "PLUGIN_BUILDER": builder, "PLUGIN_DRY_RUN": "1"}).settings.no_push

    def test_kaniko_no_push_is_read(self) -> None:
        assert load_settings({**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_NO_PUSH": "1"}).settings.no_push


class TestNewlyHonoured:
    """A setting the builder's anchor ignored, which now takes effect, is named in a warning."""

    @pytest.mark.parametrize("builder", ["kaniko", "buildx"])
    def test_skip_push_if_tag_exists(self, builder: str) -> None:
        env = {**BASE, "PLUGIN_BUILDER": builder, "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS": "true"}
        [(event, fields)] = load_settings(env).warnings
        assert (event, fields["variable"], fields["builder"]) == (
            "settings.honoured_for_builder",
            "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS",
            builder,
        )

    def test_nothing_for_plugins_ecr_which_read_it(self) -> None:
        env = {**BASE, "PLUGIN_BUILDER": "docker", "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS": "true"}
        assert load_settings(env).warnings == []

    def test_nothing_when_it_is_off(self) -> None:
        env = {**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_SKIP_PUSH_IF_TAG_EXISTS": "false"}
        assert load_settings(env).warnings == []

    def test_build_args_from_env_with_kaniko(self) -> None:
        env = {**BASE, "PLUGIN_BUILDER": "kaniko", "PLUGIN_BUILD_ARGS_FROM_ENV": "GIT_SHA"}
        assert [w[1]["variable"] for w in load_settings(env).warnings] == ["PLUGIN_BUILD_ARGS_FROM_ENV"]

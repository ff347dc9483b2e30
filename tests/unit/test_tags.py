"""Tags: the auto-tag and expand_tag examples of anchor-env.md section C, .tags, and the OCI tag rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.ci.context import CIContext
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, Problem
from plugin.target.tags import TagResult, default_tags, expand_tag, resolve_tags, use_default_tag, with_suffix

KANIKO = {"PLUGIN_BUILDER": "kaniko"}  # PLUGIN_EXPAND_TAG is kaniko-ecr's
TAG_GRAMMAR = "a valid tag [A-Za-z0-9_][A-Za-z0-9._-]{0,127}"


def tags_for(env: dict[str, str], workdir: Path) -> TagResult:
    """Resolve the tags of a run from its whole environment (settings and CI context)."""
    loaded = load_settings({"PLUGIN_REPO": "team/app", **env})
    return resolve_tags(loaded.settings, CIContext.from_env(loaded.env), workdir, loaded.env)


class TestUseDefaultTag:
    """The auto-tag gate: a tag ref, or a push to the default branch."""

    @pytest.mark.parametrize(
        ("ref", "branch", "expected"),
        [
            ("refs/tags/v1.0.0", "master", True),
            ("refs/heads/master", "master", True),
            ("refs/heads/develop", "master", False),
            ("", "master", False),
            ("", "", True),
        ],
    )
    def test_gate(self, ref: str, branch: str, expected: bool) -> None:
        assert use_default_tag(ref, branch) is expected


class TestDefaultTags:
    """DefaultTags from the anchors' tags_test.go (section C)."""

    @pytest.mark.parametrize(
        ("ref", "tags"),
        [
            ("", ["latest"]),
            ("refs/heads/master", ["latest"]),
            ("refs/tags/0.9.0", ["0.9", "0.9.0"]),
            ("refs/tags/1.0.0", ["1", "1.0", "1.0.0"]),
            ("refs/tags/v1.0.0", ["1", "1.0", "1.0.0"]),
            ("refs/tags/v1.0.0-alpha.1", ["1.0.0-alpha.1"]),
            ("refs/tags/v1.0.0-beta.1", ["1.0.0-beta.1"]),
            ("refs/tags/v18.06.0", ["18", "18.06", "18.06.0"]),
        ],
    )
    def test_examples(self, ref: str, tags: list[str]) -> None:
        assert default_tags(ref) == tags

    def test_build_metadata_keeps_the_plus(self) -> None:
        """default_tags itself keeps `+`; PLUGIN_TAG_PLUS decides later."""
        assert default_tags("refs/tags/v1.0.0+build.7") == ["1.0.0+build.7"]

    @pytest.mark.parametrize("ref", ["refs/tags/v1.0", "refs/tags/release", "refs/tags/v1"])
    def test_a_tag_that_is_not_semver_is_a_config_error_naming_drone_commit_ref(self, ref: str) -> None:
        with pytest.raises(ConfigError) as caught:
            default_tags(ref)
        assert caught.value.problems == [
            Problem("DRONE_COMMIT_REF", ref, "a git tag that is a semantic version X.Y.Z (auto-tag)")
        ]


class TestWithSuffix:
    """The auto-tag suffix: `latest` becomes the suffix, others get `-<suffix>`."""

    @pytest.mark.parametrize(
        ("ref", "suffix", "tags"),
        [
            ("", "linux-amd64", ["linux-amd64"]),
            ("refs/tags/v1.0.0", "linux-amd64", ["1-linux-amd64", "1.0-linux-amd64", "1.0.0-linux-amd64"]),
            ("refs/tags/v1.9.2", "nanoserver", ["1-nanoserver", "1.9-nanoserver", "1.9.2-nanoserver"]),
            ("refs/tags/v18.06.0", "nanoserver", ["18-nanoserver", "18.06-nanoserver", "18.06.0-nanoserver"]),
        ],
    )
    def test_examples(self, ref: str, suffix: str, tags: list[str]) -> None:
        assert with_suffix(default_tags(ref), suffix) == tags

    def test_no_suffix_leaves_tags_alone(self) -> None:
        assert with_suffix(["1", "latest"], None) == ["1", "latest"]


class TestExpandTag:
    """kaniko's expand_tag, from TestBuild_labelsForTag."""

    @pytest.mark.parametrize(
        ("tag", "labels"),
        [
            ("v1.2.3", ["1", "1.2", "1.2.3"]),
            ("v1.2", ["1", "1.2", "1.2.0"]),
            ("v1", ["1", "1.0", "1.0.0"]),
            ("v1.2.3+build-info", ["1+build-info", "1.2+build-info", "1.2.3+build-info"]),
            ("v1.2.3+linux_amd64", ["1+linux-amd64", "1.2+linux-amd64", "1.2.3+linux-amd64"]),
            ("v1.2.3-rc1", ["1.2.3-rc1"]),
            ("v1+bld", ["v1+bld"]),
            ("1.2.3", ["1", "1.2", "1.2.3"]),
            ("latest", ["latest"]),
        ],
    )
    def test_examples(self, tag: str, labels: list[str]) -> None:
        assert expand_tag(tag) == labels


class TestAutoTag:
    """PLUGIN_AUTO_TAG computes tags from DRONE_COMMIT_REF and DRONE_REPO_BRANCH."""

    def test_tag_ref_gives_semver_tags(self, tmp_path: Path) -> None:
        result = tags_for({"PLUGIN_AUTO_TAG": "true", "DRONE_COMMIT_REF": "refs/tags/v1.2.3"}, tmp_path)
        assert (result.tags, result.source, result.skip_reason) == (
            ["1", "1.2", "1.2.3"],
            "DRONE_COMMIT_REF",
            None,
        )

    def test_default_branch_gives_latest_with_suffix(self, tmp_path: Path) -> None:
        env = {
            "PLUGIN_DEFAULT_TAGS": "true",
            "PLUGIN_DEFAULT_SUFFIX": "arm64",
            "DRONE_COMMIT_REF": "refs/heads/main",
            "DRONE_REPO_BRANCH": "main",
        }
        assert tags_for(env, tmp_path).tags == ["arm64"]

    def test_drone_tag_without_commit_ref_is_used_as_the_tag_ref(self, tmp_path: Path) -> None:
        """Runners that only set DRONE_TAG still get semver tags."""
        assert tags_for({"PLUGIN_AUTO_TAG": "true", "DRONE_TAG": "v2.0.1"}, tmp_path).tags == [
            "2",
            "2.0",
            "2.0.1",
        ]

    def test_other_branch_is_skipped_not_failed(self, tmp_path: Path) -> None:
        """Our choice (the docker anchor's): skip with a reason and exit 0; kaniko-ecr failed the step."""
        env = {
            "PLUGIN_AUTO_TAG": "true",
            "DRONE_COMMIT_REF": "refs/heads/develop",
            "DRONE_REPO_BRANCH": "master",
        }
        result = tags_for(env, tmp_path)
        assert result.tags == []
        assert result.skip_reason == "auto-tag: refs/heads/develop is not a tag nor the default branch master"

    def test_invalid_semver_tag_ref_is_a_config_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            tags_for({"PLUGIN_AUTO_TAG": "true", "DRONE_COMMIT_REF": "refs/tags/nightly"}, tmp_path)
        assert caught.value.problems == [
            Problem(
                "DRONE_COMMIT_REF",
                "refs/tags/nightly",
                "a git tag that is a semantic version X.Y.Z (auto-tag)",
            )
        ]

    def test_auto_tag_replaces_user_tags_with_a_warning(self, tmp_path: Path) -> None:
        env = {"PLUGIN_AUTO_TAG": "true", "PLUGIN_TAGS": "custom", "DRONE_COMMIT_REF": "refs/tags/v0.3.1"}
        loaded = load_settings({"PLUGIN_REPO": "team/app", **env})
        assert (
            "settings.auto_tag_replaces_tags",
            {"hint": "PLUGIN_AUTO_TAG is on: PLUGIN_TAGS is ignored"},
        ) in (loaded.warnings)
        assert tags_for(env, tmp_path).tags == ["0.3", "0.3.1"]


class TestPlusInTags:
    """Registries refuse `+`: replaced by `-` by default, rejected with PLUGIN_TAG_PLUS=reject."""

    def test_plus_is_replaced_by_default_with_a_note(self, tmp_path: Path) -> None:
        result = tags_for({"PLUGIN_TAGS": "1.0.0+build.5"}, tmp_path)
        assert result.tags == ["1.0.0-build.5"]
        assert result.notes == [
            "tag '1.0.0+build.5' has '+', which registries refuse: pushed as '1.0.0-build.5'"
        ]

    def test_plus_is_rejected_with_tag_plus_reject(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            tags_for({"PLUGIN_TAGS": "1.0.0+build.5", "PLUGIN_TAG_PLUS": "reject"}, tmp_path)
        assert caught.value.exit_code == 2
        assert caught.value.message == (
            "invalid configuration (1 bad setting):\n"
            f"  - PLUGIN_TAGS='1.0.0+build.5': {TAG_GRAMMAR}"
            " ('+' is refused by registries; PLUGIN_TAG_PLUS=replace turns it into '-')"
        )

    def test_expanded_build_metadata_is_replaced_on_every_label(self, tmp_path: Path) -> None:
        result = tags_for(
            {"PLUGIN_BUILDER": "kaniko", "PLUGIN_TAGS": "v1.2.3+linux_amd64", "PLUGIN_EXPAND_TAG": "true"},
            tmp_path,
        )
        assert result.tags == ["1-linux-amd64", "1.2-linux-amd64", "1.2.3-linux-amd64"]


class TestTagGrammar:
    """Every final tag is checked before anything is built; the error names the variable."""

    def test_tag_longer_than_128_characters_is_rejected(self, tmp_path: Path) -> None:
        long_tag = "a" * 129
        with pytest.raises(ConfigError) as caught:
            tags_for({"PLUGIN_TAGS": f"ok,{long_tag}"}, tmp_path)
        assert caught.value.problems == [Problem("PLUGIN_TAGS", long_tag, TAG_GRAMMAR)]

    def test_tag_of_128_characters_is_accepted(self, tmp_path: Path) -> None:
        assert tags_for({"PLUGIN_TAGS": "a" * 128}, tmp_path).tags == ["a" * 128]

    def test_tag_with_a_slash_is_rejected(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            tags_for({"PLUGIN_TAG": "feature/x"}, tmp_path)
        assert caught.value.problems == [Problem("PLUGIN_TAG", "feature/x", TAG_GRAMMAR)]

    def test_every_bad_tag_is_listed(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            tags_for({"PLUGIN_TAGS": "-dash,good,.dot"}, tmp_path)
        assert [p.value for p in caught.value.problems] == ["-dash", ".dot"]

    def test_bad_tag_in_the_tags_file_names_the_file(self, tmp_path: Path) -> None:
        (tmp_path / ".tags").write_text("ok\nfeature/x\n", encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            tags_for({}, tmp_path)
        assert caught.value.problems == [Problem(str(tmp_path / ".tags"), "feature/x", TAG_GRAMMAR)]


class TestExplicitTags:
    """PLUGIN_TAGS, else the ./.tags file, else `latest`; duplicates dropped, order kept."""

    def test_default_is_latest(self, tmp_path: Path) -> None:
        assert tags_for({}, tmp_path).tags == ["latest"]

    def test_tags_file_is_used_when_plugin_tags_is_unset(self, tmp_path: Path) -> None:
        """Commas and newlines both separate tags, blanks are dropped."""
        (tmp_path / ".tags").write_text("1.0, 1.0.3\n\nlatest,\n", encoding="utf-8")
        result = tags_for({}, tmp_path)
        assert (result.tags, result.source) == (["1.0", "1.0.3", "latest"], str(tmp_path / ".tags"))

    def test_plugin_tags_wins_over_the_tags_file(self, tmp_path: Path) -> None:
        (tmp_path / ".tags").write_text("from-file\n", encoding="utf-8")
        assert tags_for({"PLUGIN_TAGS": "from-env"}, tmp_path).tags == ["from-env"]

    def test_empty_tags_file_falls_back_to_latest(self, tmp_path: Path) -> None:
        (tmp_path / ".tags").write_text(" \n,\n", encoding="utf-8")
        assert tags_for({}, tmp_path).tags == ["latest"]

    def test_duplicates_are_dropped_in_order(self, tmp_path: Path) -> None:
        """Also duplicates that only appear after expansion or `+` replacement."""
        assert tags_for({"PLUGIN_TAGS": "b,a,b,a-1,a+1"}, tmp_path).tags == ["b", "a", "a-1"]
        assert tags_for(
            KANIKO | {"PLUGIN_TAGS": "v1.2.3,v1.2.4", "PLUGIN_EXPAND_TAG": "1"}, tmp_path
        ).tags == [
            "1",
            "1.2",
            "1.2.3",
            "1.2.4",
        ]

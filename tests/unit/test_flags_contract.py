"""Flag markers on settings fields: never on a secret, only real builder flags, styles that fit the type."""

from __future__ import annotations

import re
from typing import get_args

import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from plugin.flags import BUILDX, KANIKO, Flag, Style, field_flags, flag_argv
from plugin.settings import Settings, is_secret, load_settings
from tests.support.reference import reference_file

BUILDER_FLAGS = reference_file("builder-flags.md")
FIELDS = Settings.model_fields
FLAGGED = {name: field_flags(info) for name, info in FIELDS.items() if field_flags(info)}


def table_flags(heading: str) -> set[str]:
    """The flag column of one table of builder-flags.md (the section starting with ``heading``)."""
    text = BUILDER_FLAGS.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| (--[a-zA-Z-]+) ", section, flags=re.M))


def annotation_text(info: FieldInfo) -> str:
    return repr(info.annotation)


def marker_ids(items: list[tuple[str, Flag]]) -> list[str]:
    return [f"{name}:{flag.name}" for name, flag in items]


ALL_MARKERS = [(name, flag) for name, flags in FLAGGED.items() for flag in flags]


class TestSecretsNeverBecomeFlags:
    """Secret values go to env, stdin or files, never argv."""

    def test_no_secret_field_carries_a_flag(self) -> None:
        flagged_secrets = [name for name, info in FIELDS.items() if is_secret(info) and field_flags(info)]
        assert flagged_secrets == []

    def test_secret_detection_sees_every_secret_field(self) -> None:
        """is_secret() must not miss a SecretStr field, or the test above proves nothing."""
        secret_typed = [n for n, i in FIELDS.items() if "SecretStr" in annotation_text(i)]
        assert secret_typed == [n for n, i in FIELDS.items() if is_secret(i)]
        assert {"secret_key", "session_token", "base_password", "oidc_token_id"} <= set(secret_typed)

    def test_flag_render_refuses_a_secret(self) -> None:
        with pytest.raises(TypeError, match="secret values never go on argv"):
            Flag("--x", KANIKO).render(SecretStr("value"))


class TestFlagNamesExist:
    """Every Flag.name is a flag of the builder it is marked for (builder-flags.md)."""

    @pytest.mark.parametrize(
        ("name", "flag"),
        [(n, f) for n, f in ALL_MARKERS if f.builders & KANIKO],
        ids=marker_ids([(n, f) for n, f in ALL_MARKERS if f.builders & KANIKO]),
    )
    def test_kaniko_flag_is_in_the_executor_table(self, name: str, flag: Flag) -> None:
        assert flag.name in table_flags("kaniko executor")

    @pytest.mark.parametrize(
        ("name", "flag"),
        [(n, f) for n, f in ALL_MARKERS if f.builders & BUILDX],
        ids=marker_ids([(n, f) for n, f in ALL_MARKERS if f.builders & BUILDX]),
    )
    def test_buildx_flag_is_in_the_buildx_table(self, name: str, flag: Flag) -> None:
        assert flag.name in table_flags("docker buildx build")


class TestFlagStyles:
    """A flag's style fits its field's type, so rendering never guesses."""

    @pytest.mark.parametrize(("name", "flag"), ALL_MARKERS, ids=marker_ids(ALL_MARKERS))
    def test_style_fits_the_field_type(self, name: str, flag: Flag) -> None:
        annotation = annotation_text(FIELDS[name])
        assert flag.style in get_args(Style)
        if flag.style in ("switch", "tristate"):
            assert "bool" in annotation
        if flag.style == "tristate":
            assert "None" in annotation, "a tri-state flag is only emitted when the user set it"
        if flag.style == "repeat":
            assert "list" in annotation

    def test_defaults_emit_only_default_on_switches(self) -> None:
        """With nothing set, kaniko gets no marked flag; buildx only --pull (PLUGIN_PULL_IMAGE is on)."""
        settings = load_settings({"PLUGIN_REPO": "team/app"}).settings
        assert {b: flag_argv(settings, b) for b in ("kaniko", "buildx")} == {
            "kaniko": [],
            "buildx": ["--pull"],
        }

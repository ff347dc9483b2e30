"""docs/settings.md and --help are generated from the model: complete, and never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.config.docs import GROUPS, render_help, render_markdown
from plugin.config.settings import Settings, known_variables

SETTINGS_MD = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


class TestSettingsReference:
    """The committed reference is what the model renders."""

    def test_committed_docs_are_not_stale(self) -> None:
        """Regenerate with `make docs` when this fails."""
        assert SETTINGS_MD.read_text(encoding="utf-8") == render_markdown()

    def test_groups_cover_every_field_once(self) -> None:
        grouped = [name for _, model in GROUPS for name in model.model_fields]
        assert sorted(grouped) == sorted(Settings.model_fields)

    @pytest.mark.parametrize("variable", sorted(known_variables()))
    def test_every_variable_is_documented(self, variable: str) -> None:
        assert f"`{variable}`" in render_markdown()

    def test_every_field_has_a_meaning(self) -> None:
        assert [n for n, info in Settings.model_fields.items() if not (info.description or "").strip()] == []

    def test_each_field_is_one_table_row(self) -> None:
        rows = [line for line in render_markdown().splitlines() if line.startswith("| `")]
        assert len(rows) == len(Settings.model_fields)

    def test_secrets_are_typed_secret_and_have_no_default_shown(self) -> None:
        row = next(
            line for line in render_markdown().splitlines() if line.startswith("| `PLUGIN_SECRET_KEY`")
        )
        assert row.split(" | ")[2:4] == ["secret", "\N{EN DASH}"]


class TestHelp:
    """`--help` lists every variable with its type, default and builders."""

    @pytest.mark.parametrize("variable", sorted(known_variables()))
    def test_every_variable_is_in_help(self, variable: str) -> None:
        assert variable in render_help()

    def test_help_starts_with_usage_and_exit_codes(self) -> None:
        text = render_help()
        assert text.startswith("usage: build-push-ecr [run | plan | prepare | --help | --version]")
        assert "2 bad configuration" in text

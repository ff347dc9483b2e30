"""Each anchor's command lines for its own cases, against this plugin's plan for the same variables.

The cases are data (tests/compat/<anchor>.toml); tests/compat/harness.py says how the two sides
are compared. A difference must be on record with why and where docs/compatibility.md says so.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from plugin.config.load import load_settings
from plugin.core.errors import ConfigError
from tests.compat.harness import DOCS, HERE, Case, differences, doc_target_exists, load_cases

FILES = sorted(HERE.glob("*.toml"))
CASES = [case for path in FILES for case in load_cases(path)]


def _explain(case: Case, anchor_only: Counter[str], plugin_only: Counter[str], commands: list[str]) -> str:
    lines = [f"{case.anchor_name} / {case.id} ({case.source})"]
    lines += [f"  only the anchor: {t}" for t in sorted(anchor_only.elements())]
    lines += [f"  only the plugin: {t}" for t in sorted(plugin_only.elements())]
    return "\n".join([*lines, "  plugin commands:", *(f"    {c}" for c in commands)])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.anchor_name.split('/')[-1]}:{c.id}")
def test_same_command_lines_or_a_recorded_difference(case: Case, tmp_path: Path) -> None:
    """The plan gives the anchor's commands, up to the differences recorded with their reasons."""
    if case.tags_file is not None:
        (tmp_path / ".tags").write_text(case.tags_file, encoding="utf-8")
    if case.refuses is not None:
        with pytest.raises(ConfigError) as caught:
            load_settings(case.env)
        assert case.refuses in [p.variable for p in caught.value.problems]
        return
    anchor_only, plugin_only, _, plugin = differences(case, tmp_path)
    expected_anchor = Counter(t for d in case.differs for t in d.anchor)
    expected_plugin = Counter(t for d in case.differs for t in d.plugin)
    assert (anchor_only, plugin_only) == (expected_anchor, expected_plugin), _explain(
        case, anchor_only, plugin_only, [c.text() for c in plugin]
    )


class TestTheSetItself:
    """The data is what it says: three anchors, enough cases, every difference explained."""

    def test_every_anchor_has_its_file(self) -> None:
        names = {case.anchor_name for case in CASES}
        assert names == {"plugins/kaniko-ecr", "plugins/ecr", "plugins/buildx-ecr"}

    @pytest.mark.parametrize("anchor", ["plugins/kaniko-ecr", "plugins/ecr", "plugins/buildx-ecr"])
    def test_each_anchor_has_at_least_twenty_env_sets(self, anchor: str) -> None:
        assert len([c for c in CASES if c.anchor_name == anchor]) >= 20

    def test_the_counts_in_compatibility_md_are_the_data(self) -> None:
        text = (DOCS / "compatibility.md").read_text(encoding="utf-8")
        for anchor in ("plugins/kaniko-ecr", "plugins/ecr", "plugins/buildx-ecr"):
            count = len([c for c in CASES if c.anchor_name == anchor])
            assert re.search(rf"\b{count} (sets )?for {re.escape(anchor)}\b", text), (anchor, count)

    def test_case_ids_are_unique_per_anchor(self) -> None:
        ids = [(c.anchor_name, c.id) for c in CASES]
        assert len(ids) == len(set(ids))

    def test_every_case_names_its_source(self) -> None:
        assert [c.id for c in CASES if len(c.source) < 10] == []

    def test_every_difference_has_a_reason_and_a_documented_place(self) -> None:
        differs = [d for c in CASES for d in (*c.differs, *c.standing)]
        assert [d.doc for d in differs if len(d.why) < 15 or not doc_target_exists(d.doc)] == []

"""docs/troubleshooting.md has every error message the plugin can print; every log event has a sentence.

The messages are found in the code (tests/support/catalog.py). When one of these tests fails, run
`make catalog-missing`: it prints the entries to paste, grouped by the section they belong in.
"""

from __future__ import annotations

import pytest

from plugin.config.load import load_settings
from plugin.core.errors import ConfigError
from plugin.core.events import SENTENCES
from tests.support.catalog import DYNAMIC, HOLE, ROOT, Message, _key, _matches_any, build_catalog
from tests.support.catalog_doc import DOC, documented, missing_entries, skeleton, stale_entries

HOW = "run `make catalog-missing` for skeleton entries to paste"


class TestTroubleshootingIsComplete:
    """Every message in the code has an entry; every entry still matches a message."""

    def test_every_message_has_an_entry(self) -> None:
        missing = missing_entries()
        assert not missing, f"{len(missing)} message(s) missing from {DOC.name} ({HOW}):\n" + skeleton(
            missing
        )

    def test_every_entry_matches_a_message(self) -> None:
        stale = stale_entries()
        assert not stale, f"entries in {DOC.name} that match no message any more:\n" + "\n".join(stale)

    def test_every_entry_says_something(self) -> None:
        empty = [key for key, body in documented().items() if len(body.strip()) < 20]
        assert empty == []

    def test_the_catalog_found_the_messages_of_every_kind(self) -> None:
        """A guard on the walk itself: losing a whole kind means the walk broke, not the code."""
        kinds = {m.kind for m in build_catalog().messages}
        assert kinds >= {"config", "value", "probe", "aws", "run", "build", "signal", "cli"}

    def test_the_readme_links_to_it(self) -> None:
        assert "docs/troubleshooting.md" in (ROOT / "README.md").read_text(encoding="utf-8")


class TestEverythingIsSeen:
    """Texts the walk cannot read are listed, with where they are catalogued instead."""

    def test_every_dynamic_place_is_listed(self) -> None:
        unlisted = [d for d in build_catalog().dynamic if (d[0], d[1]) not in DYNAMIC]
        assert unlisted == [], "give these messages a literal text, or list them in catalog.DYNAMIC"

    def test_no_listed_place_is_gone(self) -> None:
        seen = {(d[0], d[1]) for d in build_catalog().dynamic}
        assert set(DYNAMIC) <= seen


class TestLogEventsHaveSentences:
    """Every event the code logs has a sentence in plugin.core.events, and no sentence is left over."""

    def test_every_event_has_a_sentence(self) -> None:
        events = build_catalog().events
        missing = {e: where for e, where in events.items() if e not in SENTENCES}
        assert missing == {}, HOW

    def test_every_sentence_belongs_to_an_event(self) -> None:
        assert sorted(set(SENTENCES) - set(build_catalog().events)) == []


class TestRealMessagesMatchTheirKeys:
    """What a user really sees is an instance of a documented key (holes match anything)."""

    @pytest.mark.parametrize(
        "env",
        [
            {"PLUGIN_ACCOUNT": "12345"},
            {"PLUGIN_REGISTRY": "12345.dkr.ecr.us-east-1.amazonaws.com"},
            {"PLUGIN_REGISTRY": "123456789012.dkr.ecr.cn-north-1.amazonaws.com"},
            {"PLUGIN_BUILDER": "podman"},
            {"PLUGIN_ROLE_DURATION": "60"},
            {"PLUGIN_CACHE_TTL": "1d"},
            {"PLUGIN_NO_PUSH": "maybe"},
            {"PLUGIN_REGION": "mars"},
            {"PLUGIN_SECRETS_FROM_ENV": "token"},
            {"PLUGIN_KMS_KEY": "k"},
        ],
        ids=",".join,
    )
    def test_configuration_errors(self, env: dict[str, str]) -> None:
        with pytest.raises(ConfigError) as caught:
            load_settings({"PLUGIN_REPO": "team/app", **env})
        keys = set(documented())
        for problem in caught.value.problems:
            # Validator texts are documented on their own: they follow `VARIABLE='value': `.
            whole = f"{problem.variable}: {problem.expected}"
            assert _matches_any(whole, keys) or _matches_any(problem.expected, keys), problem


class TestCatalogMechanics:
    """The helpers the checks are built on."""

    def test_keys_join_whitespace_and_neighbouring_holes(self) -> None:
        assert _key(f"AWS {HOLE}{HOLE} failed:\n  {HOLE}") == f"AWS {HOLE} failed: {HOLE}"

    def test_a_hole_matches_any_text(self) -> None:
        assert _matches_any(
            "registry r answered 401 for a:b", {f"registry {HOLE} answered {HOLE} for {HOLE}"}
        )
        assert not _matches_any("registry r answered", {f"registry {HOLE} answered {HOLE} for {HOLE}"})

    def test_entries_are_read_from_level_three_and_four_headings(self) -> None:
        text = "## Section\n### `key one`\nMeans this.\n#### `key two`\nThat.\n## Next\nprose\n"
        assert documented(text) == {"key one": "Means this.\n", "key two": "That.\n"}

    def test_the_skeleton_names_the_section_and_the_place(self) -> None:
        out = skeleton([Message("PLUGIN_X: a thing", "config", "plugin/x.py:3")])
        assert out.splitlines()[:3] == [
            "<!-- paste under: ## Configuration (exit 2) -->",
            "### `PLUGIN_X: a thing`",
            "<!-- plugin/x.py:3 -->",
        ]

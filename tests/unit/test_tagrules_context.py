"""The tag rules' inputs: each CI's variables mapped to one view of the build (event, branch / tag /
pull request, SHA, default branch, date), and the pieces the rules render with: expressions, moment
date formats, semver and PEP 440."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from plugin.ci.context import CIContext
from plugin.ci.tagrules import event_kind, ref_context
from plugin.ci.tagrules.moment import format_date
from plugin.ci.tagrules.template import Expr, TemplateError, parse, zone
from plugin.ci.tagrules.versions import parse_pep440, parse_semver
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, Problem
from plugin.target.tags import resolve_tags

SHA = "90dd6032fac8bda1b6c4436a2e65de27961ed071"
NOW = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)


def view(env: dict[str, str], **kw: str) -> tuple[str, str | None, str | None, str | None, str | None]:
    """(event kind, branch, tag, pull request, base ref) as the rules see the build."""
    refs = ref_context(CIContext.from_env(env), env, now=NOW, **kw)
    return refs.event, refs.branch, refs.tag, refs.pr, refs.base_ref


class TestEachCI:
    """Pushes, tags, pull requests and schedules as Drone, Harness, Woodpecker and GitHub report them."""

    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            # Drone: pull requests use the head ref; the target branch is DRONE_TARGET_BRANCH.
            ({"DRONE_BUILD_EVENT": "pull_request", "DRONE_COMMIT_REF": "refs/pull/7/head",
              "DRONE_PULL_REQUEST": "7", "DRONE_TARGET_BRANCH": "main"}, ("pr", None, None, "7", "main")),
            # GitLab merge requests and Bitbucket Server pull requests, through Drone.
            ({"DRONE_BUILD_EVENT": "pull_request", "DRONE_COMMIT_REF": "refs/merge-requests/12/head"},
             ("pr", None, None, "12", None)),
            ({"DRONE_BUILD_EVENT": "pull_request", "DRONE_COMMIT_REF": "refs/pull-requests/3/from",
              "DRONE_COMMIT_BRANCH": "develop"}, ("pr", None, None, "3", "develop")),
            # A pull-request build whose ref names the source branch: the PR number wins.
            ({"DRONE_BUILD_EVENT": "pull_request", "DRONE_COMMIT_REF": "refs/heads/feature",
              "DRONE_PULL_REQUEST": "9"}, ("pr", None, None, "9", None)),
            ({"DRONE_BUILD_EVENT": "cron", "DRONE_COMMIT_REF": "refs/heads/main"},
             ("schedule", "main", None, None, None)),
            ({"DRONE_BUILD_EVENT": "promote", "DRONE_COMMIT_REF": "refs/heads/main"},
             ("promote", "main", None, None, None)),
            # Harness: tag pushes name refs/tags/<tag> in the branch variables; manual builds have no ref.
            ({"DRONE_BUILD_EVENT": "tag", "DRONE_COMMIT_BRANCH": "refs/tags/v1.2.3"},
             ("tag", None, "v1.2.3", None, None)),
            ({"DRONE_TAG": "v1.2.3", "CI_COMMIT_BRANCH": "refs/tags/v1.2.3"},
             ("", None, "v1.2.3", None, None)),
            ({"CI_COMMIT_BRANCH": "release/2"}, ("", "release/2", None, None, None)),
            ({"DRONE_BUILD_EVENT": "pull_request", "DRONE_PULL_REQUEST": "5", "DRONE_TARGET_BRANCH": "main",
              "DRONE_COMMIT_BRANCH": "main"}, ("pr", None, None, "5", "main")),
            # Woodpecker.
            ({"CI_PIPELINE_EVENT": "release", "CI_COMMIT_REF": "refs/tags/v2.0.0", "CI_COMMIT_TAG": "v2.0.0"},
             ("tag", None, "v2.0.0", None, None)),
            ({"CI_PIPELINE_EVENT": "pull_request", "CI_COMMIT_REF": "refs/pull/4/head",
              "CI_COMMIT_PULL_REQUEST": "4", "CI_COMMIT_TARGET_BRANCH": "main", "CI_COMMIT_BRANCH": "main"},
             ("pr", None, None, "4", "main")),
            ({"CI_PIPELINE_EVENT": "cron", "CI_COMMIT_REF": "refs/heads/main"},
             ("schedule", "main", None, None, None)),
            ({"CI_PIPELINE_EVENT": "manual", "CI_COMMIT_BRANCH": "main"},
             ("manual", "main", None, None, None)),
            # GitHub-style (GitHub, Gitea and Forgejo Actions).
            ({"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_REF": "refs/pull/2/merge",
              "GITHUB_BASE_REF": "master"}, ("pr", None, None, "2", "master")),
            ({"GITHUB_EVENT_NAME": "schedule", "GITHUB_REF": "refs/heads/master"},
             ("schedule", "master", None, None, None)),
            ({"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1"}, ("push", None, "v1", None, None)),
            # Nothing at all: no ref kind, no event.
            ({}, ("", None, None, None, None)),
        ],
    )  # fmt: skip
    def test_view_of_the_build(self, env: dict[str, str], expected: tuple[str, ...]) -> None:
        assert view(env) == expected

    def test_drone_variables_win_over_ci_and_github_ones(self) -> None:
        env = {
            "DRONE_COMMIT_REF": "refs/heads/a",
            "CI_COMMIT_REF": "refs/heads/b",
            "GITHUB_REF": "refs/heads/c",
        }
        assert view(env)[1] == "a"
        assert view({k: v for k, v in env.items() if k != "DRONE_COMMIT_REF"})[1] == "b"

    @pytest.mark.parametrize(
        ("raw", "kind"),
        [
            ("push", "push"), ("tag", "tag"), ("release", "tag"), ("pull_request", "pr"),
            ("pull_request_closed", "pr"), ("merge_request", "pr"), ("cron", "schedule"),
            ("schedule", "schedule"), ("SCHEDULER_CRON", "schedule"), ("workflow_dispatch", "manual"),
            ("custom", "manual"), ("MANUAL", "manual"), ("Deployment", "deployment"), (None, ""),
        ],
    )  # fmt: skip
    def test_event_names(self, raw: str | None, kind: str) -> None:
        assert event_kind(raw) == kind

    def test_plugin_tag_event_overrides_the_ci_event(self, tmp_path: Path) -> None:
        """Harness has no cron variable: `tag_event: <+pipeline.triggerType>` gives SCHEDULER_CRON."""
        env = {
            "PLUGIN_REPO": "team/app",
            "PLUGIN_TAG_RULES": "type=schedule,pattern={{date 'YYYYMMDD'}}",
            "DRONE_BUILD_EVENT": "push",
            "DRONE_COMMIT_REF": "refs/heads/main",
        }
        loaded = load_settings({**env, "PLUGIN_TAG_EVENT": "SCHEDULER_CRON"})
        result = resolve_tags(loaded.settings, CIContext.from_env(loaded.env), tmp_path, loaded.env, now=NOW)
        assert result.tags == ["20210601"]


class TestShaAndDate:
    def test_short_sha_length_follows_docker_metadata_short_sha_length(self) -> None:
        env = {"DRONE_COMMIT_SHA": SHA, "DOCKER_METADATA_SHORT_SHA_LENGTH": "12"}
        assert ref_context(CIContext.from_env(env), env).short_sha == "90dd6032fac8"

    @pytest.mark.parametrize("length", ["0", "abc", "-3", "65"])
    def test_bad_short_sha_length_is_a_config_error(self, length: str) -> None:
        env = {"DOCKER_METADATA_SHORT_SHA_LENGTH": length}
        with pytest.raises(ConfigError) as caught:
            ref_context(CIContext.from_env(env), env)
        assert caught.value.problems == [
            Problem("DOCKER_METADATA_SHORT_SHA_LENGTH", length, "a whole number of characters from 1 to 64")
        ]

    @pytest.mark.parametrize("variable", ["DRONE_BUILD_CREATED", "CI_PIPELINE_CREATED", "CI_BUILD_CREATED"])
    def test_the_date_is_the_build_creation_time_so_every_step_agrees(self, variable: str) -> None:
        env = {variable: "1578616200"}
        refs = ref_context(CIContext.from_env(env), env, now=NOW)
        assert refs.date == datetime(2020, 1, 10, 0, 30, tzinfo=UTC)

    @pytest.mark.parametrize("created", ["", "soon", "99999999999999999999"])
    def test_without_a_usable_build_time_the_date_is_now(self, created: str) -> None:
        env = {"DRONE_BUILD_CREATED": created}
        assert ref_context(CIContext.from_env(env), env, now=NOW).date == NOW

    def test_is_default_branch(self) -> None:
        def answer(env: dict[str, str]) -> bool | None:
            return ref_context(CIContext.from_env(env), env).is_default_branch()

        main = {"DRONE_COMMIT_REF": "refs/heads/main", "DRONE_REPO_BRANCH": "main"}
        assert answer(main) is True
        assert answer({**main, "DRONE_COMMIT_REF": "refs/heads/dev"}) is False
        assert answer({**main, "DRONE_COMMIT_REF": "refs/tags/v1"}) is False
        assert answer({**main, "DRONE_COMMIT_REF": "refs/pull/1/head"}) is False
        assert answer({"DRONE_COMMIT_REF": "refs/heads/main"}) is None
        assert answer({"DRONE_BUILD_EVENT": "cron"}) is True  # metadata-action: schedules run on the default


class TestMomentFormats:
    """moment.js tokens (https://momentjs.com/docs/#/displaying/format/), English names."""

    SUNDAY = datetime(2020, 1, 5, 0, 5, 9, 123456, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("fmt", "expected"),
        [
            ("YYYY YY Y Q Qo", "2020 20 2020 1 1st"),
            ("M Mo MM MMM MMMM", "1 1st 01 Jan January"),
            ("D Do DD DDD DDDo DDDD", "5 5th 05 5 5th 005"),
            ("d do dd ddd dddd E", "0 0th Su Sun Sunday 7"),
            ("W Wo WW GG GGGG", "1 1st 01 20 2020"),
            ("H HH h hh k kk A a", "0 00 12 12 24 24 AM am"),
            ("m mm s ss S SS SSS SSSS", "5 05 9 09 1 12 123 1230"),
            ("Z ZZ X x", "+00:00 +0000 1578182709 1578182709123"),
            ("[YYYY] \\M YYYY-MM-DDTHH:mm:ss", "YYYY M 2020-01-05T00:05:09"),
            ("Thu [Thu]", "T12u Thu"),  # letters are tokens unless bracketed, as in moment
        ],
    )
    def test_tokens(self, fmt: str, expected: str) -> None:
        assert format_date(self.SUNDAY, fmt) == expected

    def test_ordinals_and_iso_week_years(self) -> None:
        assert [format_date(datetime(2021, 1, d, tzinfo=UTC), "Do") for d in (1, 2, 3, 11, 12, 13, 22)] == [
            "1st", "2nd", "3rd", "11th", "12th", "13th", "22nd",
        ]  # fmt: skip
        assert format_date(datetime(2021, 1, 1, tzinfo=UTC), "GGGG-[W]WW-E") == "2020-W53-5"
        assert format_date(datetime(2020, 1, 5, 15, 0, tzinfo=UTC), "h A") == "3 PM"

    def test_zones_and_offsets(self) -> None:
        instant = datetime(2020, 1, 10, 0, 30, tzinfo=UTC)
        assert (
            format_date(instant.astimezone(zone("Asia/Tokyo")), "YYYYMMDD-HHmmss Z")
            == "20200110-093000 +09:00"
        )
        assert zone("+05:30") == timezone(timedelta(hours=5, minutes=30))
        assert zone("UTC-8") == timezone(-timedelta(hours=8))
        with pytest.raises(TemplateError):
            zone("+24:00")


class TestExpressions:
    def test_parse_text_and_expressions(self) -> None:
        template = parse("v{{major}}.{{ minor }}-{{date 'YYYY' tz=\"UTC\"}}")
        assert template.parts == (
            "v",
            Expr("major"),
            ".",
            Expr("minor"),
            "-",
            Expr("date", ("YYYY",), (("tz", "UTC"),)),
        )
        assert parse("{{raw}}").is_only("raw") and not parse("v{{raw}}").is_only("raw")
        assert parse("plain }} text").is_literal


class TestVersions:
    @pytest.mark.parametrize(
        ("text", "version", "unstable"),
        [
            ("v1.2.3", "1.2.3", False),
            ("1.2.3", "1.2.3", False),
            (" v1.2.3 ", "1.2.3", False),
            ("v1.2.3-rc.1+build.5", "1.2.3-rc.1", True),
            ("v1.2.3+build.5", "1.2.3", False),
            ("0.0.0-0", "0.0.0-0", True),
        ],
    )
    def test_semver(self, text: str, version: str, unstable: bool) -> None:
        parsed = parse_semver(text)
        assert parsed is not None
        assert (parsed.version, parsed.unstable, parsed.raw) == (version, unstable, text)

    @pytest.mark.parametrize(
        "text",
        ["1.2", "v01.2.3", "1.2.3-01", "=1.2.3", "vv1.2.3", "1.2.3-", "9007199254740992.0.0", "1." * 200],
    )
    def test_not_semver(self, text: str) -> None:
        assert parse_semver(text) is None

    @pytest.mark.parametrize(
        ("text", "version", "parts", "unstable"),
        [
            ("1!2.0", "1!2.0", (2, 0, 0), False),
            ("0!1.0", "1.0", (1, 0, 0), False),
            ("1.0-1", "1.0.post1", (1, 0, 0), True),
            ("1.0.r", "1.0.post0", (1, 0, 0), True),
            ("1.0-ALPHA_2", "1.0a2", (1, 0, 0), True),
            ("1.0c1", "1.0rc1", (1, 0, 0), True),
            ("2020.01.0010", "2020.1.10", (2020, 1, 10), False),
            ("1.0+Local-007.x", "1.0+local.7.x", (1, 0, 0), False),
        ],
    )
    def test_pep440(self, text: str, version: str, parts: tuple[int, int, int], unstable: bool) -> None:
        parsed = parse_pep440(text)
        assert parsed is not None
        assert (parsed.version, (parsed.major, parsed.minor, parsed.patch), parsed.unstable) == (
            version,
            parts,
            unstable,
        )

    @pytest.mark.parametrize("text", ["", "latest", "1.0-", "1.0+", "v", "1..0"])
    def test_not_pep440(self, text: str) -> None:
        assert parse_pep440(text) is None


class TestEventOverride:
    """PLUGIN_TAG_EVENT: Harness' `<+pipeline.triggerType>` says SCHEDULER_CRON, WEBHOOK or MANUAL."""

    @pytest.mark.parametrize(
        ("override", "ci_event", "kind"),
        [
            ("SCHEDULER_CRON", "push", "schedule"),
            ("WEBHOOK", "pull_request", "pr"),  # vague: the CI's own event stays
            ("MANUAL", "tag", "tag"),
            ("MANUAL", "", "manual"),  # ...unless the CI names none
            ("push", "cron", "push"),
        ],
    )
    def test_decisive_overrides_win_vague_ones_fill_in(self, override: str, ci_event: str, kind: str) -> None:
        env = {"DRONE_BUILD_EVENT": ci_event} if ci_event else {}
        assert view(env, event=override)[0] == kind

    def test_manual_pull_request_build_without_a_ref(self) -> None:
        """Harness manual PR build: no ref, the target branch in DRONE_COMMIT_BRANCH, DRONE_PULL_REQUEST."""
        env = {"DRONE_PULL_REQUEST": "5", "DRONE_COMMIT_BRANCH": "main", "DRONE_TARGET_BRANCH": "main"}
        assert view(env, event="MANUAL") == ("manual", None, None, "5", "main")

"""PLUGIN_TAG_RULES: how rules are read (every problem names its line), ordered, combined with the
explicit and auto tags, checked against the OCI grammar, and shown in the plan and the log; monorepo
tags with PLUGIN_TAG_SERVICE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from structlog.testing import capture_logs

from plugin.ci.context import CIContext
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, Problem
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve
from plugin.target.tags import TagResult, resolve_tags

SHA = "90dd6032fac8bda1b6c4436a2e65de27961ed071"
NOW = datetime(2020, 1, 10, 0, 30, tzinfo=UTC)
TAG = {"DRONE_BUILD_EVENT": "tag", "DRONE_COMMIT_REF": "refs/tags/v1.2.3", "DRONE_COMMIT_SHA": SHA}
MAIN = {"DRONE_BUILD_EVENT": "push", "DRONE_COMMIT_REF": "refs/heads/main", "DRONE_REPO_BRANCH": "main"}
SEMVER = (
    "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\ntype=semver,pattern={{major}}"
)
BASE = {"PLUGIN_REPO": "team/app", "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com"}


def tags_for(env: dict[str, str], workdir: Path) -> TagResult:
    loaded = load_settings({**BASE, **env})
    return resolve_tags(loaded.settings, CIContext.from_env(loaded.env), workdir, loaded.env, now=NOW)


def problems_of(env: dict[str, str], workdir: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        tags_for(env, workdir)
    assert caught.value.exit_code == 2
    return caught.value.problems


class TestReadingRules:
    """Every bad rule is an exit-2 problem naming PLUGIN_TAG_RULES, the line and what to write instead."""

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("type=semver", "type=semver needs pattern="),
            ("type=match,group=1", "type=match needs pattern="),
            ("type=ref", "type=ref needs event="),
            ("type=ref,event=push", "event='push': expected one of branch, tag, pr"),
            ("type=sha,format=medium", "format='medium': expected one of short, long"),
            ("type=raw", "type=raw needs a value (value=TAG, or the tag alone)"),
            ("type=docker",
             "unknown type='docker' (one of schedule, semver, pep440, match, edge, ref, raw, sha)"),
            (
                "type=sha,lenght=12",
                "type=sha has no lenght= (it takes enable=, format=, prefix=, priority=, suffix=)",
            ),
            ("type=raw,value=a,value=b", "value= is given twice"),
            ("type=raw,value=a,priority=high", "priority='high': expected a whole number"),
            ("type=raw,value=a,enable=yes", "enable='yes': expected true, false or {{is_default_branch}}"),
            ("type=raw,value=a,enable={{branch}}", "enable=: unknown expression {{branch}} (known here: "
             "{{is_default_branch}})"),
            ("type=raw,value={{commit}}", "value=: unknown expression {{commit}} (known here: {{base_ref}}, "
             "{{branch}}, {{commit_date}}, {{date}}, {{is_default_branch}}, {{sha}}, {{tag}})"),
            ("type=raw,value={{sha", "'{{' without '}}' in '{{sha'"),
            ("type=raw,value={{date YYYY}}", "'YYYY' in '{{date YYYY}}' must be quoted ('...')"),
            ("type=raw,value={{date}}", "value=: {{date 'FORMAT'}} takes one quoted moment format"),
            ("type=raw,value={{sha 'x'}}", "value=: {{sha}} takes no arguments"),
            ("type=raw,value={{date 'YYYY' zone='UTC'}}",
             "value=: unknown {{date}} option 'zone' (only tz=)"),
            ("type=schedule,pattern={{date 'gggg-ww'}}",
             "pattern=: date token 'gggg' is not supported (locale weeks: use W, WW, GGGG or E)"),
            ("type=schedule,pattern={{date 'YYYY' tz='Mars/Olympus'}}",
             "time zone 'Mars/Olympus' is unknown here (an IANA name such as Asia/Tokyo, UTC, or an offset "
             "such as +09:00)"),
            ("type=semver,pattern={{build}}",
             "pattern=: unknown expression {{build}} (known here: {{base_ref}}, "
             "{{branch}}, {{commit_date}}, {{date}}, {{is_default_branch}}, {{major}}, {{minor}}, {{patch}}, "
             "{{raw}}, {{sha}}, {{tag}}, {{version}})"),
            ("type=match,pattern=v(",
             "pattern= is not a regular expression (missing ), unterminated subpattern "
             "at position 1)"),
            ("type=match,pattern=v(.*),group=2", "group='2': the pattern has groups 0 to 1"),
            ("type=match,pattern=/v(.*)/g,group=1", "pattern= flag 'g' is not supported (i, m, s, u)"),
        ],
    )  # fmt: skip
    def test_bad_rule_names_the_variable_the_line_and_the_fix(
        self, line: str, expected: str, tmp_path: Path
    ) -> None:
        rules = f"# releases\ntype=sha\n\n{line}"
        assert problems_of({"PLUGIN_TAG_RULES": rules}, tmp_path) == [
            Problem("PLUGIN_TAG_RULES", line, f"line 4: {expected}")
        ]

    def test_every_bad_line_and_every_bad_variable_are_listed_at_once(self, tmp_path: Path) -> None:
        """Found when the settings are read, with the other bad variables (one message, exit 2)."""
        env = {
            **BASE,
            "PLUGIN_TAG_RULES": "type=semver\ntype=sha\ntype=ref",
            "PLUGIN_TAG_FLAVOR": "latest=maybe",
        }
        with pytest.raises(ConfigError) as caught:
            load_settings({**env, "PLUGIN_CACHE_TTL": "1d"})
        assert [(p.variable, p.expected) for p in caught.value.problems] == [
            ("PLUGIN_CACHE_TTL", "expected a whole number"),
            ("PLUGIN_TAG_RULES", "line 1: type=semver needs pattern="),
            ("PLUGIN_TAG_RULES", "line 3: type=ref needs event="),
            ("PLUGIN_TAG_FLAVOR", "line 1: latest='maybe': expected auto, true or false"),
        ]

    @pytest.mark.parametrize(
        ("flavor", "expected"),
        [
            ("latest", "'latest' is not key=value"),
            ("prefix=v-,onlatest=maybe", "onlatest= takes true or false, after prefix= or suffix="),
            ("onlatest=true", "onlatest= takes true or false, after prefix= or suffix="),
            ("sep=-", "unknown sep= (latest=, prefix=, suffix=, onlatest=)"),
            ("suffix={{arch}}", "suffix=: unknown expression {{arch}} (known here: {{base_ref}}, {{branch}}, "
             "{{commit_date}}, {{date}}, {{is_default_branch}}, {{sha}}, {{tag}})"),
        ],
    )  # fmt: skip
    def test_bad_flavor_names_its_line(self, flavor: str, expected: str, tmp_path: Path) -> None:
        env = {"PLUGIN_TAG_RULES": "type=sha", "PLUGIN_TAG_FLAVOR": f"latest=auto\n{flavor}"}
        assert problems_of(env, tmp_path) == [Problem("PLUGIN_TAG_FLAVOR", flavor, f"line 2: {expected}")]

    @pytest.mark.parametrize("service", ["svc with space", "/", "@scope", "svc?"])
    def test_bad_service_name(self, service: str, tmp_path: Path) -> None:
        assert problems_of({"PLUGIN_TAG_SERVICE": service}, tmp_path) == [
            Problem("PLUGIN_TAG_SERVICE", service, "a service name: letters, digits, '.', '_', '-' and '/'")
        ]

    def test_a_yaml_list_joined_with_commas_by_the_ci_is_split_at_each_type(self, tmp_path: Path) -> None:
        """Drone and Harness pass `tag_rules: [a, b]` as `a,b`: a rule starts at every type= field."""
        env = {**TAG, "PLUGIN_TAG_RULES": "type=ref,event=tag,type=sha,prefix=,type=raw,value=stable"}
        result = tags_for(env, tmp_path)
        assert result.tags == ["v1.2.3", "stable", "90dd603", "latest"]
        assert [s["rule"] for s in result.sources()] == [
            "line 1: type=ref,event=tag",
            "line 1: type=raw,value=stable",
            "line 1: type=sha,prefix=",
            "latest=auto, after line 1: type=ref,event=tag",
        ]

    def test_quoted_fields_hold_commas_and_bare_lines_are_raw_tags(self, tmp_path: Path) -> None:
        rules = "stable\ntype=raw,\"value={{date 'YYYY, MM'}}\"\ntype=raw,edge-{{sha}}"
        assert tags_for({**MAIN, "DRONE_COMMIT_SHA": SHA, "PLUGIN_TAG_RULES": rules}, tmp_path).tags == [
            "stable",
            "2020-01",
            "edge-90dd603",
        ]


class TestOrderAndLatest:
    """Priority order (type defaults, priority=, ties in written order); `latest` from the first tag."""

    def test_priorities_then_written_order(self, tmp_path: Path) -> None:
        rules = "type=sha\ntype=raw,value=b\ntype=raw,value=a\n"
        rules += "type=semver,pattern={{version}}\ntype=ref,event=tag"
        assert tags_for({**TAG, "PLUGIN_TAG_RULES": rules}, tmp_path).tags == [
            "1.2.3", "v1.2.3", "b", "a", "sha-90dd603", "latest",
        ]  # fmt: skip

    def test_priority_attribute_moves_a_rule_and_decides_latest(self, tmp_path: Path) -> None:
        """latest=auto looks at the first tag only: a raw tag first means no `latest` (metadata-action)."""
        rules = "type=semver,pattern={{version}}\ntype=raw,value=release,priority=1000"
        assert tags_for({**TAG, "PLUGIN_TAG_RULES": rules}, tmp_path).tags == ["release", "1.2.3"]

    @pytest.mark.parametrize(
        ("flavor", "expected"),
        [
            ("latest=true", ["main", "latest"]),
            ("latest=false", ["main"]),
            ("latest=auto", ["main"]),
            ("latest=true\nprefix=app-,onlatest=true", ["app-main", "app-latest"]),
            ("latest=true,suffix=-arm64", ["main-arm64", "latest"]),
            ("latest=true,suffix=-arm64,onlatest=true", ["main-arm64", "latest-arm64"]),
        ],
    )
    def test_flavor(self, flavor: str, expected: list[str], tmp_path: Path) -> None:
        env = {**MAIN, "PLUGIN_TAG_RULES": "type=ref,event=branch", "PLUGIN_TAG_FLAVOR": flavor}
        assert tags_for(env, tmp_path).tags == expected

    def test_a_rule_prefix_wins_over_the_flavor_one_and_sha_has_its_own(self, tmp_path: Path) -> None:
        rules = "type=ref,event=branch\ntype=ref,event=branch,prefix=br-\ntype=sha"
        env = {**MAIN, "DRONE_COMMIT_SHA": SHA, "PLUGIN_TAG_RULES": rules, "PLUGIN_TAG_FLAVOR": "prefix=x-"}
        assert tags_for(env, tmp_path).tags == ["x-main", "br-main", "sha-90dd603"]

    def test_expressions_in_prefix_and_value(self, tmp_path: Path) -> None:
        """The README's global-expression examples: `type=sha,prefix={{branch}}-`, `value=mytag-...`."""
        rules = "type=sha,prefix={{branch}}-\ntype=raw,value=mytag-{{branch}}-{{sha}}"
        env = {**MAIN, "DRONE_COMMIT_REF": "refs/heads/my/branch", "DRONE_COMMIT_SHA": SHA}
        assert tags_for({**env, "PLUGIN_TAG_RULES": rules}, tmp_path).tags == [
            "mytag-my-branch-90dd603",
            "my-branch-90dd603",
        ]


class TestMissingInput:
    """A rule whose input the CI did not give is skipped with the reason: never an empty or partial tag."""

    @pytest.mark.parametrize(
        ("env", "rule", "reason"),
        [
            (MAIN, "type=sha", "the commit SHA is unknown (DRONE_COMMIT_SHA, CI_COMMIT_SHA or GITHUB_SHA)"),
            (TAG, "type=raw,value=mytag-{{branch}}", "{{branch}} is empty: not a branch build"),
            ({**MAIN, "DRONE_COMMIT_SHA": SHA}, "type=sha,prefix={{tag}}-",
             "{{tag}} is empty: not a tag build"),
            (TAG, "type=ref,event=pr", "not a pull request build (event tag, ref refs/tags/v1.2.3)"),
            (MAIN, "type=semver,pattern={{version}}",
             "not a git tag build (event push, ref refs/heads/main)"),
            (MAIN, "type=schedule", "not a scheduled build (event push, ref refs/heads/main)"),
            ({**MAIN, "DRONE_REPO_BRANCH": ""}, "type=edge",
             "the default branch is unknown (DRONE_REPO_BRANCH or CI_REPO_DEFAULT_BRANCH); set branch="),
            ({**MAIN, "DRONE_COMMIT_REF": "refs/heads/dev"}, "type=edge", "branch 'dev' is not 'main'"),
            ({**TAG, "DRONE_COMMIT_REF": "refs/tags/nightly"}, "type=semver,pattern={{version}}",
             "'nightly' is not a semantic version (https://semver.org)"),
            ({**TAG, "DRONE_COMMIT_REF": "refs/tags/nightly"}, "type=pep440,pattern={{version}}",
             "'nightly' is not a PEP 440 version"),
            (TAG, "type=match,pattern=^release-(.*),group=1",
             "pattern '^release-(.*)' does not match 'v1.2.3'"),
            (TAG, "type=match,pattern=v(x)?1,group=1", "group 1 of 'v(x)?1' is empty for 'v1.2.3'"),
            (TAG, "type=raw,value=x,enable=false", "disabled (enable=false)"),
            (TAG, "type=raw,value=x,enable={{is_default_branch}}",
             "disabled (enable={{is_default_branch}} gives false)"),
            ({**MAIN, "DRONE_REPO_BRANCH": ""}, "type=raw,value=latest,enable={{is_default_branch}}",
             "{{is_default_branch}}: the default branch is unknown "
             "(DRONE_REPO_BRANCH or CI_REPO_DEFAULT_BRANCH)"),
        ],
    )  # fmt: skip
    def test_skipped_with_the_reason(
        self, env: dict[str, str], rule: str, reason: str, tmp_path: Path
    ) -> None:
        result = tags_for({**env, "PLUGIN_TAG_RULES": f"type=raw,value=kept\n{rule}"}, tmp_path)
        assert result.tags == ["kept"]
        assert result.skipped == [{"rule": f"line 2: {rule}", "reason": reason}]

    def test_no_rule_applies_and_nothing_else_skips_the_build(self, tmp_path: Path) -> None:
        """Like auto-tag on another branch: exit 0, nothing built, the reason in the plan and the log."""
        result = tags_for({**MAIN, "PLUGIN_TAG_RULES": "type=semver,pattern={{version}}"}, tmp_path)
        assert (result.tags, result.skip_reason) == (
            [],
            "no tag for this build: no tag rule applies (event push, ref refs/heads/main)",
        )


class TestWithOtherTags:
    """Explicit tags (or the auto tags) first, then the rules' tags; duplicates dropped, first kept."""

    def test_explicit_tags_then_rule_tags_without_the_default_latest(self, tmp_path: Path) -> None:
        env = {**TAG, "PLUGIN_TAGS": "stable,1.2.3", "PLUGIN_TAG_RULES": SEMVER}
        result = tags_for(env, tmp_path)
        assert result.tags == ["stable", "1.2.3", "1.2", "1", "latest"]
        assert result.sources()[:3] == [
            {"tag": "stable", "source": "PLUGIN_TAGS"},
            {"tag": "1.2.3", "source": "PLUGIN_TAGS"},
            {
                "tag": "1.2",
                "source": "PLUGIN_TAG_RULES",
                "rule": "line 2: type=semver,pattern={{major}}.{{minor}}",
            },
        ]
        assert tags_for({**TAG, "PLUGIN_TAG_RULES": "type=sha"}, tmp_path).tags == ["sha-90dd603"]

    def test_tags_file_then_rules_and_expand_tag_only_expands_explicit_tags(self, tmp_path: Path) -> None:
        (tmp_path / ".tags").write_text("v2.0.0\n")
        env = {
            **TAG,
            "PLUGIN_BUILDER": "kaniko",
            "PLUGIN_EXPAND_TAG": "true",
            "PLUGIN_TAG_RULES": "type=ref,event=tag",
        }
        assert tags_for(env, tmp_path).tags == ["2", "2.0", "2.0.0", "v1.2.3", "latest"]

    def test_auto_tag_then_rules(self, tmp_path: Path) -> None:
        env = {
            **TAG,
            "PLUGIN_AUTO_TAG": "true",
            "PLUGIN_TAG_RULES": "type=sha\ntype=semver,pattern={{version}}",
        }
        result = tags_for(env, tmp_path)
        assert result.tags == ["1", "1.2", "1.2.3", "sha-90dd603", "latest"]
        assert result.origin("1.2.3").variable == "DRONE_COMMIT_REF"

    def test_rules_still_tag_a_branch_that_auto_tag_skips(self, tmp_path: Path) -> None:
        env = {**MAIN, "DRONE_COMMIT_REF": "refs/heads/dev", "PLUGIN_AUTO_TAG": "true"}
        result = tags_for({**env, "PLUGIN_TAG_RULES": "type=ref,event=branch"}, tmp_path)
        assert (result.tags, result.skip_reason) == (["dev"], None)
        assert result.skipped == [
            {
                "rule": "PLUGIN_AUTO_TAG",
                "reason": "auto-tag: refs/heads/dev is not a tag nor the default branch main",
            }
        ]

    def test_plus_from_a_rule_follows_plugin_tag_plus(self, tmp_path: Path) -> None:
        env = {
            **TAG,
            "DRONE_COMMIT_REF": "refs/tags/v1.2.3+build.7",
            "PLUGIN_TAG_RULES": "type=semver,pattern={{raw}}",
        }
        replaced = tags_for(env, tmp_path)
        assert replaced.tags == ["v1.2.3-build.7", "latest"]
        assert replaced.notes == [
            "tag 'v1.2.3+build.7' has '+', which registries refuse: pushed as 'v1.2.3-build.7'"
        ]
        assert replaced.origin("v1.2.3-build.7").detail == "line 1: type=semver,pattern={{raw}}"
        assert problems_of({**env, "PLUGIN_TAG_PLUS": "reject"}, tmp_path) == [
            Problem(
                "PLUGIN_TAG_RULES",
                "v1.2.3+build.7",
                "a valid tag [A-Za-z0-9_][A-Za-z0-9._-]{0,127} ('+' is refused by registries; "
                "PLUGIN_TAG_PLUS=replace turns it into '-') (made by line 1: type=semver,pattern={{raw}})",
            )
        ]

    def test_a_tag_that_breaks_the_grammar_names_the_rule(self, tmp_path: Path) -> None:
        branch = "feature/" + "x" * 130
        env = {
            **MAIN,
            "DRONE_COMMIT_REF": f"refs/heads/{branch}",
            "PLUGIN_TAG_RULES": "type=ref,event=branch",
        }
        [problem] = problems_of(env, tmp_path)
        assert problem.variable == "PLUGIN_TAG_RULES"
        assert problem.expected.endswith("(made by line 1: type=ref,event=branch)")


class TestMonorepo:
    """PLUGIN_TAG_SERVICE=svc: `svc/v1.2.3` is this step's v1.2.3; another service's tag skips the step."""

    RULES: ClassVar[dict[str, str]] = {"PLUGIN_TAG_RULES": SEMVER}

    @pytest.mark.parametrize("git_tag", ["svc/v1.2.3", "svc@1.2.3", "svc/1.2.3"])
    def test_this_service_gets_the_semver_tags_and_latest(self, git_tag: str, tmp_path: Path) -> None:
        env = {**TAG, **self.RULES, "DRONE_COMMIT_REF": f"refs/tags/{git_tag}", "PLUGIN_TAG_SERVICE": "svc"}
        assert tags_for(env, tmp_path).tags == ["1.2.3", "1.2", "1", "latest"]

    @pytest.mark.parametrize("git_tag", ["api/v1.2.3", "v1.2.3", "svcx/v1.2.3", "svc/"])
    def test_other_services_and_plain_tags_skip_the_step(self, git_tag: str, tmp_path: Path) -> None:
        env = {**TAG, **self.RULES, "DRONE_COMMIT_REF": f"refs/tags/{git_tag}", "PLUGIN_TAG_SERVICE": "svc"}
        result = tags_for({**env, "PLUGIN_TAGS": "also-skipped"}, tmp_path)
        assert (result.tags, result.skip_reason) == (
            [],
            f"git tag {git_tag!r} is not for service 'svc' (PLUGIN_TAG_SERVICE)",
        )

    def test_the_same_tag_seen_by_two_steps(self, tmp_path: Path) -> None:
        """One pipeline, two steps: only the named service builds on `payments/v2.0.1`."""
        env = {**TAG, **self.RULES, "DRONE_COMMIT_REF": "refs/tags/payments/v2.0.1"}
        payments = tags_for({**env, "PLUGIN_TAG_SERVICE": "payments"}, tmp_path)
        web = tags_for({**env, "PLUGIN_TAG_SERVICE": "web"}, tmp_path)
        assert (payments.tags, payments.skip_reason) == (["2.0.1", "2.0", "2", "latest"], None)
        assert (web.tags, web.skip_reason is not None) == ([], True)

    def test_nested_service_names_and_woodpecker_tag_variable(self, tmp_path: Path) -> None:
        env = {"CI_PIPELINE_EVENT": "tag", "CI_COMMIT_TAG": "apps/api/v3.1.0", **self.RULES}
        assert tags_for({**env, "PLUGIN_TAG_SERVICE": "/apps/api/"}, tmp_path).tags == [
            "3.1.0",
            "3.1",
            "3",
            "latest",
        ]

    def test_auto_tag_reads_the_service_tag_too(self, tmp_path: Path) -> None:
        env = {
            "DRONE_COMMIT_REF": "refs/tags/svc/v1.2.3",
            "PLUGIN_AUTO_TAG": "true",
            "PLUGIN_TAG_SERVICE": "svc",
        }
        assert tags_for(env, tmp_path).tags == ["1", "1.2", "1.2.3"]

    def test_branch_builds_are_not_affected(self, tmp_path: Path) -> None:
        env = {**MAIN, "PLUGIN_TAG_SERVICE": "svc", "PLUGIN_TAG_RULES": "type=ref,event=branch"}
        assert tags_for(env, tmp_path).tags == ["main"]


class TestPlanAndLog:
    """The plan lists every tag with what made it and the rules skipped; the log says the same."""

    def test_plan_document_and_log_lines(self, tmp_path: Path) -> None:
        env = {**BASE, **TAG, "PLUGIN_BUILDER": "kaniko", "PLUGIN_TAGS": "stable", "PLUGIN_TAG_RULES": SEMVER}
        env["PLUGIN_TAG_RULES"] += "\ntype=ref,event=pr"
        with capture_logs() as logs:
            document = plan_document(resolve(load_settings(env), tmp_path))
        assert document["tags"] == ["stable", "1.2.3", "1.2", "1", "latest"]
        assert document["tag_sources"] == [
            {"tag": "stable", "source": "PLUGIN_TAGS"},
            {"tag": "1.2.3", "source": "PLUGIN_TAG_RULES", "rule": "line 1: type=semver,pattern={{version}}"},
            {
                "tag": "1.2",
                "source": "PLUGIN_TAG_RULES",
                "rule": "line 2: type=semver,pattern={{major}}.{{minor}}",
            },
            {"tag": "1", "source": "PLUGIN_TAG_RULES", "rule": "line 3: type=semver,pattern={{major}}"},
            {
                "tag": "latest",
                "source": "PLUGIN_TAG_FLAVOR",
                "rule": "latest=auto, after line 1: type=semver,pattern={{version}}",
            },
        ]
        skipped = [
            {
                "rule": "line 4: type=ref,event=pr",
                "reason": "not a pull request build (event tag, ref refs/tags/v1.2.3)",
            }
        ]
        assert document["tag_rules_skipped"] == skipped
        events = [(e["event"], e.get("tags"), e.get("rule")) for e in logs if e["event"].startswith("tags.")]
        assert events == [
            ("tags.rule_skipped", None, "line 4: type=ref,event=pr"),
            ("tags.resolved", document["tag_sources"], None),
        ]

    def test_skipped_build_plan_keeps_the_reasons(self, tmp_path: Path) -> None:
        env = {
            **BASE,
            **MAIN,
            "PLUGIN_BUILDER": "kaniko",
            "PLUGIN_TAG_RULES": "type=semver,pattern={{version}}",
        }
        document = plan_document(resolve(load_settings(env), tmp_path))
        assert document["skip"].startswith("no tag for this build")
        assert (
            document["tag_rules_skipped"][0]["reason"]
            == "not a git tag build (event push, ref refs/heads/main)"
        )
        assert (document["tags"], document["tag_sources"], document["steps"]) == ([], [], [])

    def test_flavor_or_event_without_rules_is_a_warning(self) -> None:
        loaded = load_settings({**BASE, "PLUGIN_TAG_FLAVOR": "latest=false", "PLUGIN_TAG_EVENT": "cron"})
        assert [w for w in loaded.warnings if w[0] == "settings.not_used"] == [
            ("settings.not_used", {"variable": "PLUGIN_TAG_FLAVOR", "hint": "only PLUGIN_TAG_RULES uses it"}),
            ("settings.not_used", {"variable": "PLUGIN_TAG_EVENT", "hint": "only PLUGIN_TAG_RULES uses it"}),
        ]


class TestCommandLine:
    """`python -m plugin plan` as a runner starts it: exit 2 naming the line, or exit 0 with the skip."""

    def run(self, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **BASE, "PLUGIN_BUILDER": "kaniko", **env}
        return subprocess.run(
            [sys.executable, "-m", "plugin", "plan"],
            env=full,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )

    def test_bad_rule_exits_2_naming_variable_and_line(self, tmp_path: Path) -> None:
        result = self.run({"PLUGIN_TAG_RULES": "type=sha\ntype=semver,pattern={{major}"}, tmp_path)
        assert result.returncode == 2
        assert "PLUGIN_TAG_RULES='type=semver,pattern={{major}': line 2: '{{' without '}}'" in result.stderr
        assert "Traceback" not in result.stderr

    def test_other_service_plan_exits_0_with_the_skip(self, tmp_path: Path) -> None:
        env = {
            "PLUGIN_TAG_SERVICE": "web",
            "PLUGIN_TAG_RULES": SEMVER,
            "DRONE_COMMIT_REF": "refs/tags/api/v1.0.0",
        }
        result = self.run(env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert (
            json.loads(result.stdout)["skip"]
            == "git tag 'api/v1.0.0' is not for service 'web' (PLUGIN_TAG_SERVICE)"
        )


def test_rules_that_are_all_comments_are_no_rules(tmp_path: Path) -> None:
    """A commented-out rule set is off: the default `latest` comes back, and the flavor is unused."""
    env = {**MAIN, "PLUGIN_TAG_RULES": "# type=ref,event=branch\n\n", "PLUGIN_TAG_FLAVOR": "latest=false"}
    assert tags_for(env, tmp_path).tags == ["latest"]
    assert (
        "settings.not_used",
        {"variable": "PLUGIN_TAG_FLAVOR", "hint": "only PLUGIN_TAG_RULES uses it"},
    ) in (load_settings({**BASE, **env}).warnings)


def test_short_sha_length_is_only_read_for_rules(tmp_path: Path) -> None:
    env = {**MAIN, "DOCKER_METADATA_SHORT_SHA_LENGTH": "abc", "PLUGIN_TAGS": "v1"}
    assert tags_for(env, tmp_path).tags == ["v1"]
    assert problems_of({**env, "PLUGIN_TAG_RULES": "type=sha"}, tmp_path)[0].variable == (
        "DOCKER_METADATA_SHORT_SHA_LENGTH"
    )


def test_a_json_list_of_rules_is_read_as_lines(tmp_path: Path) -> None:
    """A CI that passes a YAML list setting as JSON: each item is a line."""
    env = {**TAG, "PLUGIN_TAG_RULES": '["type=ref,event=tag", "type=sha,format=long", "# off"]'}
    result = tags_for(env, tmp_path)
    assert result.tags == ["v1.2.3", f"sha-{SHA}", "latest"]
    assert result.origin(f"sha-{SHA}").detail == "line 2: type=sha,format=long"
    assert problems_of({**env, "PLUGIN_TAG_RULES": '["type=sha", "type=semver"]'}, tmp_path) == [
        Problem("PLUGIN_TAG_RULES", "type=semver", "line 2: type=semver needs pattern=")
    ]

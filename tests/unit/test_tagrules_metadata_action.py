"""PLUGIN_TAG_RULES against docker/metadata-action's documented examples: one test row per README row.

Source: docker/metadata-action, README.md at commit 2bd8a81e96a4d52339513312666fd493529523b3 (the v5
README), read through the project's code search. Each row below quotes its README table row (in
``quote``) with the section it comes from. The README's "Event / Ref" columns are GitHub's; every row
is replayed with the variables of each CI we read: Drone (DRONE_*), Harness (its DRONE_* and CI_*
pair, with its quirks), Woodpecker (CI_*) and GitHub-style (GITHUB_*). Where a table has one rule
or pattern per row, the row's rule is run alone with `latest=false` (the README's column shows that
pattern's output only). The dates are the README's: 2020-01-10T00:30:00Z, the creation time of its
example build (the bake file's `org.opencontainers.image.created`), and 15:25:50 for the
`dddd, MMMM Do YYYY, h:mm:ss a` example.

One row differs on purpose, and says so: `{{base_ref}}` on a tag push comes from GitHub's event
payload, which no other CI has (docs/tags.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugin.ci.context import CIContext
from plugin.ci.tagrules.engine import sanitize
from plugin.ci.tagrules.rules import parse_rules
from plugin.config.load import load_settings
from plugin.target.tags import resolve_tags

README = "docker/metadata-action README.md @ 2bd8a81e96a4d52339513312666fd493529523b3"
SHA = "90dd6032fac8bda1b6c4436a2e65de27961ed071"  # the README's {{sha}} example is 90dd603
CREATED = datetime(2020, 1, 10, 0, 30, tzinfo=UTC)
AFTERNOON = datetime(2020, 1, 10, 15, 25, 50, tzinfo=UTC)
BASIC = "type=schedule\ntype=ref,event=branch\ntype=ref,event=tag\ntype=ref,event=pr"  # the default `tags`
SEMVER = (
    "type=ref,event=branch\ntype=ref,event=pr\ntype=semver,pattern={{version}}\n"
    "type=semver,pattern={{major}}.{{minor}}"
)
REFS = "type=ref,event=branch\ntype=ref,event=tag\ntype=ref,event=pr"
CIS = ("drone", "harness", "woodpecker", "github")


@dataclass(frozen=True)
class Row:
    """One README row: the build (GitHub's event and ref), the rules, and the tags it documents."""

    section: str
    quote: str
    event: str
    ref: str
    rules: str
    tags: tuple[str, ...]
    flavor: str = ""
    when: datetime = CREATED
    sha: str = SHA
    default_branch: str | None = "master"

    @property
    def id(self) -> str:
        return f"{self.section}: {self.quote}"


def rows(
    section: str, rules: str, table: list[tuple[str, str, str, tuple[str, ...]]], **kw: str
) -> list[Row]:
    return [Row(section, quote, event, ref, rules, tags, **kw) for quote, event, ref, tags in table]


def pattern_rows(section: str, kind: str, table: list[tuple[str, str, str]], extra: str = "") -> list[Row]:
    """Tables of `Git tag | Pattern | Output`: one `type=<kind>,pattern=...` rule per row."""
    out = []
    for tag, pattern, output in table:
        quote = f"| `{tag}` | `{pattern}` | `{output}` |"
        rule = f"type={kind},pattern={pattern}{extra}"
        out.append(Row(section, quote, "push", f"refs/tags/{tag}", rule, (output,), flavor="latest=false"))
    return out


TABLE: list[Row] = [
    *rows(
        "Usage / Basic (no `tags` input: metadata-action's default rules)",
        BASIC,
        [
            (
                "| `pull_request` | `refs/pull/2/merge` | `pr-2` |",
                "pull_request",
                "refs/pull/2/merge",
                ("pr-2",),
            ),
            ("| `push` | `refs/heads/master` | `master` |", "push", "refs/heads/master", ("master",)),
            (
                "| `push` | `refs/heads/releases/v1` | `releases-v1` |",
                "push",
                "refs/heads/releases/v1",
                ("releases-v1",),
            ),
            (
                "| `push tag` | `refs/tags/v1.2.3` | `v1.2.3`, `latest` |",
                "tag",
                "refs/tags/v1.2.3",
                ("v1.2.3", "latest"),
            ),
            (
                "| `push tag` | `refs/tags/v2.0.8-beta.67` | `v2.0.8-beta.67`, `latest` |",
                "tag",
                "refs/tags/v2.0.8-beta.67",
                ("v2.0.8-beta.67", "latest"),
            ),
            (
                "| `workflow_dispatch` | `refs/heads/master` | `master` |",
                "manual",
                "refs/heads/master",
                ("master",),
            ),
        ],
    ),
    *rows(
        "Usage / Semver",
        SEMVER,
        [
            (
                "| `pull_request` | `refs/pull/2/merge` | `pr-2` |",
                "pull_request",
                "refs/pull/2/merge",
                ("pr-2",),
            ),
            ("| `push` | `refs/heads/master` | `master` |", "push", "refs/heads/master", ("master",)),
            (
                "| `push` | `refs/heads/releases/v1` | `releases-v1` |",
                "push",
                "refs/heads/releases/v1",
                ("releases-v1",),
            ),
            (
                "| `push tag` | `refs/tags/v1.2.3` | `1.2.3`, `1.2`, `latest` |",
                "tag",
                "refs/tags/v1.2.3",
                ("1.2.3", "1.2", "latest"),
            ),
            (
                "| `push tag` | `refs/tags/v2.0.8-beta.67` | `2.0.8-beta.67` |",
                "tag",
                "refs/tags/v2.0.8-beta.67",
                ("2.0.8-beta.67",),
            ),
        ],
    ),
    Row(
        "Usage / Bake definition (its tags with `refs/tags/v1.2.3`)",
        '"tags": ["name/app:1.2.3", "name/app:1.2", "name/app:sha-90dd603", "name/app:latest"]',
        "tag",
        "refs/tags/v1.2.3",
        SEMVER + "\ntype=sha",
        ("1.2.3", "1.2", "sha-90dd603", "latest"),
    ),
    *[
        Row(
            "type=schedule", f"| `{pattern}` | `{output}` |", "schedule", "refs/heads/master", rule, (output,)
        )
        for pattern, rule, output in [
            ("nightly", "type=schedule,pattern=nightly", "nightly"),
            ("{{date 'YYYYMMDD'}}", "type=schedule,pattern={{date 'YYYYMMDD'}}", "20200110"),
            (
                "{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}",
                "type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}",
                "20200110-093000",
            ),
        ]
    ],
    *pattern_rows(
        "type=semver",
        "semver",
        [
            ("v1.2.3", "{{raw}}", "v1.2.3"),
            ("v1.2.3", "{{version}}", "1.2.3"),
            ("v1.2.3", "{{major}}.{{minor}}", "1.2"),
            ("v1.2.3", "v{{major}}", "v1"),
            ("v1.2.3", "{{minor}}", "2"),
            ("v1.2.3", "{{patch}}", "3"),
            ("v2.0.8-beta.67", "{{raw}}", "v2.0.8-beta.67"),
            ("v2.0.8-beta.67", "{{version}}", "2.0.8-beta.67"),
            ("v2.0.8-beta.67", "{{major}}.{{minor}}", "2.0.8-beta.67"),
        ],
    ),
    *pattern_rows(
        "type=pep440",
        "pep440",
        [
            ("1.2.3", "{{raw}}", "1.2.3"),
            ("1.2.3", "{{version}}", "1.2.3"),
            ("v1.2.3", "{{version}}", "1.2.3"),
            ("1.2.3", "{{major}}.{{minor}}", "1.2"),
            ("1.2.3", "v{{major}}", "v1"),
            ("v1.2.3rc2", "{{raw}}", "v1.2.3rc2"),
            ("1.2.3rc2", "{{version}}", "1.2.3rc2"),
            ("1.2.3rc2", "{{major}}.{{minor}}", "1.2.3rc2"),
            ("1.2.3post1", "{{major}}.{{minor}}", "1.2.3.post1"),
            ("1.2.3beta2", "{{major}}.{{minor}}", "1.2.3b2"),
            ("1.0dev4", "{{major}}.{{minor}}", "1.0.dev4"),
        ],
    ),
    *[
        Row(
            "type=match",
            f"| `{tag}` | `{pattern}` | `{group}` | `{output}` |",
            "push",
            f"refs/tags/{tag}",
            f"type=match,pattern={pattern},group={group}",
            (output,),
            flavor="latest=false",
        )
        for tag, pattern, group, output in [
            ("v1.2.3", r"\d.\d.\d", "0", "1.2.3"),
            ("v2.0.8-beta.67", "v(.*)", "1", "2.0.8-beta.67"),
            ("v2.0.8-beta.67", r"v(\d.\d)", "1", "2.0"),
            ("20200110-RC2", r"\d+", "0", "20200110"),
            ("p1/v1.2.3", r"p1/v(\d.\d.\d)", "1", "1.2.3"),
        ]
    ],
    *rows(
        "type=ref",
        REFS,
        [
            (
                "| `pull_request` | `refs/pull/2/merge` | `pr-2` |",
                "pull_request",
                "refs/pull/2/merge",
                ("pr-2",),
            ),
            ("| `push` | `refs/heads/master` | `master` |", "push", "refs/heads/master", ("master",)),
            (
                "| `push` | `refs/heads/my/branch` | `my-branch` |",
                "push",
                "refs/heads/my/branch",
                ("my-branch",),
            ),
            ("| `push tag` | `refs/tags/v1.2.3` | `v1.2.3` |", "tag", "refs/tags/v1.2.3", ("v1.2.3",)),
            (
                "| `push tag` | `refs/tags/v2.0.8-beta.67` | `v2.0.8-beta.67` |",
                "tag",
                "refs/tags/v2.0.8-beta.67",
                ("v2.0.8-beta.67",),
            ),
            (
                "| `workflow_dispatch` | `refs/heads/master` | `master` |",
                "manual",
                "refs/heads/master",
                ("master",),
            ),
        ],
        flavor="latest=false",
    ),
    *rows(
        "Global expressions / {{branch}} (empty: the rule gives no tag)",
        "type=raw,value={{branch}}",
        [
            ("| `pull_request` | `refs/pull/2/merge` |  |", "pull_request", "refs/pull/2/merge", ()),
            ("| `push` | `refs/heads/master` | `master` |", "push", "refs/heads/master", ("master",)),
            (
                "| `push` | `refs/heads/my/branch` | `my-branch` |",
                "push",
                "refs/heads/my/branch",
                ("my-branch",),
            ),
            ("| `push tag` | `refs/tags/v1.2.3` |  |", "tag", "refs/tags/v1.2.3", ()),
        ],
    ),
    *rows(
        "Global expressions / {{tag}} (empty: the rule gives no tag)",
        "type=raw,value={{tag}}",
        [
            ("| `pull_request` | `refs/pull/2/merge` |  |", "pull_request", "refs/pull/2/merge", ()),
            ("| `push` | `refs/heads/master` |  |", "push", "refs/heads/master", ()),
            ("| `push` | `refs/heads/my/branch` |  |", "push", "refs/heads/my/branch", ()),
            ("| `push tag` | `refs/tags/v1.2.3` | `v1.2.3` |", "tag", "refs/tags/v1.2.3", ("v1.2.3",)),
        ],
    ),
    *rows(
        "Global expressions / {{base_ref}}",
        "type=raw,value={{base_ref}}",
        [
            (
                "| `pull_request` | `refs/pull/2/merge` | `master` |",
                "pull_request",
                "refs/pull/2/merge",
                ("master",),
            ),
            ("| `push` | `refs/heads/master` |  |", "push", "refs/heads/master", ()),
            ("| `push` | `refs/heads/my/branch` |  |", "push", "refs/heads/my/branch", ()),
            # DIFFERS: the README gives `master`, from GitHub's push payload (which its own note says not
            # to rely on). No CI variable carries it, so the rule gives no tag here (docs/tags.md).
            ("| `push tag`* | `refs/tags/v1.2.3` | `master` |", "tag", "refs/tags/v1.2.3", ()),
        ],
    ),
    *[
        Row(
            f"Global expressions / {{{{{helper} ...}}}}",
            f"| `{{{{{helper} '{fmt}'{tz}}}}}` | `{output}` |",
            "push",
            "refs/heads/master",
            f"type=raw,\"value={{{{{helper} '{fmt}'{tz}}}}}\"",
            (sanitize(output),),
            when=when,
        )
        for helper in ("date", "commit_date")
        for fmt, tz, output, when in [
            ("YYYYMMDD", "", "20200110", CREATED),
            ("dddd, MMMM Do YYYY, h:mm:ss a", "", "Friday, January 10th 2020, 3:25:50 pm", AFTERNOON),
            ("YYYYMMDD-HHmmss", " tz='Asia/Tokyo'", "20200110-093000", CREATED),
        ]
    ],
    Row(
        "Notes / Latest tag: `type=raw,value=latest,enable={{is_default_branch}}`",
        "set latest tag for default branch (on the default branch)",
        "push",
        "refs/heads/master",
        "type=raw,value=latest,enable={{is_default_branch}}",
        ("latest",),
    ),
    Row(
        "Notes / Latest tag: `type=raw,value=latest,enable={{is_default_branch}}`",
        "set latest tag for default branch (on another branch)",
        "push",
        "refs/heads/my/branch",
        "type=raw,value=latest,enable={{is_default_branch}}",
        (),
    ),
    Row(
        "Notes / Major version zero (`refs/tags/v0.1.2`)",
        "# output 0.1.2 / # output 0.1",
        "tag",
        "refs/tags/v0.1.2",
        "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}",
        ("0.1.2", "0.1"),
        flavor="latest=false",
    ),
    Row(
        "type=sha",
        "Output Git short commit (or long if specified) as Docker tag like `sha-860c190`",
        "push",
        "refs/heads/master",
        "type=sha\ntype=sha,format=long",
        ("sha-860c190", "sha-860c1904a1ce19322e91ac35af1ab07466440c37"),
        sha="860c1904a1ce19322e91ac35af1ab07466440c37",
    ),
]

README_TABLE_ROWS = [r for r in TABLE if r.quote.startswith("|") or r.quote.startswith('"tags"')]


def _drone_event(event: str) -> str:
    return {"tag": "tag", "pull_request": "pull_request", "schedule": "cron", "manual": "custom"}.get(
        event, "push"
    )


def ci_env(ci: str, row: Row) -> dict[str, str]:
    """The variables ``ci`` sets for the row's build (only what that CI really sets)."""
    ref, event = row.ref, row.event
    tag = ref.removeprefix("refs/tags/") if ref.startswith("refs/tags/") else ""
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""
    pr = ref.split("/")[2] if ref.startswith("refs/pull/") else ""
    head_ref = f"refs/pull/{pr}/head" if pr else ref  # Drone, Harness and Woodpecker use the head ref
    created = str(int(row.when.timestamp()))
    env: dict[str, str] = {}
    if ci == "drone":
        env = {
            "DRONE_BUILD_EVENT": _drone_event(event),
            "DRONE_COMMIT_REF": head_ref,
            "DRONE_COMMIT_SHA": row.sha,
        }
        env |= {"DRONE_TAG": tag, "DRONE_PULL_REQUEST": pr, "DRONE_BUILD_CREATED": created}
        env |= {
            "DRONE_COMMIT_BRANCH": "master" if pr else branch,
            "DRONE_TARGET_BRANCH": "master" if pr else "",
        }
    elif ci == "harness":
        # Harness: DRONE_* with CI_* twins; tag pushes put refs/tags/<tag> in the branch variables;
        # manual builds (workflow_dispatch here) may have no ref at all; no variable says "cron".
        env = {"DRONE_COMMIT_SHA": row.sha, "CI_COMMIT_SHA": row.sha, "CI_BUILD_CREATED": created}
        env |= {"DRONE_BUILD_CREATED": created, "DRONE_TAG": tag, "DRONE_PULL_REQUEST": pr}
        if event != "manual":
            env |= {"DRONE_COMMIT_REF": head_ref, "CI_COMMIT_REF": head_ref}
            env |= {"DRONE_BUILD_EVENT": {"tag": "tag", "pull_request": "pull_request"}.get(event, "push")}
        target = ref if tag else ("master" if pr else branch)
        env |= {"DRONE_COMMIT_BRANCH": target, "CI_COMMIT_BRANCH": target, "DRONE_TARGET_BRANCH": target}
        if event == "schedule":
            env["PLUGIN_TAG_EVENT"] = "SCHEDULER_CRON"  # <+pipeline.triggerType>
    elif ci == "woodpecker":
        env = {"CI_PIPELINE_EVENT": {"schedule": "cron"}.get(event, event), "CI_COMMIT_REF": head_ref}
        env |= {"CI_COMMIT_SHA": row.sha, "CI_COMMIT_TAG": tag, "CI_COMMIT_PULL_REQUEST": pr}
        env |= {"CI_PIPELINE_CREATED": created, "CI_COMMIT_BRANCH": "master" if pr else branch}
        env |= {"CI_COMMIT_TARGET_BRANCH": "master" if pr else ""}
    else:  # GitHub-style (also Gitea / Forgejo Actions): no default-branch or build-time variable
        gh_event = {"tag": "push", "manual": "workflow_dispatch"}.get(event, event)
        env = {"GITHUB_EVENT_NAME": gh_event, "GITHUB_REF": ref, "GITHUB_SHA": row.sha}
        env |= {"GITHUB_BASE_REF": "master" if pr else ""}
    if row.default_branch and ci != "github":
        env["DRONE_REPO_BRANCH" if ci != "woodpecker" else "CI_REPO_DEFAULT_BRANCH"] = row.default_branch
    return {k: v for k, v in env.items() if v}


def resolved(env: dict[str, str], row: Row, workdir: Path) -> list[str]:
    settings_env = {"PLUGIN_REPO": "name/app", "PLUGIN_TAG_RULES": row.rules, "PLUGIN_TAG_FLAVOR": row.flavor}
    loaded = load_settings({**settings_env, **env})
    result = resolve_tags(loaded.settings, CIContext.from_env(loaded.env), workdir, loaded.env, now=row.when)
    return result.tags


def cases() -> list[object]:
    out = []
    for row in TABLE:
        for ci in CIS:
            needs_default = "is_default_branch" in row.rules
            if ci == "github" and needs_default:
                continue  # GitHub has no default-branch variable: see test_github_without_default_branch
            out.append(pytest.param(ci, row, id=f"{ci} | {row.id}"))
    return out


def test_every_readme_table_row_is_here() -> None:
    """72 README table rows: 64 replayed as builds here (per CI), the 8 of the priority table below."""
    assert len(README_TABLE_ROWS) == 64
    assert len(PRIORITY_TABLE) == 8
    assert len(TABLE) - len(README_TABLE_ROWS) == 4  # examples from the README's prose, not its tables


@pytest.mark.parametrize(("ci", "row"), cases())
def test_readme_row(ci: str, row: Row, tmp_path: Path) -> None:
    assert resolved(ci_env(ci, row), row, tmp_path) == list(row.tags), f"{README}: {row.section}"


def test_github_without_default_branch_skips_is_default_branch_rules(tmp_path: Path) -> None:
    """GitHub exposes no default-branch variable: the rule is skipped with the reason, not guessed."""
    row = next(r for r in TABLE if "is_default_branch" in r.rules)
    env = {**ci_env("github", row), "PLUGIN_REPO": "name/app", "PLUGIN_TAG_RULES": row.rules}
    loaded = load_settings(env)
    result = resolve_tags(loaded.settings, CIContext.from_env(loaded.env), tmp_path, loaded.env)
    assert result.tags == []
    assert result.skipped == [
        {
            "rule": "line 1: type=raw,value=latest,enable={{is_default_branch}}",
            "reason": "{{is_default_branch}}: the default branch is unknown "
            "(DRONE_REPO_BRANCH or CI_REPO_DEFAULT_BRANCH)",
        }
    ]
    # ...and a default branch from any CI's variable makes it work.
    env["CI_REPO_DEFAULT_BRANCH"] = "master"
    loaded = load_settings(env)
    assert resolve_tags(loaded.settings, CIContext.from_env(loaded.env), tmp_path, loaded.env).tags == [
        "latest"
    ]


PRIORITY_TABLE = [
    *[("schedule", 1000), ("semver", 900), ("pep440", 900), ("match", 800)],
    *[("edge", 700), ("ref", 600), ("raw", 200), ("sha", 100)],
]


@pytest.mark.parametrize(("kind", "priority"), PRIORITY_TABLE)
def test_priority_table_row(kind: str, priority: int) -> None:
    """README "`priority` attribute": `| `<kind>` | `<priority>` |` (default priority per type)."""
    rule = {"semver": "pattern={{version}}", "pep440": "pattern={{version}}", "match": "pattern=v(.*)"}
    rule |= {"ref": "event=branch", "raw": "value=x"}
    text = f"type={kind}" + (f",{rule[kind]}" if kind in rule else "")
    parsed, problems = parse_rules(text)
    assert problems == []
    assert parsed[0].priority == priority

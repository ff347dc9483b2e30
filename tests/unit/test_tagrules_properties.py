"""Property tests: whatever the CI context and the rules, tag resolution gives valid, distinct tags
with their origins, a skip with a reason, or a ConfigError naming a variable; never anything else."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.ci.context import CIContext
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError
from plugin.target.tags import OCI_TAG, TagResult, resolve_tags

NOW = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
PROFILE = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
GOOD_RULES_ERRORS = {
    "PLUGIN_TAG_RULES",
    "PLUGIN_TAG_SERVICE",
    "DOCKER_METADATA_SHORT_SHA_LENGTH",
    "DRONE_COMMIT_REF",
}
RULE_VARIABLES = {
    "PLUGIN_TAG_RULES",
    "PLUGIN_TAG_FLAVOR",
    "PLUGIN_TAG_SERVICE",
    "DOCKER_METADATA_SHORT_SHA_LENGTH",
}

# Any text an environment variable can hold: no surrogates, no NUL (the OS cannot pass one; one from
# PLUGIN_ENV_FILE is refused by name before anything else, tests/unit/test_settings.py).
words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30
)
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True)
numbers = st.integers(0, 10**6).map(str)
semvers = st.builds(
    lambda v, a, b, c, pre, build: f"{v}{a}.{b}.{c}{pre}{build}",
    st.sampled_from(["", "v"]),
    numbers,
    numbers,
    numbers,
    st.sampled_from(["", "-rc.1", "-beta.67", "-0", "-alpha"]),
    st.sampled_from(["", "+build.5", "+x_y"]),
)
tags = st.one_of(semvers, names, words, st.builds(lambda s, v: f"{s}/{v}", names, semvers))
refs = st.one_of(
    st.builds(lambda b: f"refs/heads/{b}", st.one_of(names, words)),
    st.builds(lambda t: f"refs/tags/{t}", tags),
    st.builds(
        lambda kind, n, end: f"refs/{kind}/{n}/{end}",
        st.sampled_from(["pull", "merge-requests", "pull-requests"]),
        numbers,
        st.sampled_from(["head", "merge", "from"]),
    ),
    words,
)  # fmt: skip
events = st.one_of(
    st.sampled_from(["push", "tag", "pull_request", "cron", "schedule", "manual", "release", "promote"]),
    words,
)
shas = st.one_of(st.from_regex(r"[0-9a-f]{40}", fullmatch=True), words)
CONTEXT = {
    "ref": ["DRONE_COMMIT_REF", "CI_COMMIT_REF", "GITHUB_REF"],
    "event": ["DRONE_BUILD_EVENT", "CI_PIPELINE_EVENT", "GITHUB_EVENT_NAME", "PLUGIN_TAG_EVENT"],
    "tag": ["DRONE_TAG", "CI_COMMIT_TAG"],
    "branch": ["DRONE_COMMIT_BRANCH", "CI_COMMIT_BRANCH"],
    "pr": ["DRONE_PULL_REQUEST", "CI_COMMIT_PULL_REQUEST"],
    "target": ["DRONE_TARGET_BRANCH", "CI_COMMIT_TARGET_BRANCH", "GITHUB_BASE_REF"],
    "sha": ["DRONE_COMMIT_SHA", "CI_COMMIT_SHA", "GITHUB_SHA"],
    "default": ["DRONE_REPO_BRANCH", "CI_REPO_DEFAULT_BRANCH"],
    "created": ["DRONE_BUILD_CREATED", "CI_PIPELINE_CREATED"],
}
VALUES = {
    "ref": refs,
    "event": events,
    "tag": tags,
    "branch": st.one_of(names, words, st.builds(lambda t: f"refs/tags/{t}", tags)),
    "pr": st.one_of(numbers, words),
    "target": st.one_of(names, words),
    "sha": shas,
    "default": st.one_of(names, words),
    "created": st.one_of(st.integers(0, 4 * 10**9).map(str), words),
}


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, str]:
    """Some of each CI's variables (any mix of CIs), with realistic or arbitrary values."""
    env: dict[str, str] = {}
    for key, variables in CONTEXT.items():
        for variable in draw(st.lists(st.sampled_from(variables), max_size=2, unique=True)):
            env[variable] = draw(VALUES[key])
    if draw(st.booleans()):
        env["PLUGIN_TAG_SERVICE"] = draw(names) if draw(st.integers(0, 5)) else draw(words)
    if draw(st.integers(0, 19)) == 0:
        env["DOCKER_METADATA_SHORT_SHA_LENGTH"] = draw(st.one_of(st.integers(-2, 70).map(str), words))
    return env


templates = st.one_of(
    words,
    names,
    st.sampled_from(
        ["{{branch}}", "{{tag}}", "{{sha}}", "{{base_ref}}", "{{date 'YYYYMMDD'}}", "x-{{sha}}-{{branch}}",
         "{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}", "{{commit_date 'X'}}", "{{nope}}", "{{date 'ww'}}",
         "{{raw}}", "{{version}}", "{{major}}.{{minor}}", "v{{major}}", "{{patch}}", "{{", "}}", ""]
    ),
)  # fmt: skip
ATTRIBUTES = {
    "schedule": ["pattern"],
    "semver": ["pattern", "value"],
    "pep440": ["pattern", "value"],
    "match": ["pattern", "group", "value"],
    "edge": ["branch"],
    "ref": ["event"],
    "raw": ["value"],
    "sha": ["format"],
}
SPECIAL = {
    "event": st.sampled_from(["branch", "tag", "pr", "push"]),
    "format": st.sampled_from(["short", "long", "medium"]),
    "group": st.sampled_from(["0", "1", "2", "x"]),
    "enable": st.sampled_from(["true", "false", "{{is_default_branch}}", "TRUE", "maybe"]),
    "priority": st.one_of(st.integers(-2000, 2000).map(str), words),
}
MATCH_PATTERNS = st.sampled_from(
    [r"v(\d+)\.(\d+)", r"\d+", "v(.*)", "/V(.*)/i", "(", "[a-z]+", r"p1/v(\d.\d.\d)"]
)


@st.composite
def rule_lines(draw: st.DrawFn) -> str:
    """A rule from the grammar (any type, some of its attributes and the common ones), or any text."""
    if draw(st.integers(0, 5)) == 0:
        return draw(words)
    kind = draw(st.sampled_from(sorted(ATTRIBUTES)))
    keys = draw(
        st.lists(st.sampled_from([*ATTRIBUTES[kind], "enable", "priority", "prefix", "suffix"]), unique=True)
    )
    fields = [f"type={kind}"]
    for key in keys:
        strategy = MATCH_PATTERNS if (kind, key) == ("match", "pattern") else SPECIAL.get(key, templates)
        value = draw(strategy)
        fields.append(f'"{key}={value}"' if "," in value and '"' not in value else f"{key}={value}")
    return ",".join(fields)


flavors = st.lists(
    st.sampled_from(
        ["latest=auto", "latest=true", "latest=false", "latest=sometimes", "prefix=app-", "suffix=-{{sha}}",
         "prefix={{branch}}-,onlatest=true", "suffix=-arm64,onlatest=false", "onlatest=true", "junk"]
    ),
    max_size=3,
).map("\n".join)  # fmt: skip


def check(env: dict[str, str], workdir: Path) -> TagResult | ConfigError:
    """Resolve; a ConfigError must name variables; a result must hold valid, distinct tags with origins."""
    try:
        loaded = load_settings({"PLUGIN_REPO": "team/app", **env})
        result = resolve_tags(loaded.settings, CIContext.from_env(loaded.env), workdir, loaded.env, now=NOW)
    except ConfigError as exc:
        assert exc.problems and exc.exit_code == 2
        assert all(p.variable and p.expected for p in exc.problems)
        return exc
    if result.skip_reason:
        assert result.tags == []
        return result
    assert result.tags, "no tags and no skip reason"
    assert len(set(result.tags)) == len(result.tags)
    for tag in result.tags:
        assert OCI_TAG.fullmatch(tag), tag
    assert [s["tag"] for s in result.sources()] == result.tags
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


class TestAnyContextAnyRules:
    @PROFILE
    @given(context=contexts(), rules=st.lists(rule_lines(), max_size=6).map("\n".join), flavor=flavors)
    def test_valid_tags_a_skip_or_a_named_error(
        self, context: dict[str, str], rules: str, flavor: str, workdir: Path
    ) -> None:
        env = {**context, "PLUGIN_TAG_RULES": rules, "PLUGIN_TAG_FLAVOR": flavor}
        outcome = check(env, workdir)
        if isinstance(outcome, ConfigError):
            allowed = RULE_VARIABLES | {"PLUGIN_REPO"}
            assert {p.variable for p in outcome.problems} <= allowed, outcome.message

    @PROFILE
    @given(
        context=contexts(), extra=st.sampled_from(["", "PLUGIN_AUTO_TAG", "PLUGIN_TAGS", "PLUGIN_EXPAND_TAG"])
    )
    def test_a_good_rule_set_fails_only_on_a_tag_the_registry_would_refuse(
        self, context: dict[str, str], extra: str, workdir: Path
    ) -> None:
        """Known-good rules over any context: the only errors left are tags too long or badly started
        (from the context's text), and the auto-tag's own DRONE_COMMIT_REF check."""
        rules = (
            "type=schedule,pattern={{date 'YYYYMMDD'}}\ntype=semver,pattern={{version}}\n"
            "type=semver,pattern={{major}}.{{minor}}\ntype=pep440,pattern={{major}}\n"
            "type=match,pattern=v(\\d+),group=1\ntype=edge\ntype=ref,event=branch\ntype=ref,event=tag\n"
            "type=ref,event=pr\ntype=sha\ntype=raw,value=latest,enable={{is_default_branch}}\n"
            "type=raw,value={{branch}}-{{sha}}"
        )
        env = {**context, "PLUGIN_TAG_RULES": rules}
        if extra:
            env[extra] = "v1.2.3" if extra == "PLUGIN_TAGS" else "true"
        outcome = check(env, workdir)
        if isinstance(outcome, ConfigError):
            for problem in outcome.problems:
                assert problem.variable in GOOD_RULES_ERRORS, outcome.message
                if problem.variable == "PLUGIN_TAG_RULES":
                    assert problem.expected.startswith("a valid tag"), outcome.message

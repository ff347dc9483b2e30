"""Property tests: whatever text lands in any variable, the plugin plans or says ConfigError, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.config.load import load_settings
from plugin.config.settings import known_variables as _known_variables
from plugin.core.errors import ConfigError, PluginError
from plugin.run.inputs import check_inputs
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve

VARIABLES = sorted(_known_variables())
# Read outside the model, but they steer tag resolution, which can fail too.
CONTEXT_VARIABLES = ["DRONE_COMMIT_REF", "DRONE_REPO_BRANCH", "DRONE_TAG", "DRONE_REPO_LINK", "http_proxy"]
# ...and those the tag rules read (PLUGIN_TAG_RULES).
CONTEXT_VARIABLES += ["DRONE_BUILD_EVENT", "DRONE_COMMIT_BRANCH", "DRONE_PULL_REQUEST", "DRONE_COMMIT_SHA"]
CONTEXT_VARIABLES += ["DRONE_BUILD_CREATED", "GITHUB_REF", "DOCKER_METADATA_SHORT_SHA_LENGTH"]
BASE = {
    "PLUGIN_REPO": "team/app",
    "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    # The default builder depends on /kaniko/executor existing; pin it so results do not depend on the host.
    "PLUGIN_BUILDER": "kaniko",
}
TRICKY = [
    "",
    " ",
    "\t\n",
    ",",
    ";",
    ",,a,,",
    "a, b ;c",
    "true",
    "FALSE",
    "0",
    "-1",
    "+7",
    "99999999999999999999999",
    "1.5",
    "latest",
    "v1.2.3+build_x",
    "refs/tags/v1.0.0",
    "refs/tags/nope",
    "a/b",
    "x" * 200,
    "KEY=VALUE",
    "=",
    "id=ENV",
    "kaniko",
    "docker",
    "buildx",
    "KMS",
    "123456789012",
    "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
    "public.ecr.aws",
    "é☃\u200b",
    "'quoted'",
    '"',
]
values = st.one_of(st.text(), st.sampled_from(TRICKY))
PROFILE = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty workspace (no .tags file), shared by every example."""
    return tmp_path_factory.mktemp("workspace")


def plan_or_config_error(env: dict[str, str], workdir: Path) -> None:
    """Load, resolve and plan; a ConfigError is an allowed outcome, any other exception fails the test."""
    try:
        document = plan_document(resolve(load_settings(env), workdir))
    except ConfigError as exc:
        assert exc.problems, "a ConfigError names at least one variable"
        assert exc.exit_code == 2
        return
    assert document["builder"] in {"kaniko", "docker", "buildx"}
    assert isinstance(document["steps"], list)


def kaniko_only(env: dict[str, str]) -> dict[str, str]:
    """Keep the builder kaniko: the docker/buildx plans belong to another unit (plugin/builders/docker.py)."""
    if env.get("PLUGIN_BUILDER", "").strip().lower() in {"", "docker", "buildx"}:
        env["PLUGIN_BUILDER"] = "kaniko"
    return env


class TestAnyTextInOneVariable:
    """Any string in any single variable gives a plan or a ConfigError."""

    @pytest.mark.parametrize("variable", VARIABLES)
    @PROFILE
    @given(value=values)
    def test_plans_or_raises_config_error(self, variable: str, value: str, workdir: Path) -> None:
        """The variable is set alone over a valid base."""
        plan_or_config_error(kaniko_only({**BASE, variable: value}), workdir)


class TestAnyTextInSeveralVariables:
    """Random combinations of several variables (context ones included) never escape as a bug."""

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        extra=st.dictionaries(st.sampled_from(VARIABLES + CONTEXT_VARIABLES), values, min_size=2, max_size=8)
    )
    def test_plans_or_raises_config_error(self, extra: dict[str, str], workdir: Path) -> None:
        """Several variables set at once, over the valid base."""
        plan_or_config_error(kaniko_only({**BASE, **extra}), workdir)


class TestEveryBuilderThroughTheChecksBeforeAws:
    """What `plan` runs (load, resolve, the checks before any AWS call, the plan) for every builder:
    whatever text lands in a variable, the outcome is a plan or one of the plugin's own errors (an exit
    status it chose), never an exception it did not expect (exit 70)."""

    @staticmethod
    def plan_or_plugin_error(env: dict[str, str], workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        (workdir / "Dockerfile").write_text("FROM scratch\n")
        monkeypatch.chdir(workdir)
        try:
            resolved = resolve(load_settings(env), workdir)
            if not resolved.tags.skip_reason:
                check_inputs(resolved)
            plan_document(resolved)
        except PluginError as exc:
            assert exc.exit_code in (1, 2), exc.message

    @pytest.mark.parametrize("builder", ["kaniko", "docker", "buildx"])
    @pytest.mark.parametrize("variable", VARIABLES + CONTEXT_VARIABLES)
    @settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=values)
    def test_one_variable(
        self, builder: str, variable: str, value: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.plan_or_plugin_error({**BASE, "PLUGIN_BUILDER": builder, variable: value}, workdir, monkeypatch)

    @pytest.mark.parametrize("builder", ["kaniko", "docker", "buildx"])
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        extra=st.dictionaries(st.sampled_from(VARIABLES + CONTEXT_VARIABLES), values, min_size=2, max_size=8)
    )
    def test_several_variables(
        self, builder: str, extra: dict[str, str], workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.plan_or_plugin_error({**BASE, "PLUGIN_BUILDER": builder, **extra}, workdir, monkeypatch)

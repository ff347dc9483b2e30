"""Which build-argument names reach the builder: PLUGIN_BUILD_ARGS(_NEW), PLUGIN_BUILD_ARGS_FROM_ENV, proxies.

The from-env rule is plugins/ecr's and buildx-ecr's (drone-docker ``addProxyValue``): the name as written
and upper-cased, the value from ``name``, ``NAME`` or ``HARNESS_NAME``, and a name the user already passed
in PLUGIN_BUILD_ARGS is left alone. kaniko gets the same names (kaniko-ecr never read the variable; see
docs/compatibility.md).
"""

from __future__ import annotations

import pytest

from plugin.builders.common import build_arg_env, build_args, from_env_names, from_env_value
from plugin.ci.context import CIContext
from plugin.config.load import load_settings
from plugin.core.log import REDACTOR


def args_for(env: dict[str, str]) -> list[str]:
    """NAME=VALUE as the builder sees each argument: a bare NAME takes its value from the step's
    environment (build_arg_env), where the plugin puts every value taken from the environment."""
    full = {"PLUGIN_REPO": "team/app", **env}
    loaded = load_settings(full)
    ctx = CIContext.from_env(full)
    values = build_arg_env(loaded.settings, ctx, full)
    args = build_args(loaded.settings, ctx, full)
    assert all(a in values for a in args if "=" not in a)
    return [a if "=" in a else f"{a}={values[a]}" for a in args]


class TestFromEnvNames:
    """The names one PLUGIN_BUILD_ARGS_FROM_ENV entry gives."""

    def test_mixed_case_name_is_passed_as_written_and_upper_cased(self) -> None:
        """A Dockerfile's `ARG MyVar` gets its value after switching (the issue-9 bug)."""
        assert from_env_names("MyVar") == ["MyVar", "MYVAR"]

    def test_lower_case_name_is_passed_as_written_and_upper_cased(self) -> None:
        assert from_env_names("version") == ["version", "VERSION"]

    def test_upper_case_name_is_passed_once(self) -> None:
        assert from_env_names("GIT_SHA") == ["GIT_SHA"]


class TestFromEnvValue:
    """Where the value of a PLUGIN_BUILD_ARGS_FROM_ENV entry comes from, in order."""

    def test_the_variable_as_written_wins(self) -> None:
        assert from_env_value("MyVar", {"MyVar": "a", "MYVAR": "b", "HARNESS_MYVAR": "c"}) == "a"

    def test_then_the_upper_cased_variable(self) -> None:
        assert from_env_value("MyVar", {"MYVAR": "b", "HARNESS_MYVAR": "c"}) == "b"

    def test_then_the_harness_prefixed_variable(self) -> None:
        assert from_env_value("MyVar", {"HARNESS_MYVAR": "c"}) == "c"

    def test_a_lower_cased_variable_is_not_read(self) -> None:
        """The anchors never look at `myvar` for `MyVar`."""
        assert from_env_value("MyVar", {"myvar": "x"}) is None

    def test_an_empty_variable_is_unset(self) -> None:
        assert from_env_value("MyVar", {"MyVar": "", "MYVAR": "b"}) == "b"


class TestBuildArgs:
    """The KEY=VALUE list every builder receives."""

    @pytest.mark.parametrize("builder", ["kaniko", "docker", "buildx"])
    def test_mixed_case_name_reaches_every_builder_as_written_and_upper_cased(self, builder: str) -> None:
        env = {"PLUGIN_BUILDER": builder, "PLUGIN_BUILD_ARGS_FROM_ENV": "MyVar", "MyVar": "hello"}
        assert args_for(env) == ["MyVar=hello", "MYVAR=hello"]

    def test_user_args_come_first_then_from_env_then_proxies(self) -> None:
        env = {
            "PLUGIN_BUILD_ARGS": "A=1",
            "PLUGIN_BUILD_ARGS_FROM_ENV": "token",
            "token": "t0ken-value",
            "http_proxy": "http://proxy:3128",
        }
        assert args_for(env) == [
            "A=1",
            "token=t0ken-value",
            "TOKEN=t0ken-value",
            "http_proxy=http://proxy:3128",
            "HTTP_PROXY=http://proxy:3128",
        ]

    def test_a_name_the_user_already_passed_keeps_the_users_value(self) -> None:
        env = {"PLUGIN_BUILD_ARGS": "MYVAR=mine", "PLUGIN_BUILD_ARGS_FROM_ENV": "MyVar", "MyVar": "env"}
        assert args_for(env) == ["MYVAR=mine"]

    def test_an_unset_variable_gives_no_build_arg(self) -> None:
        assert args_for({"PLUGIN_BUILD_ARGS_FROM_ENV": "Missing"}) == []

    def test_with_multiple_build_args_the_from_env_names_still_come(self) -> None:
        env = {
            "PLUGIN_MULTIPLE_BUILD_ARGS": "true",
            "PLUGIN_BUILD_ARGS_NEW": "LIST=a,b",
            "PLUGIN_BUILD_ARGS_FROM_ENV": "MyVar",
            "HARNESS_MYVAR": "from-harness",
        }
        assert args_for(env) == ["LIST=a,b", "MyVar=from-harness", "MYVAR=from-harness"]

    def test_from_env_values_are_registered_as_secrets(self) -> None:
        args_for({"PLUGIN_BUILD_ARGS_FROM_ENV": "MyVar", "MyVar": "sentinel-secret-42"})
        assert REDACTOR.text("x sentinel-secret-42 y") == "x *** y"

    def test_a_user_proxy_argument_in_any_case_stops_the_automatic_one(self) -> None:
        env = {"PLUGIN_BUILD_ARGS": "HTTP_PROXY=http://mine:1", "http_proxy": "http://env:2"}
        assert args_for(env) == ["HTTP_PROXY=http://mine:1"]

"""PLUGIN_AWS_WORKER is read twice: by the fork, before pydantic loads, and by the settings model.

Both must agree on every spelling and on which of the two names wins, so the early read is only an
optimisation of what the model says (the model's value decides in ``run_job``).
"""

from __future__ import annotations

import pytest

from plugin.aws import worker
from plugin.config.load import load_settings
from plugin.core.booleans import FALSE as _FALSE
from plugin.core.booleans import TRUE as _TRUE

BASE = {"PLUGIN_REPO": "team/app", "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com"}


def model_says(env: dict[str, str]) -> bool:
    return load_settings({**BASE, **env}).settings.aws_worker


class TestTheForkReadsWhatTheModelReads:
    def test_the_same_names_in_the_same_order(self) -> None:
        field = type(load_settings(BASE).settings).model_fields["aws_worker"]
        assert tuple(field.validation_alias.choices) == worker.SWITCHES  # type: ignore[union-attr]

    def test_the_same_false_spellings(self) -> None:
        assert set(worker.FALSE) == _FALSE

    @pytest.mark.parametrize("value", [*sorted(_TRUE | _FALSE), " Off ", "NO", "TRUE", ""])
    @pytest.mark.parametrize("name", worker.SWITCHES)
    def test_each_spelling_under_each_name(self, name: str, value: str) -> None:
        env = {name: value}
        assert worker.wanted(env) is model_says(env)

    @pytest.mark.parametrize(
        "env",
        [
            {"PLUGIN_AWS_WORKER": "true", "BUILD_PUSH_ECR_WORKER": "off"},
            {"PLUGIN_AWS_WORKER": "false", "BUILD_PUSH_ECR_WORKER": "on"},
            {"PLUGIN_AWS_WORKER": " ", "BUILD_PUSH_ECR_WORKER": "off"},
        ],
    )
    def test_the_first_non_empty_name_wins(self, env: dict[str, str]) -> None:
        assert worker.wanted(env) is model_says(env)

    def test_the_default_is_a_worker(self) -> None:
        assert worker.wanted({}) is model_says({}) is True

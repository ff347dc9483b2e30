"""Shared test setup: a clean environment for every test, and the real-service fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from plugin.core.log import REDACTOR

pytest_plugins = ["tests.support.services", "tests.support.moto_server"]

_CLEARED_PREFIXES = ("PLUGIN_", "DRONE_", "CI_", "HARNESS_", "GITHUB_", "AWS_", "DOCKER_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without PLUGIN_*, DRONE_*, CI_*, HARNESS_*, GITHUB_*, AWS_* and DOCKER_* variables.

    Session fixtures never set variables: they yield values, and a test sets what it declares.
    """
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def fresh_redactor() -> Iterator[None]:
    """The process-wide Redactor starts empty for every test: one test's secrets never mask another's text."""
    REDACTOR.clear()
    yield
    REDACTOR.clear()

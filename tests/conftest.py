"""Shared test setup: a clean environment for every test, and the real-service fixtures."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.support.services", "tests.support.moto_server"]

_CLEARED_PREFIXES = ("PLUGIN_", "DRONE_", "CI_", "HARNESS_", "AWS_", "DOCKER_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without PLUGIN_*, DRONE_*, CI_*, HARNESS_*, AWS_* and DOCKER_* variables.

    Session fixtures never set variables: they yield values, and a test sets what it declares.
    """
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES):
            monkeypatch.delenv(name)

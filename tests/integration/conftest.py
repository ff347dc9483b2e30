"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.docker_workspace import Workspace, new_workspace, remove_workspace
from tests.support.services import require


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    """A docker-builder run's files (dockerd storage, TMPDIR, outputs), removed afterwards."""
    require("dockerd", root=True)
    made = new_workspace()
    yield made
    remove_workspace(made)

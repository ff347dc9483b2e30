"""The files of one docker-builder run of the plugin (dockerd storage, TMPDIR, the output files).

Made under /tmp (unix socket paths stay short); removed with whatever dockerd left mounted below it.
``tests/integration/conftest.py`` hands one to a test as the ``workspace`` fixture.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from tests.support.services import short_tempdir, unmount_below

KEEP = 'OTHER="keep"\n'  # what an earlier step left in DRONE_OUTPUT


@dataclass(frozen=True)
class Workspace:
    """One plugin run's files: dockerd storage (not created in advance) and the output files."""

    base: Path

    @property
    def storage(self) -> Path:
        return self.base / "docker"

    @property
    def tmp(self) -> Path:
        """The plugin's TMPDIR: its run directory (Docker config with the ECR token) goes here."""
        return self.base / "tmp"

    @property
    def drone_output(self) -> Path:
        return self.base / "out" / "drone-output.env"

    @property
    def artifact(self) -> Path:
        return self.base / "out" / "artifact.json"

    @property
    def card(self) -> Path:
        return self.base / "out" / "card.json"

    def output_env(self) -> dict[str, str]:
        """Output variables, with DRONE_OUTPUT pre-filled by an earlier step (``OTHER=keep``)."""
        self.drone_output.parent.mkdir(parents=True, exist_ok=True)
        self.drone_output.write_text(KEEP)
        return {
            "DRONE_OUTPUT": str(self.drone_output),
            "PLUGIN_ARTIFACT_FILE": str(self.artifact),
            "DRONE_CARD_PATH": str(self.card),
        }

    def drone_values(self) -> dict[str, str | None]:
        """DRONE_OUTPUT as python-dotenv reads it (the grammar the plugin writes for)."""
        return dict(dotenv_values(self.drone_output, interpolate=False))

    def assert_no_temp_files_left(self) -> None:
        left = sorted(str(p.relative_to(self.tmp)) for p in self.tmp.rglob("*"))
        assert left == [], f"left in TMPDIR {self.tmp}: {left}"

    def assert_no_outputs(self) -> None:
        assert self.drone_output.read_text() == KEEP
        assert not self.artifact.exists()
        assert not self.card.exists()


def new_workspace() -> Workspace:
    return Workspace(Path(short_tempdir("e2e-")))  # under /tmp: unix socket paths stay short


def remove_workspace(workspace: Workspace) -> None:
    unmount_below(str(workspace.base))
    shutil.rmtree(workspace.base, ignore_errors=True)

"""Outputs the builder writes itself: ``PLUGIN_TAR_PATH`` (docker save, kaniko's --tar-path, buildx's
export) and kaniko's ``PLUGIN_OCI_LAYOUT_PATH`` (a directory).

The builder is handed a temporary path beside the user's (same folder, so the same file system; a
hidden name with the run's name, ``plugin.core.atomic.beside``) instead of the user's path; the
outputs step renames it into place with the other outputs once the run succeeded, and a run that fails
removes it (``plugin.run.staging``). Nothing is copied. Pure: the settings the builder gets, as data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from plugin.config.settings import Settings
from plugin.core.atomic import beside
from plugin.run.resolve import Resolved

# (settings field, variable, a directory?, builders that write it)
_WRITTEN = (
    ("tar_path", "PLUGIN_TAR_PATH", False, ("docker", "buildx", "kaniko")),
    ("oci_layout_path", "PLUGIN_OCI_LAYOUT_PATH", True, ("kaniko",)),
)


@dataclass(frozen=True)
class BuilderOutput:
    """One output the builder writes: the user's path, and the temporary one the builder is given."""

    field: str
    variable: str
    final: str
    temp: str
    directory: bool

    def to_json(self) -> dict[str, str]:
        return {"variable": self.variable, "written_to": self.temp, "moved_to": self.final}


def builder_outputs(settings: Settings, builder: str, run_name: str) -> list[BuilderOutput]:
    """The outputs this builder writes for this run (none for kaniko's push-only: no executor)."""
    if builder == "kaniko" and settings.push_only:
        return []
    return [
        BuilderOutput(field, variable, path, beside(path, run_name), directory)
        for field, variable, directory, builders in _WRITTEN
        if builder in builders and (path := getattr(settings, field))
    ]


def for_builder(r: Resolved, outputs: list[BuilderOutput]) -> Resolved:
    """``r`` with the settings the builder's argv is made from: each of its outputs at its temporary path."""
    if not outputs:
        return r
    settings = r.settings.model_copy(update={out.field: out.temp for out in outputs})
    return replace(r, loaded=replace(r.loaded, settings=settings))

"""A build context as a real git checkout: one commit with a fixed time, and the file times of a fresh clone.

The plugin reads the commit time from ``.git`` (SOURCE_DATE_EPOCH, the ``created`` label); the tests
make the checkout with the git program, then change every file's time between two builds of the same
commit, as a fresh clone would, to show the digest does not depend on them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.services import require


def commit_everything(folder: Path, when: int, zone: str = "+0000") -> str:
    """``git init`` + one commit of everything in ``folder``, authored and committed at ``when``
    (epoch seconds, shown in time zone ``zone``); returns the commit's id."""
    require("git")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "ci",
        "GIT_AUTHOR_EMAIL": "ci@example.com",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.com",
        "GIT_COMMITTER_DATE": f"@{when} {zone}",
        "GIT_AUTHOR_DATE": f"@{when} {zone}",
    }
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "one commit"]):
        subprocess.run(["git", "-C", str(folder), *argv], env=env, check=True)
    done = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def touch_everything(folder: Path, when: int) -> None:
    """Every file's times (``.git`` aside) set to ``when``: a fresh clone of the commit has new ones."""
    for path in folder.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (when, when))

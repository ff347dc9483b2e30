"""plugin.ci.gitcommit against real repositories made by git: every layout a CI clone can leave."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from plugin.ci.gitcommit import head_commit, read_commit
from tests.support.services import require

BASE = 1650000000


def git(repo: Path, *argv: str, when: int = BASE) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.com",
        "GIT_COMMITTER_NAME": "c",
        "GIT_COMMITTER_EMAIL": "c@example.com",
        "GIT_AUTHOR_DATE": f"@{when - 500} +0000",  # the committer time is the one that counts
        "GIT_COMMITTER_DATE": f"@{when} -0700",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *argv], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def make_repo(path: Path, commits: int = 3, *extra_init: str) -> Path:
    require("git")
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", *extra_init)
    for i in range(commits):
        (path / "file.txt").write_text("line\n" * (i + 1) * 50)
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"the same long message for every commit, number {i}", when=BASE + i)
    return path


def expected(repo: Path) -> tuple[str, int]:
    sha, when = git(repo, "log", "-1", "--format=%H %ct").split()
    return sha, int(when)


class TestHeadCommit:
    def test_loose_objects(self, tmp_path: Path) -> None:
        repo = make_repo(tmp_path / "r")
        found = head_commit(repo)
        assert found is not None and (found.sha, found.time) == expected(repo) and found.time == BASE + 2

    def test_from_a_subdirectory(self, tmp_path: Path) -> None:
        repo = make_repo(tmp_path / "r")
        (repo / "services" / "api").mkdir(parents=True)
        found = head_commit(repo / "services" / "api")
        assert found is not None and found.time == BASE + 2

    def test_packed_with_deltas_and_packed_refs(self, tmp_path: Path) -> None:
        repo = make_repo(tmp_path / "r", commits=40)
        git(repo, "repack", "-qadf", "--depth=50", "--window=250")
        git(repo, "pack-refs", "--all")
        assert not list((repo / ".git" / "objects").glob("??/*"))
        for line in git(repo, "log", "--format=%H %ct").splitlines():  # every commit, deltified or not
            sha, when = line.split()
            body = read_commit(repo / ".git", sha)
            assert body is not None and f" {when} -0700".encode() in body
        found = head_commit(repo)
        assert found is not None and (found.sha, found.time) == expected(repo)

    def test_detached_head(self, tmp_path: Path) -> None:
        repo = make_repo(tmp_path / "r")
        first = git(repo, "rev-list", "--max-parents=0", "HEAD")
        git(repo, "checkout", "-q", "--detach", first)
        found = head_commit(repo)
        assert found is not None and (found.sha, found.time) == (first, BASE)

    def test_linked_worktree(self, tmp_path: Path) -> None:
        repo = make_repo(tmp_path / "r")
        git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "HEAD~1")
        found = head_commit(tmp_path / "wt")
        assert found is not None and found.time == BASE + 1

    def test_shallow_clone(self, tmp_path: Path) -> None:
        repo = make_repo(tmp_path / "r", commits=5)
        subprocess.run(
            ["git", "clone", "-q", "--depth=1", f"file://{repo}", str(tmp_path / "c")],
            check=True,
            capture_output=True,
        )
        found = head_commit(tmp_path / "c")
        assert found is not None and found.time == BASE + 4

    def test_sha256_repository(self, tmp_path: Path) -> None:
        repo = make_repo(tmp_path / "r", 2, "--object-format=sha256")
        git(repo, "gc", "-q")
        found = head_commit(repo)
        assert found is not None and len(found.sha) == 64 and (found.sha, found.time) == expected(repo)

    @pytest.mark.parametrize("kind", ["no git", "empty repository", "broken object"])
    def test_unreadable_is_none(self, tmp_path: Path, kind: str) -> None:
        if kind == "no git":
            assert head_commit(tmp_path) is None
            return
        repo = make_repo(tmp_path / "r", commits=0 if kind == "empty repository" else 1)
        if kind == "broken object":
            sha = git(repo, "rev-parse", "HEAD")
            obj = repo / ".git" / "objects" / sha[:2] / sha[2:]
            obj.chmod(0o644)
            obj.write_bytes(b"not zlib")
        assert head_commit(repo) is None

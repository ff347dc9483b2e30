"""The commit time of HEAD, read from a checkout's ``.git`` without a git program (none is in the images).

Handles what CI clones leave: ``.git`` as a directory or as a ``gitdir:`` file (worktrees,
submodules, with their ``commondir``), HEAD as a symbolic ref (loose or in ``packed-refs``) or a
detached commit, and the commit as a loose object or inside a pack (v2 index, offset and reference
deltas), SHA-1 or SHA-256 repositories. Shallow clones work: only HEAD's own commit is read.
Anything it cannot read gives None, never an error: the source date then comes from elsewhere.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

_COMMITTER = re.compile(rb"^committer .* (\d+) [+-]\d{4}$", re.MULTILINE)
_HEX = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_MAX_DEPTH = 64  # delta chains longer than this are not followed
_OBJ_COMMIT, _OFS_DELTA, _REF_DELTA = 1, 6, 7


class Unreadable(Exception):
    """A pack this reader cannot follow (a bad delta, a chain too long, a base in another pack)."""


@dataclass(frozen=True)
class HeadCommit:
    """HEAD's commit: its id, its committer time (seconds since 1970) and the repository it is in."""

    sha: str
    time: int
    git_dir: Path


def find_git_dir(start: Path) -> Path | None:
    """The ``.git`` of ``start`` or of its nearest parent that has one (a ``gitdir:`` file is followed)."""
    for folder in [start, *start.parents]:
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            text = dot.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    """Where objects and shared refs live (a linked worktree's ``commondir``)."""
    common = git_dir / "commondir"
    if common.is_file():
        target = Path(common.read_text(encoding="utf-8").strip())
        return target if target.is_absolute() else (git_dir / target).resolve()
    return git_dir


def _resolve_ref(git_dir: Path, common: Path, ref: str) -> str | None:
    for base in (git_dir, common):
        loose = base / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8").strip()
            return _follow(git_dir, common, value)
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _HEX.match(sha):
                return sha
    return None


def _follow(git_dir: Path, common: Path, value: str, depth: int = 0) -> str | None:
    if value.startswith("ref:") and depth < 5:
        target = value.removeprefix("ref:").strip()
        found = _resolve_ref(git_dir, common, target)
        return _follow(git_dir, common, found, depth + 1) if found and found.startswith("ref:") else found
    return value if _HEX.match(value) else None


def head_sha(git_dir: Path) -> str | None:
    head = git_dir / "HEAD"
    if not head.is_file():
        return None
    return _follow(git_dir, _common_dir(git_dir), head.read_text(encoding="utf-8").strip())


# -- objects ---------------------------------------------------------------------------------------


def _loose(objects: Path, sha: str) -> tuple[int, bytes] | None:
    path = objects / sha[:2] / sha[2:]
    if not path.is_file():
        return None
    data = zlib.decompress(path.read_bytes())
    header, _, body = data.partition(b"\0")
    kind = header.split(b" ", 1)[0]
    return (_OBJ_COMMIT if kind == b"commit" else 0), body


def _index_offset(idx: bytes, sha: bytes) -> int | None:
    """The pack offset of ``sha`` in a version 2 pack index, or None."""
    if idx[:4] != b"\377tOc" or struct.unpack(">I", idx[4:8])[0] != 2:
        return None
    size = len(sha)
    fanout = struct.unpack(">256I", idx[8 : 8 + 1024])
    count = fanout[255]
    low = fanout[sha[0] - 1] if sha[0] else 0
    high = fanout[sha[0]]
    names = 8 + 1024
    while low < high:
        mid = (low + high) // 2
        found = idx[names + mid * size : names + (mid + 1) * size]
        if found == sha:
            offsets = names + count * (size + 4)  # names, then one CRC32 each
            offset = struct.unpack(">I", idx[offsets + mid * 4 : offsets + mid * 4 + 4])[0]
            if offset & 0x80000000:  # in the 64-bit table that follows
                large = offsets + count * 4 + (offset & 0x7FFFFFFF) * 8
                offset = struct.unpack(">Q", idx[large : large + 8])[0]
            return int(offset)
        if found < sha:
            low = mid + 1
        else:
            high = mid
    return None


def _varint_size(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _apply_delta(base: bytes, delta: bytes) -> bytes:
    _, pos = _varint_size(delta, 0)
    _, pos = _varint_size(delta, pos)
    out = bytearray()
    while pos < len(delta):
        op = delta[pos]
        pos += 1
        if op & 0x80:  # copy from the base
            offset = size = 0
            for i in range(4):
                if op & (1 << i):
                    offset |= delta[pos] << (8 * i)
                    pos += 1
            for i in range(3):
                if op & (1 << (4 + i)):
                    size |= delta[pos] << (8 * i)
                    pos += 1
            out += base[offset : offset + (size or 0x10000)]
        elif op:  # insert the next op bytes
            out += delta[pos : pos + op]
            pos += op
        else:
            raise Unreadable
    return bytes(out)


class _Pack:
    def __init__(self, pack: bytes, idx: bytes, hash_size: int) -> None:
        self.pack, self.idx, self.hash_size = pack, idx, hash_size

    def read_at(self, offset: int, depth: int = 0) -> tuple[int, bytes]:
        if depth > _MAX_DEPTH:
            raise Unreadable
        data, pos = self.pack, offset
        byte = data[pos]
        kind, pos = (byte >> 4) & 7, pos + 1
        while byte & 0x80:
            byte = data[pos]
            pos += 1
        if kind == _OFS_DELTA:
            byte = data[pos]
            pos += 1
            back = byte & 0x7F
            while byte & 0x80:
                byte = data[pos]
                pos += 1
                back = ((back + 1) << 7) | (byte & 0x7F)
            base_kind, base = self.read_at(offset - back, depth + 1)
            return base_kind, _apply_delta(base, zlib.decompressobj().decompress(data[pos:]))
        if kind == _REF_DELTA:
            ref = data[pos : pos + self.hash_size]
            pos += self.hash_size
            found = _index_offset(self.idx, ref)
            if found is None:
                raise Unreadable
            base_kind, base = self.read_at(found, depth + 1)
            return base_kind, _apply_delta(base, zlib.decompressobj().decompress(data[pos:]))
        return kind, zlib.decompressobj().decompress(data[pos:])


def _packed(objects: Path, sha: str) -> tuple[int, bytes] | None:
    wanted = bytes.fromhex(sha)
    for idx_path in sorted((objects / "pack").glob("pack-*.idx")):
        idx = idx_path.read_bytes()
        offset = _index_offset(idx, wanted)
        if offset is None:
            continue
        pack = idx_path.with_suffix(".pack").read_bytes()
        return _Pack(pack, idx, len(wanted)).read_at(offset)
    return None


def read_commit(git_dir: Path, sha: str) -> bytes | None:
    """The raw commit object ``sha`` (loose or packed), or None."""
    objects = _common_dir(git_dir) / "objects"
    found = _loose(objects, sha) or _packed(objects, sha)
    if found is None or found[0] != _OBJ_COMMIT:
        return None
    return found[1]


def head_commit(start: Path) -> HeadCommit | None:
    """HEAD's commit and committer time for the checkout holding ``start``; None when unreadable."""
    try:
        git_dir = find_git_dir(start.resolve())
        if git_dir is None:
            return None
        sha = head_sha(git_dir)
        body = read_commit(git_dir, sha) if sha else None
    except (OSError, ValueError, Unreadable, zlib.error, IndexError, struct.error):
        return None
    match = _COMMITTER.search(body or b"")
    if sha is None or match is None:
        return None
    return HeadCommit(sha, int(match[1]), git_dir)

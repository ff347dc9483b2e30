"""The machine's processes, read from /proc: who runs with which command line, who is in a mount namespace.

Root on the host sees the processes of every container too. A process can end between the listing and
the read: such a process is passed over. Kernel threads (an empty command line) are never listed.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

# The seconds of a build's long ``RUN sleep``, which tests find by its command line and stop: one value
# per test process, so that another run on the machine (another checkout's tests, CI) is never taken
# for this one's, nor killed by its clean-up.
LONG_SLEEP = str(600_000 + secrets.randbelow(100_000))


def _pids() -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            yield int(entry.name)


def cmdlines() -> Iterator[tuple[int, bytes]]:
    """(pid, its raw ``/proc/PID/cmdline``: the arguments, each ended by a NUL) of every process."""
    for pid in _pids():
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if raw:
            yield pid, raw


def _living(pid: int) -> bool:
    """Running or sleeping, not a zombie (the state after the command's parenthesis in /proc/PID/stat)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def argvs(*, living: bool = False) -> Iterator[tuple[int, list[bytes]]]:
    """(pid, argv) of every process; ``living`` leaves zombies out."""
    for pid, raw in cmdlines():
        if not living or _living(pid):
            yield pid, [a for a in raw.split(b"\0") if a]


def processes_with_argv(argv: list[str]) -> list[int]:
    """PIDs of processes whose command line is exactly ``argv``."""
    wanted = [a.encode() for a in argv]
    return [pid for pid, args in argvs() if args == wanted]


def living_with_argv_prefix(prefix: list[str]) -> list[int]:
    """PIDs of living processes whose command line starts with ``prefix``."""
    wanted = [a.encode() for a in prefix]
    return [pid for pid, args in argvs(living=True) if args[: len(wanted)] == wanted]


def living_with_arg(arg: str) -> list[int]:
    """PIDs of living processes one of whose arguments is exactly ``arg``."""
    wanted = arg.encode()
    return [pid for pid, args in argvs(living=True) if wanted in args]


def dockerd_pids_for(data_root: str | Path) -> list[int]:
    """PIDs of dockerd processes whose --data-root is ``data_root``."""
    wanted = str(data_root)
    found = []
    for pid, raw_args in argvs():
        args = [a.decode(errors="replace") for a in raw_args]
        if not args or Path(args[0]).name != "dockerd":
            continue
        if ("--data-root", wanted) in set(itertools.pairwise(args)) or f"--data-root={wanted}" in args:
            found.append(pid)
    return found


def pids_in_mount_namespace(namespace: str) -> list[int]:
    """Every process whose mount namespace is ``namespace`` (its mounts live as long as one does)."""
    found = []
    for pid in _pids():
        try:
            if os.readlink(f"/proc/{pid}/ns/mnt") == namespace:
                found.append(pid)
        except OSError:
            continue
    return found

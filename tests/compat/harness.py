"""Side by side: the command lines an anchor runs for a set of variables, against this plugin's plan.

The anchors' command lines are data (``tests/compat/*.toml``), written from their source and tests
as anchor-env.md records them (argv order, defaults, their own test cases). Each side is brought
to a canonical form before comparing, so that only meaning counts:

- ``--flag value`` and ``--flag=value`` are the same; so are short and long names (``-f``/``--file``,
  ``-t``/``--tag``, ``-s``/``--storage-driver``, kaniko's ``--customPlatform``) and, for a boolean
  flag (builder-flags.md), ``--x=true`` and ``--x``.
- The order of flags does not count (none of these builders reads flags in order), nor the order
  of the ``docker tag`` / ``docker push`` pairs of different tags; repeated flags count as many
  times as they appear.
- Values that are per run on both sides are replaced by names: the local image (``<local>``), the
  ``created`` label (``<time>``), buildx's metadata file (``<metadata>``), the SSH key file
  (``<key>``), a created buildx builder (``<builder>``). dockerd's ``--host``, ``--exec-root``,
  ``--pidfile`` and ``--seccomp-profile`` (where the daemon lives) are left out.
- ``--build-arg NAME`` without a value takes it from the step's environment, as docker does.

What is left must be exactly the differences each case records, each with why and where
docs/compatibility.md says so; differences every case of a file has are recorded once, at the top.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from plugin.config.load import load_settings
from plugin.exec.steps import Step
from plugin.run.plan import builder_plan
from plugin.run.resolve import resolve
from tests.support.reference import reference_file

HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[1] / "docs"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ALIASES = {
    "-f": "--file",
    "-t": "--tag",
    "-s": "--storage-driver",
    "-q": "--quiet",
    "-d": "--destination",
    "-c": "--context",
    "-o": "--output",
    "--customPlatform": "--custom-platform",
    "--snapshotMode": "--snapshot-mode",
    "--tarPath": "--tar-path",
}
# Switches of docker build (classic builder) and dockerd that builder-flags.md does not list.
EXTRA_SWITCHES = {
    "--rm",
    "--squash",
    "--compress",
    "--pull",
    "--no-cache",
    "--quiet",
    "--force-rm",
    "--ipv6",
    "--experimental",
    "--debug",
    "--use",
}
PROGRAMS = (
    ("docker", "buildx", "build"),
    ("docker", "buildx", "create"),
    ("docker", "system", "prune"),
    ("docker", "build"),
    ("docker", "tag"),
    ("docker", "push"),
    ("docker", "pull"),
    ("docker", "save"),
    ("docker", "load"),
    ("docker", "rmi"),
    ("/kaniko/executor",),
    ("dockerd",),
)
IDENTIFIED_BY_ARGS = {"docker tag", "docker push", "docker pull", "docker rmi"}
DAEMON_PLACES = ("--host", "--exec-root", "--pidfile", "--seccomp-profile")
PER_RUN = (
    (re.compile(r"^(--label=org\.opencontainers\.image\.created=).*$"), r"\1<time>"),
    (re.compile(r"^(--metadata-file=).*$"), r"\1<metadata>"),
    (re.compile(r"^(--ssh=default=).*$"), r"\1<key>"),
    (re.compile(r"^--builder=build-push-ecr-plan$"), "--builder=<builder>"),
)
LOCAL_IMAGES = {"build-push-ecr:plan": "<local>"}


@cache
def switches() -> frozenset[str]:
    """Boolean flags: builder-flags.md's `bool` rows (kaniko and buildx) and the extras above."""
    found = set(EXTRA_SWITCHES)
    for line in reference_file("builder-flags.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1].startswith("--") and cells[3] == "bool":
            found.add(cells[1])
    return frozenset(found)


@dataclass(frozen=True)
class Command:
    """One command in canonical form: the program words, its flags (a multiset) and its arguments."""

    program: str
    tokens: tuple[str, ...]
    args: tuple[str, ...]

    @property
    def key(self) -> tuple[str, ...]:
        return (self.program, *self.args) if self.program in IDENTIFIED_BY_ARGS else (self.program,)

    def items(self) -> Counter[str]:
        return Counter(self.tokens) + Counter(f"ARG:{a}" for a in self.args)

    def text(self) -> str:
        return " ".join((self.program, *sorted(self.tokens), *self.args))


def _split_program(words: list[str]) -> tuple[str, list[str]]:
    for program in PROGRAMS:
        if tuple(words[: len(program)]) == program:
            return " ".join(program), words[len(program) :]
    raise ValueError(f"unknown program in {' '.join(words)!r}")


def _token(name: str, value: str | None) -> str:
    if name in switches() and value in (None, "true"):
        return name
    return name if value is None else f"{name}={value}"


def canonical(argv: list[str], env: Mapping[str, str]) -> Command:
    """The canonical form of one command line; ``env`` gives the values of bare ``--build-arg NAME``."""
    program, rest = _split_program(argv)
    tokens: list[str] = []
    args: list[str] = []
    words = list(rest)
    while words:
        word = words.pop(0)
        if not word.startswith("-") or word == "-":
            args.append(LOCAL_IMAGES.get(word, word))
            continue
        name, sep, value = word.partition("=")
        name = ALIASES.get(name, name)
        if not sep and name not in switches() and words and not words[0].startswith("-"):
            value, sep = words.pop(0), "="  # `--flag value`; a bare flag at the end stays bare
        if name in DAEMON_PLACES and program == "dockerd":
            continue
        if name == "--build-arg" and "=" not in value:
            value = f"{value}={env.get(value, '')}"
        token = _token(name, LOCAL_IMAGES.get(value, value) if sep else None)
        for pattern, replacement in PER_RUN:
            token = pattern.sub(replacement, token)
        tokens.append(token)
    return Command(program, tuple(tokens), tuple(args))


@dataclass
class Differ:
    """A recorded difference: tokens (``--flag=value``, or ``command: <program args>``) on one side only."""

    anchor: list[str]
    plugin: list[str]
    why: str
    doc: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any], env: Mapping[str, str]) -> Differ:
        anchor = [_substitute(t, env) for t in data.get("anchor", [])]
        plugin = [_substitute(t, env) for t in data.get("plugin", [])]
        return cls(anchor, plugin, data["why"], data["doc"])


@dataclass
class Case:
    """One set of variables, the commands the anchor runs for it, and the differences on record."""

    anchor_name: str
    builder: str
    id: str
    source: str
    env: dict[str, str]
    anchor: list[str]
    differs: list[Differ] = field(default_factory=list)
    standing: list[Differ] = field(default_factory=list)
    steps: tuple[str, ...] = ()
    refuses: str | None = None
    tags_file: str | None = None


# docker and buildx: the labels drone-docker adds by default (PLUGIN_AUTO_LABEL), before any CI context.
AUTO_LABELS = (
    "--label org.opencontainers.image.created=<time> --label org.opencontainers.image.revision=00000000 "
    "--label org.opencontainers.image.source= --label org.opencontainers.image.url="
)


def _substitute(text: str, env: Mapping[str, str]) -> str:
    """``{image}`` (registry/team/app), ``{registry}`` and ``{labels}`` (the default auto labels)."""
    registry = env.get("PLUGIN_REGISTRY", "")
    text = text.replace("{labels}", AUTO_LABELS)
    return text.replace("{image}", f"{registry}/team/app").replace("{registry}", registry)


def load_cases(path: Path) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    base = {k: str(v) for k, v in data["env"].items()}
    standing = [Differ.from_data(d, base) for d in data.get("differs", [])]
    steps = tuple(data.get("steps", ()))
    cases = []
    for raw in data["case"]:
        env = {**base, **{k: _substitute(str(v), base) for k, v in raw.get("env", {}).items()}}
        cases.append(
            Case(
                anchor_name=data["anchor"],
                builder=data["builder"],
                id=raw["id"],
                source=raw["source"],
                env={**env, "PLUGIN_BUILDER": data["builder"]},
                anchor=[_substitute(c, env) for c in raw.get("anchor", [])],
                differs=[Differ.from_data(d, env) for d in raw.get("differs", [])],
                standing=standing,
                steps=tuple(raw.get("steps", steps)),
                refuses=raw.get("refuses"),
                tags_file=raw.get("tags_file"),
            )
        )
    return cases


def plugin_steps(case: Case, workdir: Path) -> list[Step]:
    """The plugin's plan for the case's variables: the steps the anchor has counterparts for."""
    loaded = load_settings(case.env)
    resolved = resolve(loaded, workdir)
    if resolved.tags.skip_reason:
        return []
    plan = builder_plan(resolved, loaded.env, now=NOW)
    wanted = set(case.steps)
    if any(c.startswith("dockerd") for c in case.anchor):
        wanted.add("dockerd")
    return [s for s in plan.steps if s.name in wanted]


Pairs = list[tuple[Command, Command]]


def _pair(anchor: list[Command], plugin: list[Command]) -> tuple[Pairs, list[str], list[str]]:
    pairs: list[tuple[Command, Command]] = []
    left = list(plugin)
    only_anchor: list[str] = []
    for command in anchor:
        match = next((c for c in left if c.key == command.key), None)
        if match is None:
            only_anchor.append(f"command: {command.text()}")
            continue
        left.remove(match)
        pairs.append((command, match))
    return pairs, only_anchor, [f"command: {c.text()}" for c in left]


def differences(case: Case, workdir: Path) -> tuple[Counter[str], Counter[str], list[Command], list[Command]]:
    """What only the anchor has and what only the plugin has, after the standing differences."""
    steps = plugin_steps(case, workdir)
    plugin = [canonical(list(s.argv), {**case.env, **s.env}) for s in steps]
    anchor = [canonical(shlex.split(c), case.env) for c in case.anchor]
    pairs, only_anchor, only_plugin = _pair(anchor, plugin)
    anchor_side: Counter[str] = Counter(only_anchor)
    plugin_side: Counter[str] = Counter(only_plugin)
    for ours, theirs in pairs:
        anchor_side += ours.items() - theirs.items()
        plugin_side += theirs.items() - ours.items()
    for standing in case.standing:
        for token in standing.anchor:
            for found in [t for t in anchor_side if fnmatch.fnmatchcase(t, token)]:
                del anchor_side[found]
        for token in standing.plugin:
            for found in [t for t in plugin_side if fnmatch.fnmatchcase(t, token)]:
                del plugin_side[found]
    return anchor_side, plugin_side, anchor, plugin


def doc_target_exists(link: str) -> bool:
    """``compatibility.md#section`` names a file in docs/ and, when given, one of its headings."""
    name, _, slug = link.partition("#")
    path = DOCS / name
    if not path.is_file():
        return False
    if not slug:
        return True
    headings = [line.lstrip("#").strip() for line in path.read_text(encoding="utf-8").splitlines()]
    slugs = {re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-") for h in headings if h}
    return slug in slugs

"""The layers of plugin/ (docs/architecture.md): no import cycle, and each package imports only the
packages below it.

Every ``import`` and ``from ... import`` in every module counts: at the top, inside a function (a
lazy import), and under ``if TYPE_CHECKING:``. A lazy import is allowed only where the layer order
allows the import anyway, and it says why it is lazy (a ``# noqa: PLC0415 - why`` comment).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.plugin_run import ROOT

PLUGIN = ROOT / "plugin"
ENTRY = "__main__"  # plugin/__main__.py: the command line, above every layer

# Each package and the packages directly below it. A package may import any package it reaches by
# going down from it (plugin.run.build may import plugin.core.errors), never one above or beside it.
# docs/architecture.md draws the same picture.
BELOW: dict[str, tuple[str, ...]] = {
    "core": (),
    "ci": ("core",),
    "config": ("ci",),
    "target": ("config",),
    "exec": ("core",),
    "registry": ("core",),
    "aws": ("config",),
    "builders": ("target", "exec"),
    "run": ("builders", "aws", "registry"),
    ENTRY: ("run",),
}


def reachable(package: str) -> set[str]:
    """Every package below ``package``: what it may import."""
    found: set[str] = set()
    todo = list(BELOW[package])
    while todo:
        below = todo.pop()
        if below not in found:
            found.add(below)
            todo += BELOW[below]
    return found


# Where the AWS SDK may be imported: the sessions, and botocore's CA bundle (lazily) for HARNESS_CA_PATH.
AWS_SDK = ("boto3", "botocore")
AWS_SDK_MODULES = frozenset({"plugin.aws.session", "plugin.aws.trust"})
MAX_LINES = 400  # a longer module holds more than one concern: split it by concern


@dataclass(frozen=True)
class Import:
    """One import of a plugin module (or of a library) by a plugin module."""

    source: str  # the importing module, dotted (plugin.run.build)
    target: str  # the imported module, dotted (plugin.exec.runner), or a library's top name
    line: int
    lazy: bool  # inside a function
    typing_only: bool  # under `if TYPE_CHECKING:`
    comment: str  # the source line's comment, if any


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PLUGIN.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str:
    """The module a dotted name refers to: itself, or the nearest enclosing module (a name in it)."""
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, lazy: bool, typing_only: bool) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, lazy, typing_only
        inner_lazy = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        inner_typing = typing_only or (isinstance(child, ast.If) and _is_type_checking(child))
        yield from _walk(child, inner_lazy, inner_typing)


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Every import in one module: plugin modules resolved to the module imported, libraries by name."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node, lazy, typing_only in _walk(ast.parse(text), False, False):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from plugin.run import summary` imports the module plugin.run.summary
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
        else:
            continue
        comment = lines[node.end_lineno - 1].partition("#")[2].strip() if node.end_lineno else ""
        for target in targets:
            resolved = _resolve(target, known) if target.split(".")[0] == "plugin" else target.split(".")[0]
            found.append(Import(name, resolved, node.lineno, lazy, typing_only, comment))
    return found


def all_imports() -> list[Import]:
    known = modules()
    return [imp for name, path in known.items() for imp in imports_of(name, path, known)]


def plugin_imports() -> list[Import]:
    return [imp for imp in all_imports() if imp.target.split(".")[0] == "plugin" and imp.target != imp.source]


def layer_of(module: str) -> str | None:
    """The package a module belongs to (``plugin.run.build``: run; ``plugin.__main__``: the entry);
    None for ``plugin`` itself, which holds only the version."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


class TestTheToolsSeeEverything:
    def test_the_graph_reader_finds_imports_of_every_kind(self, tmp_path: Path) -> None:
        source = tmp_path / "plugin" / "run" / "x.py"
        source.parent.mkdir(parents=True)
        source.write_text(
            "from typing import TYPE_CHECKING\n"
            "from plugin.core import log\n"
            "from . import y\n"
            "if TYPE_CHECKING:\n"
            "    from plugin.exec.runner import Runner\n"
            "def f():\n"
            "    import plugin.aws.worker  # noqa: PLC0415 - only here\n"
        )
        known = {n: source for n in ("plugin.run.x", "plugin.run.y", "plugin.core.log", "plugin.exec.runner")}
        known["plugin.aws.worker"] = source
        found = {(i.target, i.lazy, i.typing_only) for i in imports_of("plugin.run.x", source, known)}
        assert {
            ("plugin.core.log", False, False),
            ("plugin.run.y", False, False),
            ("plugin.exec.runner", False, True),
            ("plugin.aws.worker", True, False),
        } <= found

    def test_a_cycle_is_found_and_shown(self) -> None:
        assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
        assert find_cycle({"a": {"b"}, "b": {"c"}}) is None

    def test_every_module_is_in_a_layer(self) -> None:
        """plugin/ holds the entry point and packages only: no module outside a layer."""
        outside = [m for m in modules() if m != "plugin" and layer_of(m) not in BELOW]
        assert outside == []

    def test_the_table_is_a_layering(self) -> None:
        """No package is below itself: no two packages may import each other, even through others."""
        assert find_cycle({package: set(below) for package, below in BELOW.items()}) is None
        assert reachable("builders") == {"target", "config", "ci", "core", "exec"}


class TestNoCycle:
    def test_no_module_imports_itself_through_others(self) -> None:
        """Every import counts: top, lazy and type-checking only."""
        edges: dict[str, set[str]] = {}
        for imp in plugin_imports():
            edges.setdefault(imp.source, set()).add(imp.target)
        assert find_cycle(edges) is None


class TestLayers:
    def test_each_package_imports_only_the_packages_below_it(self) -> None:
        wrong = [
            f"{imp.source}:{imp.line} imports {imp.target}"
            for imp in plugin_imports()
            if (source := layer_of(imp.source)) is not None
            and (target := layer_of(imp.target)) is not None
            and source != target
            and target not in reachable(source)
        ]
        assert wrong == []

    def test_every_lazy_import_says_why(self) -> None:
        """An import inside a function is for speed or to load a library only when needed: it says so."""
        silent = [
            f"{imp.source}:{imp.line} imports {imp.target}"
            for imp in all_imports()
            if imp.lazy and not imp.typing_only and not imp.comment.partition("PLC0415")[2].strip(" -")
        ]
        assert silent == []

    @pytest.mark.parametrize("library", AWS_SDK)
    def test_the_aws_sdk_is_imported_only_where_it_is_used(self, library: str) -> None:
        where = {imp.source for imp in all_imports() if imp.target == library}
        assert where <= AWS_SDK_MODULES


class TestModules:
    def test_every_module_stays_under_the_size_that_holds_one_concern(self) -> None:
        sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
        assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


class TestTheDocs:
    def test_architecture_md_names_every_package(self) -> None:
        text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
        assert [p for p in BELOW if p != ENTRY and f"`{p}/`" not in text] == []

    def test_every_module_architecture_md_cites_exists(self) -> None:
        """It names modules by their package (``run/plan.py``, ``builders/kaniko.py``)."""
        text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
        packages = "|".join(p for p in BELOW if p != ENTRY)
        cited = set(re.findall(rf"(?<![\w/.])((?:{packages})/[\w/]+\.py)", text))
        assert len(cited) > 20
        assert sorted(path for path in cited if not (PLUGIN / path).is_file()) == []

    def test_every_module_path_the_docs_cite_exists(self) -> None:
        """docs/*.md and README.md cite plugin/<package>/<module>.py: each is there."""
        cited = {
            (doc.name, path)
            for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
            for path in re.findall(r"(?<![\w/.])plugin/[\w/]+\.py", doc.read_text(encoding="utf-8"))
        }
        assert sorted((doc, path) for doc, path in cited if not (ROOT / path).is_file()) == []

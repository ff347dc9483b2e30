"""Every message the plugin can print and every log event it emits, found in its source.

Messages come from an AST walk over ``plugin/``: the ``PluginError`` subclasses it constructs (their
message argument, or the class's own template), ``Problem`` / ``ConfigError.single`` (printed as
``VARIABLE=value: expected``), ``raise ValueError`` (validator and host texts, shown inside a
Problem), and ``sys.stderr.write``. Pydantic's own texts ("Input should be ...") are found by
probing the settings model with bad values. Each message becomes a **key**: its literal text with
``<…>`` for every run-time value, so a key only changes when the words a user reads change.

A message built where the walk cannot see the text (a variable filled elsewhere) is *dynamic*; each
such place must be listed in ``DYNAMIC`` with where its texts are catalogued instead.

Used by ``tests/unit/test_catalog.py`` (docs/troubleshooting.md and ``plugin.core.events.SENTENCES`` are
complete) and by ``make catalog-missing`` (``tests/support/catalog_doc.py``), which prints skeleton
entries to paste.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugin"
HOLE = "<…>"
# Exit statuses by the error class the message is raised with (subclasses inherit their parent's).
KINDS = {
    "PluginError": "run",
    "RunError": "run",
    "ConfigError": "config",
    "AwsError": "aws",
    "BuildError": "build",
    "Signalled": "signal",
}
SECTION_TITLES = {
    "config": "Configuration (exit 2)",
    "value": "Configuration (exit 2)",
    "probe": "Configuration (exit 2)",
    "aws": "AWS (exit 3)",
    "run": "Outside AWS (exit 1)",
    "build": "The builder failed (its own exit status)",
    "signal": "Stopped (exit 128+N)",
    "cli": "Command line (exit 2)",
}
# Places whose text the walk cannot see, and where their texts are catalogued instead.
DYNAMIC = {
    ("plugin/config/load.py", "_problems"): "pydantic and validator texts: probed, and the ValueErrors",
    (
        "plugin/config/checks.py",
        "_registry_problems",
    ): "RegistryHost.for_account's ValueErrors (plugin/config/hosts.py)",
    ("plugin/config/fieldsets/aws.py", "check"): "_matches() texts: probed (PLUGIN_REGION)",
    ("plugin/core/errors.py", "single"): "ConfigError.single's callers are catalogued one by one",
    (
        "plugin/core/files.py",
        "_problem",
    ): "the callers' what= texts and the reasons: docs/troubleshooting.md, "
    "'Files that settings name' (PLUGIN_ENV_FILE's is also probed)",
}
_EVENT = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
_LOG_METHODS = {"debug", "info", "warning", "error", "critical", "exception"}
_PROBES = ("junk value", "-1", "99999999")


@dataclass(frozen=True)
class Message:
    """One message template: its key, the exit-status group, and the first place that prints it."""

    key: str
    kind: str
    where: str = field(compare=False)


@dataclass
class _Module:
    path: str
    tree: ast.Module
    constants: dict[str, str]


def _key(text: str) -> str:
    """Whitespace made single spaces, and neighbouring holes merged into one."""
    text = " ".join(text.split())
    while f"{HOLE}{HOLE}" in text:
        text = text.replace(f"{HOLE}{HOLE}", HOLE)
    return text


@cache
def _modules() -> tuple[_Module, ...]:
    found = []
    for path in sorted(PLUGIN.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        found.append(_Module(str(path.relative_to(ROOT)), tree, constants))
    by_name = {m.path.removesuffix(".py").removesuffix("/__init__").replace("/", "."): m for m in found}
    for module in found:  # string constants imported from another plugin module (variable names)
        for node in module.tree.body:
            if not isinstance(node, ast.ImportFrom):
                continue
            source = by_name.get(node.module or "")
            for alias in node.names if source is not None else ():
                if source is not None and alias.name in source.constants:
                    module.constants.setdefault(alias.asname or alias.name, source.constants[alias.name])
    return tuple(found)


@cache
def _functions() -> dict[str, list[ast.FunctionDef]]:
    index: dict[str, list[ast.FunctionDef]] = {}
    for module in _modules():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef):
                index.setdefault(node.name, []).append(node)
    return index


@cache
def _error_classes() -> dict[str, str]:
    """Every PluginError subclass defined in plugin/, mapped to its kind."""
    kinds = dict(KINDS)
    changed = True
    while changed:
        changed = False
        for module in _modules():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.ClassDef) and node.name not in kinds:
                    parents = [b.id for b in node.bases if isinstance(b, ast.Name) and b.id in kinds]
                    if parents:
                        kinds[node.name] = kinds[parents[0]]
                        changed = True
    return kinds


class _Walker:
    """Renders message expressions of one module into templates (None: not visible here)."""

    def __init__(self, module: _Module, scope: ast.FunctionDef | None, depth: int = 0) -> None:
        self.module = module
        self.scope = scope
        self.depth = depth

    def render(self, node: ast.expr) -> list[str] | None:  # noqa: PLR0911 - one case per node type
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else []  # None is never printed
        if isinstance(node, ast.JoinedStr):
            return ["".join(str(v.value) if isinstance(v, ast.Constant) else HOLE for v in node.values)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.render(node.left), self.render(node.right)
            return None if left is None or right is None else [a + b for a in left for b in right]
        if isinstance(node, ast.IfExp):
            body, other = self.render(node.body), self.render(node.orelse)
            if body is None or other is None:
                return None
            return [b for b in body + other if b] or [""]
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Call):
            return self._call(node)
        return [HOLE]

    def _name(self, name: str) -> list[str] | None:
        if name in self.module.constants:
            return [self.module.constants[name]]
        if self.scope is None:
            return None
        values = [
            n.value
            for n in ast.walk(self.scope)
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
        ]
        if not values:
            return None
        found: list[str] = []
        for value in values:
            rendered = self.render(value)
            if rendered is None:
                return None
            found += rendered
        return found

    def _call(self, node: ast.Call) -> list[str] | None:
        """A call to a plugin function: the templates it returns (one level deep); other calls: a hole."""
        name = node.func.id if isinstance(node.func, ast.Name) else None
        functions = _functions().get(name or "", [])
        if not functions or self.depth > 1:
            return None if isinstance(node.func, ast.Name) and name not in ("str", "repr") else [HOLE]
        found: list[str] = []
        for function in functions:
            walker = _Walker(self.module, function, self.depth + 1)
            for ret in (n for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None):
                if ret.value is None or (isinstance(ret.value, ast.Constant) and ret.value.value is None):
                    continue
                rendered = walker.render(ret.value)
                if rendered is None:
                    return None
                found += rendered
        return found or None


def _variable(node: ast.expr, module: _Module) -> str:
    """The variable a Problem names: a literal, a module constant, or the first PLUGIN_* literal of a call."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in module.constants:
        return module.constants[node.id]
    if isinstance(node, ast.Call):
        literals = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        first = next((a for a in literals if a.startswith("PLUGIN_")), None)
        if first:
            return first
    return HOLE


def _scopes(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef | None, ast.AST]]:
    """Every node with the function it is in (None at module level)."""

    def visit(
        node: ast.AST, scope: ast.FunctionDef | None
    ) -> Iterator[tuple[ast.FunctionDef | None, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef) else scope
            yield inner, child
            yield from visit(child, inner)

    yield from visit(tree, None)


@dataclass
class Catalog:
    """What the walk found: message templates, dynamic places, and log events."""

    messages: list[Message] = field(default_factory=list)
    dynamic: list[tuple[str, str, int]] = field(default_factory=list)  # (file, function, line)
    events: dict[str, str] = field(default_factory=dict)  # event -> first place
    expected: set[str] = field(default_factory=set)  # what Problems and validators say (after "VAR: ")

    def add(self, texts: list[str] | None, kind: str, where: str, scope: str, prefix: str = "") -> None:
        """Add templates; none, or only holes, means the text is built out of sight (a dynamic place)."""
        texts = [t for t in texts or [] if _key(t).replace(HOLE, "").strip(" :.;,()")]
        if not texts:
            file, line = where.rsplit(":", 1)
            self.dynamic.append((file, scope, int(line)))
            return
        for text in texts:
            if kind in ("config", "value"):
                self.expected.add(_key(text))
            message = Message(_key(prefix + text), kind, where)
            if message not in self.messages:
                self.messages.append(message)

    def keys(self) -> set[str]:
        return {m.key for m in self.messages}


@cache
def _class_templates() -> dict[str, list[str]]:
    """Classes whose own ``__init__`` / ``__post_init__`` passes a template (not a parameter) to super()."""
    classes = _error_classes()
    found: dict[str, list[str]] = {}
    for module in _modules():
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.ClassDef) and node.name in classes and node.name != "ConfigError"):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "__init__"
                    and call.args
                    and isinstance(call.args[0], ast.JoinedStr)
                ):
                    rendered = _Walker(module, None).render(call.args[0])
                    found[node.name] = rendered or []
    return found


def _visit_call(catalog: Catalog, module: _Module, scope: ast.FunctionDef | None, node: ast.Call) -> None:
    classes = _error_classes()
    templates = _class_templates()
    where = f"{module.path}:{node.lineno}"
    name = scope.name if scope else "<module>"
    walker = _Walker(module, scope)
    func = node.func
    if isinstance(func, ast.Name) and func.id == "Problem" and len(node.args) == 3:
        prefix = _variable(node.args[0], module) + ": "
        catalog.add(walker.render(node.args[2]), "config", where, name, prefix)
    elif isinstance(func, ast.Attribute) and func.attr == "single" and isinstance(func.value, ast.Name):
        if func.value.id == "ConfigError" and len(node.args) == 3:
            prefix = _variable(node.args[0], module) + ": "
            catalog.add(walker.render(node.args[2]), "config", where, name, prefix)
    elif isinstance(func, ast.Name) and func.id in classes and func.id != "ConfigError":
        if func.id in templates:
            catalog.add(templates[func.id], classes[func.id], where, name)
        elif node.args:
            catalog.add(walker.render(node.args[0]), classes[func.id], where, name)
    elif isinstance(func, ast.Name) and func.id == "ValueError" and node.args:
        catalog.add(walker.render(node.args[0]), "value", where, name)
    elif isinstance(func, ast.Attribute) and func.attr == "write" and ast.unparse(func.value) == "sys.stderr":
        catalog.add(walker.render(node.args[0]), "cli", where, name)


def _visit_event(catalog: Catalog, module: _Module, node: ast.AST) -> None:
    event: str | None = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _LOG_METHODS:
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            event = first.value
    elif isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[1], ast.Dict):
        first = node.elts[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            event = first.value
    elif (
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "event" for t in node.targets)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        event = node.value.value  # event = "summary.pushed"; log.info(event, ...)
    if event and _EVENT.fullmatch(event):
        catalog.events.setdefault(event, f"{module.path}:{getattr(node, 'lineno', 0)}")


def _probe(catalog: Catalog) -> None:
    """Pydantic's own texts, from bad values for every variable (the ones the walk has not seen)."""
    from plugin.config.load import load_settings  # noqa: PLC0415
    from plugin.config.settings import field_docs  # noqa: PLC0415
    from plugin.core.errors import ConfigError  # noqa: PLC0415 - only the probe needs the plugin importable

    known = set(catalog.expected)  # what the walk found; the probe adds only pydantic's own texts
    probed: set[str] = set()
    for doc in field_docs():
        for probe in _PROBES:
            try:
                load_settings({"PLUGIN_REPO": "team/app", doc.variables[0]: probe})
            except ConfigError as exc:
                for problem in exc.problems:
                    text = _key(
                        re.sub(
                            r"'[^']*'((, '[^']*')* or '[^']*')?|(?<![\w-])\d+(?![\w-])",
                            HOLE,
                            problem.expected,
                        )
                    )
                    if text in probed or _matches_any(problem.expected, known):
                        continue
                    probed.add(text)
                    catalog.add(
                        [text], "probe", f"probe {doc.variables[0]}={probe!r}:0", "probe", HOLE + ": "
                    )


def _matches_any(text: str, keys: set[str]) -> bool:
    """Whether a printed text is an instance of one of the keys (holes match anything)."""
    for key in keys:
        pattern = ".*".join(re.escape(part) for part in key.split(HOLE))
        if re.fullmatch(pattern, _key(text)):
            return True
    return False


@cache
def build_catalog() -> Catalog:
    catalog = Catalog()
    for module in _modules():
        for scope, node in _scopes(module.tree):
            if isinstance(node, ast.Call):
                _visit_call(catalog, module, scope, node)
            _visit_event(catalog, module, node)
    _probe(catalog)
    return catalog

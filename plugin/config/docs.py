"""The settings reference and ``--help``, rendered from the model so that they cannot drift."""

from __future__ import annotations

import textwrap
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from plugin.config.fieldsets.aws import AwsFields
from plugin.config.fieldsets.build import BuildFields, PluginFields, TargetFields
from plugin.config.fieldsets.docker import BuildxFields, DaemonFields, DockerBuildFields
from plugin.config.fieldsets.kaniko import KanikoFields
from plugin.config.fieldsets.supply import SupplyChainFields
from plugin.config.flags import BUILDERS, field_builders, field_comparison, field_flags, field_requirements
from plugin.config.settings import aliases, is_secret
from plugin.config.types import parse_int, split_cache_refs, split_comma, split_semicolon
from plugin.core.booleans import parse_bool

GROUPS: list[tuple[str, type[BaseModel]]] = [
    ("Build", BuildFields),
    ("Target, push and outputs", TargetFields),
    ("AWS and ECR", AwsFields),
    ("kaniko", KanikoFields),
    ("Docker engine (docker, buildx)", DaemonFields),
    ("docker build", DockerBuildFields),
    ("buildx", BuildxFields),
    ("Signing, labels and reproducible builds", SupplyChainFields),
    ("Plugin", PluginFields),
]

_VALIDATOR_TYPES = {
    split_comma: "list",
    split_semicolon: "list (`;`)",
    split_cache_refs: "list (`;` or `,`)",
    parse_bool: "bool",
    parse_int: "int",
}


def _literal_values(annotation: Any) -> list[str] | None:
    if get_origin(annotation) is Literal:
        return [str(a) for a in get_args(annotation)]
    for arg in get_args(annotation):
        found = _literal_values(arg)
        if found:
            return found
    return None


def type_name(info: FieldInfo) -> str:
    if is_secret(info):
        return "secret"
    choices = _literal_values(info.annotation)
    if choices:
        return " \\| ".join(choices)
    for marker in info.metadata:
        func = getattr(marker, "func", None)
        if func in _VALIDATOR_TYPES:
            return _VALIDATOR_TYPES[func]
    if info.annotation in (int, typing.Optional[int]):  # noqa: UP045 - compares against the annotation object
        return "int"
    if get_origin(info.annotation) is list:  # PLUGIN_DAEMON_ARGS: split like a command line
        return "words"
    return "string"


def default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        return "–"
    value = info.default
    if value is None or value is PydanticUndefined:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`"


def builders_text(info: FieldInfo) -> str:
    """The builders that read the field; a minimum version follows a builder that needs one."""
    found = field_builders(info)
    needs = {r.builder: r.version for r in field_requirements(info)}
    if len(found) == len(BUILDERS) and not needs:
        return "all"
    return ", ".join(f"{b} ≥ {needs[b]}" if b in needs else b for b in BUILDERS if b in found)


def flags_text(info: FieldInfo) -> str:
    return ", ".join(sorted({f"`{f.name}`" for f in field_flags(info)}))


def _rows(model: type[BaseModel]) -> list[list[str]]:
    rows = []
    for info in model.model_fields.values():
        names = aliases(info)
        variable = f"`{names[0]}`"
        others = ", ".join(f"`{n}`" for n in names[1:]) or "–"
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(
            [
                variable,
                others,
                type_name(info),
                default_text(info),
                builders_text(info),
                flags_text(info) or "–",
                meaning,
            ]
        )
    return rows


HEADER = """# Settings reference

Generated from the settings model (`python -m plugin.config.docs > docs/settings.md`); a test fails when this
file is stale. Every variable is read from the environment; an empty variable counts as unset. Where a
setting has several variables, the first non-empty one in the order shown wins. Booleans accept
true/false, 1/0, yes/no, on/off in any case. Lists are comma-separated and trimmed; the "list (`;`)" ones
are separated by semicolons so that values may contain commas. Secrets are never logged, printed or
put on a command line.
"""


COMPARISON = """
## Builder comparison

What each builder does with the supply-chain settings (signing, labels, annotations, attestations,
reproducible images); details in [supply-chain.md](supply-chain.md).
"""


def comparison_rows() -> list[list[str]]:
    """One row per field with a ``Compare`` marker: the variable, then kaniko, docker, buildx."""
    rows = []
    for _, model in GROUPS:
        for info in model.model_fields.values():
            found = field_comparison(info)
            if found is not None:
                cells = (found.kaniko, found.docker, found.buildx)
                rows.append([f"**{aliases(info)[0]}**", *(c.replace("|", "\\|") for c in cells)])
    return rows


def render_markdown() -> str:
    out = [HEADER]
    for title, model in GROUPS:
        out.append(f"\n## {title}\n")
        out.append("| Variable | Also read from | Type | Default | Builders | Flag | Meaning |")
        out.append("|---|---|---|---|---|---|---|")
        out += ["| " + " | ".join(row) + " |" for row in _rows(model)]
    out.append(COMPARISON)
    out.append("| Setting | kaniko | docker | buildx |")
    out.append("|---|---|---|---|")
    out += ["| " + " | ".join(row) + " |" for row in comparison_rows()]
    return "\n".join(out) + "\n"


USAGE = """usage: build-push-ecr [run | plan | prepare | --help | --version]

Build a container image and push it to Amazon ECR with kaniko, docker or buildx.
Everything is configured with environment variables (below).

commands:
  run       (default) resolve tags, do the ECR work, build, push, write outputs
  plan      print the plan as JSON (no AWS calls, no processes); also PLUGIN_PLAN_ONLY=true
  prepare   credentials, ECR work and Docker config only; print JSON (debug auth)

exit status: 0 done or skipped, 1 failure outside AWS, 2 bad configuration, 3 AWS error,
the builder's own status when it fails, 128+N when stopped by signal N.
"""


def _help_entry(info: FieldInfo) -> list[str]:
    """One variable: its names, then type, default and builders, then its meaning, wrapped."""
    names = aliases(info)
    also = f"  (also {', '.join(names[1:])})" if len(names) > 1 else ""
    default = default_text(info).strip("`").replace("–", "none")
    facts = f"{type_name(info).replace(chr(92), '')}; default: {default}; builders: {builders_text(info)}"
    meaning = textwrap.wrap(info.description or "", width=92)
    return [f"  {names[0]}{also}", f"      {facts}", *(f"      {line}" for line in meaning)]


def render_help() -> str:
    out = [USAGE]
    for title, model in GROUPS:
        out.append(f"{title}:")
        for info in model.model_fields.values():
            out += _help_entry(info)
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown(), end="")

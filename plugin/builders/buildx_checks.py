"""What the buildx builder refuses (exit 2, naming the variable) and what it names as unused (pure).

See docs/buildx.md. Attestations need a BuildKit the plugin can reach with a container driver: the
engine's own docker driver refuses them ("Attestation is not supported for the docker driver"), so
they are refused here first, by name, instead of failing half-way through a build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from plugin.builders.buildx_cache import created_driver
from plugin.config.settings import Settings
from plugin.core.errors import Problem

OUTPUT_FORMATS = ("docker", "oci", "tar")
PROVENANCE_VALUES = ("false", "true", "min", "max")
# PLUGIN_BUILDX_OPTIONS(_SEMICOLON) flags that would undo PLUGIN_SINGLE_MANIFEST (-o is --output).
_ATTESTING_OPTIONS = ("--attest", "--provenance", "--sbom", "--output", "--push", "--platform")
_UNDOES_SINGLE_MANIFEST = (
    "none of --attest, --provenance, --sbom, --output (-o), --push, --platform with PLUGIN_SINGLE_MANIFEST"
)
_LONG_FLAG = re.compile(r"(--[^=\s]+)(?:[=\s](.*))?", re.DOTALL)
_CONTAINER_HINT = (
    "the docker driver cannot attach attestations: set PLUGIN_BUILDER_DRIVER=docker-container (or remote)"
)


def _explicit(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())


def _platforms(settings: Settings) -> list[str]:
    return [p.strip() for p in (settings.platform or "").split(",") if p.strip()]


def _provenance_problem(value: str) -> Problem | None:
    text = value.strip().lower()
    if text in PROVENANCE_VALUES or text.startswith("mode="):
        return None
    return Problem("PLUGIN_PROVENANCE", value, "false, true, min, max or a buildx spec (mode=max,...)")


def _flag(option: str) -> tuple[str, str | None]:
    """An entry's long flag and its value (None: the value is the next entry), as the docker CLI reads
    it: ``--output=x`` (or ``--output x`` in one entry); the short ``-o`` as ``-o x``, ``-o=x``, ``-ox``."""
    text = option.strip()
    if text.startswith("-o"):
        value = text[2:].removeprefix("=").strip()
        return "--output", value or None
    match = _LONG_FLAG.fullmatch(text)
    if match is None:
        return text, None
    return match[1], None if match[2] is None else match[2].strip()


def _options_undoing_single_manifest(options: list[str]) -> list[str]:
    """The entries that undo the single manifest; a bare flag is shown with the entry after it."""
    found = []
    for i, option in enumerate(options):
        flag, value = _flag(option)
        if flag not in _ATTESTING_OPTIONS:
            continue
        shown = option.strip()
        if value is None and flag != "--push" and options[i + 1 :] and not options[i + 1].startswith("-"):
            value = options[i + 1].strip()
            shown = f"{shown} {value}"
        if flag in ("--provenance", "--sbom") and (value or "").lower() == "false":
            continue
        found.append(shown)
    return found


def _single_manifest_problems(settings: Settings) -> list[Problem]:
    """PLUGIN_SINGLE_MANIFEST: one platform, no attestations, nothing in the options that undoes it."""
    if not settings.single_manifest:
        return []
    problems = []
    if len(_platforms(settings)) > 1:
        problems.append(
            Problem("PLUGIN_PLATFORM", settings.platform, "one platform with PLUGIN_SINGLE_MANIFEST")
        )
    if settings.provenance and settings.provenance.strip().lower() != "false":
        problems.append(
            Problem("PLUGIN_PROVENANCE", settings.provenance, "false or unset with PLUGIN_SINGLE_MANIFEST")
        )
    if settings.sbom:
        problems.append(Problem("PLUGIN_SBOM", "true", "false or unset with PLUGIN_SINGLE_MANIFEST"))
    if undoing := _options_undoing_single_manifest(settings.buildx_options):
        problems.append(Problem("PLUGIN_BUILDX_OPTIONS", " ".join(undoing), _UNDOES_SINGLE_MANIFEST))
    if undoing := _options_undoing_single_manifest(settings.buildx_options_semicolon):
        problems.append(
            Problem("PLUGIN_BUILDX_OPTIONS_SEMICOLON", " ".join(undoing), _UNDOES_SINGLE_MANIFEST)
        )
    return problems


def _attestation_problems(settings: Settings) -> list[Problem]:
    problems = []
    if settings.provenance:
        bad = _provenance_problem(settings.provenance)
        if bad:
            problems.append(bad)
    asks = settings.sbom or (settings.provenance and settings.provenance.strip().lower() != "false")
    if asks and created_driver(settings) is None:
        if settings.provenance and settings.provenance.strip().lower() != "false":
            problems.append(Problem("PLUGIN_PROVENANCE", settings.provenance, _CONTAINER_HINT))
        if settings.sbom:
            problems.append(Problem("PLUGIN_SBOM", "true", _CONTAINER_HINT))
    if settings.sbom_generator and not settings.sbom:
        problems.append(
            Problem("PLUGIN_SBOM_GENERATOR", settings.sbom_generator, "only with PLUGIN_SBOM=true")
        )
    return problems


def _container_only_problems(settings: Settings) -> list[Problem]:
    """What the docker driver's exporter drops silently (seen with buildx 0.13): annotations and the
    layer-time rewrite of PLUGIN_REPRODUCIBLE; refused by name instead."""
    if created_driver(settings) is not None:
        return []
    hint = "needs a container builder: set PLUGIN_BUILDER_DRIVER=docker-container (or remote)"
    problems = []
    if settings.reproducible:
        problems.append(Problem("PLUGIN_REPRODUCIBLE", "true", hint))
    if settings.oci_annotations:
        problems.append(Problem("PLUGIN_OCI_ANNOTATIONS", "true", hint))
    if settings.annotations:
        problems.append(Problem("PLUGIN_ANNOTATIONS", ",".join(settings.annotations), hint))
    return problems


def attestation_problems_elsewhere(settings: Settings, builder: str) -> list[Problem]:
    """kaniko and docker write no attestations: PLUGIN_PROVENANCE and PLUGIN_SBOM are refused there."""
    if builder == "buildx":
        return []
    hint = f"buildx only (PLUGIN_BUILDER=buildx); the {builder} builder writes no attestations"
    problems = []
    if settings.provenance and settings.provenance.strip().lower() != "false":
        problems.append(Problem("PLUGIN_PROVENANCE", settings.provenance, hint))
    if settings.sbom:
        problems.append(Problem("PLUGIN_SBOM", "true", hint))
    return problems


def buildx_problems(settings: Settings) -> list[Problem]:
    """Settings this builder refuses, each naming its variable (see docs/buildx.md)."""
    problems: list[Problem] = []
    if settings.bake_file:
        problems.append(Problem("PLUGIN_BAKE_FILE", settings.bake_file, "not supported: see docs/buildx.md"))
    if settings.bake_options:
        options = ";".join(settings.bake_options)
        problems.append(Problem("PLUGIN_BAKE_OPTIONS", options, "not supported: see docs/buildx.md"))
    if settings.buildkit_inherit_auth:
        problems.append(
            Problem(
                "PLUGIN_BUILDKIT_INHERIT_AUTH",
                "true",
                "not supported: it would put AWS credentials on the buildx command line (see docs/buildx.md)",
            )
        )
    fmt = settings.buildx_output_format
    if fmt and fmt not in OUTPUT_FORMATS:
        problems.append(Problem("PLUGIN_BUILDX_OUTPUT_FORMAT", fmt, f"one of {', '.join(OUTPUT_FORMATS)}"))
    if created_driver(settings) == "remote" and not settings.builder_remote_conn:
        problems.append(
            Problem("PLUGIN_BUILDER_REMOTE_CONN", None, "the BuildKit endpoint (required with driver remote)")
        )
    problems += _attestation_problems(settings) + _single_manifest_problems(settings)
    return problems + _container_only_problems(settings)


def _unused(variable: str, hint: str) -> tuple[str, dict[str, Any]]:
    return ("buildx.setting_not_used", {"variable": variable, "hint": hint})


def _builder_warnings(settings: Settings, env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Builder settings that only a created builder (or only some drivers) reads."""
    out: list[tuple[str, dict[str, Any]]] = []
    driver = created_driver(settings)
    if driver is None:
        for variable, value in (
            ("PLUGIN_BUILDER_CONFIG", settings.builder_config),
            ("PLUGIN_BUILDER_DRIVER_OPTS", settings.builder_driver_opts),
            ("PLUGIN_BUILDER_DRIVER_OPTS_NEW", settings.builder_driver_opts_new),
            ("PLUGIN_BUILDKIT_VERSION", settings.buildkit_version),
            ("PLUGIN_BUILDKIT_TLS_HANDSHAKE_TIMEOUT", settings.buildkit_tls_handshake_timeout),
            ("PLUGIN_BUILDKIT_RESPONSE_HEADER_TIMEOUT", settings.buildkit_response_header_timeout),
        ):
            if value:
                out.append(_unused(variable, "only used when a builder is created (PLUGIN_BUILDER_DRIVER)"))
    if settings.builder_remote_conn and driver != "remote":
        out.append(_unused("PLUGIN_BUILDER_REMOTE_CONN", "only with PLUGIN_BUILDER_DRIVER=remote"))
    if driver == "remote" and settings.builder_config:
        out.append(_unused("PLUGIN_BUILDER_CONFIG", "a remote BuildKit keeps its own buildkitd.toml"))
    from plugin.builders.buildkitd import assets_dir, loaded_buildkit  # noqa: PLC0415 - buildx runs only

    wants_loaded = _explicit(env, "PLUGIN_USE_LOADED_BUILDKIT") and settings.use_loaded_buildkit
    if (wants_loaded or settings.buildkit_assets_dir) and loaded_buildkit(settings) is None:
        out.append(
            _unused(
                "PLUGIN_BUILDKIT_ASSETS_DIR"
                if settings.buildkit_assets_dir
                else "PLUGIN_USE_LOADED_BUILDKIT",
                f"no buildkit.tar with a version.json naming its image in {assets_dir(settings)}; "
                "a container builder pulls its BuildKit image",
            )
        )
    return out


def buildx_warnings(settings: Settings, env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Settings that are valid but do nothing with this builder: each is named, never silently dropped."""
    out = _builder_warnings(settings, env)
    checks = (
        ("PLUGIN_SQUASH", settings.squash, "docker build only; buildx build has no such flag"),
        ("PLUGIN_COMPRESS", settings.compress, "docker build only; buildx build has no such flag"),
        (
            "PLUGIN_BUILDX_LOAD",
            settings.buildx_load and not settings.no_push,
            "only with PLUGIN_NO_PUSH: a pushed build is not loaded",
        ),
        (
            "PLUGIN_BUILDX_OUTPUT_FORMAT",
            bool(settings.buildx_output_format) and not settings.tar_path,
            "only with PLUGIN_TAR_PATH",
        ),
        (
            "PLUGIN_PLATFORM",
            len(_platforms(settings)) > 1 and created_driver(settings) is None,
            "a platform list needs PLUGIN_BUILDER_DRIVER=docker-container (or an engine with the "
            "containerd image store); the docker driver refuses it",
        ),
        (
            "PLUGIN_ENABLE_CACHE",
            settings.enable_cache and settings.no_push,
            "the registry cache needs the ECR login, which a run without a push does not make",
        ),
        (
            "PLUGIN_CACHE_TTL",
            settings.cache_ttl > 0,
            "kaniko only; expire buildx caches with a lifecycle policy",
        ),
    )
    out += [_unused(variable, hint) for variable, hit, hint in checks if hit]
    attesting = bool(settings.provenance and settings.provenance.strip().lower() != "false") or settings.sbom
    if settings.reproducible and attesting:
        out.append(("reproducible.attestations_vary", {"variable": "PLUGIN_PROVENANCE/PLUGIN_SBOM"}))
    return out

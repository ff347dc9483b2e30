"""Every local input checked before the first network call, and by ``plan``: one ConfigError for all.

What is read and checked here: the lifecycle and repository policies, PLUGIN_CONFIG, the user's
Docker config, the Dockerfile and the build context, the SSH key, the build secrets' files (and
variables), the source tarball, the cosign key and parameters, HARNESS_CA_PATH, and the output
files' places.
PLUGIN_ENV_FILE and ``.tags`` are read even earlier, while the settings and tags are resolved, with
the same readers (``plugin.core.files``). A run that cannot build stops here with exit 2: nothing is
created in ECR, no token is fetched, no role assumed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from plugin.aws.policies import LIFECYCLE_VARIABLE, REPOSITORY_POLICY_VARIABLE, load_policy
from plugin.config.cosign import param_problems
from plugin.core import envfile
from plugin.core.errors import ConfigError, Problem
from plugin.core.files import check_regular, read_bytes
from plugin.core.log import MASK
from plugin.registry.dockerconfig import existing_config, load_base, load_existing
from plugin.run.outputs import is_stream
from plugin.run.resolve import Resolved

BUILDKIT_SECRET_LIMIT = 500 * 1024  # BuildKit refuses larger secrets
_REMOTE_CONTEXT = re.compile(r"^([a-z][a-z0-9+.-]*://|git@)", re.IGNORECASE)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")

Check = Callable[[Resolved], list[Problem]]


def check_inputs(r: Resolved) -> None:
    """Run every check; raise one ConfigError naming every bad input (exit 2)."""
    problems: list[Problem] = []
    for check in CHECKS:
        try:
            problems += check(r)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)


# -- JSON documents --------------------------------------------------------------------------------


def policies(r: Resolved) -> list[Problem]:
    problems: list[Problem] = []
    for value, variable in (
        (r.settings.lifecycle_policy, LIFECYCLE_VARIABLE),
        (r.settings.repository_policy, REPOSITORY_POLICY_VARIABLE),
    ):
        try:
            load_policy(value, variable)
        except ConfigError as exc:
            problems += exc.problems
    return problems


def docker_configs(r: Resolved) -> list[Problem]:
    """PLUGIN_CONFIG and the user's own Docker config, which the per-run config is merged from."""
    problems: list[Problem] = []
    if r.settings.config:
        try:
            load_base(r.settings.config.get_secret_value())
        except ConfigError as exc:
            problems += exc.problems
    found = existing_config(r.loaded.env)
    if found is not None:
        load_existing(*found)
    return problems


# -- what the builder reads ----------------------------------------------------------------------------


def is_remote_context(context: str) -> bool:
    """A git or https URL: the builder fetches it, there is nothing local to check."""
    return bool(_REMOTE_CONTEXT.match(context))


def build_files(r: Resolved) -> list[Problem]:
    """The context is a directory and the Dockerfile a file (as given, or inside the context)."""
    s = r.settings
    if s.push_only or is_remote_context(s.context):
        return []
    context = Path(s.context)
    if not context.is_dir():
        why = "does not exist" if not context.exists() else "is not a directory"
        return [Problem("PLUGIN_CONTEXT", s.context, f"the build context directory ({why})")]
    inside = context / (s.context_sub_path or "") / s.dockerfile
    for candidate in (Path(s.dockerfile), inside):
        if candidate.is_file():
            return []
    where = Path(s.dockerfile).resolve()
    return [
        Problem(
            "PLUGIN_DOCKERFILE",
            s.dockerfile,
            f"an existing file (dockerfile does not exist at path: {where})",
        )
    ]


def ssh_key(r: Resolved) -> list[Problem]:
    """PLUGIN_SSH_AGENT_KEY holds the private key itself (PEM or OpenSSH), not a path to one."""
    key = r.settings.ssh_agent_key
    if key is None or r.builder == "kaniko":
        return []
    text = key.get_secret_value()
    if _PRIVATE_KEY.search(text):
        return []
    hint = "; it names a file: pass the key's content" if "\n" not in text and os.path.isfile(text) else ""
    return [Problem("PLUGIN_SSH_AGENT_KEY", MASK, f"a private key (-----BEGIN ... PRIVATE KEY-----){hint}")]


def _spec_pairs(spec: str) -> dict[str, str]:
    """``id=x,src=/path`` as {"id": "x", "src": "/path"}."""
    pairs = (part.partition("=") for part in spec.split(","))
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def build_secrets(r: Resolved) -> list[Problem]:
    """Each secret file is a readable regular file BuildKit accepts; each secret variable is set."""
    s, env = r.settings, r.loaded.env
    if r.builder == "kaniko":
        return []
    problems: list[Problem] = []
    files = [("PLUGIN_SECRETS_FROM_FILE", item.partition("=")[2].strip()) for item in s.secrets_from_file]
    if s.secret:
        pairs = _spec_pairs(s.secret)
        source = pairs.get("src") or pairs.get("source")
        if source and pairs.get("type", "file") == "file":
            files.append(("PLUGIN_SECRET", source))
    for variable, path in files:
        try:
            read_bytes(path, variable, what="a readable secret file", limit=BUILDKIT_SECRET_LIMIT)
        except ConfigError as exc:
            problems += exc.problems
    for item in s.secrets_from_env:
        name = item.partition("=")[2].strip()
        if not env.get(name):
            problems.append(Problem("PLUGIN_SECRETS_FROM_ENV", item, f"the variable {name} to be set"))
    return problems


def builder_config(r: Resolved) -> list[Problem]:
    path = r.settings.builder_config
    if r.builder != "buildx" or not path:
        return []
    check_regular(path, "PLUGIN_BUILDER_CONFIG", what="a buildkitd config file")
    return []


def source_tarball(r: Resolved) -> list[Problem]:
    """Push-only's tarball: kaniko pushes it itself (docker-save format); docker/buildx `docker load` it."""
    s = r.settings
    if not (s.push_only and s.source_tar_path):
        return []
    if r.builder == "kaniko":
        from plugin.registry.tarpush import check_tarball  # noqa: PLC0415 - the registry client, for this case only

        check_tarball(s.source_tar_path)
        return []
    check_regular(s.source_tar_path, "PLUGIN_SOURCE_TAR_PATH", what="an image tarball")
    import tarfile  # noqa: PLC0415 - push-only with a tarball only

    try:
        with tarfile.open(s.source_tar_path) as tar:
            if not {"manifest.json", "index.json"} & set(tar.getnames()):
                return [
                    Problem("PLUGIN_SOURCE_TAR_PATH", s.source_tar_path, "an image tarball (docker save)")
                ]
    except (OSError, EOFError, ValueError, tarfile.TarError) as exc:
        return [Problem("PLUGIN_SOURCE_TAR_PATH", s.source_tar_path, f"a readable image tarball ({exc})")]
    return []


def cosign(r: Resolved) -> list[Problem]:
    """PLUGIN_COSIGN_PRIVATE_KEY is an encrypted cosign key (its text, or a file holding it) and
    PLUGIN_COSIGN_PARAMS holds no keyless flag, --key or registry credential (plugin.config.cosign)."""
    s = r.settings
    if s.no_push or s.cosign_private_key is None:
        return []
    from plugin.run.signing import load_key  # noqa: PLC0415 - only when signing

    problems = param_problems(s)
    try:
        load_key(s)
    except ConfigError as exc:
        problems += exc.problems
    return problems


# -- trust and outputs ------------------------------------------------------------------------------------


def ca_file(r: Resolved) -> list[Problem]:
    if r.ctx.ca_path:
        from plugin.aws.trust import load_ca  # noqa: PLC0415 - ssl, only when a CA is given

        load_ca(r.ctx.ca_path)
    return []


def _place_problem(variable: str, path: str) -> Problem | None:
    """A file can be written at ``path``: it is not a directory and its nearest existing parent is one."""
    target = Path(path)
    if target.is_dir():
        return Problem(variable, path, "a file path (it is a directory)")
    if target.exists() and not target.is_file():
        return Problem(variable, path, "a regular file path (it is a device, socket or FIFO)")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return Problem(variable, path, f"a file path ({parent} is not a directory)")
    return None


_EFFECTIVE = os.access in os.supports_effective_ids  # the effective user writes, as the plugin runs


def _folder_problem(variable: str, path: str, directory: bool) -> Problem | None:
    """Every output (the files the plugin writes, the tarball, kaniko's OCI layout) goes first to a
    temporary name in the folder of ``path`` and is renamed there: that folder (or its nearest
    existing parent) must be writable. A directory output must not be an existing file."""
    target = Path(os.path.realpath(path))
    if directory and target.exists() and not target.is_dir():
        return Problem(variable, path, "a directory path (it is a file)")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE):
        return Problem(variable, path, f"a path in a writable directory ({parent} is not writable)")
    if directory and not parent.is_dir():
        return Problem(variable, path, f"a directory path ({parent} is not a directory)")
    return None


def output_places(r: Resolved) -> list[Problem]:
    """Output files (and the tarball) go to distinct writable places; DRONE_OUTPUT can carry the tar path."""
    s, ctx = r.settings, r.ctx
    kaniko = r.builder == "kaniko" and not s.push_only
    named = [
        ("DRONE_OUTPUT", ctx.output_file),
        ("PLUGIN_ARTIFACT_FILE", s.artifact_file),
        ("DRONE_CARD_PATH", None if ctx.card_path and is_stream(ctx.card_path) else ctx.card_path),
        ("PLUGIN_METADATA_FILE", s.metadata_file if r.builder == "buildx" else None),
        ("PLUGIN_CACHE_METRICS_FILE", s.cache_metrics_file if r.builder == "buildx" else None),
        ("PLUGIN_IMAGE_NAME_WITH_DIGEST_FILE", s.image_name_with_digest_file if kaniko else None),
        ("PLUGIN_IMAGE_NAME_TAG_WITH_DIGEST_FILE", s.image_name_tag_with_digest_file if kaniko else None),
        ("PLUGIN_TAR_PATH", s.tar_path),
        ("PLUGIN_OCI_LAYOUT_PATH", s.oci_layout_path if kaniko else None),
    ]
    files = [(v, path) for v, path in named if path and v != "PLUGIN_OCI_LAYOUT_PATH"]
    problems = [p for v, path in files if (p := _place_problem(v, path)) is not None]
    # Every output is written beside its path and renamed into place with the others (run/staging.py):
    # a folder that takes no new entry would fail the run after the push, so it is refused now.
    refused = {p.variable for p in problems}
    places: list[tuple[str, str | None, bool]] = [(v, path, False) for v, path in files if v not in refused]
    places.append(("PLUGIN_OCI_LAYOUT_PATH", named[-1][1], True))
    for variable, path, directory in places:
        if path and (p := _folder_problem(variable, path, directory)):
            problems.append(p)
    seen: dict[str, str] = {}
    for variable, path in named:
        if path:
            real = os.path.realpath(path)
            if real in seen:
                problems.append(Problem(variable, path, f"a file of its own ({seen[real]} names it too)"))
            seen.setdefault(real, variable)
    if s.tar_path and ctx.output_file and not envfile.representable(s.tar_path):
        # envfile.representable, in words: the path is written to DRONE_OUTPUT as IMAGE_TAR_PATH
        why = (
            "a path DRONE_OUTPUT can carry as IMAGE_TAR_PATH: no backslash or carriage return, "
            "and no ' together with \" or $ (rename the tarball, e.g. image.tar)"
        )
        problems.append(Problem("PLUGIN_TAR_PATH", s.tar_path, why))
    return problems


CHECKS: tuple[Check, ...] = (
    policies,
    docker_configs,
    build_files,
    ssh_key,
    build_secrets,
    builder_config,
    source_tarball,
    cosign,
    ca_file,
    output_places,
)

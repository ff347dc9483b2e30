"""Every variable of the anchor plugins (anchor-env.md section A) is accepted and lands on its field.

The table is read from the reference at test time, so a variable added there without a field fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from plugin.config.docs import type_name
from plugin.config.load import load_settings
from plugin.config.settings import Settings, known_variables
from tests.support.reference import reference_file

ANCHOR_ENV = reference_file("anchor-env.md")

# Names in section A's tables that are CI context or process environment, not settings: the model does
# not read them (plugin.ci.context and the AWS SDK do), so they are left out of this table on purpose.
EXCLUDED = frozenset(
    {
        "DRONE_COMMIT_REF",  # auto-tag input (CIContext.commit_ref)
        "DRONE_COMMIT_SHA",  # revision label (CIContext.commit_sha)
        "DRONE_REPO_BRANCH",  # auto-tag default branch (CIContext.repo_branch)
        "DRONE_REMOTE_URL",  # source label (CIContext.remote_url)
        "DRONE_CARD_PATH",  # adaptive card path (CIContext.card_path)
        "DRONE_OUTPUT",  # output variables file (CIContext.output_file)
        "HARNESS_CA_PATH",  # corporate CA (CIContext.ca_path)
        "http_proxy",  # proxies: read by plugin.ci.context.proxy_env, passed as build args
        "https_proxy",
        "no_proxy",
        "AWS_WEB_IDENTITY_TOKEN_FILE",  # read by the AWS SDK itself
        "KANIKO_VERSION",  # set by the kaniko image, not by users
    }
)
ACCEPTED_PREFIXES = ("PLUGIN_", "ECR_", "DOCKER_", "AWS_")
ACCEPTED_NAMES = frozenset({"ARTIFACT_REGISTRY", "ACCESS_TOKEN", "DRONE_REPO_LINK"})

# Where a variable is not PLUGIN_<FIELD NAME>, the field it lands on. This is the compatibility decision
# for every alias, written once: e.g. PLUGIN_USERNAME means the base-image user (the kaniko-ecr meaning).
FIELD_OF = {
    "ARTIFACT_REGISTRY": "registry",
    "AWS_ACCESS_KEY_ID": "access_key",
    "AWS_PLUGIN_PATH_STYLE": "path_style",
    "AWS_REGION": "region",
    "AWS_SECRET_ACCESS_KEY": "secret_key",
    "DOCKER_BASE_IMAGE_PASSWORD": "base_password",
    "DOCKER_BASE_IMAGE_REGISTRY": "base_registry",
    "DOCKER_BASE_IMAGE_USERNAME": "base_username",
    "DOCKER_EMAIL": "email",
    "DOCKER_LAUNCH_DEBUG": "debug",
    "DOCKER_PASSWORD": "base_password",
    "DOCKER_PLUGIN_CONFIG": "config",
    "DOCKER_PLUGIN_MIRROR": "mirror",
    "DOCKER_REGISTRY": "base_registry",
    "DOCKER_USERNAME": "base_username",
    "DRONE_REPO_LINK": "repo_link",
    "ECR_ACCESS_KEY": "access_key",
    "ECR_CREATE_REPOSITORY": "create_repository",
    "ECR_REGION": "region",
    "ECR_SECRET_KEY": "secret_key",
    "PLUGIN_BASE_IMAGE_PASSWORD": "base_password",
    "PLUGIN_BASE_IMAGE_REGISTRY": "base_registry",
    "PLUGIN_BASE_IMAGE_USERNAME": "base_username",
    "PLUGIN_CUSTOM_PLATFORM": "platform",
    "PLUGIN_DEFAULT_SUFFIX": "auto_tag_suffix",
    "PLUGIN_DEFAULT_TAGS": "auto_tag",
    "PLUGIN_DESTINATION_TAR_PATH": "tar_path",
    "PLUGIN_DOCKER_PASSWORD": "base_password",
    "PLUGIN_DOCKER_REGISTRY": "base_registry",
    "PLUGIN_DOCKER_USERNAME": "base_username",
    "PLUGIN_DRY_RUN": "no_push",
    "PLUGIN_HARNESS_SELF_HOSTED_AZURE_ACCOUNT_KEY": "azure_account_key",
    "PLUGIN_HARNESS_SELF_HOSTED_AZURE_CLIENT_ID": "azure_client_id",
    "PLUGIN_HARNESS_SELF_HOSTED_AZURE_CLIENT_SECRET": "azure_client_secret",
    "PLUGIN_HARNESS_SELF_HOSTED_AZURE_OIDC_TOKEN": "azure_oidc_token",
    "PLUGIN_HARNESS_SELF_HOSTED_AZURE_TENANT_ID": "azure_tenant_id",
    "PLUGIN_HARNESS_SELF_HOSTED_GCP_JSON_KEY": "gcp_json_key",
    "PLUGIN_HARNESS_SELF_HOSTED_S3_ACCESS_KEY": "s3_access_key",
    "PLUGIN_HARNESS_SELF_HOSTED_S3_SECRET_KEY": "s3_secret_key",
    "PLUGIN_PASSWORD": "base_password",
    "PLUGIN_TAG": "tags",
    "PLUGIN_USERNAME": "base_username",
}

# Variables that are only valid with a partner set too.
COMPANIONS = {
    "access_key": {"PLUGIN_SECRET_KEY": "companion-secret"},
    "secret_key": {"PLUGIN_ACCESS_KEY": "AKIACOMPANION"},
    "push_only": {"PLUGIN_SOURCE_TAR_PATH": "image.tar"},
    # Tag variables are read per builder, as their anchors read them (plugin.config.anchors).
    "expand_tag": {"PLUGIN_BUILDER": "kaniko"},
    "reproducible": {"PLUGIN_BUILDER": "kaniko"},  # the docker builder cannot (plugin.config.anchors)
    "tags": {"PLUGIN_BUILDER": "docker"},
    "auto_tag": {"PLUGIN_BUILDER": "docker"},
    "auto_tag_suffix": {"PLUGIN_BUILDER": "docker"},
}
# Fields whose type needs a particular value: (what is set, what the field holds).
SPECIAL_VALUES: dict[str, tuple[str, Any]] = {
    "role_duration": ("1800", 1800),
    "daemon_args": ("--iptables=false  --bridge=none", ["--iptables=false", "--bridge=none"]),
    "region": ("eu-west-3", "eu-west-3"),
}


def _expand(token: str, previous: str | None) -> list[str]:
    """Undo the table's shorthand: NAME_{A,B} braces, and `_SUFFIX` (previous name, last parts replaced)."""
    braces = re.fullmatch(r"(.*)\{(.*)\}", token)
    if braces:
        return [braces[1] + part for part in braces[2].split(",")]
    if token.startswith("_") and previous:
        parts = token.strip("_").split("_")
        return ["_".join(previous.split("_")[: -len(parts)] + parts)]
    return [token]


def section_a_variables() -> list[str]:
    """The backticked names in the first column of every table in section A of anchor-env.md."""
    text = ANCHOR_ENV.read_text(encoding="utf-8")
    section = text.split("\n## A.", 1)[1].split("\n## B.", 1)[0]
    names: list[str] = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        previous = None
        for token in re.findall(r"`([A-Za-z_][A-Za-z0-9_{},]*)`", line.split("|")[1]):
            if token.endswith("_") and not token.startswith("_"):
                continue  # `HARNESS_`UPPER: a prefix in prose, not a name
            for name in _expand(token, previous):
                previous = name
                if name not in names:
                    names.append(name)
    return names


SECTION_A = section_a_variables()
SETTINGS_VARIABLES = [n for n in SECTION_A if n not in EXCLUDED]


def expected_field(variable: str) -> str:
    return FIELD_OF.get(variable, variable.removeprefix("PLUGIN_").lower())


def value_for(field: str) -> tuple[str, Any]:  # noqa: PLR0911 - one return per field type reads best
    """A valid value for the field's type, not its default: (what is set, what the field holds)."""
    if field in SPECIAL_VALUES:
        return SPECIAL_VALUES[field]
    info = Settings.model_fields[field]
    kind = type_name(info)
    if kind == "bool":
        return ("false", False) if info.default is True else ("true", True)
    if kind == "int":
        return "7", 7
    if kind == "list":
        return " k1=v1 , k2=v2 ", ["k1=v1", "k2=v2"]
    if kind.startswith("list ("):
        return "k1=v1,x ; k2=v2", ["k1=v1,x", "k2=v2"]
    if kind == "secret":
        return "s3cret-value", "s3cret-value"
    if "\\|" in kind:
        choice = next(c for c in kind.split(" \\| ") if c != info.default)
        return choice, choice
    return "value-1", "value-1"


class TestSectionATable:
    """The parsed table is what the reference says: nothing unexpected and nothing lost."""

    def test_every_name_is_a_setting_or_explicitly_excluded(self) -> None:
        """A new kind of name in section A must be classified here, not silently skipped."""
        unclassified = [
            n
            for n in SECTION_A
            if n not in EXCLUDED and not n.startswith(ACCEPTED_PREFIXES) and n not in ACCEPTED_NAMES
        ]
        assert unclassified == []

    def test_shorthand_rows_are_expanded(self) -> None:
        """`X_S3_ACCESS_KEY` / `_S3_SECRET_KEY` and AZURE_{...} rows give full names."""
        assert "PLUGIN_HARNESS_SELF_HOSTED_S3_SECRET_KEY" in SECTION_A
        assert "PLUGIN_BUILDKIT_RESPONSE_HEADER_TIMEOUT" in SECTION_A
        assert "PLUGIN_HARNESS_SELF_HOSTED_AZURE_OIDC_TOKEN" in SECTION_A

    def test_table_covers_the_three_anchors(self) -> None:
        """kaniko-ecr alone has 75 PLUGIN_* names; with docker and buildx there are many more."""
        assert len(SETTINGS_VARIABLES) > 160


class TestAnchorVariableLandsOnItsField:
    """Set alone (with PLUGIN_REPO), each anchor variable is accepted and fills the right field."""

    @pytest.mark.parametrize("variable", SETTINGS_VARIABLES)
    def test_variable_fills_its_field(self, variable: str, tmp_path: Path) -> None:
        """The variable is known, maps to the expected field, and the field holds the value set."""
        field = expected_field(variable)
        assert known_variables().get(variable) == field
        raw, expected = value_for(field)
        if field == "env_file":
            raw = expected = str(tmp_path / "plugin.env")
            Path(raw).write_text("PLUGIN_TARGET=from-file\n", encoding="utf-8")
        env = {"PLUGIN_REPO": "team/app", **COMPANIONS.get(field, {}), variable: raw}

        loaded = load_settings(env)

        got = getattr(loaded.settings, field)
        if isinstance(got, SecretStr):
            got = got.get_secret_value()
        assert got == expected
        assert not [w for w in loaded.warnings if w[0] == "settings.unknown_variable"]

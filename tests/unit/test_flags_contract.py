"""Flag markers on settings fields: never on a secret, only real builder flags, styles that fit the type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from plugin.config.flags import BUILDX, KANIKO, Flag, Style, field_flags, flag_argv
from plugin.config.load import load_settings
from plugin.config.settings import Settings, is_secret
from plugin.core.log import REDACTOR
from plugin.run.plan import plan_document
from plugin.run.resolve import resolve
from tests.support.reference import reference_file

BUILDER_FLAGS = reference_file("builder-flags.md")
FIELDS = Settings.model_fields
FLAGGED = {name: field_flags(info) for name, info in FIELDS.items() if field_flags(info)}


def table_flags(heading: str) -> set[str]:
    """The flag column of one table of builder-flags.md (the section starting with ``heading``)."""
    text = BUILDER_FLAGS.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| (--[a-zA-Z-]+) ", section, flags=re.M))


def annotation_text(info: FieldInfo) -> str:
    return repr(info.annotation)


def marker_ids(items: list[tuple[str, Flag]]) -> list[str]:
    return [f"{name}:{flag.name}" for name, flag in items]


ALL_MARKERS = [(name, flag) for name, flags in FLAGGED.items() for flag in flags]


class TestSecretsNeverBecomeFlags:
    """Secret values go to env, stdin or files, never argv."""

    def test_no_secret_field_carries_a_flag(self) -> None:
        flagged_secrets = [name for name, info in FIELDS.items() if is_secret(info) and field_flags(info)]
        assert flagged_secrets == []

    def test_secret_detection_sees_every_secret_field(self) -> None:
        """is_secret() must not miss a SecretStr field, or the test above proves nothing."""
        secret_typed = [n for n, i in FIELDS.items() if "SecretStr" in annotation_text(i)]
        assert secret_typed == [n for n, i in FIELDS.items() if is_secret(i)]
        assert {"secret_key", "session_token", "base_password", "oidc_token_id"} <= set(secret_typed)

    def test_flag_render_refuses_a_secret(self) -> None:
        with pytest.raises(TypeError, match="secret values never go on argv"):
            Flag("--x", KANIKO).render(SecretStr("value"))


class TestFlagNamesExist:
    """Every Flag.name is a flag of the builder it is marked for (builder-flags.md)."""

    @pytest.mark.parametrize(
        ("name", "flag"),
        [(n, f) for n, f in ALL_MARKERS if f.builders & KANIKO],
        ids=marker_ids([(n, f) for n, f in ALL_MARKERS if f.builders & KANIKO]),
    )
    def test_kaniko_flag_is_in_the_executor_table(self, name: str, flag: Flag) -> None:
        assert flag.name in table_flags("kaniko executor")

    @pytest.mark.parametrize(
        ("name", "flag"),
        [(n, f) for n, f in ALL_MARKERS if f.builders & BUILDX],
        ids=marker_ids([(n, f) for n, f in ALL_MARKERS if f.builders & BUILDX]),
    )
    def test_buildx_flag_is_in_the_buildx_table(self, name: str, flag: Flag) -> None:
        assert flag.name in table_flags("docker buildx build")


class TestFlagStyles:
    """A flag's style fits its field's type, so rendering never guesses."""

    @pytest.mark.parametrize(("name", "flag"), ALL_MARKERS, ids=marker_ids(ALL_MARKERS))
    def test_style_fits_the_field_type(self, name: str, flag: Flag) -> None:
        annotation = annotation_text(FIELDS[name])
        assert flag.style in get_args(Style)
        if flag.style in ("switch", "tristate"):
            assert "bool" in annotation
        if flag.style == "tristate":
            assert "None" in annotation, "a tri-state flag is only emitted when the user set it"
        if flag.style == "repeat":
            assert "list" in annotation

    def test_defaults_emit_only_default_on_switches(self) -> None:
        """With nothing set, kaniko gets no marked flag; buildx only --pull (PLUGIN_PULL_IMAGE is on)."""
        settings = load_settings({"PLUGIN_REPO": "team/app"}).settings
        assert {b: flag_argv(settings, b) for b in ("kaniko", "buildx")} == {
            "kaniko": [],
            "buildx": ["--pull"],
        }


BUILDX_PLAN_ENV = {
    "PLUGIN_BUILDER": "buildx",
    "PLUGIN_REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "PLUGIN_REPO": "team/app",
    "PLUGIN_DOCKERFILE": "build/Dockerfile",
    "PLUGIN_BUILD_ARGS": "A=1",
    "PLUGIN_CUSTOM_LABELS": "team=core",
    "PLUGIN_TARGET": "runtime",
    "PLUGIN_PLATFORM": "linux/amd64,linux/arm64",
    "PLUGIN_NETWORK": "host",
    "PLUGIN_ADD_HOST": "db:10.0.0.5",
    "PLUGIN_QUIET": "true",
    "PLUGIN_NO_CACHE": "true",
    "PLUGIN_CACHE_FROM": "type=registry,ref=r/app:cache",
    "PLUGIN_CACHE_TO": "type=registry,ref=r/app:cache,mode=max",
    "PLUGIN_SECRET": "id=npmrc,src=/ws/.npmrc",
    "PLUGIN_SECRETS_FROM_ENV": "token=NPM_TOKEN",
    "PLUGIN_SECRETS_FROM_FILE": "cert=/ws/cert.pem",
    "PLUGIN_SSH_AGENT_KEY": "-----BEGIN KEY-----\nx\n-----END KEY-----",
    "PLUGIN_TAR_PATH": "/out/image.tar",
    "PLUGIN_BUILDER_DRIVER": "docker-container",
    "PLUGIN_BUILDER_DRIVER_OPTS": "network=host",
    "PLUGIN_BUILDER_CONFIG": "/ws/buildkitd.toml",
    "PLUGIN_BUILDKIT_VERSION": "moby/buildkit:v0.13.2",
    "PLUGIN_BUILDKIT_TLS_HANDSHAKE_TIMEOUT": "30s",
}


def documented_create_flags() -> set[str]:
    """The `docker buildx create` flags docs/buildx.md lists (builder-flags.md has no create table)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "buildx.md").read_text(encoding="utf-8")
    section = text.split("## Flags of `docker buildx create`", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(--[a-z-]+)`", section, flags=re.M))


class TestBuildxPlansUseRealFlags:
    """Like kaniko's executor argv: a buildx plan with every flag-making variable set uses real flags only."""

    @pytest.fixture(autouse=True)
    def _fresh_redactor(self) -> Iterator[None]:
        """Secrets other tests registered (``secret``) would mask parts of the flags."""
        REDACTOR.clear()
        yield
        REDACTOR.clear()

    def test_buildx_build_flags_are_in_the_buildx_table(self, tmp_path: Path) -> None:
        plan = plan_document(resolve(load_settings(BUILDX_PLAN_ENV), tmp_path))
        builds = [s["argv"] for s in plan["steps"] if s["argv"][:3] == ["docker", "buildx", "build"]]
        used = {a.split("=", 1)[0] for argv in builds for a in argv if a.startswith("--")}
        assert len(builds) == 2  # the pushing build and the tarball export
        assert {"--tag", "--push", "--output", "--metadata-file", "--cache-to", "--secret", "--ssh"} <= used
        assert used - table_flags("docker buildx build") == set()

    def test_buildx_create_flags_are_documented(self, tmp_path: Path) -> None:
        plan = plan_document(resolve(load_settings(BUILDX_PLAN_ENV), tmp_path))
        [create] = [s["argv"] for s in plan["steps"] if s["argv"][:3] == ["docker", "buildx", "create"]]
        used = {a.split("=", 1)[0] for a in create if a.startswith("--")}
        assert {"--use", "--name", "--driver", "--driver-opt", "--buildkitd-config"} <= used
        assert used - documented_create_flags() == set()

"""OCI labels and annotations from the CI context, the source date, and what each builder's plan gets."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugin.builders.buildx import buildx_plan
from plugin.builders.docker import docker_plan
from plugin.builders.kaniko import executor_argv
from plugin.builders.oci_labels import OCI, annotation_values, base_image, label_values, oci_values
from plugin.ci.context import CIContext
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError
from plugin.run.resolve import resolve
from plugin.target.destinations import Target
from plugin.target.sourcedate import resolve_source_date

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
TARGET = Target("123456789012.dkr.ecr.us-east-1.amazonaws.com", "team/app", ("1.2.3", "latest"))
DRONE = {
    "DRONE_COMMIT_SHA": "abc123",
    "DRONE_REMOTE_URL": "https://git.example.com/team/app.git",
    "DRONE_REPO_LINK": "https://git.example.com/team/app",
    "DRONE_REPO": "team/app-src",
}


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Away from the checkout's own Dockerfile and .git."""
    monkeypatch.chdir(tmp_path)


def settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({"PLUGIN_REPO": "team/app", **env}).settings


def values(ctx: CIContext, **env: str) -> dict[str, str]:
    return oci_values(settings(**env), ctx, "team/app", tags=["1.2.3", "latest"], now=NOW)


class TestValues:
    def test_drone(self) -> None:
        assert values(CIContext.from_env(DRONE)) == {
            f"{OCI}.created": "2025-01-02T03:04:05Z",
            f"{OCI}.revision": "abc123",
            f"{OCI}.source": "https://git.example.com/team/app.git",
            f"{OCI}.url": "https://git.example.com/team/app",
            f"{OCI}.version": "1.2.3",
            f"{OCI}.title": "app-src",
            f"{OCI}.vendor": "team",
            f"{OCI}.ref.name": "team/app",
        }

    def test_woodpecker(self) -> None:
        ctx = CIContext.from_env(
            {
                "CI_COMMIT_SHA": "w1",
                "CI_REPO_CLONE_URL": "https://wp.example/o/r.git",
                "CI_REPO_URL": "https://wp.example/o/r",
                "CI_REPO": "o/r",
                "CI_REPO_NAME": "r",
                "CI_REPO_OWNER": "o",
            }
        )
        found = values(ctx)
        assert (
            found[f"{OCI}.revision"] == "w1"
            and found[f"{OCI}.title"] == "r"
            and found[f"{OCI}.vendor"] == "o"
        )
        assert found[f"{OCI}.source"] == "https://wp.example/o/r.git"

    def test_harness_uses_the_drone_variables_and_github_style_fills_urls(self) -> None:
        ctx = CIContext.from_env(
            {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api", "GITHUB_SHA": "g1"}
        )
        found = values(ctx)
        assert found[f"{OCI}.source"] == found[f"{OCI}.url"] == "https://github.com/acme/api"
        assert (found[f"{OCI}.title"], found[f"{OCI}.vendor"], found[f"{OCI}.revision"]) == (
            "api",
            "acme",
            "g1",
        )

    def test_created_follows_the_source_date(self) -> None:
        ctx = CIContext.from_env({}).model_copy(update={"source_date": 1700000000})
        assert values(ctx)[f"{OCI}.created"] == "2023-11-14T22:13:20Z"

    def test_nothing_invented(self) -> None:
        assert set(values(CIContext.from_env({}))) == {
            f"{OCI}.{k}" for k in ("created", "version", "ref.name")
        }


class TestUserWins:
    def test_labels_one_value_per_key(self) -> None:
        s = settings(
            PLUGIN_OCI_LABELS="true",
            PLUGIN_LABEL_SCHEMA="title=schema-title",
            PLUGIN_CUSTOM_LABELS=f"{OCI}.vendor=me,empty",
        )
        found = label_values(
            s, CIContext.from_env(DRONE), "docker", repository="team/app", tags=["1"], now=NOW
        )
        assert found[f"{OCI}.title"] == "schema-title" and found[f"{OCI}.vendor"] == "me"
        assert found["empty"] is None
        assert list(found).count(f"{OCI}.created") == 1

    def test_kaniko_adds_no_label_unless_asked(self) -> None:
        assert label_values(settings(), CIContext.from_env(DRONE), "kaniko") == {}
        assert f"{OCI}.created" in label_values(
            settings(PLUGIN_OCI_LABELS="true"), CIContext.from_env(DRONE), "kaniko"
        )

    def test_docker_keeps_the_anchor_labels_by_default(self) -> None:
        found = label_values(settings(), CIContext.from_env({}), "docker", now=NOW)
        assert found == {f"{OCI}.created": "2025-01-02T03:04:05Z", f"{OCI}.revision": "00000000"}

    def test_annotations(self) -> None:
        s = settings(PLUGIN_OCI_ANNOTATIONS="true", PLUGIN_ANNOTATIONS=f"{OCI}.title=mine,x=y")
        found = annotation_values(s, CIContext.from_env(DRONE), repository="team/app", tags=["1"], now=NOW)
        assert found[f"{OCI}.title"] == "mine" and found["x"] == "y" and found[f"{OCI}.revision"] == "abc123"


class TestBaseImage:
    @pytest.mark.parametrize(
        ("dockerfile", "env", "expected"),
        [
            ("FROM alpine:3.20\n", {}, "alpine:3.20"),
            ("FROM scratch\n", {}, None),
            ("ARG V=3.19\nFROM --platform=$BUILDPLATFORM alpine:${V} AS b\nFROM b\n", {}, "alpine:3.19"),
            ("ARG V=3.19\nFROM alpine:$V\n", {"PLUGIN_BUILD_ARGS": "V=3.21"}, "alpine:3.21"),
            ("FROM alpine:${MISSING}\n", {}, None),
            (
                "FROM golang:1 AS build\nFROM \\\n  debian:12 AS run\nFROM build\n",
                {"PLUGIN_TARGET": "run"},
                "debian:12",
            ),
            ("# syntax=docker/dockerfile:1\nFROM ${X:-busybox:1}\n", {}, "busybox:1"),
        ],
    )  # fmt: skip
    def test_the_stage_built(
        self, tmp_path: Path, dockerfile: str, env: dict[str, str], expected: str | None
    ) -> None:
        (tmp_path / "Dockerfile").write_text(dockerfile)
        assert base_image(settings(**env), tmp_path) == expected


class TestPlans:
    def test_buildx_reproducible_annotations(self) -> None:
        s = settings(
            PLUGIN_BUILDER="buildx", PLUGIN_BUILDER_DRIVER="docker-container", PLUGIN_REPRODUCIBLE="true",
            PLUGIN_OCI_ANNOTATIONS="true",
        )  # fmt: skip
        ctx = CIContext.from_env(DRONE).model_copy(update={"source_date": 1700000000})
        argv = next(st for st in buildx_plan(s, ctx, TARGET, {}, now=NOW).steps if st.name == "build").argv
        assert "--output=type=image,push=true,rewrite-timestamp=true" in argv and "--push" not in argv
        assert "--provenance=false" in argv
        assert "--build-arg=SOURCE_DATE_EPOCH=1700000000" in argv
        assert f"--annotation={OCI}.revision=abc123" in argv
        assert f"--label={OCI}.created=2023-11-14T22:13:20Z" in argv

    def test_buildx_reproducible_single_manifest_and_provenance_given(self) -> None:
        s = settings(
            PLUGIN_BUILDER="buildx", PLUGIN_BUILDER_DRIVER="docker-container", PLUGIN_REPRODUCIBLE="true",
            PLUGIN_SINGLE_MANIFEST="true",
        )  # fmt: skip
        argv = next(
            st for st in buildx_plan(s, CIContext.from_env({}), TARGET, {}).steps if st.name == "build"
        ).argv
        assert "--output=type=image,push=true,oci-mediatypes=false,rewrite-timestamp=true" in argv
        s = settings(
            PLUGIN_BUILDER="buildx",
            PLUGIN_BUILDER_DRIVER="docker-container",
            PLUGIN_REPRODUCIBLE="true",
            PLUGIN_PROVENANCE="max",
        )
        argv = next(
            st for st in buildx_plan(s, CIContext.from_env({}), TARGET, {}).steps if st.name == "build"
        ).argv
        assert "--provenance=mode=max" in argv and "--provenance=false" not in argv

    def test_kaniko(self) -> None:
        s = settings(PLUGIN_BUILDER="kaniko", PLUGIN_REPRODUCIBLE="true", PLUGIN_OCI_ANNOTATIONS="true",
                     PLUGIN_BUILD_ARGS="SOURCE_DATE_EPOCH=5")  # fmt: skip
        ctx = CIContext.from_env(DRONE).model_copy(update={"source_date": 1700000000})
        argv = executor_argv(s, ctx, TARGET, {}, now=NOW)
        assert "--reproducible" in argv and f"--annotation={OCI}.version=1.2.3" in argv
        assert [a for a in argv if "SOURCE_DATE_EPOCH" in a] == [
            "--build-arg=SOURCE_DATE_EPOCH=5"
        ]  # the user's

    def test_docker_labels(self) -> None:
        s = settings(PLUGIN_BUILDER="docker", PLUGIN_OCI_LABELS="true")
        argv = next(
            st
            for st in docker_plan(s, CIContext.from_env(DRONE), TARGET, {}, now=NOW).steps
            if st.name == "build"
        ).argv
        assert f"--label={OCI}.ref.name=team/app" in argv


class TestRefusals:
    def resolve(self, **env: str):  # type: ignore[no-untyped-def]
        return resolve(load_settings({"PLUGIN_REPO": "team/app", "PLUGIN_TAGS": "1", **env}))

    @pytest.mark.parametrize("variable", ["PLUGIN_OCI_ANNOTATIONS", "PLUGIN_ANNOTATIONS"])
    def test_docker_refuses_annotations(self, variable: str) -> None:
        value = "true" if variable == "PLUGIN_OCI_ANNOTATIONS" else "a=b"
        with pytest.raises(ConfigError) as caught:
            self.resolve(PLUGIN_BUILDER="docker", **{variable: value})
        assert caught.value.problems[0].variable == variable

    @pytest.mark.parametrize("variable", ["PLUGIN_OCI_ANNOTATIONS", "PLUGIN_REPRODUCIBLE"])
    def test_the_buildx_docker_driver_refuses(self, variable: str) -> None:
        with pytest.raises(ConfigError) as caught:
            self.resolve(PLUGIN_BUILDER="buildx", **{variable: "true"})
        assert caught.value.problems[0].variable == variable
        assert "docker-container" in caught.value.problems[0].expected

    def test_docker_leaves_reproducible_out_with_a_warning(self) -> None:
        loaded = load_settings(
            {"PLUGIN_REPO": "team/app", "PLUGIN_BUILDER": "docker", "PLUGIN_REPRODUCIBLE": "true"}
        )
        assert not loaded.settings.reproducible
        assert any(f.get("variable") == "PLUGIN_REPRODUCIBLE" for _, f in loaded.warnings)


def git(repo: Path, *argv: str, when: int = 1600000000) -> None:
    names = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@b",
    }
    env = {**os.environ, **names, "GIT_COMMITTER_DATE": f"@{when} +0100", "GIT_AUTHOR_DATE": f"@{when} +0100"}
    subprocess.run(["git", "-C", str(repo), *argv], env=env, check=True, capture_output=True)


class TestSourceDate:
    def test_precedence(self, tmp_path: Path) -> None:
        git(tmp_path, "init", "-q")
        (tmp_path / "Dockerfile").write_text("FROM scratch\n")
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-q", "-m", "x")
        s = settings(PLUGIN_REPRODUCIBLE="true", PLUGIN_BUILDER="kaniko")
        found = resolve_source_date(s, CIContext.from_env({}), tmp_path)
        assert found is not None and found.epoch == 1600000000 and found.origin.startswith("commit ")
        env_date = resolve_source_date(s, CIContext.from_env({"SOURCE_DATE_EPOCH": "42"}), tmp_path)
        assert env_date is not None and (env_date.epoch, env_date.origin) == (42, "SOURCE_DATE_EPOCH")
        given = settings(PLUGIN_SOURCE_DATE_EPOCH="7")
        assert (
            resolve_source_date(given, CIContext.from_env({"SOURCE_DATE_EPOCH": "42"}), tmp_path).epoch == 7
        )  # type: ignore[union-attr]

    def test_not_looked_for_unless_asked(self, tmp_path: Path) -> None:
        assert (
            resolve_source_date(settings(), CIContext.from_env({"SOURCE_DATE_EPOCH": "42"}), tmp_path) is None
        )

    @pytest.mark.parametrize(("env", "variable"), [({"SOURCE_DATE_EPOCH": "soon"}, "SOURCE_DATE_EPOCH")])
    def test_bad_values(self, tmp_path: Path, env: dict[str, str], variable: str) -> None:
        with pytest.raises(ConfigError) as caught:
            resolve_source_date(
                settings(PLUGIN_REPRODUCIBLE="true", PLUGIN_BUILDER="kaniko"),
                CIContext.from_env(env),
                tmp_path,
            )
        assert caught.value.problems[0].variable == variable

    def test_milliseconds_are_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError):
            resolve_source_date(
                settings(PLUGIN_SOURCE_DATE_EPOCH="1700000000000"), CIContext.from_env({}), tmp_path
            )

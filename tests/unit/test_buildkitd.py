"""What a created BuildKit builder is given: the generated buildkitd.toml (registry tables, merge under
PLUGIN_BUILDER_CONFIG, the TOML writer) and the preloaded BuildKit image (buildx-ecr's assets dir)."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.builders.buildkitd import (
    assets_dir,
    buildkitd_toml,
    dumps,
    generated_config,
    load_user_config,
    loaded_buildkit,
    merge,
    registry_tables,
)
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError
from plugin.run.resolve import resolve

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
WEST = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
BASE = {
    "PLUGIN_BUILDER": "buildx",
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1",
}


def tables(tmp_path: Path, **extra: str) -> dict[str, dict[str, Any]]:
    r = resolve(load_settings({**BASE, **extra}), tmp_path)
    return registry_tables(r.settings, r.target, r.ctx)


def toml_for(tmp_path: Path, **extra: str) -> dict[str, Any]:
    r = resolve(load_settings({**BASE, **extra}), tmp_path)
    return tomllib.loads(buildkitd_toml(r.settings, r.target, r.ctx))


class TestRegistryTables:
    def test_nothing_to_say_by_default(self, tmp_path: Path) -> None:
        r = resolve(load_settings(BASE), tmp_path)
        assert generated_config(r.settings, r.target, r.ctx) == {}

    def test_insecure_marks_every_push_registry_like_dockerd_does(self, tmp_path: Path) -> None:
        """http + insecure: HTTPS without verification, falling back to HTTP (dockerd's insecure registry)."""
        found = tables(tmp_path, PLUGIN_INSECURE="true", PLUGIN_EXTRA_REGISTRIES=WEST)
        assert found == {REGISTRY: {"http": True, "insecure": True}, WEST: {"http": True, "insecure": True}}

    def test_insecure_registry_list(self, tmp_path: Path) -> None:
        found = tables(tmp_path, PLUGIN_INSECURE_REGISTRY="http://10.0.0.5:5000,nexus.local")
        assert found == {
            "10.0.0.5:5000": {"http": True, "insecure": True},
            "nexus.local": {"http": True, "insecure": True},
        }

    def test_mirrors_become_docker_hub_mirrors_and_plain_http_ones_say_so(self, tmp_path: Path) -> None:
        found = tables(
            tmp_path,
            PLUGIN_MIRROR="https://mirror.gcr.io/",
            PLUGIN_REGISTRY_MIRRORS="http://10.0.0.9:5000/hub,mirror.gcr.io",
        )
        assert found == {
            "docker.io": {"mirrors": ["mirror.gcr.io", "10.0.0.9:5000/hub"]},
            "10.0.0.9:5000": {"http": True},
        }

    def test_harness_ca_is_trusted_for_every_registry_the_build_talks_to(self, tmp_path: Path) -> None:
        found = tables(
            tmp_path,
            HARNESS_CA_PATH="/etc/harness/ca.pem",
            PLUGIN_BASE_IMAGE_REGISTRY="https://base.example",
            PLUGIN_BASE_IMAGE_USERNAME="u",
            PLUGIN_BASE_IMAGE_PASSWORD="p",
        )
        assert found == {
            host: {"ca": ["/etc/harness/ca.pem"]} for host in (REGISTRY, "base.example", "docker.io")
        }


class TestMergeUnderTheUsersConfig:
    def test_users_keys_win_and_tables_merge(self, tmp_path: Path) -> None:
        user = tmp_path / "buildkitd.toml"
        user.write_text(
            'debug = true\n[registry."docker.io"]\nmirrors = ["own.mirror"]\n'
            f'[registry."{REGISTRY}"]\ninsecure = false\n[[worker.oci.gcpolicy]]\nkeepBytes = 1024\n'
        )
        found = toml_for(
            tmp_path, PLUGIN_BUILDER_CONFIG=str(user), PLUGIN_INSECURE="true", PLUGIN_MIRROR="m.example"
        )
        assert found == {
            "debug": True,
            "registry": {
                REGISTRY: {"http": True, "insecure": False},
                "docker.io": {"mirrors": ["own.mirror"]},
            },
            "worker": {"oci": {"gcpolicy": [{"keepBytes": 1024}]}},
        }

    def test_merge_is_deep(self) -> None:
        assert merge({"a": {"b": 1, "c": {"d": 2}}}, {"a": {"c": {"e": 3}}, "f": 4}) == {
            "a": {"b": 1, "c": {"d": 2, "e": 3}},
            "f": 4,
        }

    def test_a_missing_user_config_names_the_variable(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            load_user_config(str(tmp_path / "absent.toml"))
        assert caught.value.problems[0].variable == "PLUGIN_BUILDER_CONFIG"
        assert "a readable buildkitd TOML file" in caught.value.problems[0].expected

    def test_an_invalid_user_config_names_the_variable(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.toml"
        bad.write_text("[registry\nhttp = true\n")
        with pytest.raises(ConfigError) as caught:
            load_user_config(str(bad))
        assert caught.value.problems[0].variable == "PLUGIN_BUILDER_CONFIG"
        assert "a valid buildkitd TOML file" in caught.value.problems[0].expected


# -- the TOML writer ---------------------------------------------------------------------------------

_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
_scalars = (
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    | st.dates()
    | st.datetimes(timezones=st.just(UTC))
    | st.times()
)
_values = st.recursive(
    _scalars | st.lists(_scalars, max_size=3),
    lambda inner: (
        st.dictionaries(_keys, inner, max_size=3)
        | st.lists(st.dictionaries(_keys, inner, max_size=3), max_size=2)
    ),
    max_leaves=12,
)


class TestDumps:
    def test_buildkitd_shapes(self) -> None:
        data = {
            "debug": True,
            "registry": {"docker.io": {"mirrors": ["a", "b"]}, "127.0.0.1:5000": {"http": True}},
            "worker": {"oci": {"gc": True, "gcpolicy": [{"keepBytes": 10, "filters": ["x"]}, {"all": True}]}},
            "empty": {},
        }
        text = dumps(data)
        assert '[registry."127.0.0.1:5000"]' in text
        assert text.count("[[worker.oci.gcpolicy]]") == 2
        assert tomllib.loads(text) == data

    def test_awkward_strings(self) -> None:
        data = {'key with "quotes"': 'va"l\\ue\x7f\n\t\x00', "ü": "ö"}
        assert tomllib.loads(dumps(data)) == data

    def test_dates_and_special_floats(self) -> None:
        data = {
            "d": date(2024, 1, 2),
            "t": time(3, 4, 5),
            "dt": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "f": float("inf"),
        }
        assert tomllib.loads(dumps(data)) == data

    @settings(max_examples=150, deadline=None)
    @given(st.dictionaries(_keys, _values, max_size=4))
    def test_round_trip(self, data: dict[str, Any]) -> None:
        """Whatever tomllib could have read, dumps writes back to the same data."""
        assert tomllib.loads(dumps(data)) == data


# -- the loaded BuildKit image -----------------------------------------------------------------------


class TestLoadedBuildkit:
    def assets(
        self, tmp_path: Path, version: object = {"buildkit_version": "harness/buildkit:1.0.18"}
    ) -> Path:
        (tmp_path / "buildkit.tar").write_bytes(b"tar")
        (tmp_path / "version.json").write_text(json.dumps(version))
        return tmp_path

    def test_tarball_and_its_image_name(self, tmp_path: Path) -> None:
        folder = self.assets(tmp_path)
        settings_ = load_settings({**BASE, "PLUGIN_BUILDKIT_ASSETS_DIR": str(folder)}).settings
        assert loaded_buildkit(settings_) == (folder / "buildkit.tar", "harness/buildkit:1.0.18")

    def test_off_when_asked(self, tmp_path: Path) -> None:
        env = {
            **BASE,
            "PLUGIN_BUILDKIT_ASSETS_DIR": str(self.assets(tmp_path)),
            "PLUGIN_USE_LOADED_BUILDKIT": "false",
        }
        assert loaded_buildkit(load_settings(env).settings) is None

    @pytest.mark.parametrize("version", [{}, {"buildkit_version": ""}, ["x"], "not json"])
    def test_no_usable_version_file(self, tmp_path: Path, version: object) -> None:
        folder = self.assets(tmp_path, version)
        if version == "not json":
            (folder / "version.json").write_text("{")
        env = {**BASE, "PLUGIN_BUILDKIT_ASSETS_DIR": str(folder)}
        assert loaded_buildkit(load_settings(env).settings) is None

    def test_default_directory_is_slash_buildkit(self) -> None:
        """Where buildx-ecr's image keeps it."""
        assert assets_dir(load_settings(BASE).settings) == Path("/buildkit")

"""Docker config: merge order, modes, atomic writes, PLUGIN_CONFIG errors and redaction."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from plugin.core.errors import ConfigError, Problem, RunError
from plugin.core.log import REDACTOR
from plugin.registry.dockerconfig import load_base, load_existing, write_docker_config

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(autouse=True)
def clean_redactor():
    yield
    REDACTOR.clear()


def read(path):
    return json.loads(path.read_text())


class TestWriteDockerConfig:
    def test_writes_auths_for_each_registry(self, tmp_path):
        path = write_docker_config(tmp_path / "cfg", {ECR: ("AWS", "tok-en-123")})
        assert path == tmp_path / "cfg" / "config.json"
        assert read(path) == {"auths": {ECR: {"auth": b64("AWS:tok-en-123")}}}

    def test_no_credentials_still_writes_empty_auths(self, tmp_path):
        assert read(write_docker_config(tmp_path, {})) == {"auths": {}}

    def test_file_is_0600_and_dir_0700(self, tmp_path):
        cfg = tmp_path / "cfg"
        path = write_docker_config(cfg, {ECR: ("AWS", "pw-pw-pw")})
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(cfg.stat().st_mode) == 0o700

    def test_existing_dir_is_tightened_to_0700(self, tmp_path):
        cfg = tmp_path / "cfg"
        cfg.mkdir(mode=0o755)
        write_docker_config(cfg, {})
        assert stat.S_IMODE(cfg.stat().st_mode) == 0o700

    def test_merge_keeps_existing_entries(self, tmp_path):
        """existing < PLUGIN_CONFIG < logins; other keys and other registries survive."""
        existing = tmp_path / "old.json"
        existing.write_text(
            json.dumps(
                {
                    "auths": {"old.example": {"auth": b64("o:old-pass")}, ECR: {"auth": b64("x:stale-pw")}},
                    "credHelpers": {"gcr.io": "gcloud"},
                    "psFormat": "table",
                }
            )
        )
        base = json.dumps({"auths": {"base.example": {"auth": b64("b:base-pass")}}, "credsStore": "none"})
        path = write_docker_config(tmp_path / "cfg", {ECR: ("AWS", "new-pass")}, base=base, existing=existing)
        assert read(path) == {
            "auths": {
                "old.example": {"auth": b64("o:old-pass")},
                ECR: {"auth": b64("AWS:new-pass")},
                "base.example": {"auth": b64("b:base-pass")},
            },
            "credHelpers": {"gcr.io": "gcloud"},
            "psFormat": "table",
        }

    def test_credential_store_and_helper_for_our_hosts_are_dropped(self, tmp_path):
        """credsStore (every registry) and credHelpers[our host] would be asked instead of our login."""
        base = json.dumps({"credsStore": "desktop", "credHelpers": {ECR: "ecr-login", "gcr.io": "gcloud"}})
        path = write_docker_config(tmp_path / "cfg", {ECR: ("AWS", "new-pass")}, base=base)
        config = read(path)
        assert "credsStore" not in config
        assert config["credHelpers"] == {"gcr.io": "gcloud"}

    def test_credential_store_stays_when_the_plugin_logs_in_nowhere(self, tmp_path):
        base = json.dumps({"credsStore": "desktop"})
        assert read(write_docker_config(tmp_path / "cfg", {}, base=base))["credsStore"] == "desktop"

    def test_cli_plugins_of_the_users_config_dir_stay_visible(self, tmp_path):
        """docker-buildx in ~/.docker/cli-plugins: the per-run DOCKER_CONFIG points the CLI back at it."""
        user = tmp_path / "user"
        (user / "cli-plugins").mkdir(parents=True)
        (user / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": ["/opt/plugins"]}))
        config = read(write_docker_config(tmp_path / "cfg", {}, existing=user / "config.json"))
        assert config["cliPluginsExtraDirs"] == ["/opt/plugins", str(user / "cli-plugins")]

    def test_no_cli_plugins_dir_adds_nothing(self, tmp_path):
        (tmp_path / "user").mkdir()
        (tmp_path / "user" / "config.json").write_text("{}")
        config = read(write_docker_config(tmp_path / "cfg", {}, existing=tmp_path / "user" / "config.json"))
        assert "cliPluginsExtraDirs" not in config

    def test_missing_existing_file_is_ignored(self, tmp_path):
        path = write_docker_config(tmp_path / "cfg", {}, existing=tmp_path / "absent.json")
        assert read(path) == {"auths": {}}

    def test_base_may_be_a_file_path(self, tmp_path):
        base = tmp_path / "base.json"
        base.write_text(json.dumps({"auths": {"b.example": {"auth": b64("u:p-from-file")}}}))
        path = write_docker_config(tmp_path / "cfg", {}, base=str(base))
        assert read(path) == {"auths": {"b.example": {"auth": b64("u:p-from-file")}}}

    def test_docker_hub_is_keyed_by_the_v1_url(self, tmp_path):
        path = write_docker_config(tmp_path / "cfg", {"docker.io": ("me", "hub-pass")})
        assert list(read(path)["auths"]) == ["https://index.docker.io/v1/"]

    def test_write_is_atomic(self, tmp_path, monkeypatch):
        """A failed write leaves the old file whole and no temp file behind."""
        cfg = tmp_path / "cfg"
        path = write_docker_config(cfg, {ECR: ("AWS", "first-pass")})
        before = path.read_bytes()

        def broken_fsync(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", broken_fsync)
        with pytest.raises(RunError, match=r"cannot write the Docker config .*No space left on device"):
            write_docker_config(cfg, {ECR: ("AWS", "second-pass")})
        assert path.read_bytes() == before
        assert sorted(p.name for p in cfg.iterdir()) == ["config.json"]

    def test_passwords_are_registered_with_the_redactor(self, tmp_path):
        base = json.dumps({"auths": {"b.example": {"auth": b64("u:base-secret")}}})
        write_docker_config(tmp_path / "cfg", {ECR: ("AWS", "ecr-secret")}, base=base)
        text = REDACTOR.text(f"ecr-secret base-secret {b64('AWS:ecr-secret')}")
        assert text == "*** *** ***"


class TestPluginConfigErrors:
    def test_bad_inline_json_names_the_variable_without_its_value(self, tmp_path):
        with pytest.raises(ConfigError) as info:
            write_docker_config(tmp_path / "cfg", {}, base='{"auths": {"h": "secret-ish"')
        assert info.value.message == (
            "invalid configuration (1 bad setting):\n"
            "  - PLUGIN_CONFIG: valid JSON (inline JSON: Expecting ',' delimiter at line 1 column 29)"
        )
        assert "secret-ish" not in info.value.message

    def test_bad_json_in_a_file(self, tmp_path):
        bad = tmp_path / "bad.json"
        bad.write_text("not json")
        with pytest.raises(
            ConfigError, match=r"PLUGIN_CONFIG: valid JSON \(file .*bad.json: Expecting value"
        ):
            write_docker_config(tmp_path / "cfg", {}, base=str(bad))

    def test_missing_file(self, tmp_path):
        with pytest.raises(ConfigError) as info:
            write_docker_config(tmp_path / "cfg", {}, base=str(tmp_path / "nope.json"))
        assert info.value.problems[0].render() == (
            "PLUGIN_CONFIG: a Docker config JSON object or a readable file (No such file or directory)"
        )

    def test_json_that_is_not_an_object(self, tmp_path):
        path = tmp_path / "list.json"
        path.write_text("[1]")
        with pytest.raises(ConfigError, match=r"PLUGIN_CONFIG: a JSON object \(file .* holds a list\)"):
            write_docker_config(tmp_path / "cfg", {}, base=str(path))

    def test_broken_existing_config_is_a_config_error_naming_it(self, tmp_path):
        existing = tmp_path / "config.json"
        existing.write_text("{broken")
        with pytest.raises(ConfigError) as info:
            write_docker_config(tmp_path / "cfg", {}, existing=existing)
        assert (
            info.value.problems[0]
            .render()
            .startswith(f"DOCKER_CONFIG={str(existing)!r}: valid JSON ({existing}: Expecting property name")
        )

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (b"\xff\xfe{}", "a readable Docker config file (not UTF-8 text: byte 0 is invalid)"),
            (b"[1]", "a JSON object ({path} holds a list)"),
        ],
        ids=["not-utf-8", "a-list"],
    )
    def test_existing_config_content(self, tmp_path, content, expected):
        existing = tmp_path / "config.json"
        existing.write_bytes(content)
        with pytest.raises(ConfigError) as info:
            load_existing(existing, "~/.docker/config.json")
        assert info.value.problems == [
            Problem("~/.docker/config.json", str(existing), expected.format(path=existing))
        ]

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("[1]", "a JSON object (inline JSON holds a list)"),
            ('["auths"]', "a JSON object (inline JSON holds a list)"),
            (
                "{not json",
                "valid JSON (inline JSON: Expecting property name enclosed in double quotes "
                "at line 1 column 2)",
            ),
        ],
    )
    def test_inline_values_that_are_not_an_object(self, value, expected):
        """PLUGIN_CONFIG=[1] is JSON of the wrong type, not a missing file; the value is never shown."""
        with pytest.raises(ConfigError) as info:
            load_base(value)
        assert info.value.problems == [Problem("PLUGIN_CONFIG", None, expected)]

    def test_a_file_that_is_not_utf_8(self, tmp_path):
        path = tmp_path / "config.json"
        path.write_bytes(b'{"auths": \xff}')
        with pytest.raises(ConfigError) as info:
            load_base(str(path))
        assert info.value.problems == [
            Problem(
                "PLUGIN_CONFIG",
                None,
                "a Docker config JSON object or a readable file (not UTF-8 text: byte 10 is invalid)",
            )
        ]

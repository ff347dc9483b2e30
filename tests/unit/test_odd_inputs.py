"""Odd inputs found while cataloguing the messages: each ends in a named error, never a traceback."""

from __future__ import annotations

import io
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from plugin.ci.context import CIContext
from plugin.config.load import load_settings
from plugin.core.errors import ConfigError, RunError
from plugin.exec.rundir import new_run_dir
from plugin.registry.api import manifest
from plugin.registry.tarpush import check_tarball
from plugin.target.tags import resolve_tags


class TestPushOnlyTarball:
    def test_a_tarball_without_manifest_json_is_a_config_error(self, tmp_path: Path) -> None:
        """An OCI-layout tar (index.json, no manifest.json) is not what kaniko's push-only reads: exit 2."""
        path = tmp_path / "oci.tar"
        with tarfile.open(path, "w") as tar:
            data = b'{"schemaVersion": 2, "manifests": []}'
            info = tarfile.TarInfo("index.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        with pytest.raises(ConfigError) as caught:
            check_tarball(str(path))
        assert "PLUGIN_SOURCE_TAR_PATH" in caught.value.message
        assert "'manifest.json' is missing" in caught.value.message


class TestRunDirectory:
    def test_a_temp_dir_that_cannot_be_written_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The message names the folder (the system temp dir), not "None"."""

        def refuse(**_: object) -> str:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkdtemp", refuse)
        with pytest.raises(RunError) as caught:
            new_run_dir("docker", {})
        assert caught.value.message == (
            f"cannot create the run directory in {tempfile.gettempdir()}: Permission denied"
        )


class _ListManifest(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"[1, 2]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def json_list_registry() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _ListManifest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class TestRegistryManifest:
    def test_a_json_document_that_is_not_an_object_is_a_run_error(self, json_list_registry: str) -> None:
        with pytest.raises(RunError) as caught:
            manifest(json_list_registry, "team/app", "1.0", None)
        assert (
            caught.value.message == f"registry {json_list_registry} served no JSON manifest for team/app:1.0"
        )


class TestDigitsThatAreNotAscii:
    """str.isdigit() and the regex class \\d accept digits of other scripts (superscripts,
    Arabic-Indic); int() refuses some of them. Numbers the plugin reads are ASCII digits only."""

    def test_a_build_time_that_is_not_ascii_digits_is_ignored(self) -> None:
        env = {
            "PLUGIN_REPO": "team/app",
            "PLUGIN_TAG_RULES": "type=schedule,pattern={{date 'YYYYMMDD'}}",
            "DRONE_BUILD_EVENT": "cron",
            "DRONE_BUILD_CREATED": "\u00b2",
        }
        loaded = load_settings(env)
        result = resolve_tags(loaded.settings, CIContext.from_env(loaded.env), None, loaded.env)
        assert len(result.tags) == 1 and result.tags[0].isdigit()

    def test_an_account_in_other_digits_is_refused(self) -> None:

        with pytest.raises(ConfigError) as caught:
            load_settings({"PLUGIN_REPO": "team/app", "PLUGIN_ACCOUNT": "\u0661" * 12})
        assert "PLUGIN_ACCOUNT" in caught.value.message

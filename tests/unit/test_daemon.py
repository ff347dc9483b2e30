"""dockerd argv: one snapshot per option, and the pure helpers around it."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from inline_snapshot import snapshot

from plugin.builders import dockerd
from plugin.builders.dockerd import (
    DaemonOptions,
    daemon_step,
    dockerd_argv,
    ping,
    place_run_dir,
    socket_paths,
    too_long_socket,
)
from plugin.core.errors import RunError

NO_SECCOMP = "/nonexistent/seccomp.json"
BASE = [
    "dockerd",
    "--data-root",
    "/var/lib/docker",
    "--host",
    "unix:///run/x/docker.sock",
    "--exec-root",
    "/run/x/exec",
    "--pidfile",
    "/run/x/docker.pid",
]


def argv(**kw: object) -> list[str]:
    return dockerd_argv(DaemonOptions(run_dir="/run/x", **kw), seccomp_profile=NO_SECCOMP)  # type: ignore[arg-type]


def extra(**kw: object) -> list[str]:
    """The arguments an option adds after the always-present ones."""
    full = argv(**kw)
    assert full[: len(BASE)] == BASE
    return full[len(BASE) :]


class TestDockerdArgv:
    def test_defaults(self):
        assert argv() == BASE

    def test_storage_path_is_the_data_root(self):
        assert argv(storage_path="/cache/docker")[1:3] == ["--data-root", "/cache/docker"]

    def test_storage_driver(self):
        assert extra(storage_driver="vfs") == snapshot(["--storage-driver", "vfs"])

    def test_mirrors_repeat(self):
        assert extra(mirrors=("https://m1", "https://m2")) == snapshot(
            ["--registry-mirror", "https://m1", "--registry-mirror", "https://m2"]
        )

    def test_bip(self):
        assert extra(bip="10.10.0.1/16") == snapshot(["--bip", "10.10.0.1/16"])

    def test_mtu(self):
        assert extra(mtu="1400") == snapshot(["--mtu", "1400"])

    def test_dns_and_dns_search_repeat(self):
        assert extra(dns=("1.1.1.1", "8.8.8.8"), dns_search=("corp", "example.com")) == snapshot(
            ["--dns", "1.1.1.1", "--dns", "8.8.8.8", "--dns-search", "corp", "--dns-search", "example.com"]
        )

    def test_ipv6(self):
        assert extra(ipv6=True) == snapshot(["--ipv6"])

    def test_experimental(self):
        assert extra(experimental=True) == snapshot(["--experimental"])

    def test_insecure_registries_repeat(self):
        assert extra(insecure_registries=("r1:5000", "r2")) == snapshot(
            ["--insecure-registry", "r1:5000", "--insecure-registry", "r2"]
        )

    def test_debug(self):
        assert extra(debug=True) == snapshot(["--debug"])

    def test_extra_args_come_last(self):
        assert extra(debug=True, extra_args=("--bridge=none", "--iptables=false")) == snapshot(
            ["--debug", "--bridge=none", "--iptables=false"]
        )

    def test_seccomp_profile_is_used_when_the_file_exists(self, tmp_path):
        profile = tmp_path / "default.json"
        profile.write_text("{}")
        got = dockerd_argv(DaemonOptions(run_dir="/run/x"), seccomp_profile=str(profile))
        assert got == [*BASE, f"--seccomp-profile={profile}"]

    def test_every_option_at_once(self):
        """Order is stable: run dir, seccomp, driver, insecure, ipv6, mirrors, bip, dns, mtu, switches."""
        assert extra(
            storage_driver="overlay2",
            mirrors=("https://mirror",),
            bip="10.1.0.1/16",
            mtu="1450",
            dns=("9.9.9.9",),
            dns_search=("corp",),
            ipv6=True,
            experimental=True,
            insecure_registries=("reg:5000",),
            debug=True,
            extra_args=("--bridge=none",),
        ) == snapshot(
            [
                "--storage-driver",
                "overlay2",
                "--insecure-registry",
                "reg:5000",
                "--ipv6",
                "--registry-mirror",
                "https://mirror",
                "--bip",
                "10.1.0.1/16",
                "--dns",
                "9.9.9.9",
                "--dns-search",
                "corp",
                "--mtu",
                "1450",
                "--experimental",
                "--debug",
                "--bridge=none",
            ]
        )


class TestDaemonOptions:
    def test_run_dirs_are_unique_per_run(self):
        """Two runs on one machine never share a socket, exec-root or pidfile."""
        a, b = DaemonOptions(), DaemonOptions()
        assert a.run_dir != b.run_dir
        assert a.docker_host != b.docker_host

    def test_docker_host_is_the_socket_in_the_run_dir(self):
        assert DaemonOptions(run_dir="/run/x").docker_host == "unix:///run/x/docker.sock"

    def test_step_is_a_daemon_step(self):
        step = daemon_step(DaemonOptions(run_dir="/run/x"), seccomp_profile=NO_SECCOMP)
        assert (step.name, step.kind, list(step.argv)) == ("dockerd", "daemon", BASE)


class _Ping(BaseHTTPRequestHandler):
    body = b"OK"

    def do_GET(self) -> None:
        status = 200 if self.path == "/_ping" and self.body == b"OK" else 500
        self.send_response(status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class TestPing:
    def test_answers_over_tcp(self, http_server):
        assert ping(f"tcp://127.0.0.1:{http_server.server_address[1]}") is True

    def test_another_answer_is_false(self, http_server, monkeypatch):
        monkeypatch.setattr(_Ping, "body", b"starting")
        assert ping(f"tcp://127.0.0.1:{http_server.server_address[1]}") is False

    def test_nothing_listening_is_false(self, tmp_path):
        assert ping(f"unix://{tmp_path}/none.sock") is False

    def test_unknown_scheme_is_false(self):
        assert ping("ssh://host") is False


class TestSocketPaths:
    """Every socket below the run dir (containerd's under the exec root included) must fit 107 bytes."""

    def test_containerd_sockets_are_counted(self):
        paths = socket_paths(DaemonOptions(run_dir="/r"))
        assert "/r/exec/containerd/containerd.sock.ttrpc" in paths
        assert "/r/exec/containerd/containerd-debug.sock" in paths

    def test_the_longest_socket_decides(self):
        """A run dir of 70 bytes: docker.sock fits (82), containerd's ttrpc socket does not (108)."""
        run_dir = "/" + "x" * 69
        assert len(DaemonOptions(run_dir=run_dir).socket_path) <= 107
        assert (
            too_long_socket(DaemonOptions(run_dir=run_dir))
            == f"{run_dir}/exec/containerd/containerd.sock.ttrpc"
        )
        assert too_long_socket(DaemonOptions(run_dir=run_dir[:-1])) is None

    def test_a_run_dir_that_fits_stays_where_it_was_asked(self):
        assert place_run_dir("/tmp/build-push-ecr-abcdefgh/dockerd") == "/tmp/build-push-ecr-abcdefgh/dockerd"

    def test_a_run_dir_too_deep_moves_under_tmp(self):
        deep = "/" + "d" * 90 + "/dockerd"
        placed = place_run_dir(deep)
        assert placed.startswith("/tmp/bpe-") and not os.path.exists(placed)
        assert too_long_socket(DaemonOptions(run_dir=placed)) is None

    def test_a_run_dir_too_deep_without_a_writable_tmp_says_what_to_change(self, tmp_path, monkeypatch):
        """A read-only root file system and a deep TMPDIR: the message names TMPDIR, by how much, and /tmp."""
        monkeypatch.setattr(dockerd, "SHORT_RUN_ROOT", str(tmp_path / "not-there"))
        deep = "/" + "d" * 90 + "/dockerd"
        longest = f"{deep}/exec/containerd/containerd.sock.ttrpc"
        with pytest.raises(RunError) as caught:
            place_run_dir(deep)
        assert caught.value.message == (
            f"dockerd socket path is too long for a unix socket ({len(longest)} bytes, at most 107): "
            f"{longest}; shorten TMPDIR by at least {len(longest) - 107} bytes, "
            f"or make {tmp_path}/not-there writable (the run directory moves there)"
        )

    def test_shortening_tmpdir_by_the_bytes_named_is_enough(self):
        deep = "/" + "d" * 90 + "/dockerd"
        excess = len(too_long_socket(DaemonOptions(run_dir=deep)) or "") - 107
        assert too_long_socket(DaemonOptions(run_dir="/" + "d" * (90 - excess) + "/dockerd")) is None
        assert too_long_socket(DaemonOptions(run_dir="/" + "d" * (91 - excess) + "/dockerd")) is not None

"""The docker builder's plan (dockerd, pulls, build, tag, save, push, purge), one snapshot per scenario."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from inline_snapshot import snapshot

from plugin.builders.docker import DockerRun, daemon_options, docker_plan
from plugin.builders.dockerd import DaemonOptions
from plugin.config.load import load_settings
from plugin.core.log import REDACTOR
from plugin.run.resolve import resolve

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BASE = {
    "PLUGIN_BUILDER": "docker",
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0",
}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RUN = DockerRun("/run/cfg", "/run/ssh/id_key", "local:build")


@pytest.fixture(autouse=True)
def _fresh_redactor() -> Iterator[None]:
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def steps(extra: dict[str, str], tmp_path: Path) -> list[list[str]]:
    """The plan's argv lists (the daemon's run dir pinned), for BASE plus ``extra``."""
    resolved = resolve(load_settings({**BASE, **extra}), tmp_path)
    daemon = daemon_options(resolved.settings, resolved.target, "/run/dockerd")
    plan = docker_plan(
        resolved.settings, resolved.ctx, resolved.target, resolved.loaded.env, run=RUN, daemon=daemon, now=NOW
    )
    return [[REDACTOR.text(a) for a in s.argv] for s in plan.steps]


def dockerd_argv(extra: dict[str, str], tmp_path: Path) -> list[str]:
    return [a for a in steps(extra, tmp_path)[0] if not a.startswith("--seccomp-profile")]


class TestDockerPlan:
    """Each docker-builder variable of anchor-env.md A2 lands where drone-docker put it."""

    def test_defaults(self, tmp_path: Path) -> None:
        """dockerd, build (with the OCI auto labels and --pull), tag, push, purge."""
        assert steps({}, tmp_path)[1:] == snapshot(
            [
                [
                    "docker",
                    "build",
                    "--file=Dockerfile",
                    "--tag=local:build",
                    "--pull",
                    "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                    "--label=org.opencontainers.image.revision=00000000",
                    ".",
                ],
                ["docker", "tag", "local:build", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
                ["docker", "push", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
                [
                    "docker",
                    "rmi",
                    "--force",
                    "local:build",
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                ],
                ["docker", "system", "prune", "--force"],
            ]
        )

    def test_build_settings(self, tmp_path: Path) -> None:
        """Dockerfile, context, args, labels, target, platform, network, hosts, cache-from, quiet."""
        extra = {
            "PLUGIN_DOCKERFILE": "build/Dockerfile",
            "PLUGIN_CONTEXT": "src",
            "PLUGIN_BUILD_ARGS": "A=1",
            "PLUGIN_CUSTOM_LABELS": "team=core",
            "PLUGIN_LABEL_SCHEMA": "vendor=acme",
            "PLUGIN_AUTO_LABEL": "false",
            "PLUGIN_TARGET": "runtime",
            "PLUGIN_PLATFORM": "linux/arm64",
            "PLUGIN_NETWORK": "host",
            "PLUGIN_ADD_HOST": "db:10.0.0.5",
            "PLUGIN_CACHE_FROM": "team/app:latest,team/app:main",
            "PLUGIN_QUIET": "true",
            "PLUGIN_NO_CACHE": "true",
            "PLUGIN_PULL_IMAGE": "false",
            "PLUGIN_COMPRESS": "true",
            "PLUGIN_PURGE": "false",
        }
        assert steps(extra, tmp_path)[1:] == snapshot(
            [
                ["docker", "pull", "team/app:latest"],
                ["docker", "pull", "team/app:main"],
                [
                    "docker",
                    "build",
                    "--file=build/Dockerfile",
                    "--tag=local:build",
                    "--target=runtime",
                    "--platform=linux/arm64",
                    "--no-cache",
                    "--add-host=db:10.0.0.5",
                    "--network=host",
                    "--quiet",
                    "--compress",
                    "--cache-from=team/app:latest",
                    "--cache-from=team/app:main",
                    "--build-arg=A=1",
                    "--label=org.opencontainers.image.vendor=acme",
                    "--label=team=core",
                    "src",
                ],
                ["docker", "tag", "local:build", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
                ["docker", "push", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
            ]
        )

    def test_secrets_and_ssh(self, tmp_path: Path) -> None:
        """Secrets by spec, from env and from file; the SSH key goes in through a file, never argv."""
        extra = {
            "PLUGIN_SECRET": "id=npmrc,src=/ws/.npmrc",
            "PLUGIN_SECRETS_FROM_ENV": "token=NPM_TOKEN",
            "PLUGIN_SECRETS_FROM_FILE": "cert=/ws/cert.pem",
            "PLUGIN_SSH_AGENT_KEY": "-----BEGIN KEY-----\nSENTINELSSHKEYMATERIAL\n-----END KEY-----",
            "PLUGIN_PURGE": "false",
        }
        build = steps(extra, tmp_path)[1]
        assert build == snapshot(
            [
                "docker",
                "build",
                "--file=Dockerfile",
                "--tag=local:build",
                "--pull",
                "--secret=id=npmrc,src=/ws/.npmrc",
                "--secret=id=token,env=NPM_TOKEN",
                "--secret=id=cert,src=/ws/cert.pem",
                "--ssh=default=/run/ssh/id_key",
                "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                "--label=org.opencontainers.image.revision=00000000",
                ".",
            ]
        )
        assert not any("SENTINELSSHKEYMATERIAL" in a for a in build)

    def test_squash_uses_the_classic_builder(self, tmp_path: Path) -> None:
        """--squash needs PLUGIN_EXPERIMENTAL (dockerd --experimental) and the classic builder."""
        resolved = resolve(
            load_settings({**BASE, "PLUGIN_SQUASH": "true", "PLUGIN_EXPERIMENTAL": "true"}), tmp_path
        )
        plan = docker_plan(resolved.settings, resolved.ctx, resolved.target, {}, run=RUN, now=NOW)
        build = next(s for s in plan.steps if s.name == "build")
        assert "--squash" in build.argv
        assert build.env["DOCKER_BUILDKIT"] == "0"
        assert "--experimental" in plan.steps[0].argv

    def test_squash_without_experimental_is_dropped(self, tmp_path: Path) -> None:
        """Without PLUGIN_EXPERIMENTAL, squash is dropped (with a warning at load) and BuildKit is used."""
        loaded = load_settings({**BASE, "PLUGIN_SQUASH": "true"})
        assert "settings.squash_needs_experimental" in [w[0] for w in loaded.warnings]
        build = steps({"PLUGIN_SQUASH": "true"}, tmp_path)[1]
        assert "--squash" not in build

    def test_no_push_with_tar(self, tmp_path: Path) -> None:
        """PLUGIN_NO_PUSH / PLUGIN_DRY_RUN: build and tag, save the tarball, no push."""
        assert steps({"PLUGIN_DRY_RUN": "true", "PLUGIN_TAR_PATH": "/out/image.tar"}, tmp_path)[
            1:
        ] == snapshot(
            [
                [
                    "docker",
                    "build",
                    "--file=Dockerfile",
                    "--tag=local:build",
                    "--pull",
                    "--label=org.opencontainers.image.created=2026-01-02T03:04:05Z",
                    "--label=org.opencontainers.image.revision=00000000",
                    ".",
                ],
                ["docker", "tag", "local:build", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
                [
                    "docker",
                    "save",
                    "--output=/out/image.tar",
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                ],
                [
                    "docker",
                    "rmi",
                    "--force",
                    "local:build",
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0",
                ],
                ["docker", "system", "prune", "--force"],
            ]
        )

    def test_push_only_from_a_tarball(self, tmp_path: Path) -> None:
        """PLUGIN_PUSH_ONLY: load the tarball, tag the source image, push; no build, no purge."""
        extra = {
            "PLUGIN_PUSH_ONLY": "true",
            "PLUGIN_SOURCE_TAR_PATH": "/in/image.tar",
            "PLUGIN_SOURCE_IMAGE": "app:built",
            "PLUGIN_DAEMON_OFF": "true",
        }
        assert steps(extra, tmp_path) == snapshot(
            [
                ["docker", "load", "--input=/in/image.tar"],
                ["docker", "tag", "app:built", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
                ["docker", "push", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
            ]
        )

    def test_extra_registries_get_every_tag(self, tmp_path: Path) -> None:
        """Each destination (every registry x every tag) is tagged and pushed, the main registry first."""
        west = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
        pushes = [
            s
            for s in steps({"PLUGIN_EXTRA_REGISTRIES": west, "PLUGIN_TAGS": "1.0,latest"}, tmp_path)
            if s[1] == "push"
        ]
        assert pushes == snapshot(
            [
                ["docker", "push", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"],
                ["docker", "push", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:latest"],
                ["docker", "push", "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:1.0"],
                ["docker", "push", "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:latest"],
            ]
        )


class TestDaemonArgv:
    """Every anchor daemon variable reaches dockerd (anchor-env.md D)."""

    def test_every_daemon_setting(self, tmp_path: Path) -> None:
        extra = {
            "PLUGIN_STORAGE_DRIVER": "overlay2",
            "PLUGIN_STORAGE_PATH": "/data/docker",
            "PLUGIN_MIRROR": "https://mirror.example",
            "PLUGIN_REGISTRY_MIRRORS": "https://m2.example",
            "PLUGIN_BIP": "172.30.0.1/16",
            "PLUGIN_MTU": "1400",
            "PLUGIN_CUSTOM_DNS": "10.0.0.2,10.0.0.3",
            "PLUGIN_CUSTOM_DNS_SEARCH": "corp.example",
            "PLUGIN_IPV6": "true",
            "PLUGIN_EXPERIMENTAL": "true",
            "PLUGIN_INSECURE": "true",
            "PLUGIN_DEBUG": "true",
            "PLUGIN_DAEMON_ARGS": "--iptables=false --default-address-pool 'base=10.10.0.0/16,size=24'",
        }
        assert dockerd_argv(extra, tmp_path) == snapshot(
            [
                "dockerd",
                "--data-root",
                "/data/docker",
                "--host",
                "unix:///run/dockerd/docker.sock",
                "--exec-root",
                "/run/dockerd/exec",
                "--pidfile",
                "/run/dockerd/docker.pid",
                "--storage-driver",
                "overlay2",
                "--insecure-registry",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "--ipv6",
                "--registry-mirror",
                "https://mirror.example",
                "--registry-mirror",
                "https://m2.example",
                "--bip",
                "172.30.0.1/16",
                "--dns",
                "10.0.0.2",
                "--dns",
                "10.0.0.3",
                "--dns-search",
                "corp.example",
                "--mtu",
                "1400",
                "--experimental",
                "--debug",
                "--iptables=false",
                "--default-address-pool",
                "base=10.10.0.0/16,size=24",
            ]
        )

    def test_daemon_off_starts_nothing(self, tmp_path: Path) -> None:
        """PLUGIN_DAEMON_OFF: no dockerd step; the engine at DOCKER_HOST is used."""
        names = [s[0] for s in steps({"PLUGIN_DAEMON_OFF": "true"}, tmp_path)]
        assert "dockerd" not in names

    def test_run_dir_is_per_run(self) -> None:
        """Two runs never share a socket, exec-root or pidfile."""
        first, second = DaemonOptions(), DaemonOptions()
        assert first.docker_host != second.docker_host
        assert first.exec_root != second.exec_root

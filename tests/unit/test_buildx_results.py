"""What a buildx build's plain output and its builder tell: cached steps, cache metrics, foreign platforms."""

from __future__ import annotations

import json
from pathlib import Path

from plugin.builders.buildx_results import (
    BuildWatch,
    builder_platforms,
    emulation_message,
    metrics_bytes,
    missing_platforms,
)
from plugin.registry.api import platform_of

# Plain progress of a second build on a new builder with a registry cache (BuildKit v0.32.2, trimmed).
CACHED_RUN = """\
#0 building with "build-push-ecr-ee7824c3c814" instance using docker-container driver
#1 [internal] booting buildkit
#1 DONE 0.4s
#4 [auth] sharing credentials for 127.0.0.1:44987
#4 DONE 0.0s
#5 importing cache manifest from 127.0.0.1:44987/cache/app-cache:buildcache
#5 inferred cache manifest type: application/vnd.oci.image.manifest.v1+json done
#5 DONE 0.0s
#7 [1/2] COPY busybox /bin/busybox
#7 CACHED
#8 [2/2] RUN ["/bin/busybox", "sh", "-c", "sleep 2"]
#8 CACHED
#9 exporting to image
#9 DONE 0.1s
"""

FOREIGN_RUN = """\
#6 [linux/amd64 1/2] COPY amd64/prog /bin/prog
#6 DONE 0.0s
#7 [2/2] RUN ["/bin/prog"]
#7 0.047 exec /bin/prog: exec format error
#7 ERROR: process "/bin/prog" did not complete successfully: exit code: 1
#8 [2/2] RUN ["/bin/prog"]
#8 CANCELED
"""

INSPECT = """\
Name:          build-push-ecr-ad907e09164b
Driver:        docker-container

Nodes:
Name:                  build-push-ecr-ad907e09164b0
Status:                running
BuildKit version:      v0.32.2
Platforms:             linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/amd64/v4, linux/386
"""


def watched(text: str) -> BuildWatch:
    watch = BuildWatch()
    for line in text.splitlines(keepends=True):
        watch(line)
    return watch


class TestBuildWatch:
    def test_counts_dockerfile_steps_taken_from_the_cache(self) -> None:
        assert watched(CACHED_RUN).steps() == (2, 2)

    def test_metrics_in_buildx_ecrs_shape(self, tmp_path: Path) -> None:
        metrics = watched(CACHED_RUN).metrics()
        assert metrics == {
            "total_layers": 6,
            "done": 4,
            "cached": 2,
            "errored": 0,
            "canceled": 0,
            "layers": {
                "1": {"status": "DONE", "time": 0.4},
                "4": {"status": "DONE", "time": 0},
                "5": {"status": "DONE", "time": 0},
                "7": {"status": "CACHED", "time": 0},
                "8": {"status": "CACHED", "time": 0},
                "9": {"status": "DONE", "time": 0.1},
            },
        }
        assert json.loads(metrics_bytes(metrics)) == metrics
        assert metrics_bytes(metrics).startswith(b'{\n\t"total_layers"')

    def test_exec_format_error_is_noticed_and_errors_counted(self) -> None:
        watch = watched(FOREIGN_RUN)
        assert watch.exec_format_error
        assert watch.metrics()["errored"] == 1
        assert watch.metrics()["canceled"] == 1
        assert watch.steps() == (3, 0)
        assert not watched(CACHED_RUN).exec_format_error


class TestPlatforms:
    def test_builder_platforms_from_inspect(self) -> None:
        assert builder_platforms(INSPECT) == [
            "linux/amd64",
            "linux/amd64/v2",
            "linux/amd64/v3",
            "linux/amd64/v4",
            "linux/386",
        ]
        assert builder_platforms("Platforms: linux/arm64*, linux/amd64\n") == ["linux/arm64", "linux/amd64"]

    def test_missing_platforms_ignore_variants(self) -> None:
        available = builder_platforms(INSPECT)
        assert missing_platforms(["linux/amd64/v3", "linux/arm64", "linux/arm/v7", "arm64"], available) == [
            "linux/arm64",
            "linux/arm/v7",
            "arm64",
        ]

    def test_emulation_message_names_the_platform_and_the_fix(self) -> None:
        message = emulation_message(["linux/amd64", "linux/arm64"], builder_platforms(INSPECT))
        assert message.startswith(
            "a RUN step failed with 'exec format error': the builder cannot run linux/arm64 programs "
            "(it runs linux/amd64, linux/amd64/v2"
        )
        assert "no emulation is registered" in message
        assert "--install arm64" in message
        assert "PLUGIN_PLATFORM" in message

    def test_emulation_message_without_the_builders_list(self) -> None:
        message = emulation_message(["linux/arm64"], [])
        assert "another architecture than the builder runs" in message

    def test_index_entries(self) -> None:
        assert (
            platform_of({"platform": {"os": "linux", "architecture": "arm", "variant": "v7"}})
            == "linux/arm/v7"
        )
        attestation = {
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
        }
        assert platform_of(attestation) is None
        assert platform_of({}) is None

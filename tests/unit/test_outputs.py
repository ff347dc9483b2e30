"""Outputs: DRONE_OUTPUT merge, artifact JSON, card, console links."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime

import pytest
from dotenv import dotenv_values

from plugin.core.errors import RunError
from plugin.run.outputs import (
    BuildResult,
    artifact,
    ecr_console_url,
    output_values,
    write_artifact,
    write_card,
    write_drone_output,
)

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def result(**kw: object) -> BuildResult:
    values: dict[str, object] = {"registry": REGISTRY, "repository": "team/app", "tags": ["1.2", "latest"]}
    values.update(kw)
    return BuildResult(**values)  # type: ignore[arg-type]


class TestBuildResult:
    def test_images_default_to_registry_repository_and_each_tag(self):
        assert result().images == [f"{REGISTRY}/team/app:1.2", f"{REGISTRY}/team/app:latest"]

    def test_explicit_images_are_kept(self):
        """Extra registries' references are passed in by the caller."""
        assert result(images=["a/b:1", "c/b:1"]).images == ["a/b:1", "c/b:1"]


class TestOutputValues:
    def test_all_keys(self):
        assert output_values(result(digest=DIGEST, tar_path="/out/image.tar")) == {
            "digest": DIGEST,
            "IMAGE_TAR_PATH": "/out/image.tar",
            "image": f"{REGISTRY}/team/app:1.2",
            "images": f"{REGISTRY}/team/app:1.2,{REGISTRY}/team/app:latest",
            "tags": "1.2,latest",
            "skipped": "false",
        }

    def test_no_digest_and_no_tar_leave_those_keys_out(self):
        assert set(output_values(result(skipped=True))) == {"image", "images", "tags", "skipped"}

    def test_an_index_adds_its_digest_and_each_platforms_manifest(self):
        """buildx multi-platform (or attestations): the tag's index, and one key per platform."""
        arm = "sha256:" + "cd" * 32
        amd = "sha256:" + "ef" * 32
        values = output_values(
            result(
                digest=DIGEST,
                index_digest=DIGEST,
                platform_digests={"linux/amd64": amd, "linux/arm/v7": arm},
            )
        )
        assert values["digest"] == values["index_digest"] == DIGEST
        assert values["platform_digests"] == f"linux/amd64={amd},linux/arm/v7={arm}"
        assert values["digest_linux_amd64"] == amd
        assert values["digest_linux_arm_v7"] == arm

    def test_artifact_lists_the_platforms(self):
        amd = "sha256:" + "ef" * 32
        data = artifact(result(digest=DIGEST, platform_digests={"linux/amd64": amd}))["data"]
        assert data["platforms"] == [{"platform": "linux/amd64", "digest": amd}]
        assert "platforms" not in artifact(result(digest=DIGEST))["data"]


def read_back(path) -> dict[str, str | None]:
    """DRONE_OUTPUT as python-dotenv reads it (no interpolation)."""
    return dotenv_values(path, interpolate=False)


class TestWriteDroneOutput:
    def test_writes_single_quoted_values(self, tmp_path):
        path = tmp_path / "out.env"
        write_drone_output(path, {"digest": DIGEST, "tags": "1.2,latest"})
        assert path.read_text() == f"digest='{DIGEST}'\ntags='1.2,latest'\n"

    def test_keeps_other_lines_byte_for_byte(self, tmp_path):
        """Every line written by others is kept as it was; ours replace our keys, at the end."""
        path = tmp_path / "out.env"
        path.write_text("# from an earlier step\nexport OTHER=kept\nQUOTED='single q'\ndigest=old\n")
        write_drone_output(path, {"digest": DIGEST, "image": "r/a:1"})
        assert path.read_text() == (
            "# from an earlier step\nexport OTHER=kept\nQUOTED='single q'\n"
            f"digest='{DIGEST}'\nimage='r/a:1'\n"
        )
        assert read_back(path) == {"OTHER": "kept", "QUOTED": "single q", "digest": DIGEST, "image": "r/a:1"}

    def test_special_characters_survive_a_round_trip(self, tmp_path):
        path = tmp_path / "out.env"
        tricky = 'a "quoted" $HOME `tick` ${BRACED}\nnew line # not a comment'
        write_drone_output(path, {"x": tricky, "z": "/out/it's.tar"})
        write_drone_output(path, {"y": "1"})
        assert read_back(path) == {"x": tricky, "z": "/out/it's.tar", "y": "1"}

    def test_creates_missing_parent_and_is_0644(self, tmp_path):
        path = tmp_path / "sub" / "out.env"
        write_drone_output(path, {"k": "v"})
        assert stat.S_IMODE(path.stat().st_mode) == 0o644

    def test_keeps_the_mode_of_an_existing_file(self, tmp_path):
        path = tmp_path / "out.env"
        path.write_text("A=1\n")
        path.chmod(0o600)
        write_drone_output(path, {"k": "v"})
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_a_symlinked_file_is_written_through(self, tmp_path):
        real = tmp_path / "real.env"
        real.write_text("A=1\n")
        link = tmp_path / "link.env"
        link.symlink_to(real)
        write_drone_output(link, {"k": "v"})
        assert link.is_symlink()
        assert real.read_text() == "A=1\nk='v'\n"

    def test_unwritable_place_is_a_run_error(self, tmp_path):
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(
            RunError, match=r"cannot read the DRONE_OUTPUT file .*file/out.env: Not a directory"
        ):
            write_drone_output(blocker / "out.env", {"k": "v"})


class TestWriteArtifact:
    def test_anchor_schema_tab_indented(self, tmp_path):
        path = tmp_path / "artifacts" / "image.json"
        write_artifact(path, result(digest=DIGEST))
        assert json.loads(path.read_text()) == {
            "kind": "docker/v1",
            "data": {
                "registryType": "ECR",
                "registryUrl": REGISTRY,
                "images": [
                    {"image": f"{REGISTRY}/team/app:1.2", "digest": DIGEST},
                    {"image": f"{REGISTRY}/team/app:latest", "digest": DIGEST},
                ],
            },
        }
        assert path.read_text().startswith('{\n\t"kind": "docker/v1",\n\t"data": {\n\t\t"registryType"')

    def test_modes(self, tmp_path):
        path = tmp_path / "new" / "image.json"
        write_artifact(path, result(digest=DIGEST))
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755

    def test_registry_type_can_be_set(self, tmp_path):
        path = tmp_path / "a.json"
        write_artifact(path, result(digest=DIGEST), registry_type="Docker")
        assert json.loads(path.read_text())["data"]["registryType"] == "Docker"


class TestConsoleUrl:
    @pytest.mark.parametrize(
        ("host", "repo", "account", "region", "url"),
        [
            pytest.param(
                REGISTRY, "team/app", None, None,
                "https://us-east-1.console.aws.amazon.com/ecr/repositories/private/123456789012/team/app?region=us-east-1",
                id="private-from-host",
            ),
            pytest.param(
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "app", None, None,
                "https://cn-north-1.console.amazonaws.cn/ecr/repositories/private/123456789012/app?region=cn-north-1",
                id="china",
            ),
            pytest.param(
                "public.ecr.aws", "alias/app", None, None, "https://gallery.ecr.aws/alias/app", id="public"
            ),
            pytest.param(
                "127.0.0.1:5000", "app", "111122223333", "eu-west-1",
                "https://eu-west-1.console.aws.amazon.com/ecr/repositories/private/111122223333/app?region=eu-west-1",
                id="explicit-account-region",
            ),
            pytest.param("127.0.0.1:5000", "app", None, None, None, id="not-ecr"),
        ],
    )  # fmt: skip
    def test_links(self, host, repo, account, region, url):
        assert ecr_console_url(host, repo, account, region) == url


class TestWriteCard:
    def card_url(self) -> str:
        url = ecr_console_url(REGISTRY, "team/app")
        assert url is not None
        return url

    def test_file_holds_schema_and_data(self, tmp_path):
        path = tmp_path / "card.json"
        write_card(path, result(digest=DIGEST), self.card_url(), now=NOW)
        assert json.loads(path.read_text()) == {
            "schema": "https://drone-plugins.github.io/drone-docker/card.json",
            "data": {
                "Registry": REGISTRY,
                "Repository": "team/app",
                "RepoTags": [f"{REGISTRY}/team/app:1.2", f"{REGISTRY}/team/app:latest"],
                "ParsedRepoTags": [{"Tag": "1.2"}, {"Tag": "latest"}],
                "RepoDigests": [f"{REGISTRY}/team/app@{DIGEST}"],
                "Digest": DIGEST,
                "Tags": "1.2,latest",
                "Skipped": False,
                "Time": "2025-01-02T03:04:05Z",
                "URL": self.card_url(),
            },
        }
        assert stat.S_IMODE(path.stat().st_mode) == 0o644

    @pytest.mark.parametrize("device", ["/dev/stdout", "/dev/stderr"])
    def test_std_streams_get_the_escape_sequence(self, device, capsys):
        write_card(device, result(digest=DIGEST), None, now=NOW)
        out, err = capsys.readouterr()
        text = out if device == "/dev/stdout" else err
        assert text.startswith("\x1b]1338;") and text.endswith("\x1b]0m\n")
        decoded = json.loads(base64.b64decode(text[len("\x1b]1338;") : -len("\x1b]0m\n")]))
        assert decoded["data"]["Digest"] == DIGEST
        assert decoded["data"]["URL"] == ""


class TestWriteErrors:
    def test_unwritable_directory_is_a_run_error(self, tmp_path):
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(RunError, match=r"cannot write .*file/sub/image\.json"):
            write_artifact(blocker / "sub" / "image.json", result(digest=DIGEST))


class TestCardToADevice:
    def test_a_device_is_written_directly(self, tmp_path):
        """DRONE_CARD_PATH=/dev/null (or a FIFO) is not staged: the card goes straight to it."""
        fifo = tmp_path / "card.fifo"
        os.mkfifo(fifo)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            write_card(fifo, result(digest=DIGEST), None, now=NOW)
            assert json.loads(os.read(reader, 65536))["data"]["Digest"] == DIGEST
        finally:
            os.close(reader)
        write_card("/dev/null", result(digest=DIGEST), None, now=NOW)

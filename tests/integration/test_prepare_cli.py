"""`python -m plugin prepare`: credentials, ECR work and the Docker config, as a real process against moto."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.moto_server import ACCOUNT, AwsEnv, ecr_client, put_image

MAIN = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
WEST = f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com"
SECRET = "prepare-secret-key-SENTINEL-5150"


@pytest.fixture(autouse=True)
def _private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prepare keeps its Docker config for the user; here it lands in the test's own tmp dir."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))


def prepare(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PLUGIN_ACCESS_KEY": "AKIAPREPARE", "PLUGIN_SECRET_KEY": SECRET, **env}
    return subprocess.run(
        [sys.executable, "-m", "plugin", "prepare"],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestPrepareCommand:
    """prepare prints registry, repository, tags, existing tags and the Docker config it wrote."""

    def test_prepare_creates_the_repository_and_reports_existing_tags(self, aws_env: AwsEnv) -> None:
        """The repository is created as asked; existing tags come back with their digests."""
        ecr = ecr_client()
        ecr.create_repository(repositoryName="team/app")
        digest = put_image(ecr, "team/app", "1.0", "seed-a")
        done = prepare(
            {
                "PLUGIN_REGISTRY": MAIN,
                "PLUGIN_REPO": "team/app",
                "PLUGIN_TAGS": "1.0,2.0",
                "PLUGIN_SCAN_ON_PUSH": "true",
            }
        )
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["registry"] == MAIN
        assert out["repository"] == "team/app"
        assert out["tags"] == ["1.0", "2.0"]
        assert out["existing_tags"] == {"1.0": digest}
        described = ecr.describe_repositories(repositoryNames=["team/app"])["repositories"][0]
        assert described["imageScanningConfiguration"]["scanOnPush"] is True
        config = Path(out["docker_config"])
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        auth = json.loads(config.read_text())["auths"][MAIN]["auth"]
        assert base64.b64decode(auth).decode() == f"AWS:{ACCOUNT}-auth-token"
        assert SECRET not in done.stdout + done.stderr
        assert f"{ACCOUNT}-auth-token" not in done.stdout + done.stderr

    def test_prepare_ensures_every_registry(self, aws_env: AwsEnv) -> None:
        """Extra registries (another region) get the repository and a credential each."""
        done = prepare(
            {
                "PLUGIN_REGISTRY": MAIN,
                "PLUGIN_EXTRA_REGISTRIES": WEST,
                "PLUGIN_REPO": "team/app",
                "PLUGIN_CREATE_REPOSITORY": "true",
            }
        )
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["registries"] == [MAIN, WEST]
        assert [r["created"] for r in out["repositories"]] == [True, True]
        auths = json.loads(Path(out["docker_config"]).read_text())["auths"]
        assert set(auths) == {MAIN, WEST}
        for region in ("us-east-1", "us-west-2"):
            names = [r["repositoryName"] for r in ecr_client(region).describe_repositories()["repositories"]]
            assert names == ["team/app"]

    def test_registry_comes_from_the_token_when_unset(self, aws_env: AwsEnv) -> None:
        """With no PLUGIN_REGISTRY and no PLUGIN_ACCOUNT the token's endpoint names the registry."""
        done = prepare({"PLUGIN_REPO": "team/app"})
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["registry"].endswith(".amazonaws.com")

    def test_missing_repository_without_create_is_an_aws_error(self, aws_env: AwsEnv) -> None:
        """Asking for settings on a repository that does not exist fails with exit 3 and the AWS code."""
        done = prepare({"PLUGIN_REGISTRY": MAIN, "PLUGIN_REPO": "team/none", "PLUGIN_SCAN_ON_PUSH": "true"})
        assert done.returncode == 3
        assert "RepositoryNotFoundException" in done.stderr
        assert "team/none" in done.stderr
        assert "Traceback" not in done.stderr
        assert SECRET not in done.stderr

    @pytest.mark.parametrize("policy", ['{"rules": [', "/no/such/policy.json"])
    def test_bad_policy_is_a_config_error(self, aws_env: AwsEnv, policy: str) -> None:
        """A lifecycle policy that is not valid JSON (or not there) is exit 2 naming the variable."""
        done = prepare(
            {
                "PLUGIN_REGISTRY": MAIN,
                "PLUGIN_REPO": "team/app",
                "PLUGIN_CREATE_REPOSITORY": "true",
                "PLUGIN_LIFECYCLE_POLICY": policy,
            }
        )
        assert done.returncode == 2
        assert "PLUGIN_LIFECYCLE_POLICY" in done.stderr
        assert "Traceback" not in done.stderr

    def test_kaniko_cache_repository_is_created_like_the_main_one(self, aws_env: AwsEnv) -> None:
        """With caching on, the cache repository (<repo>-cache by default) is created with the main one."""
        done = prepare(
            {
                "PLUGIN_REGISTRY": MAIN,
                "PLUGIN_REPO": "team/app",
                "PLUGIN_BUILDER": "kaniko",
                "PLUGIN_ENABLE_CACHE": "true",
                "PLUGIN_CREATE_REPOSITORY": "true",
                "PLUGIN_ENCRYPTION": "AES256",
            }
        )
        assert done.returncode == 0, done.stderr
        repos = {r["repositoryName"]: r for r in ecr_client().describe_repositories()["repositories"]}
        assert set(repos) == {"team/app", "team/app-cache"}
        assert repos["team/app-cache"]["encryptionConfiguration"]["encryptionType"] == "AES256"

    def test_immutable_repository_is_checked_without_the_skip_flag(self, aws_env: AwsEnv) -> None:
        """An immutable repository gets the tag check even when PLUGIN_SKIP_PUSH_IF_TAG_EXISTS is off."""
        ecr = ecr_client()
        ecr.create_repository(repositoryName="team/app", imageTagMutability="IMMUTABLE")
        digest = put_image(ecr, "team/app", "1.0", "seed-b")
        done = prepare({"PLUGIN_REGISTRY": MAIN, "PLUGIN_REPO": "team/app", "PLUGIN_TAGS": "1.0"})
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["decision"]["action"] == "skip"
        assert out["existing_tags"] == {"1.0": digest}
        assert out["repositories"][0]["immutable"] is True

    def test_docker_config_merges_the_users_entries_and_leaves_theirs_alone(
        self, aws_env: AwsEnv, tmp_path: Path
    ) -> None:
        """Existing config < PLUGIN_CONFIG < the ECR login; the user's own file stays as it was."""
        user_dir = tmp_path / "user-docker"
        user_dir.mkdir()
        original = json.dumps(
            {
                "auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}},
                "credsStore": "pass",
                "credHelpers": {MAIN: "ecr-login", "gcr.io": "gcloud"},
            }
        )
        (user_dir / "config.json").write_text(original)
        plugin_config = json.dumps({"auths": {"quay.io": {"auth": "cTpx"}}, "proxies": {"default": {}}})
        done = prepare(
            {
                "PLUGIN_REGISTRY": MAIN,
                "PLUGIN_REPO": "team/app",
                "DOCKER_CONFIG": str(user_dir),
                "PLUGIN_CONFIG": plugin_config,
            }
        )
        assert done.returncode == 0, done.stderr
        written = Path(json.loads(done.stdout)["docker_config"])
        assert written.parent != user_dir
        config = json.loads(written.read_text())
        assert set(config["auths"]) == {"ghcr.io", "quay.io", MAIN}
        assert "credsStore" not in config  # it would be asked instead of the ECR login
        assert config["credHelpers"] == {"gcr.io": "gcloud"}
        assert config["proxies"] == {"default": {}}
        assert (user_dir / "config.json").read_text() == original
        assert "cTpx" not in done.stdout + done.stderr

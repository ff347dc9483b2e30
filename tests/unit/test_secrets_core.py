"""Sentinel secrets: a distinct value in every secret-bearing variable, and none of them ever comes out.

The plugin runs as a real process (`python -m plugin ...`) with that environment; both streams are searched.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plugin.config.settings import field_docs

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
SECRET_VARIABLES = [v for doc in field_docs() if doc.secret for v in doc.variables]


def sentinel(index: int) -> str:
    """Fixed width, so that no sentinel is a substring of another."""
    return f"S3NT1NEL{index:03d}qz"


SENTINELS: dict[str, str] = {variable: sentinel(i) for i, variable in enumerate(SECRET_VARIABLES)}
# A Docker config must be JSON (checked before anything runs): the sentinel is its credential.
for _name in ("PLUGIN_CONFIG", "DOCKER_PLUGIN_CONFIG"):
    SENTINELS[_name] = '{"auths": {"r.example": {"auth": "%s"}}}' % SENTINELS[_name]  # noqa: UP031
# A cosign key must look like one (checked before anything runs): its body carries the sentinel.
_COSIGN_BODY = base64.b64encode(
    json.dumps({"kdf": {}, "cipher": {}, "ciphertext": SENTINELS["PLUGIN_COSIGN_PRIVATE_KEY"]}).encode()
).decode()
_COSIGN_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"
SENTINELS["PLUGIN_COSIGN_PRIVATE_KEY"] = (
    f"-----BEGIN {_COSIGN_TYPE}-----\n{_COSIGN_BODY}\n-----END {_COSIGN_TYPE}-----"
)
BUILD_ARG_SECRET = sentinel(900)
PROXY_PASSWORD = sentinel(901)
ALL_SENTINELS = [*SENTINELS.values(), _COSIGN_BODY, BUILD_ARG_SECRET, PROXY_PASSWORD]

SECRET_ENV = {
    **SENTINELS,
    "PLUGIN_ACCESS_KEY": "AKIAEXAMPLEACCESSKEY",  # not secret, but required with the secret key
    "PLUGIN_BUILD_ARGS_FROM_ENV": "NPM_TOKEN",
    "NPM_TOKEN": BUILD_ARG_SECRET,
    "http_proxy": f"http://user:{PROXY_PASSWORD}@proxy:3128",
}
BASE = {
    "PLUGIN_BUILDER": "kaniko",
    "PLUGIN_REGISTRY": REGISTRY,
    "PLUGIN_REPO": "team/app",
    "PLUGIN_TAGS": "1.0,latest",
    "PLUGIN_ASSUME_ROLE": "arn:aws:iam::123456789012:role/ci",
}


def run_plugin(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the plugin with exactly ``env`` (plus PATH) in a workspace with a Dockerfile; both streams."""
    (cwd / "Dockerfile").touch()
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return subprocess.run(
        [sys.executable, "-m", "plugin", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def leaked(result: subprocess.CompletedProcess[str]) -> list[str]:
    output = result.stdout + result.stderr
    return [s for s in ALL_SENTINELS if s in output]


class TestSentinelSetup:
    """The sentinel environment covers what it claims to."""

    def test_every_secret_field_variable_has_a_sentinel(self) -> None:
        assert {"PLUGIN_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "PLUGIN_PASSWORD", "DOCKER_PASSWORD"} <= set(
            SENTINELS
        )
        assert {"AWS_SESSION_TOKEN", "PLUGIN_OIDC_TOKEN_ID", "PLUGIN_EXTERNAL_ID", "PLUGIN_CONFIG"} <= set(
            SENTINELS
        )
        assert len(set(ALL_SENTINELS)) == len(ALL_SENTINELS)


class TestNoSentinelLeaks:
    """No secret value appears in plans, help, debug logs or error messages."""

    def test_plan_at_debug_level(self, tmp_path: Path) -> None:
        result = run_plugin(["plan"], {**BASE, **SECRET_ENV, "PLUGIN_LOG_LEVEL": "debug"}, tmp_path)
        assert result.returncode == 0, result.stderr
        assert leaked(result) == []
        # Values from the environment go to the executor's env (masked in the plan), never its argv.
        plan = json.loads(result.stdout)
        [build] = plan["steps"]
        assert "--build-arg=NPM_TOKEN" in build["argv"]
        assert "--build-arg=http_proxy" in build["argv"]
        assert build["env"]["NPM_TOKEN"] == "***"
        assert build["env"]["http_proxy"] == "http://user:***@proxy:3128"

    def test_plan_only_default_command_at_debug_level(self, tmp_path: Path) -> None:
        env = {
            **BASE,
            **SECRET_ENV,
            "PLUGIN_PLAN_ONLY": "true",
            "PLUGIN_LOG_LEVEL": "debug",
            "PLUGIN_LOG_JSON": "1",
        }
        result = run_plugin([], env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert leaked(result) == []

    def test_help(self, tmp_path: Path) -> None:
        result = run_plugin(["--help"], {**BASE, **SECRET_ENV}, tmp_path)
        assert result.returncode == 0
        assert leaked(result) == []

    def test_config_error_when_another_variable_is_invalid(self, tmp_path: Path) -> None:
        result = run_plugin(["plan"], {**BASE, **SECRET_ENV, "PLUGIN_NO_PUSH": "maybe"}, tmp_path)
        assert result.returncode == 2
        assert "PLUGIN_NO_PUSH" in result.stderr
        assert "Traceback" not in result.stderr
        assert leaked(result) == []

    @pytest.mark.parametrize("bad_variable", ["PLUGIN_CACHE_TTL", "PLUGIN_TAGS", "DRONE_COMMIT_REF"])
    def test_secret_pasted_into_a_bad_variable_is_masked(self, tmp_path: Path, bad_variable: str) -> None:
        """A secret's value in the wrong variable is still masked in the error (exit 2)."""
        secret = SENTINELS["PLUGIN_PASSWORD"]
        env = {**BASE, **SECRET_ENV, bad_variable: f"refs/tags/{secret}/x", "PLUGIN_AUTO_TAG": "true"}
        if bad_variable == "PLUGIN_TAGS":
            env = {**BASE, **SECRET_ENV, "PLUGIN_TAGS": f"{secret}/x"}
        result = run_plugin(["plan"], env, tmp_path)
        assert result.returncode == 2, result.stdout
        assert bad_variable.removeprefix("PLUGIN_") in result.stderr
        assert "***" in result.stderr
        assert "Traceback" not in result.stderr
        assert leaked(result) == []

"""HARNESS_CA_PATH: AWS reached through a TLS-intercepting proxy whose CA only that file holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.certs import make_ca
from tests.support.faultproxy import fault_proxy
from tests.support.moto_server import ACCOUNT, AwsEnv

REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"


def prepare(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PLUGIN_REGISTRY": REGISTRY, "PLUGIN_REPO": "team/app", **env}
    return subprocess.run(
        [sys.executable, "-m", "plugin", "prepare"],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestHarnessCA:
    """Without the CA the TLS handshake fails (exit 3); with HARNESS_CA_PATH every AWS call goes through."""

    def test_the_ca_file_makes_the_intercepted_endpoint_trusted(
        self, aws_env: AwsEnv, tmp_path: Path
    ) -> None:
        ca = make_ca(tmp_path / "ca")
        with fault_proxy(aws_env.endpoint, tls=ca.server) as proxy:
            endpoints = {
                "AWS_ENDPOINT_URL_ECR": proxy.url,
                "AWS_ENDPOINT_URL_STS": proxy.url,
                "TMPDIR": str(tmp_path),
            }
            refused = prepare(endpoints)
            trusted = prepare({**endpoints, "HARNESS_CA_PATH": str(ca.ca_pem)})
        assert refused.returncode == 3, refused.stderr
        assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr or "certificate verify failed" in refused.stderr
        assert trusted.returncode == 0, trusted.stderr
        assert json.loads(trusted.stdout)["registry"] == REGISTRY
        assert "GetAuthorizationToken" in proxy.seen

    def test_a_file_that_is_not_a_certificate_is_a_config_error(
        self, aws_env: AwsEnv, tmp_path: Path
    ) -> None:
        bad = tmp_path / "ca.pem"
        bad.write_text("not a certificate\n")
        done = prepare({"HARNESS_CA_PATH": str(bad), "TMPDIR": str(tmp_path)})
        assert done.returncode == 2
        assert "HARNESS_CA_PATH" in done.stderr
        assert "Traceback" not in done.stderr

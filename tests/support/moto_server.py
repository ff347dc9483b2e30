"""A real moto server (ECR, STS) on loopback for the session, and a per-test AWS environment pointing at it.

The server runs in-process (ThreadedMotoServer), so tests can also read moto's backends directly, e.g. the
ExternalId an AssumeRole call carried. State is reset before every test that uses ``aws_env``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests

from tests.support.stack import running_moto

ACCOUNT = "123456789012"  # moto's default account for any unknown access key
REGION = "us-east-1"


@dataclass(frozen=True)
class MotoServer:
    """A running moto server: its base URL."""

    url: str

    def reset(self) -> None:
        """Forget every repository, image, role and assumed-role session."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """Start moto on 127.0.0.1 with a free port, wait for it with a bound, and always stop it."""
    with running_moto() as url:
        yield MotoServer(url)


@dataclass(frozen=True)
class AwsEnv:
    """What ``aws_env`` set: the endpoint every AWS client uses, the default account and region."""

    endpoint: str
    account: str = ACCOUNT
    region: str = REGION


@pytest.fixture
def aws_env(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> AwsEnv:
    """Point ECR, ECR Public and STS at moto, with test keys and no host AWS config; moto state is reset."""
    moto_server.reset()
    empty = tmp_path_factory.mktemp("aws-config") / "none"
    for name, value in {
        "AWS_ENDPOINT_URL_ECR": moto_server.url,
        "AWS_ENDPOINT_URL_ECR_PUBLIC": moto_server.url,
        "AWS_ENDPOINT_URL_STS": moto_server.url,
        "AWS_ACCESS_KEY_ID": "AKIAMOTOTESTKEY00001",
        "AWS_SECRET_ACCESS_KEY": "moto-test-secret-access-key",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }.items():
        monkeypatch.setenv(name, value)
    return AwsEnv(moto_server.url)


def ecr_client(region: str = REGION) -> Any:
    """A plain boto3 ECR client for arranging and checking state (uses the ``aws_env`` variables)."""
    return boto3.client("ecr", region_name=region)


def put_image(client: Any, repository: str, tag: str, seed: str) -> str:
    """Push a fake manifest (distinct per ``seed``) under ``tag``; returns the digest ECR gave it."""
    blob = {"size": 2, "digest": "sha256:" + hashlib.sha256(seed.encode()).hexdigest()}
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **blob},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", **blob}],
        }
    )
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()  # as a registry computes it
    image = client.put_image(
        repositoryName=repository, imageManifest=manifest, imageTag=tag, imageDigest=digest
    )
    return str(image["image"]["imageId"]["imageDigest"])

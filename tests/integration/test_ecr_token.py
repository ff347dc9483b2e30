"""Authorization tokens (private and public ECR) and several registries from one session."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from plugin.aws.auth import AwsAuth, RetryPolicy
from plugin.aws.ecr import Ecr
from plugin.aws.repositories import RepositorySpec
from plugin.aws.session import make_session
from plugin.aws.token import RegistryCredentials
from plugin.core.errors import AwsError
from plugin.core.log import REDACTOR
from tests.support.faultproxy import Fault, FaultProxy, fault_proxy
from tests.support.moto_server import ACCOUNT, AwsEnv, ecr_client

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.05)


def _token_body(token: str, public: bool = False) -> bytes:
    data = {"authorizationToken": token, "expiresAt": 1.0}
    if not public:
        data["proxyEndpoint"] = f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    return json.dumps({"authorizationData": data if public else [data]}).encode()


@pytest.fixture
def proxy(aws_env: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    with fault_proxy(aws_env.endpoint) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", running.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR_PUBLIC", running.url)
        yield running


class TestPrivateToken:
    def test_moto_token_decodes_even_though_it_expired(self, aws_env: AwsEnv) -> None:
        """moto's expiresAt is in 2015: it is logged, never used to reject."""
        ecr = Ecr(
            make_session(AwsAuth(), FAST), f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", None, "us-east-1"
        )
        creds = ecr.token()
        assert creds == RegistryCredentials(
            "AWS", f"{ACCOUNT}-auth-token", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
        )
        assert creds.password in REDACTOR.secrets
        assert creds.password not in repr(creds)

    def test_token_asks_for_the_registry_account(self, aws_env: AwsEnv) -> None:
        """registryIds=[account]: a cross-account registry gets its own token, not the caller's."""
        other = "999988887777"
        creds = Ecr(
            make_session(AwsAuth(), FAST), f"{other}.dkr.ecr.us-east-1.amazonaws.com", None, "x"
        ).token()
        assert creds.password == f"{other}-auth-token"

    def test_local_registry_uses_the_given_account_and_its_own_host(self, aws_env: AwsEnv) -> None:
        """A non-ECR host (a local demo registry) works when the caller gives account and region."""
        ecr = Ecr(make_session(AwsAuth(), FAST), "127.0.0.1:5000", ACCOUNT, "us-east-1")
        assert (ecr.account, ecr.region) == (ACCOUNT, "us-east-1")
        assert ecr.token().endpoint == "127.0.0.1:5000"

    def test_without_a_registry_the_proxy_endpoint_is_used(self, aws_env: AwsEnv) -> None:
        assert Ecr(make_session(AwsAuth(), FAST), "", None, "eu-west-1").token().endpoint == (
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
        )

    def test_malformed_base64_is_an_invalid_token_error(self, proxy: FaultProxy) -> None:
        proxy.add(Fault("respond", "GetAuthorizationToken", status=200, body=_token_body("%%%not-base64")))
        ecr = Ecr(
            make_session(AwsAuth(), FAST), f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", None, "us-east-1"
        )
        with pytest.raises(AwsError) as raised:
            ecr.token()
        assert str(raised.value) == (
            "AWS GetAuthorizationToken failed: InvalidToken: "
            "the authorization token is not valid base64 of UTF-8 text"
        )

    def test_password_with_colons_survives_the_wire(self, proxy: FaultProxy) -> None:
        token = base64.b64encode(b"AWS:pa:ss:word").decode()
        proxy.add(Fault("respond", "GetAuthorizationToken", status=200, body=_token_body(token)))
        ecr = Ecr(
            make_session(AwsAuth(), FAST), f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", None, "us-east-1"
        )
        assert (ecr.token().username, ecr.token().password) == ("AWS", "pa:ss:word")


class TestPublicToken:
    def test_public_token_is_a_single_object_from_us_east_1(self, proxy: FaultProxy) -> None:
        """ECR Public: ecr-public GetAuthorizationToken, whatever region the user set."""
        token = base64.b64encode(b"AWS:public-secret").decode()
        proxy.add(
            Fault(
                "respond",
                "SpencerFrontendService.GetAuthorizationToken",
                status=200,
                body=_token_body(token, public=True),
            )
        )
        ecr = Ecr(
            make_session(AwsAuth(region="eu-west-1"), FAST), "public.ecr.aws/my-alias", None, "eu-west-1"
        )
        assert (ecr.service, ecr.region, ecr.account) == ("ecr-public", "us-east-1", None)
        assert ecr.token() == RegistryCredentials("AWS", "public-secret", "public.ecr.aws")
        assert proxy.seen == ["GetAuthorizationToken"]


class TestSeveralRegistries:
    def test_two_regions_from_one_session(self, aws_env: AwsEnv) -> None:
        """Each registry's repository lands in its own region; tokens name their own endpoints."""
        session = make_session(AwsAuth(), FAST)
        hosts = [f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"]
        registries = [Ecr(session, host, None, "us-east-1") for host in hosts]
        assert [r.region for r in registries] == ["us-east-1", "eu-west-1"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            states = list(
                pool.map(lambda r: r.ensure_repository(RepositorySpec("app", create=True)), registries)
            )
            tokens = list(pool.map(lambda r: r.token(), registries))
        assert [s.uri for s in states] == [f"{h}/app" for h in hosts]
        assert [t.endpoint for t in tokens] == hosts
        for region in ("us-east-1", "eu-west-1"):
            repos = ecr_client(region).describe_repositories()["repositories"]
            assert [r["repositoryName"] for r in repos] == ["app"]

"""Registry hosts: every ECR form parses to its parts and formats back to the same host."""

from __future__ import annotations

import pytest

from plugin.config.hosts import RegistryHost, image_ref, repository_name

A = "123456789012"

R = RegistryHost
# host -> what it parses to (account, region, fips, dualstack, public, dns suffix)
FORMS = [
    pytest.param(f"{A}.dkr.ecr.us-east-1.amazonaws.com", R(A, "us-east-1"), id="commercial"),
    pytest.param(f"{A}.dkr.ecr-fips.us-east-2.amazonaws.com", R(A, "us-east-2", fips=True), id="fips"),
    pytest.param(
        f"{A}.dkr.ecr.cn-north-1.amazonaws.com.cn",
        R(A, "cn-north-1", dns_suffix="amazonaws.com.cn"),
        id="china",
    ),
    pytest.param(
        f"{A}.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
        R(A, "cn-northwest-1", dns_suffix="amazonaws.com.cn"),
        id="china-northwest",
    ),
    pytest.param(f"{A}.dkr.ecr.us-gov-west-1.amazonaws.com", R(A, "us-gov-west-1"), id="govcloud"),
    pytest.param(
        f"{A}.dkr.ecr-fips.us-gov-east-1.amazonaws.com", R(A, "us-gov-east-1", fips=True), id="govcloud-fips"
    ),
    pytest.param(
        f"{A}.dkr-ecr.eu-west-1.on.aws",
        R(A, "eu-west-1", dualstack=True, dns_suffix="on.aws"),
        id="dualstack",
    ),
    pytest.param(
        f"{A}.dkr-ecr-fips.us-west-2.on.aws",
        R(A, "us-west-2", fips=True, dualstack=True, dns_suffix="on.aws"),
        id="dualstack-fips",
    ),
    pytest.param(
        f"{A}.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
        R(A, "cn-north-1", dualstack=True, dns_suffix="on.amazonwebservices.com.cn"),
        id="dualstack-china",
    ),
    pytest.param(
        f"{A}.dkr.ecr.us-iso-east-1.c2s.ic.gov", R(A, "us-iso-east-1", dns_suffix="c2s.ic.gov"), id="iso"
    ),
    pytest.param(
        f"{A}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
        R(A, "us-isob-east-1", dns_suffix="sc2s.sgov.gov"),
        id="isob",
    ),
]
PUBLIC = pytest.param("public.ecr.aws", R(None, "us-east-1", public=True, dns_suffix="aws"), id="public")


class TestParse:
    @pytest.mark.parametrize(("host", "expected"), [*FORMS, PUBLIC])
    def test_host_parses_to_its_parts_and_back(self, host: str, expected: RegistryHost) -> None:
        """parse() gives the parts, and .host gives the same host back."""
        parsed = RegistryHost.parse(host)
        assert parsed == expected
        assert parsed.host == host

    @pytest.mark.parametrize(("host", "expected"), FORMS)
    def test_for_account_formats_the_same_host(self, host: str, expected: RegistryHost) -> None:
        """for_account() picks the partition suffix from the region alone."""
        assert expected.account is not None
        made = RegistryHost.for_account(expected.account, expected.region, expected.fips, expected.dualstack)
        assert (made, made.host) == (expected, host)

    @pytest.mark.parametrize(
        "decorated",
        [
            f"https://{A}.dkr.ecr.eu-west-1.amazonaws.com",
            f"https://{A}.dkr.ecr.eu-west-1.amazonaws.com/",
            f"{A}.dkr.ecr.eu-west-1.amazonaws.com/",
            f"  {A}.DKR.ECR.EU-WEST-1.AMAZONAWS.COM ",
        ],
    )
    def test_scheme_trailing_slash_and_case_are_accepted(self, decorated: str) -> None:
        assert RegistryHost.parse(decorated).host == f"{A}.dkr.ecr.eu-west-1.amazonaws.com"

    def test_public_alias_is_kept_apart_from_the_host(self) -> None:
        """``public.ecr.aws/<alias>`` logs in to ``public.ecr.aws``; images start with the alias."""
        parsed = RegistryHost.parse("https://public.ecr.aws/my_alias/")
        assert (parsed.host, parsed.alias, parsed.prefix, parsed.public) == (
            "public.ecr.aws",
            "my_alias",
            "public.ecr.aws/my_alias",
            True,
        )


class TestMalformed:
    @pytest.mark.parametrize(
        ("host", "message"),
        [
            ("", "the registry host is empty"),
            ("https://", "the registry host is empty"),
            (f"{A}.dkr.ecr.us-east-1.amazonaws.com/team", "must be a bare host name, without a path or port"),
            (f"{A}.dkr.ecr.us-east-1.amazonaws.com:443", "must be a bare host name, without a path or port"),
            ("12345.dkr.ecr.us-east-1.amazonaws.com", "12 digits (e.g. 123456789012); '12345' has 5 digits"),
            (
                "abcdefghijkl.dkr.ecr.us-east-1.amazonaws.com",
                "'abcdefghijkl' has characters that are not digits",
            ),
            (f"{A}.dkr.ecr.useast1.amazonaws.com", "'useast1' is not an AWS region"),
            (f"{A}.dkr.ecr.cn-north-1.amazonaws.com", "region cn-north-1 is served under 'amazonaws.com.cn'"),
            (f"{A}.dkr.ecr.us-east-1.amazonaws.com.cn", "region us-east-1 is served under 'amazonaws.com'"),
            (f"{A}.dkr.ecr.us-east-1.example.com", "is served under 'amazonaws.com', not 'example.com'"),
            (f"{A}.dkr-ecr.us-east-1.amazonaws.com", "is served under 'on.aws', not 'amazonaws.com'"),
            (f"{A}.dkr-ecr.us-iso-east-1.on.aws", "region 'us-iso-east-1' has no dual-stack ECR endpoint"),
            ("docker.io", "'docker.io' is not an ECR registry host; expected"),
            ("127.0.0.1:5000", "must be a bare host name, without a path or port"),
            ("public.ecr.aws/A", "ECR Public alias 'a' must be 2-50"),
            ("public.ecr.aws/a/b", "ECR Public alias 'a/b' must be 2-50"),
        ],
    )
    def test_malformed_host_says_what_is_wrong(self, host: str, message: str) -> None:
        with pytest.raises(ValueError) as raised:
            RegistryHost.parse(host)
        assert message in str(raised.value)

    @pytest.mark.parametrize(
        ("account", "region", "dualstack", "message"),
        [
            ("1234", "us-east-1", False, "the account must be an AWS account id, which is 12 digits"),
            (A, "mars-1", False, "'mars-1' is not an AWS region"),
            (A, "us-isob-east-1", True, "has no dual-stack ECR endpoint"),
        ],
    )
    def test_for_account_rejects_bad_parts(
        self, account: str, region: str, dualstack: bool, message: str
    ) -> None:
        with pytest.raises(ValueError) as raised:
            RegistryHost.for_account(account, region, dualstack=dualstack)
        assert message in str(raised.value)


class TestParseOrNone:
    @pytest.mark.parametrize(
        "host", ["127.0.0.1:5000", "localhost:5000", "registry.example.com", "docker.io"]
    )
    def test_non_ecr_host_is_none(self, host: str) -> None:
        """A local or third-party registry is not ECR: the caller gives account and region itself."""
        assert RegistryHost.parse_or_none(host) is None

    def test_ecr_looking_host_that_is_malformed_still_raises(self) -> None:
        """A typo in an ECR host is an error, not silently "some other registry"."""
        with pytest.raises(ValueError, match="which is 12 digits"):
            RegistryHost.parse_or_none("1234.dkr.ecr.us-east-1.amazonaws.com")

    def test_ecr_host_parses(self) -> None:
        assert RegistryHost.parse_or_none(f"{A}.dkr.ecr.us-east-1.amazonaws.com") == RegistryHost(
            A, "us-east-1"
        )


class TestRepositoryName:
    @pytest.mark.parametrize(
        ("repo", "registry", "expected"),
        [
            ("app", f"{A}.dkr.ecr.us-east-1.amazonaws.com", "app"),
            (
                f"{A}.dkr.ecr.us-east-1.amazonaws.com/team/app",
                f"{A}.dkr.ecr.us-east-1.amazonaws.com",
                "team/app",
            ),
            (
                f"{A}.dkr.ecr.us-east-1.amazonaws.com/app",
                f"https://{A}.dkr.ecr.us-east-1.amazonaws.com/",
                "app",
            ),
            ("public.ecr.aws/alias/app", "public.ecr.aws/alias", "app"),
            ("127.0.0.1:5000/app", "127.0.0.1:5000", "app"),
            ("other.example.com/app", "127.0.0.1:5000", "other.example.com/app"),
        ],
    )
    def test_leading_registry_is_stripped_once(self, repo: str, registry: str, expected: str) -> None:
        assert repository_name(repo, registry) == expected

    def test_image_ref_is_never_prefixed_twice(self) -> None:
        registry = f"{A}.dkr.ecr.us-east-1.amazonaws.com"
        assert image_ref(registry, f"{registry}/app", "v1") == f"{registry}/app:v1"
        assert image_ref(registry, "app", "v1") == f"{registry}/app:v1"

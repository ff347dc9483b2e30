"""ECR registry hosts in every partition (parse one into account and region, or build one), and the
registry and repository parts of an image name. Pure: no AWS calls."""

from __future__ import annotations

import re
from dataclasses import dataclass

PUBLIC_HOST = "public.ecr.aws"
PUBLIC_REGION = "us-east-1"

_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")
_ALIAS = re.compile(r"[a-z0-9][a-z0-9_-]{1,49}")
_HOSTLIKE = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?$")
_SHAPE = re.compile(
    r"(?P<account>[^.]+)\.dkr(?P<sep>[.-])ecr(?P<fips>-fips)?\.(?P<region>[^.]+)\.(?P<suffix>.+)"
)
# Region prefix -> (DNS suffix, dual-stack DNS suffix or None); anything else is the commercial partition.
_PARTITIONS: tuple[tuple[str, str, str | None], ...] = (
    ("cn-", "amazonaws.com.cn", "on.amazonwebservices.com.cn"),
    ("us-isof-", "csp.hci.ic.gov", None),
    ("us-isob-", "sc2s.sgov.gov", None),
    ("us-iso-", "c2s.ic.gov", None),
    ("eu-isoe-", "cloud.adc-e.uk", None),
    ("eusc-", "amazonaws.eu", None),
)
_COMMERCIAL = ("amazonaws.com", "on.aws")
_FORMS = (
    "<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn], <account>.dkr-ecr[-fips].<region>.on.aws"
    " or public.ecr.aws"
)


def account_problem(account: str) -> str | None:
    """Why ``account`` is not an AWS account id (ECR accounts are exactly 12 digits), or None."""
    if _ACCOUNT.fullmatch(account):
        return None
    digits = f"{len(account)} digit{'' if len(account) == 1 else 's'}"
    count = digits if account.isdigit() else "characters that are not digits"
    why = f"an AWS account id, which is 12 digits (e.g. 123456789012); {account!r} has {count}"
    if account == "12345":  # Harness's docs show `account: "12345"` in their minimal example
        why += " (12345 is the placeholder of Harness's docs example: put your own account id)"
    return why


def host_account(host: str) -> str | None:
    """The account part of a private ECR-looking host (``<account>.dkr.ecr...``), not checked; else None."""
    match = _SHAPE.fullmatch(strip_scheme(host).lower())
    return match["account"] if match else None


def _suffix_for(region: str, dualstack: bool) -> str:
    plain, dual = next(((p, d) for prefix, p, d in _PARTITIONS if region.startswith(prefix)), _COMMERCIAL)
    if dualstack and dual is None:
        raise ValueError(f"region {region!r} has no dual-stack ECR endpoint")
    return dual if dualstack and dual else plain


def strip_scheme(host: str) -> str:
    """``https://host/`` -> ``host``: the registry as Docker and ECR's API name it."""
    host = host.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
    return host.rstrip("/")


def _looks_like_ecr(host: str) -> bool:
    lowered = host.lower()
    return ".dkr.ecr" in lowered or ".dkr-ecr" in lowered or lowered.startswith(PUBLIC_HOST)


@dataclass(frozen=True)
class RegistryHost:
    """An ECR registry host, parsed from or formatted to its DNS name (private, FIPS, dual-stack, public)."""

    account: str | None
    region: str
    fips: bool = False
    dualstack: bool = False
    public: bool = False
    dns_suffix: str = "amazonaws.com"
    alias: str | None = None  # ECR Public only: ``public.ecr.aws/<alias>``

    @classmethod
    def parse(cls, host: str) -> RegistryHost:
        """Parse a registry host (optional ``https://`` and trailing ``/``); ValueError says what is wrong."""
        text = strip_scheme(host).lower()
        if not text:
            raise ValueError("the registry host is empty")
        if text == PUBLIC_HOST or text.startswith(PUBLIC_HOST + "/"):
            return cls._parse_public(text)
        if "/" in text or ":" in text:
            raise ValueError(f"registry host {host!r} must be a bare host name, without a path or port")
        match = _SHAPE.fullmatch(text)
        if not match:
            raise ValueError(f"{host!r} is not an ECR registry host; expected {_FORMS}")
        account, region, suffix = match["account"], match["region"], match["suffix"]
        dualstack = match["sep"] == "-"
        if not _ACCOUNT.fullmatch(account):
            raise ValueError(f"registry host {host!r}: its account part must be {account_problem(account)}")
        if not _REGION.fullmatch(region):
            raise ValueError(f"registry host {host!r}: {region!r} is not an AWS region")
        expected = _suffix_for(region, dualstack)
        if suffix != expected:
            raise ValueError(
                f"registry host {host!r}: region {region} is served under {expected!r}, not {suffix!r}"
            )
        return cls(account, region, bool(match["fips"]), dualstack, False, suffix)

    @classmethod
    def _parse_public(cls, text: str) -> RegistryHost:
        alias = text[len(PUBLIC_HOST) + 1 :] or None
        if alias is not None and not _ALIAS.fullmatch(alias):
            raise ValueError(f"ECR Public alias {alias!r} must be 2-50 lowercase letters, digits, '-' or '_'")
        return cls(None, PUBLIC_REGION, public=True, dns_suffix="aws", alias=alias)

    @classmethod
    def parse_or_none(cls, host: str) -> RegistryHost | None:
        """Parse an ECR host; None for a non-ECR host (``127.0.0.1:5000``); ValueError if malformed."""
        if not _looks_like_ecr(strip_scheme(host)):
            return None
        return cls.parse(host)

    @classmethod
    def for_account(
        cls, account: str, region: str, fips: bool = False, dualstack: bool = False
    ) -> RegistryHost:
        """The private registry of an account in a region, with the region's partition DNS suffix."""
        why = account_problem(account)
        if why:
            raise ValueError(f"the account must be {why}")
        if not _REGION.fullmatch(region):
            raise ValueError(f"{region!r} is not an AWS region")
        return cls(account, region, fips, dualstack, False, _suffix_for(region, dualstack))

    @property
    def host(self) -> str:
        """The DNS name: what Docker logs in to (``public.ecr.aws`` for every public alias)."""
        if self.public:
            return PUBLIC_HOST
        fips = "-fips" if self.fips else ""
        service = f"dkr-ecr{fips}" if self.dualstack else f"dkr.ecr{fips}"
        return f"{self.account}.{service}.{self.region}.{self.dns_suffix}"

    @property
    def prefix(self) -> str:
        """What image names start with: the host, plus ``/<alias>`` for ECR Public."""
        return f"{self.host}/{self.alias}" if self.alias else self.host


def repository_name(repo: str, registry: str) -> str:
    """The repository name for ECR's API: ``repo`` without a leading ``<registry>/``."""
    name = strip_scheme(repo)
    prefix = strip_scheme(registry)
    if prefix and name.lower().startswith(prefix.lower() + "/"):
        return name[len(prefix) + 1 :]
    return name


def image_ref(registry: str, repo: str, tag: str) -> str:
    """``<registry>/<repository>:<tag>``, whether or not ``repo`` already starts with the registry."""
    prefix = strip_scheme(registry)
    return f"{prefix}/{repository_name(repo, prefix)}:{tag}"


def split_repo(repo: str, registry: str | None) -> tuple[str | None, str]:
    """Strip a leading registry host from PLUGIN_REPO (never prefix twice); learn the host if none was set."""
    repo = strip_scheme(repo)
    if registry and repo.startswith(registry + "/"):
        return registry, repo[len(registry) + 1 :]
    first, sep, rest = repo.partition("/")
    looks_like_host = sep and ("." in first or ":" in first) and _HOSTLIKE.match(first)
    if looks_like_host and (registry is None or first == registry):
        return first, rest
    return registry, repo

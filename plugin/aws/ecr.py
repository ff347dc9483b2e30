"""ECR: repositories and their settings, policies, tags, the token (registry hosts: plugin.config.hosts)."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from plugin.config.hosts import PUBLIC_REGION, RegistryHost, repository_name, strip_scheme
from plugin.core.errors import AwsError, ConfigError, RunError
from plugin.core.files import parse_json, read_text
from plugin.core.log import REDACTOR, get_logger

if TYPE_CHECKING:  # the AWS layer (boto3) is imported by who makes the session, never by `plan`
    from plugin.aws.session import AwsSession

log = get_logger(__name__)

LIFECYCLE_VARIABLE = "PLUGIN_LIFECYCLE_POLICY"
REPOSITORY_POLICY_VARIABLE = "PLUGIN_REPOSITORY_POLICY"
CREATE_VARIABLE = "PLUGIN_CREATE_REPOSITORY"


@dataclass(frozen=True)
class RepositorySpec:
    """What the user asked of one repository; None means "not set": never touched."""

    name: str
    create: bool = False
    scan_on_push: bool | None = None
    tag_mutability: Literal["MUTABLE", "IMMUTABLE"] | None = None
    encryption: Literal["AES256", "KMS"] | None = None
    kms_key: str | None = None
    lifecycle_policy: str | None = None  # a file path, or inline JSON starting with "{"
    repository_policy: str | None = None

    def __post_init__(self) -> None:
        if self.kms_key and self.encryption == "AES256":
            raise ValueError("a KMS key needs KMS encryption, not AES256")

    @property
    def encryption_configuration(self) -> dict[str, str] | None:
        """The encryptionConfiguration to create with; a KMS key alone implies KMS."""
        kind = "KMS" if self.kms_key else self.encryption
        if kind is None:
            return None
        return {"encryptionType": kind, **({"kmsKey": self.kms_key} if self.kms_key else {})}

    @property
    def asks_anything(self) -> bool:
        """True when ensure_repository has something to create or change."""
        settings = (self.scan_on_push, self.tag_mutability, self.encryption_configuration)
        return self.create or any(s is not None for s in settings) or self.has_policies

    @property
    def has_policies(self) -> bool:
        return bool(self.lifecycle_policy or self.repository_policy)


@dataclass(frozen=True)
class RepositoryState:
    """A repository after ensure_repository: exists, created, immutable, and what changed."""

    name: str
    uri: str | None
    exists: bool
    created: bool
    immutable: bool
    actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RegistryCredentials:
    """Docker credentials for one registry endpoint (the password is registered with the Redactor)."""

    username: str
    password: str = field(repr=False)
    endpoint: str


def load_policy(value: str | None, variable: str) -> str | None:
    """Read a policy from a file path or inline JSON and check it is a JSON object, before any AWS call."""
    if value is None or not value.strip():
        return None
    if value.strip().startswith(("{", "[")):
        text, where, shown = value, "the inline policy", None
    else:
        where, shown = f"file {value!r}", value
        text = read_text(value, variable, what="a JSON policy file")
    document = parse_json(text, variable, where=where, shown=shown)
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise ConfigError.single(variable, shown, f"a JSON policy object ({where} holds a {kind})")
    return text


def _invalid_token(why: str) -> AwsError:
    return AwsError("GetAuthorizationToken", None, "InvalidToken", f"the authorization token {why}")


def decode_token(token: str | None) -> tuple[str, str]:
    """Split a base64 ``user:password`` token once, on the first ``:``; malformed -> AwsError InvalidToken."""
    if not token:
        raise _invalid_token("is empty")
    REDACTOR.add(token)
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_token("is not valid base64 of UTF-8 text") from None
    user, sep, password = decoded.partition(":")
    if not sep or not user or not password:
        raise _invalid_token("is not of the form user:password")
    REDACTOR.add(password)
    return user, password


def _custom_endpoint(service: str) -> bool:
    variable = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")
    return bool(os.environ.get(variable) or os.environ.get("AWS_ENDPOINT_URL"))


class Ecr:
    """One registry (account + region, or ECR Public) reached through one AwsSession."""

    def __init__(self, session: AwsSession, registry_host: str, account: str | None, region: str) -> None:
        self.session = session
        self.registry = strip_scheme(registry_host)
        self.host = RegistryHost.parse_or_none(self.registry) if self.registry else None
        self.public = bool(self.host and self.host.public)
        self.account = _pick("account", self.host.account if self.host else None, account, self.registry)
        host_region = self.host.region if self.host else None
        self.region = (
            PUBLIC_REGION if self.public else _pick("region", host_region, region, self.registry) or region
        )
        self.service = "ecr-public" if self.public else "ecr"
        custom = _custom_endpoint(self.service)
        self.client = session.client(
            self.service,
            self.region,
            fips=bool(self.host and self.host.fips and not custom),
            dualstack=bool(self.host and self.host.dualstack and not custom),
        )

    def _ids(self) -> dict[str, str]:
        return {"registryId": self.account} if self.account else {}

    def _call(self, operation: str, repository: str | None, **kwargs: Any) -> dict[str, Any]:
        return self.session.call(self.client, operation, repository, **kwargs)

    def _name(self, repo: str) -> str:
        return repository_name(repo, self.registry)

    def describe(self, repository: str) -> dict[str, Any] | None:
        """DescribeRepositories for one name; None when it does not exist."""
        name = self._name(repository)
        try:
            found = self._call("DescribeRepositories", name, repositoryNames=[name], **self._ids())
        except AwsError as exc:
            if exc.code == "RepositoryNotFoundException":
                return None
            raise
        repositories: list[dict[str, Any]] = found.get("repositories") or []
        return repositories[0] if repositories else None

    def ensure_repository(self, spec: RepositorySpec) -> RepositoryState:
        """Create the repository if asked and missing, apply only the settings set, then the policies."""
        name = self._name(spec.name)
        lifecycle = load_policy(spec.lifecycle_policy, LIFECYCLE_VARIABLE)
        policy = load_policy(spec.repository_policy, REPOSITORY_POLICY_VARIABLE)
        if self.public:
            self._warn_public(spec, lifecycle)
            lifecycle = None
        actions: list[str] = []
        found = self.describe(name)
        created = False
        if found is None and spec.create:
            found, created = self._create(name, spec)
            actions += ["created"] if created else []
        if found is None:
            if spec.asks_anything:
                raise AwsError(
                    "DescribeRepositories",
                    name,
                    "RepositoryNotFoundException",
                    f"the repository does not exist and {CREATE_VARIABLE} is off",
                )
            return RepositoryState(name, None, False, False, False, [])
        if not created:
            found = self._reconcile(name, spec, found, actions)
        self._apply_policies(name, lifecycle, policy, actions)
        mutability = str(found.get("imageTagMutability") or "MUTABLE")
        return RepositoryState(
            name, found.get("repositoryUri"), True, created, mutability.startswith("IMMUTABLE"), actions
        )

    def _warn_public(self, spec: RepositorySpec, lifecycle: str | None) -> None:
        asked = {
            "scan_on_push": spec.scan_on_push,
            "tag_mutability": spec.tag_mutability,
            "encryption": spec.encryption_configuration,
            "lifecycle_policy": lifecycle,
        }
        ignored = [name for name, value in asked.items() if value is not None]
        if ignored:
            log.warning("ecr.public_unsupported", settings=ignored, reason="ECR Public has no such settings")

    def _create(self, name: str, spec: RepositorySpec) -> tuple[dict[str, Any] | None, bool]:
        kwargs: dict[str, Any] = {"repositoryName": name, **self._ids()}
        if not self.public:
            if spec.scan_on_push is not None:
                kwargs["imageScanningConfiguration"] = {"scanOnPush": spec.scan_on_push}
            if spec.tag_mutability:
                kwargs["imageTagMutability"] = spec.tag_mutability
            if spec.encryption_configuration:
                kwargs["encryptionConfiguration"] = spec.encryption_configuration
        try:
            created: dict[str, Any] = self._call("CreateRepository", name, **kwargs)["repository"]
        except AwsError as exc:
            if exc.code != "RepositoryAlreadyExistsException":
                raise
            log.info("ecr.repository.exists", repository=name, reason="created concurrently")
            return self.describe(name), False
        log.info(
            "ecr.repository.created",
            repository=name,
            settings=sorted(set(kwargs) - {"repositoryName", "registryId"}),
        )
        return created, True

    def _reconcile(
        self, name: str, spec: RepositorySpec, found: dict[str, Any], actions: list[str]
    ) -> dict[str, Any]:
        if self.public:
            return found
        scan = found.get("imageScanningConfiguration", {}).get("scanOnPush", False)
        if spec.scan_on_push is not None and scan != spec.scan_on_push:
            self._call(
                "PutImageScanningConfiguration",
                name,
                repositoryName=name,
                imageScanningConfiguration={"scanOnPush": spec.scan_on_push},
                **self._ids(),
            )
            actions.append(f"scanOnPush={str(spec.scan_on_push).lower()}")
            found = {**found, "imageScanningConfiguration": {"scanOnPush": spec.scan_on_push}}
        if spec.tag_mutability and found.get("imageTagMutability") != spec.tag_mutability:
            self._call(
                "PutImageTagMutability",
                name,
                repositoryName=name,
                imageTagMutability=spec.tag_mutability,
                **self._ids(),
            )
            actions.append(f"imageTagMutability={spec.tag_mutability}")
            found = {**found, "imageTagMutability": spec.tag_mutability}
        wanted = spec.encryption_configuration
        current = found.get("encryptionConfiguration") or {"encryptionType": "AES256"}
        if wanted and not _same_encryption(wanted, current):
            log.warning(
                "ecr.encryption.unchanged",
                repository=name,
                wanted=wanted,
                current=current,
                reason="encryption is fixed when a repository is created",
            )
        return found

    def _apply_policies(
        self, name: str, lifecycle: str | None, policy: str | None, actions: list[str]
    ) -> None:
        jobs: list[tuple[str, str, dict[str, str]]] = []
        if lifecycle:
            jobs.append(("PutLifecyclePolicy", "lifecycle policy", {"lifecyclePolicyText": lifecycle}))
        if policy:
            jobs.append(("SetRepositoryPolicy", "repository policy", {"policyText": policy}))
        if not jobs:
            return
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [
                pool.submit(self._call, op, name, repositoryName=name, **body, **self._ids())
                for op, _, body in jobs
            ]
            for future in futures:
                future.result()
        actions += [label for _, label, _ in jobs]
        log.info("ecr.policies", repository=name, applied=[label for _, label, _ in jobs])

    def existing_tags(self, repository: str, tags: list[str], *, missing_ok: bool = False) -> dict[str, str]:
        """Tag -> digest for the tags that exist; a missing repository is an AwsError unless missing_ok."""
        name = self._name(repository)
        unique = list(dict.fromkeys(tags))
        if not unique:
            return {}
        digest_of: Callable[[str], str | None] = lambda tag: self._tag_digest(name, tag)  # noqa: E731
        try:
            with ThreadPoolExecutor(max_workers=min(4, len(unique))) as pool:
                digests = list(pool.map(digest_of, unique))
        except AwsError as exc:
            if exc.code != "RepositoryNotFoundException":
                raise
            if missing_ok:
                return {}
            raise AwsError(
                "DescribeImages",
                name,
                exc.code,
                f"the repository does not exist; set {CREATE_VARIABLE}=true to create it",
            ) from exc
        found = {tag: digest for tag, digest in zip(unique, digests, strict=True) if digest}
        log.info("ecr.tags", repository=name, checked=unique, existing=found)
        return found

    def _tag_digest(self, name: str, tag: str) -> str | None:
        try:
            found = self._call(
                "DescribeImages", name, repositoryName=name, imageIds=[{"imageTag": tag}], **self._ids()
            )
        except AwsError as exc:
            if exc.code == "ImageNotFoundException":
                return None
            raise
        details = found.get("imageDetails") or []
        return str(details[0]["imageDigest"]) if details else None

    def token(self) -> RegistryCredentials:
        """Docker credentials from GetAuthorizationToken; expiresAt is logged, never used to reject."""
        if self.public:
            data: dict[str, Any] = self._call("GetAuthorizationToken", None).get("authorizationData") or {}
        else:
            ids = {"registryIds": [self.account]} if self.account else {}
            items = self._call("GetAuthorizationToken", None, **ids).get("authorizationData") or []
            data = items[0] if items else {}
        username, password = decode_token(data.get("authorizationToken"))
        proxy = strip_scheme(data.get("proxyEndpoint") or "")
        endpoint = self.host.host if self.host else self.registry or proxy
        log.info("ecr.token", endpoint=endpoint, username=username, expires=str(data.get("expiresAt")))
        return RegistryCredentials(username, password, endpoint)


def _pick(what: str, from_host: str | None, given: str | None, registry: str) -> str | None:
    if from_host and given and from_host != given:
        log.warning(
            "ecr.registry_mismatch",
            field=what,
            registry=registry,
            host_value=from_host,
            given=given,
            reason="the registry host wins",
        )
    return from_host or given


def _same_encryption(wanted: dict[str, str], current: dict[str, Any]) -> bool:
    if wanted["encryptionType"] != current.get("encryptionType"):
        return False
    key, have = wanted.get("kmsKey"), str(current.get("kmsKey") or "")
    return not key or have == key or have.endswith(("/" + key, ":" + key))


def plan_actions(spec: RepositorySpec, *, public: bool = False, check_tags: bool = False) -> list[str]:
    """The ECR calls a run would make for this spec, for ``plan`` (pure: no AWS calls)."""
    svc = "ecr-public" if public else "ecr"
    actions = [f"{svc}:DescribeRepositories {spec.name}"]
    settings = (
        []
        if public
        else [
            f"scanOnPush={str(spec.scan_on_push).lower()}" if spec.scan_on_push is not None else "",
            f"imageTagMutability={spec.tag_mutability}" if spec.tag_mutability else "",
            "encryption=" + ":".join((spec.encryption_configuration or {}).values())
            if spec.encryption
            else "",
        ]
    )
    shown = " ".join(s for s in settings if s)
    if spec.create:
        actions.append(f"{svc}:CreateRepository {spec.name} (if missing){' ' + shown if shown else ''}")
    if not public and spec.scan_on_push is not None:
        actions.append(
            f"ecr:PutImageScanningConfiguration scanOnPush={str(spec.scan_on_push).lower()} "
            "(if existing and different)"
        )
    if not public and spec.tag_mutability:
        actions.append(f"ecr:PutImageTagMutability {spec.tag_mutability} (if existing and different)")
    if not public and spec.lifecycle_policy:
        actions.append(f"ecr:PutLifecyclePolicy from {_source(spec.lifecycle_policy)}")
    if spec.repository_policy:
        actions.append(f"{svc}:SetRepositoryPolicy from {_source(spec.repository_policy)}")
    if check_tags:
        actions.append(f"{svc}:DescribeImages (one call per tag)")
    actions.append(f"{svc}:GetAuthorizationToken")
    return actions


def _source(policy: str) -> str:
    return "inline JSON" if policy.strip().startswith("{") else policy


@dataclass(frozen=True)
class TagDecision:
    """Whether to build, which tags to push, and which existing tags the builder must verify afterwards."""

    action: Literal["build", "skip"]
    push_tags: list[str]
    verify_tags: dict[str, str]
    existing: dict[str, str]
    reason: str

    @property
    def digest(self) -> str | None:
        """The digest every tag already points to, when the build is skipped."""
        return next(iter(self.existing.values())) if self.action == "skip" else None


def decide(tags: list[str], existing: dict[str, str], immutable: bool) -> TagDecision:
    """Decide skip/build from the final tags and the ones that exist (see docs/ecr.md); pure."""
    wanted = list(dict.fromkeys(tags))
    if not wanted:
        raise RunError("no tags to push")
    present = {t: existing[t] for t in wanted if t in existing}
    missing = [t for t in wanted if t not in present]
    digests = set(present.values())
    if not present:
        return TagDecision("build", wanted, {}, {}, f"none of the {len(wanted)} tags exist")
    if not missing and len(digests) == 1:
        return TagDecision("skip", [], {}, present, f"every tag already points to {next(iter(digests))}")
    if not immutable:
        return TagDecision(
            "build",
            wanted,
            {},
            present,
            f"{len(present)} of {len(wanted)} tags exist in a mutable repository; pushing all",
        )
    if not missing:
        listed = ", ".join(f"{t}={d}" for t, d in present.items())
        raise RunError(
            f"the tags already exist in an immutable repository with different digests "
            f"({listed}); no single build can satisfy them all"
        )
    return TagDecision(
        "build",
        missing,
        present,
        present,
        f"{len(present)} of {len(wanted)} tags exist in an immutable repository; "
        f"pushing {', '.join(missing)} and verifying {', '.join(present)}",
    )

"""Repositories: what the user asked of one (``RepositorySpec``), made so (describe, create, scan on
push, tag mutability, encryption, then the policies), and the calls a run would make, for ``plan``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from plugin.aws.policies import LIFECYCLE_VARIABLE, REPOSITORY_POLICY_VARIABLE, Policies, load_policy
from plugin.core.errors import AwsError
from plugin.core.log import get_logger

CREATE_VARIABLE = "PLUGIN_CREATE_REPOSITORY"

log = get_logger(__name__)


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


class Repositories(Policies):
    """DescribeRepositories, CreateRepository and the repository's settings, then its policies."""

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

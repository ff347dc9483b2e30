"""The CI context: what the runner (Drone, Harness, Woodpecker) says about the build, in a small model."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

PROXY_NAMES = ("http_proxy", "https_proxy", "no_proxy", "ftp_proxy", "all_proxy")


def _f(*names: str, default: str | None = None) -> str | None:
    return Field(default, validation_alias=AliasChoices(*names))


class CIContext(BaseModel):
    """Build metadata read from DRONE_*, CI_*, HARNESS_* and GITHUB_* variables (first non-empty wins)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    commit_ref: str | None = _f("DRONE_COMMIT_REF", "CI_COMMIT_REF", "GITHUB_REF")
    commit_sha: str | None = _f("DRONE_COMMIT_SHA", "CI_COMMIT_SHA", "GITHUB_SHA")
    tag: str | None = _f("DRONE_TAG", "CI_COMMIT_TAG")
    repo_branch: str | None = _f("DRONE_REPO_BRANCH", "CI_REPO_DEFAULT_BRANCH")
    remote_url: str | None = _f("DRONE_REMOTE_URL", "DRONE_GIT_HTTP_URL", "CI_REPO_CLONE_URL")
    repo_link: str | None = _f("DRONE_REPO_LINK", "CI_REPO_URL")
    repo_name: str | None = _f("DRONE_REPO", "CI_REPO")
    build_number: str | None = _f("DRONE_BUILD_NUMBER", "CI_PIPELINE_NUMBER", "HARNESS_BUILD_ID")
    build_created: str | None = _f("DRONE_BUILD_CREATED", "CI_PIPELINE_CREATED", "CI_BUILD_CREATED")
    output_file: str | None = _f("DRONE_OUTPUT")
    card_path: str | None = _f("DRONE_CARD_PATH")
    ca_path: str | None = _f("HARNESS_CA_PATH")
    workspace: str | None = _f("DRONE_WORKSPACE", "CI_WORKSPACE", "HARNESS_WORKSPACE")
    # What kind of build this is, for the tag rules (plugin/ci/tagrules/refs.py, docs/tags.md).
    event: str | None = _f("DRONE_BUILD_EVENT", "CI_PIPELINE_EVENT", "CI_BUILD_EVENT", "GITHUB_EVENT_NAME")
    commit_branch: str | None = _f("DRONE_COMMIT_BRANCH", "DRONE_BRANCH", "CI_COMMIT_BRANCH")
    pull_request: str | None = _f("DRONE_PULL_REQUEST", "CI_COMMIT_PULL_REQUEST")
    target_branch: str | None = _f("DRONE_TARGET_BRANCH", "CI_COMMIT_TARGET_BRANCH", "GITHUB_BASE_REF")
    # For the OCI labels (plugin/builders/oci_labels.py): the repository's short name and owner,
    # GitHub-style URLs.
    repo_short: str | None = _f("DRONE_REPO_NAME", "CI_REPO_NAME")
    repo_owner: str | None = _f(
        "DRONE_REPO_NAMESPACE", "DRONE_REPO_OWNER", "CI_REPO_OWNER", "GITHUB_REPOSITORY_OWNER"
    )
    github_server: str | None = _f("GITHUB_SERVER_URL")
    github_repository: str | None = _f("GITHUB_REPOSITORY")
    source_date_env: str | None = _f("SOURCE_DATE_EPOCH")
    # Set by planning.resolve (plugin/target/sourcedate.py), never read from the environment.
    source_date: int | None = Field(default=None, exclude=True)
    source_date_origin: str | None = Field(default=None, exclude=True)
    proxies: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CIContext:
        values = {k: v for k, v in env.items() if v != "" and k not in ("source_date", "source_date_origin")}
        return cls.model_validate({**values, "proxies": proxy_env(env)})

    @property
    def source_url(self) -> str | None:
        """The repository's clone URL: the runner's, else GitHub-style server + repository."""
        if self.remote_url:
            return self.remote_url
        if self.github_server and self.github_repository:
            return f"{self.github_server.rstrip('/')}/{self.github_repository}"
        return None

    @property
    def web_url(self) -> str | None:
        """The repository's web page: the runner's link, else GitHub-style server + repository."""
        if self.repo_link:
            return self.repo_link
        if self.github_server and self.github_repository:
            return f"{self.github_server.rstrip('/')}/{self.github_repository}"
        return None

    @property
    def repo_title(self) -> str | None:
        """The repository's short name (``app`` of ``team/app``)."""
        full = self.repo_name or self.github_repository
        return self.repo_short or (full.rsplit("/", 1)[-1] if full else None)

    @property
    def vendor(self) -> str | None:
        """The repository's owner (``team`` of ``team/app``)."""
        full = self.repo_name or self.github_repository
        return self.repo_owner or (full.split("/", 1)[0] if full and "/" in full else None)


def proxy_env(env: Mapping[str, str]) -> dict[str, str]:
    """Proxy settings by lower-case name: lower-case variable, then UPPER, then HARNESS_UPPER."""
    found: dict[str, str] = {}
    for name in PROXY_NAMES:
        for candidate in (name, name.upper(), f"HARNESS_{name.upper()}"):
            if env.get(candidate):
                found[name] = env[candidate]
                break
    return found

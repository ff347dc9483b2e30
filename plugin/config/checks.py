"""Rules that involve more than one setting: hard problems (exit 2) and warnings about likely mistakes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from plugin.ci.tagrules import setting_problems as tag_rule_problems
from plugin.ci.tagrules import setting_warnings as tag_rule_warnings
from plugin.config.cosign import setting_warnings as cosign_warnings
from plugin.config.hosts import RegistryHost, account_problem, host_account, split_repo
from plugin.core.errors import Problem

if TYPE_CHECKING:
    from plugin.config.settings import Settings

Warning_ = tuple[str, dict[str, Any]]


def _first_set(env: Mapping[str, str], *names: str) -> str:
    return next((n for n in names if env.get(n)), names[0])


def _pairs_problems(values: list[str], variable: str, shape: str) -> list[Problem]:
    return [Problem(variable, v, f"entries of the form {shape}") for v in values if "=" not in v.strip("=")]


def _given_hosts(s: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, host): PLUGIN_REGISTRY (else a host leading PLUGIN_REPO), then the extras."""
    found: list[tuple[str, str, str]] = []
    if s.registry:
        found.append(("PLUGIN_REGISTRY", s.registry, s.registry))
    elif s.repo:
        host = split_repo(s.repo, None)[0]
        if host:
            found.append(("PLUGIN_REPO", s.repo, host))
    return found + [("PLUGIN_EXTRA_REGISTRIES", h, h) for h in s.extra_registries]


def account_issues(s: Settings) -> list[Problem]:
    """Every account that is not 12 digits, naming where it came from (PLUGIN_ACCOUNT or a registry host)."""
    issues: list[Problem] = []
    why = account_problem(s.account) if s.account else None
    if s.account and why:
        issues.append(Problem("PLUGIN_ACCOUNT", s.account, why))
    for variable, value, host in _given_hosts(s):
        account = host_account(host)
        why = account_problem(account) if account is not None else None
        if why:
            issues.append(Problem(variable, value, f"an ECR registry host whose account part is {why}"))
    return issues


def _registry_problems(s: Settings) -> list[Problem]:
    """ECR-looking hosts must be well formed; an account with the region must make a host.

    An account that is not 12 digits is reported by ``account_issues`` (an error unless nothing is pushed).
    """
    problems: list[Problem] = [] if s.no_push else account_issues(s)
    for variable, value, host in _given_hosts(s):
        account = host_account(host)
        if account is not None and account_problem(account):
            continue
        try:
            RegistryHost.parse_or_none(host)
        except ValueError as exc:
            problems.append(Problem(variable, value, f"an ECR registry host: {exc}"))
    if s.account and not account_problem(s.account) and not s.registry:
        try:
            RegistryHost.for_account(s.account, s.region)
        except ValueError as exc:
            problems.append(Problem("PLUGIN_REGION", s.region, str(exc)))
    return problems


def cross_field_problems(s: Settings, env: Mapping[str, str]) -> list[Problem]:
    """Combinations that cannot work; each names the variable to change."""
    problems: list[Problem] = _registry_problems(s)
    if not s.repo:
        problems.append(Problem("PLUGIN_REPO", None, "a repository name such as team/app (required)"))
    if s.no_push and s.push_only:
        problems.append(
            Problem(
                _first_set(env, "PLUGIN_NO_PUSH", "PLUGIN_DRY_RUN"),
                "true",
                "not together with PLUGIN_PUSH_ONLY",
            )
        )
    if s.kms_key and s.encryption != "KMS":
        problems.append(Problem("PLUGIN_KMS_KEY", s.kms_key, "only with PLUGIN_ENCRYPTION=KMS"))
    if s.access_key and not s.secret_key:
        problems.append(
            Problem(
                _first_set(env, "PLUGIN_SECRET_KEY", "ECR_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
                None,
                "required with PLUGIN_ACCESS_KEY",
            )
        )
    if s.secret_key and not s.access_key:
        problems.append(
            Problem(
                _first_set(env, "PLUGIN_ACCESS_KEY", "ECR_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
                None,
                "required with PLUGIN_SECRET_KEY",
            )
        )
    if s.base_registry and (s.base_username is None) != (s.base_password is None):
        problems.append(
            Problem(
                "PLUGIN_BASE_IMAGE_USERNAME" if s.base_username is None else "PLUGIN_BASE_IMAGE_PASSWORD",
                None,
                "both base-image username and password, or neither",
            )
        )
    problems += _pairs_problems(s.secrets_from_env, "PLUGIN_SECRETS_FROM_ENV", "ID=ENV_NAME")
    problems += _pairs_problems(s.secrets_from_file, "PLUGIN_SECRETS_FROM_FILE", "ID=PATH")
    problems += _pairs_problems(s.label_schema, "PLUGIN_LABEL_SCHEMA", "KEY=VALUE")
    if s.push_only and s.effective_builder() == "kaniko" and not s.source_tar_path:
        problems.append(
            Problem("PLUGIN_SOURCE_TAR_PATH", None, "a tarball to push (required with PLUGIN_PUSH_ONLY)")
        )
    problems += tag_rule_problems(s.tag_rules, s.tag_flavor, s.tag_service)
    return problems


def _build_only_account_warnings(s: Settings) -> list[Warning_]:
    """Without a push nothing reaches ECR: an account that is not 12 digits is only a name, as before."""
    if not s.no_push:
        return []
    hint = "nothing is pushed (PLUGIN_NO_PUSH), so the host is only a name; a push would be refused"
    return [
        (
            "settings.account_not_an_account_id",
            {"variable": i.variable, "value": i.value, "expected": i.expected, "hint": hint},
        )
        for i in account_issues(s)
    ]


def _log_format_warnings(s: Settings) -> list[Warning_]:
    """kaniko-ecr users set PLUGIN_LOG_FORMAT for kaniko; with another builder it would do nothing."""
    if not s.log_format or s.effective_builder() == "kaniko":
        return []
    hint = "it is kaniko's --log-format; the plugin's own lines are JSON with PLUGIN_LOG_JSON=true"
    return [("settings.kaniko_log_format_unused", {"variable": "PLUGIN_LOG_FORMAT", "hint": hint})]


def meaning_warnings(s: Settings, env: Mapping[str, str]) -> list[Warning_]:
    """Settings that are valid but probably not what the user meant."""
    out: list[Warning_] = []
    if (s.base_username or s.base_password) and not s.base_registry:
        out.append(
            (
                "settings.base_credentials_without_registry",
                {
                    "variable": _first_set(
                        env,
                        "PLUGIN_USERNAME",
                        "PLUGIN_DOCKER_USERNAME",
                        "PLUGIN_BASE_IMAGE_USERNAME",
                        "DOCKER_USERNAME",
                        "PLUGIN_PASSWORD",
                    ),
                    "hint": "PLUGIN_USERNAME/PLUGIN_PASSWORD are base-image credentials (the kaniko-ecr "
                    "meaning); "
                    "pushes to ECR use the ECR token. Set PLUGIN_BASE_IMAGE_REGISTRY to use them; "
                    "they are ignored now.",
                },
            )
        )
    if s.auto_tag and (env.get("PLUGIN_TAGS") or env.get("PLUGIN_TAG")):
        out.append(
            ("settings.auto_tag_replaces_tags", {"hint": "PLUGIN_AUTO_TAG is on: PLUGIN_TAGS is ignored"})
        )
    if s.auto_tag and s.expand_tag:
        out.append(
            (
                "settings.expand_tag_ignored",
                {"hint": "auto tags are already expanded; PLUGIN_EXPAND_TAG ignored"},
            )
        )
    out += tag_rule_warnings(s.tag_rules, s.tag_flavor, s.tag_event)
    out += _build_only_account_warnings(s) + _log_format_warnings(s)
    if s.oidc_token_id and not s.assume_role:
        out.append(
            ("settings.oidc_without_role", {"hint": "PLUGIN_OIDC_TOKEN_ID needs PLUGIN_ASSUME_ROLE; ignored"})
        )
    if s.external_id and not s.assume_role:
        out.append(
            (
                "settings.external_id_without_role",
                {"hint": "PLUGIN_EXTERNAL_ID needs PLUGIN_ASSUME_ROLE; ignored"},
            )
        )
    if s.squash and not s.experimental:
        out.append(
            (
                "settings.squash_needs_experimental",
                {"hint": "PLUGIN_SQUASH needs PLUGIN_EXPERIMENTAL; dropped"},
            )
        )
    out += cosign_warnings(s)
    for name, variable in (
        ("access_token", "ACCESS_TOKEN"),
        ("email", "PLUGIN_EMAIL"),
    ):
        if getattr(s, name):
            out.append(
                ("settings.not_used", {"variable": variable, "hint": "accepted for compatibility, not used"})
            )
    return out

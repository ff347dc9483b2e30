"""Repository policies: the lifecycle policy and the repository policy, read and checked before any AWS
call (a file path or inline JSON, a JSON object), then applied to a repository at the same time.
"""

from __future__ import annotations

from plugin.aws.ecr_client import EcrClient
from plugin.core.errors import ConfigError
from plugin.core.files import parse_json, read_text
from plugin.core.log import get_logger

LIFECYCLE_VARIABLE = "PLUGIN_LIFECYCLE_POLICY"
REPOSITORY_POLICY_VARIABLE = "PLUGIN_REPOSITORY_POLICY"

log = get_logger(__name__)


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


class Policies(EcrClient):
    """PutLifecyclePolicy and SetRepositoryPolicy for one repository."""

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
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - the worker's; `plan` reads policies only

        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [
                pool.submit(self._call, op, name, repositoryName=name, **body, **self._ids())
                for op, _, body in jobs
            ]
            for future in futures:
                future.result()
        actions += [label for _, label, _ in jobs]
        log.info("ecr.policies", repository=name, applied=[label for _, label, _ in jobs])

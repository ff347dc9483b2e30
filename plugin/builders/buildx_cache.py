"""buildx cache specs: the user's (PLUGIN_CACHE_FROM/TO, with Harness's credential placeholders) and
the ECR registry cache that PLUGIN_ENABLE_CACHE asks for (pure).

ECR accepts a BuildKit registry cache only as an OCI image manifest, so every ``type=registry``
cache export to an ECR host gets ``image-manifest=true,oci-mediatypes=true`` (added when missing).
"""

from __future__ import annotations

import base64
import re

from plugin.config.hosts import RegistryHost
from plugin.config.settings import Settings
from plugin.core.log import REDACTOR
from plugin.target.destinations import Target, cache_repository

AWS_PLACEHOLDER = "harness_placeholder_aws_creds"
GCP_PLACEHOLDER = "harness_placeholder_gcp_creds"
AZURE_PLACEHOLDER = "harness_placeholder_azure_creds"
# Cache-spec attribute → settings field, for `<attr>=harness_placeholder_azure_creds`.
AZURE_ATTRIBUTES = {
    "account_key": "azure_account_key",
    "secret_access_key": "azure_account_key",
    "tenant_id": "azure_tenant_id",
    "client_id": "azure_client_id",
    "client_secret": "azure_client_secret",
    "oidc_token": "azure_oidc_token",
}
CACHE_TAG = "buildcache"  # the tag of the registry cache in the cache repository
ECR_CACHE_ATTRIBUTES = ("image-manifest=true", "oci-mediatypes=true")


def inline_only(specs: list[str]) -> bool:
    return all(re.search(r"(^|,)type=inline(,|$)", spec) for spec in specs)


def _secret(settings: Settings, field: str) -> str:
    value = getattr(settings, field)
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return str(text or "")


def _fill(spec: str, attr: str, placeholder: str, value: str) -> str:
    """Replace ``attr=placeholder`` with ``attr=value``, or drop the pair when there is no value."""
    pair = f"{attr}={placeholder}"
    if pair not in spec:
        return spec
    if value:
        REDACTOR.add(value)
        return spec.replace(pair, f"{attr}={value}")
    return ",".join(part for part in spec.split(",") if part != pair)


def _attributes(spec: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in spec.split(",") if "=" in part)


def _is_ecr(ref: str) -> bool:
    host = ref.split("/", 1)[0]
    try:
        return RegistryHost.parse_or_none(host) is not None
    except ValueError:
        return False


def _ecr_ready(spec: str) -> str:
    """A registry cache export to ECR in the form ECR accepts (an OCI image manifest)."""
    attrs = _attributes(spec)
    if attrs.get("type") != "registry" or not _is_ecr(attrs.get("ref", "")):
        return spec
    missing = [a for a in ECR_CACHE_ATTRIBUTES if a.split("=")[0] not in attrs]
    return ",".join([spec, *missing])


def cache_spec(settings: Settings, spec: str, *, export: bool = False) -> str:
    """One --cache-from/--cache-to spec with the Harness placeholders filled, then the anchor's suffixes."""
    spec = _fill(spec, "secret_access_key", AWS_PLACEHOLDER, _secret(settings, "s3_secret_key"))
    spec = _fill(spec, "access_key_id", AWS_PLACEHOLDER, _secret(settings, "s3_access_key"))
    gcp = _secret(settings, "gcp_json_key")
    gcp_b64 = base64.b64encode(gcp.encode()).decode() if gcp else ""
    spec = _fill(spec, "gcp_json_key", GCP_PLACEHOLDER, gcp_b64)
    for attr, field in AZURE_ATTRIBUTES.items():
        spec = _fill(spec, attr, AZURE_PLACEHOLDER, _secret(settings, field))
    parts = spec.split(",")
    if settings.path_style and "type=s3" in parts and not any(p.startswith("use_path_style=") for p in parts):
        spec += ",use_path_style=true"
    if settings.cache_tls_insecure and "tls_insecure_skip_verify=true" not in parts:
        spec += ",tls_insecure_skip_verify=true"
    return _ecr_ready(spec) if export else spec


def registry_cache_ref(settings: Settings, target: Target) -> str | None:
    """``<registry>/<cache repository>:buildcache`` for PLUGIN_ENABLE_CACHE (None: no registry cache).

    The cache lives in the main registry, in PLUGIN_CACHE_REPO or ``<repo>-cache``; it needs the ECR
    login, so not without a push.
    """
    if not settings.enable_cache or settings.no_push:
        return None
    host = target.registry or "<registry>"
    return f"{host}/{cache_repository(settings, target.repository)}:{CACHE_TAG}"


def cache_from_specs(settings: Settings, target: Target) -> list[str]:
    ref = registry_cache_ref(settings, target)
    derived = [f"type=registry,ref={ref}"] if ref else []
    return derived + [cache_spec(settings, s) for s in settings.cache_from]


def cache_to_specs(settings: Settings, target: Target) -> list[str]:
    ref = registry_cache_ref(settings, target)
    derived = [f"type=registry,ref={ref},mode=max,{','.join(ECR_CACHE_ATTRIBUTES)}"] if ref else []
    return derived + [cache_spec(settings, s, export=True) for s in settings.cache_to]


def exports_cache(settings: Settings) -> bool:
    """A cache export the engine's docker driver cannot do (anything but an inline cache)."""
    derived = settings.enable_cache and not settings.no_push
    return derived or bool(settings.cache_to and not inline_only(settings.cache_to))


def created_driver(settings: Settings) -> str | None:
    """The driver of the builder this run creates, or None to build on the engine's own (docker driver).

    As buildx-ecr: a cache export needs a container builder (the docker driver cannot export a cache),
    so it turns an unset or `docker` driver into `docker-container`; an inline cache can stay.
    """
    driver = settings.builder_driver
    if driver and driver != "docker":
        return driver
    return "docker-container" if exports_cache(settings) else None


def _repository_of(ref: str) -> str:
    """``host/team/app-cache:tag`` (or ``@sha256:...``) -> ``team/app-cache``."""
    path = ref.split("/", 1)[1] if "/" in ref else ref
    path = path.split("@", 1)[0]
    name, _, tag = path.rpartition(":")
    return name if name and "/" not in tag else path


def cache_repositories(settings: Settings, target: Target) -> list[str]:
    """Repositories of the main registry that this run's cache exports write to (created like the main
    one): PLUGIN_ENABLE_CACHE's, and those named by ``type=registry`` specs in PLUGIN_CACHE_TO."""
    if settings.no_push:
        return []
    names = [cache_repository(settings, target.repository)] if settings.enable_cache else []
    for spec in settings.cache_to:
        attrs = _attributes(spec)
        ref = attrs.get("ref", "")
        if attrs.get("type") == "registry" and target.registry and ref.startswith(f"{target.registry}/"):
            names.append(_repository_of(ref))
    return [n for n in dict.fromkeys(names) if n != target.repository]

"""What the docker builder cannot do for the supply-chain settings: refused by name (exit 2).

``docker build`` + ``docker push`` (the classic image store) push Docker v2 manifests, which carry
no annotations: asking for them is refused before anything runs rather than ignored. (Its layers
also keep the checkout's and RUN steps' file times, so it cannot make reproducible images either;
PLUGIN_REPRODUCIBLE, kaniko-ecr's variable, is left out with a warning: plugin.config.anchors.) buildx's
docker driver has the same limits (plugin.builders.buildx_checks).
"""

from __future__ import annotations

from plugin.config.settings import Settings
from plugin.core.errors import Problem

_USE = "use PLUGIN_BUILDER=buildx with PLUGIN_BUILDER_DRIVER=docker-container, or kaniko"


def docker_problems(settings: Settings) -> list[Problem]:
    """PLUGIN_OCI_ANNOTATIONS and PLUGIN_ANNOTATIONS with the docker builder."""
    problems = []
    if settings.oci_annotations:
        problems.append(
            Problem(
                "PLUGIN_OCI_ANNOTATIONS",
                "true",
                f"not with the docker builder: docker push writes manifests without annotations; {_USE}",
            )
        )
    if settings.annotations:
        problems.append(
            Problem(
                "PLUGIN_ANNOTATIONS",
                ",".join(settings.annotations),
                f"not with the docker builder: docker push writes manifests without annotations; {_USE}",
            )
        )
    return problems


def supply_problems(settings: Settings, builder: str) -> list[Problem]:
    return docker_problems(settings) if builder == "docker" else []

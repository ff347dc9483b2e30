"""Supply-chain settings: cosign signing, OCI labels and annotations, the source date of a build.

Each field also says what every builder does with it (``Compare``), which docs/settings.md renders
as the builder comparison table. See docs/supply-chain.md.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from plugin.config.flags import ALL, KANIKO_BUILDX, Compare, Requires, Uses
from plugin.config.types import Bool, OptCount, Secret, Str, env

# kaniko writes manifest annotations from the forks on (chainguard's v1.25.5 has --annotation).
KANIKO_ANNOTATION = Requires("kaniko", "1.25.0", "--annotation")


class SupplyChainFields(BaseModel):
    """Signing, labels, annotations and reproducibility."""

    cosign_private_key: Annotated[
        Secret,
        Uses(ALL),
        Compare(
            kaniko="`/kaniko/cosign` signs after the executor pushed",
            docker="cosign signs after the last `docker push`",
            buildx="cosign signs the pushed image or index",
        ),
    ] = env(
        "PLUGIN_COSIGN_PRIVATE_KEY",
        doc="A cosign private key (the PEM text of `cosign generate-key-pair`'s cosign.key, "
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----, or a path to that file): after the push, "
        "`cosign sign` signs <registry>/<repo>@<digest> once per registry. The key reaches cosign "
        "through its environment only. See docs/supply-chain.md.",
    )
    cosign_password: Annotated[Secret, Uses(ALL)] = env(
        "PLUGIN_COSIGN_PASSWORD",
        doc="The password of PLUGIN_COSIGN_PRIVATE_KEY (COSIGN_PASSWORD; empty for a key made "
        "without one). Checked before any AWS call.",
    )
    cosign_params: Annotated[Str, Uses(ALL)] = env(
        "PLUGIN_COSIGN_PARAMS",
        doc="Extra `cosign sign` arguments, split on whitespace as plugins/ecr did (e.g. `--tlog-upload="
        "false -a build=42`). Keyless flags (--oidc-*, --identity-token, --fulcio-url), --key and "
        "registry credentials are refused.",
    )
    oci_labels: Annotated[
        Bool,
        Uses(ALL),
        Compare(kaniko="`--label`", docker="`--label`", buildx="`--label`"),
    ] = env(
        "PLUGIN_OCI_LABELS",
        default=False,
        doc="Add every org.opencontainers.image.* label the CI context can fill: created, revision, "
        "source, url, version (the first tag), title, vendor, ref.name (the repository), base.name "
        "(the final stage's FROM). PLUGIN_CUSTOM_LABELS and PLUGIN_LABEL_SCHEMA win per key.",
    )
    oci_annotations: Annotated[
        Bool,
        Uses(KANIKO_BUILDX),
        KANIKO_ANNOTATION,
        Compare(
            kaniko="`--annotation` (kaniko ≥ 1.25.0)",
            docker="refused (exit 2): `docker push` writes no annotations",
            buildx="`--annotation` (manifest; with a container driver)",
        ),
    ] = env(
        "PLUGIN_OCI_ANNOTATIONS",
        default=False,
        doc="Write the same org.opencontainers.image.* keys as PLUGIN_OCI_LABELS as manifest "
        "annotations (kaniko ≥ 1.25.0, buildx with a container driver; refused with docker). "
        "PLUGIN_ANNOTATIONS wins per key.",
    )
    source_date_epoch: Annotated[
        OptCount,
        Uses(ALL),
        Compare(
            kaniko="`--build-arg SOURCE_DATE_EPOCH`; the `created` label",
            docker="`--build-arg SOURCE_DATE_EPOCH` (config and history times); the `created` label",
            buildx="`--build-arg SOURCE_DATE_EPOCH`; the `created` label",
        ),
    ] = env(
        "PLUGIN_SOURCE_DATE_EPOCH",
        doc="The build's source date, seconds since 1970 (the reproducible-builds convention). "
        "Default with PLUGIN_REPRODUCIBLE: SOURCE_DATE_EPOCH from the environment, else the commit "
        "time of HEAD in the workspace's .git. Passed as the SOURCE_DATE_EPOCH build argument; the "
        "`created` label follows it.",
    )


__all__ = ["KANIKO_ANNOTATION", "SupplyChainFields"]

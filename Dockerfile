# Build and Push to ECR: the docker + buildx variant (the plugin starts its own dockerd inside).
#
# Built by scripts/build-image.sh, which first puts the wheels for the image's Python (3.13) into
# dist/image-wheels/ and debootstraps the base; nothing here reaches PyPI or a container registry.
# Build with BuildKit (DOCKER_BUILDKIT=1) and, on a bridge-less engine, --network host.
# Run it privileged (dockerd needs it) with /var/lib/docker on a volume.
ARG BASE_IMAGE=local/debian:trixie-slim
FROM ${BASE_IMAGE}

ARG VERSION=0.0.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="build-push-ecr" \
      org.opencontainers.image.description="CI plugin: build a container image and push it to Amazon ECR (docker, buildx)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# The engine (dockerd, containerd, runc, iptables come with docker.io), buildx, cosign (signs what a
# run pushed when PLUGIN_COSIGN_PRIVATE_KEY is set; docs/supply-chain.md), Python.
# The apt caches are BuildKit cache mounts: reused by the next build, never in a layer.
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
    && apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        ca-certificates \
        docker.io \
        docker-cli \
        docker-buildx \
        cosign \
        iptables \
        pigz \
        python3 \
        xz-utils \
    && rm -rf /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old /usr/share/doc/*/changelog* \
        /usr/lib/python3.13/test \
    # containerd's own CLI and the v1 shims: dockerd 26 uses only containerd-shim-runc-v2.
    && rm -f /usr/bin/ctr /usr/bin/containerd-shim /usr/bin/containerd-shim-runc-v1

# A venv with the plugin and its dependencies, from wheels only (pip runs from its wheel and is
# not left in the image). Dependencies first: their layer survives a change to the plugin.
# botocore ships the models of ~450 AWS services; the plugin talks to ECR and STS, and the
# credential chain may use SSO and sign-in. scripts/slim-botocore.py keeps only their models
# (uncompressed) and their part of endpoints.json, then creates a client of each;
# BOTOCORE_SERVICES="" keeps all of botocore's data. Every module is compiled ahead.
ARG BOTOCORE_SERVICES="ecr ecr-public sts sso sso-oidc signin"
RUN --mount=type=bind,source=dist/image-wheels,target=/wheels \
    --mount=type=bind,source=scripts/slim-botocore.py,target=/slim-botocore.py \
    python3 -m venv --without-pip /opt/plugin \
    && pip=$(echo /wheels/pip/pip-*.whl)/pip \
    && /opt/plugin/bin/python "$pip" install --quiet --no-index --no-cache-dir \
        --disable-pip-version-check --find-links /wheels/deps /wheels/deps/*.whl \
    && site=$(echo /opt/plugin/lib/python3*/site-packages) \
    && if [ -n "$BOTOCORE_SERVICES" ]; then /opt/plugin/bin/python /slim-botocore.py "$site" $BOTOCORE_SERVICES; fi \
    && /opt/plugin/bin/python -m compileall -q "$site"
RUN --mount=type=bind,source=dist/image-wheels,target=/wheels \
    pip=$(echo /wheels/pip/pip-*.whl)/pip \
    && /opt/plugin/bin/python "$pip" install --quiet --no-index --no-cache-dir \
        --disable-pip-version-check --no-deps /wheels/plugin/*.whl \
    && /opt/plugin/bin/python -m plugin --version

COPY --chmod=0755 entrypoint.sh /usr/local/bin/entrypoint.sh

ENV PATH=/opt/plugin/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DOCKER_BUILDKIT=1

ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]

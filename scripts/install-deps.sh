#!/usr/bin/env bash
# Install the Debian packages the tests and the demo need: a Docker engine (dockerd 20.10 and its
# CLI, whose built-in BuildKit client supports --secret), an OCI registry, skopeo, a static busybox
# for the example image, htpasswd for the registry's bcrypt users, util-linux (unshare: the plugin
# runs dockerd in its own PID and mount namespace), e2fsprogs (chattr: the tests' read-only outputs),
# debootstrap (the image tests build the plugin images on a debootstrapped Debian base), git (the
# reproducible-build tests make real checkouts whose commit time the plugin reads from .git) and Go
# with joho/godotenv's sources (the DRONE_OUTPUT tests read the plugin's files with the library the
# runners use, built offline from Debian's package).
# Idempotent; run as root. Runs `apt-get update` only when something is missing; never adds sources.
set -euo pipefail

PACKAGES=(docker.io docker-registry skopeo busybox-static apache2-utils util-linux e2fsprogs debootstrap git
    golang-go golang-github-joho-godotenv-dev)

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps.sh: must run as root (apt-get install)" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-deps.sh: failed to install: ${missing[*]}" >&2
    exit 1
fi

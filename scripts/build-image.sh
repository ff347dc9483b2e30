#!/usr/bin/env bash
# Build the plugin image without any container registry (none is reachable from CI machines).
#
#   scripts/build-image.sh                       # docker + buildx variant -> build-push-ecr:dev
#   scripts/build-image.sh --kaniko EXECUTOR     # kaniko variant on that executor -> build-push-ecr:kaniko-vX.Y.Z
#   scripts/build-image.sh --kaniko EXECUTOR --with-tmp   # the same on an executor image that has a /tmp
#
# EXECUTOR is a kaniko executor binary (or its .gz), e.g. ../shared/tools/kaniko/executor-v1.28.3.gz.
# With --kaniko the script first assembles the official executor image layout from it, without any
# registry (FROM scratch: /kaniko/executor, /kaniko/ssl/certs, /kaniko/.docker, /etc/nsswitch.conf, no
# shell, no /tmp) as local/kaniko-executor:vX.Y.Z[-tmp], then builds Dockerfile.kaniko on it with
# KANIKO_VERSION set from `executor version`.
#
# Idempotent and cached under .work/image/ (gitignored):
#   debian-trixie-slim.tar   the debootstrapped base root fs (imported as local/debian:trixie-slim)
#   docker/                  the data root of the dockerd this script starts (layer + apt cache)
# Uses the engine at DOCKER_HOST when given; otherwise starts its own dockerd (no bridge, no iptables;
# RUN steps use --network host) and stops it on exit. Run as root on a Debian bookworm host.
#
# Environment: IMAGE (default build-push-ecr:dev), BASE_IMAGE (default local/debian:trixie-slim),
# DEBIAN_MIRROR (default: the host's first http deb mirror), REFRESH_BASE=1 (re-debootstrap),
# DOCKER_HOST (use that engine), BUILD_TIMEOUT (seconds, default 900), KANIKO_EXECUTOR (the
# executor for a bare --kaniko).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$ROOT/.work/image
DOCKER=/usr/bin/docker          # Debian's 20.10 CLI: BuildKit built in (the /usr/local 28.x CLI lacks buildx)
BASE_IMAGE=${BASE_IMAGE:-local/debian:trixie-slim}
BASE_TAR=$WORK/debian-trixie-slim.tar
WHEELS=$ROOT/dist/image-wheels
SUITE=trixie
VARIANT=docker
IMAGE_SET=${IMAGE:+yes}
IMAGE=${IMAGE:-build-push-ecr:dev}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}

EXECUTOR=""
WITH_TMP=""
usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --kaniko)
            VARIANT=kaniko
            if [[ $# -gt 1 && $2 != --* ]]; then EXECUTOR=$2; shift; else EXECUTOR=${KANIKO_EXECUTOR:-}; fi
            [[ -n $EXECUTOR ]] || { echo "build-image.sh: --kaniko needs an executor path (or KANIKO_EXECUTOR)" >&2; exit 2; }
            ;;
        --with-tmp) WITH_TMP=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build-image.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

say() { printf 'build-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, dockerd)"
mkdir -p "$WORK"

# -- host packages ------------------------------------------------------------------------------
need=()
[[ -x /usr/sbin/debootstrap ]] || need+=(debootstrap)
[[ -x /usr/sbin/dockerd && -x $DOCKER ]] || need+=(docker.io)
if [[ ${#need[@]} -gt 0 ]]; then
    say "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# -- the engine ---------------------------------------------------------------------------------
RUN_DIR=""
DOCKERD_PID=""
stop_daemon() {
    [[ -n $DOCKERD_PID ]] || return 0
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    # dockerd leaves <exec-root>/netns/default mounted; unmount everything below the run dir.
    # (no match is fine: under `set -e` a failing grep in this EXIT trap would be the script's status)
    { grep -o " $RUN_DIR/[^ ]*" /proc/self/mounts 2>/dev/null || true; } | sort -r | while read -r point; do
        umount -l "$point" 2>/dev/null || true
    done
    rm -rf "$RUN_DIR"
}
trap stop_daemon EXIT

if [[ -z ${DOCKER_HOST:-} ]]; then
    # One dockerd at a time on the cached data root (the e2e fixture takes the same lock).
    exec 9>"$WORK/docker.lock"
    if ! flock -n 9; then
        say "waiting for $WORK/docker.lock (another build or the e2e tests' engine holds it)"
        flock -w 600 9 || die "another build holds $WORK/docker.lock; pass DOCKER_HOST to use its engine"
    fi
    RUN_DIR=$(mktemp -d /tmp/bpe-dockerd.XXXXXX)   # short: unix socket paths are limited to 107 bytes
    export DOCKER_HOST=unix://$RUN_DIR/docker.sock
    /usr/sbin/dockerd --iptables=false --ip-masq=false --bridge=none \
        --data-root "$WORK/docker" --exec-root "$RUN_DIR/exec" --pidfile "$RUN_DIR/docker.pid" \
        --host "$DOCKER_HOST" >"$RUN_DIR/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 300); do
        "$DOCKER" version >/dev/null 2>&1 && break
        kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -20 "$RUN_DIR/dockerd.log" >&2; die "dockerd exited"; }
        sleep 0.1
    done
    "$DOCKER" version >/dev/null 2>&1 || { tail -20 "$RUN_DIR/dockerd.log" >&2; die "dockerd did not answer in 30s"; }
    say "started dockerd at $DOCKER_HOST (data root $WORK/docker)"
else
    "$DOCKER" version >/dev/null 2>&1 || die "no engine answers at DOCKER_HOST=$DOCKER_HOST"
    say "using the engine at $DOCKER_HOST"
fi
export DOCKER_HOST

# -- the base image -----------------------------------------------------------------------------
host_mirror() {
    # The first http(s) Debian mirror of the host's apt sources (one-line or deb822 format).
    local uri
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -Eo '(deb |URIs: )[[:space:]]*(\[[^]]*\][[:space:]]*)?https?://[^ ]+/debian/?( |$)' \
        | grep -Eo 'https?://[^ ]+' | head -1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

make_base_tar() {
    local mirror rootfs
    mirror=${DEBIAN_MIRROR:-$(host_mirror)}
    rootfs=$WORK/rootfs.tmp
    rm -rf "$rootfs"
    say "debootstrap --variant=minbase $SUITE from $mirror (about 30 s)"
    if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
        tail -20 "$WORK/debootstrap.log" >&2
        die "debootstrap failed (log: $WORK/debootstrap.log)"
    fi
    # Slim like Debian's own -slim images: no docs, man pages or translations, now or later.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/{man,info,locale,lintian}/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
        "$rootfs"/tmp/* "$rootfs"/var/tmp/*
    : >"$rootfs/etc/machine-id"
    tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.tmp" .
    mv "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$rootfs"
}

if [[ $BASE_IMAGE == local/debian:trixie-slim ]]; then
    if [[ ${REFRESH_BASE:-} == 1 ]]; then
        rm -f "$BASE_TAR"
        "$DOCKER" image rm "$BASE_IMAGE" >/dev/null 2>&1 || true
    fi
    if ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        [[ -s $BASE_TAR ]] || make_base_tar
        say "importing $BASE_TAR as $BASE_IMAGE"
        "$DOCKER" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null
    fi
else
    "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1 || die "base image $BASE_IMAGE is not in the engine"
fi

# -- wheels for the image's Python (3.13 in trixie) ---------------------------------------------
PIP=$ROOT/.venv/bin/pip
[[ -x $PIP ]] || PIP="python3 -m pip"
say "collecting wheels for cp313 into ${WHEELS#"$ROOT"/}"
rm -rf "$WHEELS"
mkdir -p "$WHEELS/deps" "$WHEELS/plugin" "$WHEELS/pip"
mapfile -t DEPS < <(python3 - "$ROOT/pyproject.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
EOF
)
wheel_opts=(--quiet --disable-pip-version-check --only-binary=:all: --implementation cp --python-version 3.13
            --abi cp313 --abi abi3 --abi none
            --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
            --platform any)
pip_log=$WORK/pip.log
run_pip() {  # quiet unless it fails (the host's pip.conf may name local indexes that are absent)
    # shellcheck disable=SC2086
    $PIP "$@" >"$pip_log" 2>&1 || { cat "$pip_log" >&2; die "pip $1 failed"; }
}
run_pip download "${wheel_opts[@]}" -c "$ROOT/requirements.lock" -d "$WHEELS/deps" "${DEPS[@]}"
run_pip download "${wheel_opts[@]}" -d "$WHEELS/pip" pip
# The plugin itself is pure Python; a fixed SOURCE_DATE_EPOCH keeps the wheel (and its layer) stable.
SOURCE_DATE_EPOCH=315532800 run_pip wheel --quiet --disable-pip-version-check --no-deps -w "$WHEELS/plugin" "$ROOT"
rm -rf "$ROOT/build"

# -- the kaniko executor image, without a registry -----------------------------------------------
# The layout of the official image (FROM scratch, no shell, no libc, no /tmp), from a local binary.
assemble_executor_image() {
    local layout version_line nss
    [[ -f $EXECUTOR ]] || die "no kaniko executor at $EXECUTOR (set KANIKO_EXECUTOR or pass a path)"
    layout=$(mktemp -d "$WORK/kaniko-layout.XXXXXX")
    mkdir -p "$layout/docker" "$layout/tmp"
    if [[ $EXECUTOR == *.gz ]]; then gunzip -c "$EXECUTOR" >"$layout/executor"; else cp "$EXECUTOR" "$layout/executor"; fi
    chmod 0755 "$layout/executor"
    # `executor version` only prints (it never touches the file system); safe to run on the host.
    version_line=$("$layout/executor" version 2>/dev/null) || die "$EXECUTOR is not a kaniko executor"
    KANIKO_VERSION=$(awk -F': *' '/[Vv]ersion/ { print $2; exit }' <<<"$version_line" | tr -d ' ')
    [[ $KANIKO_VERSION =~ ^v?[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read the version of $EXECUTOR: $version_line"
    KANIKO_TAG=${BASH_REMATCH[0]}
    [[ $KANIKO_TAG == v* ]] || KANIKO_TAG=v$KANIKO_TAG
    cp /etc/ssl/certs/ca-certificates.crt "$layout/ca-certificates.crt"
    nss=$(dirname "$EXECUTOR")/nsswitch.conf
    if [[ -f $nss ]]; then cp "$nss" "$layout/nsswitch.conf"; else printf 'hosts: files dns\n' >"$layout/nsswitch.conf"; fi
    {
        echo 'FROM scratch'
        echo 'COPY executor /kaniko/executor'
        echo 'COPY ca-certificates.crt /kaniko/ssl/certs/ca-certificates.crt'
        echo 'COPY docker/ /kaniko/.docker/'
        echo 'COPY nsswitch.conf /etc/nsswitch.conf'
        [[ -z $WITH_TMP ]] || echo 'COPY --chmod=1777 tmp/ /tmp/'
        echo 'ENV PATH=/usr/local/bin:/kaniko SSL_CERT_DIR=/kaniko/ssl/certs DOCKER_CONFIG=/kaniko/.docker/ HOME=/root USER=root'
        echo 'WORKDIR /workspace'
        echo 'ENTRYPOINT ["/kaniko/executor"]'
    } >"$layout/Dockerfile"
    EXECUTOR_IMAGE=local/kaniko-executor:$KANIKO_TAG${WITH_TMP:+-tmp}
    say "assembling $EXECUTOR_IMAGE ($KANIKO_VERSION) from ${EXECUTOR#"$ROOT"/}"
    DOCKER_BUILDKIT=1 "$DOCKER" build --network host -q -t "$EXECUTOR_IMAGE" "$layout" >/dev/null \
        || die "could not build $EXECUTOR_IMAGE"
    rm -rf "$layout"
}

# -- the image ----------------------------------------------------------------------------------
build_args=(--network host --build-arg "BASE_IMAGE=$BASE_IMAGE"
            --build-arg "VERSION=$(python3 -c 'import sys,tomllib;print(tomllib.load(open(sys.argv[1],"rb"))["project"]["version"])' "$ROOT/pyproject.toml")"
            --build-arg "REVISION=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)")
dockerfile=$ROOT/Dockerfile
if [[ $VARIANT == kaniko ]]; then
    assemble_executor_image
    build_args+=(--build-arg "KANIKO_IMAGE=$EXECUTOR_IMAGE" --build-arg "KANIKO_VERSION=$KANIKO_VERSION")
    dockerfile=$ROOT/Dockerfile.kaniko
    [[ -n $IMAGE_SET ]] || IMAGE=build-push-ecr:kaniko-$KANIKO_TAG${WITH_TMP:+-tmp}
fi

say "building $IMAGE from ${dockerfile#"$ROOT"/}"
start=$(date +%s)
DOCKER_BUILDKIT=1 timeout "$BUILD_TIMEOUT" "$DOCKER" build --progress=plain "${build_args[@]}" \
    -f "$dockerfile" -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 || {
    tail -40 "$WORK/build.log" >&2
    die "docker build failed (log: $WORK/build.log)"
}
id=$("$DOCKER" image inspect --format '{{.Id}}' "$IMAGE")
size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
say "built $IMAGE in $(( $(date +%s) - start ))s"
printf '%s %s %s\n' "$IMAGE" "$id" "$(awk -v s="$size" 'BEGIN { printf "%.0fMB", s / 1000000 }')"

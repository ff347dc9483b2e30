#!/usr/bin/env bash
# Put a static busybox into examples/app/ so its Dockerfile needs no base image from any registry.
# The copy is .gitignored; busybox comes from Debian's busybox-static (scripts/install-deps.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${1:-$here/examples/app}
source_binary=/bin/busybox

if [[ ! -x $source_binary ]]; then
    echo "prepare-example.sh: $source_binary is missing; install busybox-static" >&2
    exit 1
fi
if ldd "$source_binary" >/dev/null 2>&1; then
    echo "prepare-example.sh: $source_binary is dynamically linked; install busybox-static" >&2
    exit 1
fi
install -m 0755 "$source_binary" "$target/busybox"

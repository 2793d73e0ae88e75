#!/usr/bin/env bash
# Builds a local stand-in for node:<major>-bookworm-slim (debootstrap bookworm + the host's Node) when no registry image can be pulled.
#
# Usage: scripts/container-base.sh ENGINE NODE_IMAGE [DEBIAN_IMAGE]
#   ENGINE        podman or docker command line (word-split), e.g. "podman --runtime /usr/sbin/runc"
#   NODE_IMAGE    stand-in for node:20-bookworm-slim, e.g. localhost/tox-persona-base:bookworm-node20
#   DEBIAN_IMAGE  optional stand-in for debian:bookworm-slim (same rootfs without Node), for tox-bootstrapd
# Skips the build when the requested images already exist. Needs root (debootstrap) and the debootstrap package.
# The Node runtime is COPIED FROM THIS HOST (same binary, same major version): this is stated in the
# output, because the result is not the official node image, only an equivalent layout
# (/usr/local/bin/node, /usr/local/lib/node_modules/npm, npm and npx links).
set -euo pipefail

engine_str=${1:?usage: container-base.sh ENGINE NODE_IMAGE [DEBIAN_IMAGE]}
image=${2:?usage: container-base.sh ENGINE NODE_IMAGE [DEBIAN_IMAGE]}
debian_image=${3:-}
read -r -a engine <<<"$engine_str"
log() { printf 'container-base: %s\n' "$*" >&2; }
have_image() { "${engine[@]}" image inspect "$1" >/dev/null 2>&1; }

need_node=1; need_debian=0
have_image "$image" && need_node=0
[ -n "$debian_image" ] && ! have_image "$debian_image" && need_debian=1
if [ "$need_node" -eq 0 ] && [ "$need_debian" -eq 0 ]; then
  log "base image(s) $image${debian_image:+ and $debian_image} already exist, not rebuilding"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { log "debootstrap needs root; run as root or provide $image yourself"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install -y debootstrap"; exit 1; }

node_bin=$(command -v node)
node_bin=$(readlink -f "$node_bin")
node_ver=$("$node_bin" -v)
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
[ -f "$npm_dir/package.json" ] || { log "cannot find npm's directory next to $(command -v npm)"; exit 1; }

# Use the Debian mirror this machine is configured with (deb822 or one-line format).
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
security_mirror=${mirror%/debian}/debian-security

start=$(date +%s)
root=$(mktemp -d /var/tmp/tox-persona-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
log "building local base image(s) $image${debian_image:+ and $debian_image}: debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -n 30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# Same apt sources as the official bookworm images (main, updates, security).
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

# Trim what a slim image leaves out.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/tmp/* "$root"/var/log/*.log
# Keep the rootfs from carrying this host's identity.
: >"$root/etc/hostname"; rm -f "$root/etc/resolv.conf"

import_rootfs() { # NAME MESSAGE [--change ...]
  local name=$1 msg=$2; shift 2
  # The engine's progress lines go to a log, shown only when the import fails.
  tar -C "$root" --numeric-owner -c . | "${engine[@]}" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$@" \
    --message "$msg" - "$name" >"$root.import.log" 2>&1 || { cat "$root.import.log" >&2; rm -f "$root.import.log"; exit 1; }
  rm -f "$root.import.log"
}

if [ "$need_debian" -eq 1 ]; then
  import_rootfs "$debian_image" "debootstrap bookworm minbase" --change 'CMD ["bash"]'
  log "imported $debian_image (plain debootstrap bookworm minbase)"
fi
if [ "$need_node" -eq 0 ]; then
  log "done in $(( $(date +%s) - start )) s"
  exit 0
fi

log "adding Node $node_ver COPIED FROM THIS HOST ($node_bin) and npm $(node -p "require('$npm_dir/package.json').version") from $npm_dir"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

import_rootfs "$image" "debootstrap bookworm minbase + Node $node_ver copied from the build host" \
  --change "ENV NODE_VERSION=${node_ver#v}" --change 'CMD ["node"]'
"${engine[@]}" run --rm --network none "$image" node -e 'process.stdout.write("base image node " + process.version + "\n")' >&2
log "built $image${debian_image:+ and $debian_image} in $(( $(date +%s) - start )) s"

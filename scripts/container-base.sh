#!/usr/bin/env bash
# Builds a local stand-in for debian:<suite>-slim (debootstrap minbase of that Debian suite) when no registry image can be pulled.
#
# Usage: scripts/container-base.sh ENGINE IMAGE [SUITE]
#   ENGINE  podman or docker command line (word-split), e.g. "podman --runtime /usr/sbin/runc"
#   IMAGE   the image to make, e.g. localhost/tox-persona-debian:sid
#   SUITE   Debian suite (default sid: the newest libtoxcore2 and a maintained Node LTS, see docs/DEPLOY.md)
# Skips the build when IMAGE already exists. Needs root (debootstrap) and the debootstrap package.
# The result holds Debian packages only: the Dockerfile installs nodejs, npm, libtoxcore2 and tini from the
# suite's own apt, so nothing in the image comes from this host.
set -euo pipefail

engine_str=${1:?usage: container-base.sh ENGINE IMAGE [SUITE]}
image=${2:?usage: container-base.sh ENGINE IMAGE [SUITE]}
suite=${3:-sid}
read -r -a engine <<<"$engine_str"
log() { printf 'container-base: %s\n' "$*" >&2; }

if "${engine[@]}" image inspect "$image" >/dev/null 2>&1; then
  log "base image $image already exists, not rebuilding"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { log "debootstrap needs root; run as root or provide $image yourself"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install -y debootstrap"; exit 1; }

# Use the Debian mirror this machine is configured with (deb822 or one-line format).
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

start=$(date +%s)
root=$(mktemp -d /var/tmp/tox-persona-base.XXXXXX)
trap 'rm -rf "$root" "$root.log" "$root.import.log"' EXIT
log "building local base image $image: debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }

# The same apt sources as the official image of that suite (sid and testing have no -updates or -security).
rm -f "$root/etc/apt/sources.list"
case "$suite" in
  sid | unstable | testing | forky) suites=$suite; security="" ;;
  *) suites="$suite $suite-updates"; security=$suite-security ;;
esac
{
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" "$suites"
  if [ -n "$security" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "${mirror%/debian}/debian-security" "$security"
  fi
} >"$root/etc/apt/sources.list.d/debian.sources"

# A mirror that serves a frozen snapshot of the archive has expired Release files; where this host's apt is told to
# accept them, the local base (made from the same mirror) must be too, or no apt-get in the build works. An official
# debian image with a live mirror needs nothing of this.
host_apt=$(apt-config dump 2>/dev/null | grep -E '^Acquire::Check-(Valid-Until|Date) "(false|0)";$' || true)
if [ -n "$host_apt" ]; then
  printf '// Copied from the build host by scripts/container-base.sh: its mirror serves an archive snapshot.\n%s\n' "$host_apt" \
    >"$root/etc/apt/apt.conf.d/99tox-persona-mirror"
  log "the host's apt accepts expired Release files (snapshot mirror); the local base does too: $(echo $host_apt)"
fi

# Trim what a slim image leaves out; keep the rootfs from carrying this host's identity.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/tmp/* "$root"/var/log/*.log
: >"$root/etc/hostname"; rm -f "$root/etc/resolv.conf"

# The engine's progress lines go to a log, shown only when the import fails.
tar -C "$root" --numeric-owner -c . | "${engine[@]}" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' \
  --message "debootstrap $suite minbase" - "$image" >"$root.import.log" 2>&1 || { cat "$root.import.log" >&2; exit 1; }
log "imported $image (debootstrap $suite minbase, $(. "$root/etc/os-release"; echo "$PRETTY_NAME")) in $(( $(date +%s) - start )) s"

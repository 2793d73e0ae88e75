#!/usr/bin/env bash
# Fetches a newer libtoxcore (and the libraries it links) from Debian's archive into a private folder, without
# touching the system library: `scripts/get-libtoxcore.sh trixie|sid [DEST]` prints the path of libtoxcore.so.2.
#
# Uses a private apt configuration (its own source list, lists and cache under DEST), `apt-get download` and
# `dpkg -x`, so it needs no root. The folder for suite S is DEST/S (default .tmp/libtoxcore/S); its
# usr/lib/x86_64-linux-gnu holds libtoxcore.so.2 next to the libsodium/libvpx it needs, and usr/include/tox the
# headers of that version (for scripts/gen-ffi.ts). Load it with
#   TOX_PERSONA_LIBTOXCORE=DIR/usr/lib/<triplet>/libtoxcore.so.2 LD_LIBRARY_PATH=DIR/usr/lib/<triplet>
# A second run with the folder complete does nothing and prints the same path.
set -euo pipefail
cd "$(dirname "$0")/.."

suite=${1:?usage: get-libtoxcore.sh trixie|sid [DEST]}
case "$suite" in trixie | sid) ;; *) echo "get-libtoxcore: unknown suite '$suite' (trixie or sid)" >&2; exit 2 ;; esac
dest_root=${2:-.tmp/libtoxcore}
dest="$(mkdir -p "$dest_root" && cd "$dest_root" && pwd)/$suite"
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
lib="$dest/usr/lib/$triplet/libtoxcore.so.2"
log() { printf 'get-libtoxcore: %s\n' "$*" >&2; }

# One fetch per folder at a time: parallel test workers ask for the same suite at once, and two apt-get runs on one
# private cache break each other ("Cache is out of sync"). The second waits, then finds the folder complete.
exec 9>"$dest.lock"
flock 9

if [ -f "$dest/.complete" ] && [ -e "$lib" ]; then
  echo "$lib"
  exit 0
fi

apt_dir="$dest/.apt"
rm -rf "$dest"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${TOX_PERSONA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::State::Status=/dev/null"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)"
)
log "apt-get update ($suite)"
apt-get "${apt_opts[@]}" update -qq >&2

# Which versions the suite has today (Debian revisions move; ask, don't hard-code).
candidate() { apt-cache "${apt_opts[@]}" policy "$1" | sed -n 's/^  Candidate: //p'; }
tox_version=$(candidate libtoxcore2)
[ -n "$tox_version" ] && [ "$tox_version" != "(none)" ] || { log "no libtoxcore2 in $suite"; exit 1; }
# The runtime libraries libtoxcore2 depends on whose sonames bookworm lacks (libsodium26, libvpx9/12, ...).
deps=$(apt-cache "${apt_opts[@]}" depends "libtoxcore2=$tox_version" | sed -n 's/^  Depends: \(lib\(sodium\|vpx\|opus\)[^ ]*\).*/\1/p' | sort -u)
log "libtoxcore2 $tox_version with $(echo $deps)"
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download -qq "libtoxcore2=$tox_version" "libtoxcore-dev=$tox_version" $deps >&2)
for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dest"; done
[ -e "$lib" ] || { log "libtoxcore.so.2 not found in the unpacked packages"; exit 1; }
echo "$tox_version" >"$dest/.version"
rm -rf "$apt_dir/lists" "$apt_dir/cache"
touch "$dest/.complete"
echo "$lib"

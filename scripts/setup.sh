#!/usr/bin/env bash
# One-step, idempotent set-up: system packages (libtoxcore, tox-bootstrapd, a C compiler), npm ci, build.
# npm test runs this first, so a fresh Debian/Ubuntu machine with Node >= 20 needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# --- system packages ---------------------------------------------------------
need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in libtoxcore2 libtoxcore-dev toxcore-utils gcc libc6-dev pkg-config binutils; do
  have_pkg "$pkg" || need_pkgs+=("$pkg")
done
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing packages ${need_pkgs[*]} and no apt-get: install libtoxcore 0.2.18 and tox-bootstrapd by hand"
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    log "missing packages: ${need_pkgs[*]}"
    log "run as root:  apt-get update && apt-get install -y ${need_pkgs[*]}"
    exit 1
  fi
  log "installing ${need_pkgs[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

# --- npm dependencies --------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund >&2
fi

# --- build -------------------------------------------------------------------
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src data tsconfig.json tsconfig.build.json package.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  log "building"
  npm run --silent build >&2
fi
log "ready"

#!/bin/sh
# Container entrypoint for the companion: waits for the bootstrap key file, creates the data directory on first start, then runs tox-persona.
#
# "run" (the default command) starts the daemon; any other arguments run that tox-persona command,
# e.g. `docker run --rm -v data:/data tox-persona status --json`.
# Environment read here (the daemon reads the rest itself, see docs/CLI.md):
#   TOX_PERSONA_DIR                 data directory (image default /data)
#   TOX_PERSONA_BOOTSTRAP_KEY_FILE  host:port:@FILE; the entrypoint waits up to
#                                   TOX_PERSONA_BOOTSTRAP_WAIT seconds (default 60) for FILE to appear
#   TOX_PERSONA_INIT_ARGS           extra arguments for the first-start `tox-persona init`
set -eu

dir=${TOX_PERSONA_DIR:-/data}
export TOX_PERSONA_DIR="$dir"
log() { printf 'companion-entrypoint: %s\n' "$*" >&2; }

[ "$#" -gt 0 ] || set -- run
if [ "$1" != run ]; then
  exec tox-persona "$@"
fi

# The bootstrap node publishes its key after it starts; the daemon validates its config once at
# start, so wait for the file rather than fail on a race with the bootstrap container.
if [ -n "${TOX_PERSONA_BOOTSTRAP_KEY_FILE:-}" ]; then
  for entry in $(printf '%s' "$TOX_PERSONA_BOOTSTRAP_KEY_FILE" | tr ',;' '  '); do
    case "$entry" in
      *:@*) file=${entry##*:@} ;;
      *) continue ;;
    esac
    wait_s=${TOX_PERSONA_BOOTSTRAP_WAIT:-60}
    i=0
    until [ -s "$file" ]; do
      i=$((i + 1))
      if [ "$i" -gt $((wait_s * 10)) ]; then log "bootstrap key file $file did not appear within ${wait_s}s"; exit 69; fi
      sleep 0.1
    done
    log "bootstrap node key from $file: $(head -c 64 "$file")"
  done
fi

if [ ! -e "$dir/profile.tox" ]; then
  log "no profile in $dir: first start, running tox-persona init"
  # shellcheck disable=SC2086 # word splitting of the extra init arguments is intended
  tox-persona init ${TOX_PERSONA_INIT_ARGS:-}
fi

exec tox-persona "$@"

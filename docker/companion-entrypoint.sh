#!/bin/sh
# Container entrypoint for the companion: waits for the bootstrap node's key file, then runs tox-persona (run --init on an empty volume).
#
# "run" (the default command) starts the daemon, creating the data directory on first start;
# any other arguments run that tox-persona command instead, e.g.
#   docker run --rm -v data:/data tox-persona status --json
# Environment read here (the daemon reads the rest itself: TOX_PERSONA_* in docs/CLI.md):
#   TOX_PERSONA_DIR                 data directory (image default /data)
#   TOX_PERSONA_BOOTSTRAP_KEY_FILE  host:port:@FILE[,...]; the entrypoint waits up to
#                                   TOX_PERSONA_BOOTSTRAP_WAIT seconds (default 60) for each FILE
set -eu

log() { printf 'companion-entrypoint: %s\n' "$*" >&2; }

[ "$#" -gt 0 ] || set -- run
if [ "$1" != run ]; then
  exec tox-persona "$@"
fi
shift

# The bootstrap node publishes its key once it is up, and the daemon validates its configuration
# once at start: wait for the file instead of failing on a start-up race with that container.
if [ -n "${TOX_PERSONA_BOOTSTRAP_KEY_FILE:-}" ]; then
  wait_s=${TOX_PERSONA_BOOTSTRAP_WAIT:-60}
  case "$wait_s" in ''|*[!0-9]*) log "TOX_PERSONA_BOOTSTRAP_WAIT must be a whole number of seconds"; exit 64 ;; esac
  for entry in $(printf '%s' "$TOX_PERSONA_BOOTSTRAP_KEY_FILE" | tr ',;' '  '); do
    case "$entry" in
      *:@*) file=${entry##*:@} ;;
      *) continue ;;
    esac
    [ -s "$file" ] || log "waiting up to ${wait_s}s for bootstrap key file $file"
    i=0
    until [ -s "$file" ]; do
      i=$((i + 1))
      if [ "$i" -gt $((wait_s * 10)) ]; then log "bootstrap key file $file did not appear within ${wait_s}s"; exit 69; fi
      sleep 0.1
    done
    log "bootstrap node ${entry%%:@*} key $(head -c 64 "$file") (from $file)"
  done
fi

# --init: an empty volume gets a fresh profile, persona key and table; an existing one is reused.
exec tox-persona run --init "$@"

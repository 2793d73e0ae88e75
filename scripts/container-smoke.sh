#!/usr/bin/env bash
# Container smoke test: builds both images with docker or podman, runs the compose story in a private network namespace, and checks health, bootstrap, the published list and persistence across a restart.
#
# Usage: scripts/container-smoke.sh            (from anywhere; run as root for the local base image)
#
# The story mirrors docker-compose.yml with plain engine commands (no compose runner needed):
#   bootstrap  tox-bootstrapd image, --network none: a fresh network namespace with only loopback
#   companion  the companion image, joined to that namespace (--network container:bootstrap), so it
#              bootstraps from 127.0.0.1 using the key file the bootstrap container published into a
#              shared volume; its data lives in a named volume
#   observer   a second companion (own volume) in the same namespace, the "node outside the
#              container": it befriends the companion and must verify its published device list
# No packet leaves that namespace: nothing here can reach any address but its own loopback.
# Builds use --network=host only to reach Debian's apt and the npm registry.
#
# Environment:
#   CONTAINER_ENGINE  docker or podman (default: docker if its daemon answers, else podman)
#   DEBIAN_IMAGE      base of both images (default: debian:sid-slim if present locally, else pulled
#                     when SMOKE_PULL=1, else built locally by scripts/container-base.sh)
#   SMOKE_PULL=1      try pulling debian:sid-slim first (off by default: registries other
#                     than Debian's and npm's are unreachable on the machines this runs on)
#   SMOKE_KEEP_IMAGES=0  also remove the built images at the end (base images are always kept)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'container-smoke: %s\n' "$*"; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
t_start=$(now_ms)

passed=0
failed=0
pass() { passed=$((passed + 1)); say "ok   $*"; }
fail() { failed=$((failed + 1)); say "FAIL $*"; say "$passed passed, $failed failed"; exit 1; }

work=$(mktemp -d /tmp/tox-persona-smoke.XXXXXX)
prefix="tps-smoke-$$"
BS="$prefix-bootstrap"
CO="$prefix-companion"
OB="$prefix-observer"
VOLUMES=("$prefix-data" "$prefix-observer-data" "$prefix-bootstrap-keys" "$prefix-bootstrap-info")
IMG="localhost/tox-persona:smoke"
BS_IMG="localhost/tox-persona-bootstrapd:smoke"

# ---- engine --------------------------------------------------------------------------------------
ENGINE=()
kind=${CONTAINER_ENGINE:-}
if [ -z "$kind" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then kind=docker
  elif command -v podman >/dev/null 2>&1; then kind=podman
  else say "neither a docker daemon nor podman is usable here (install podman and runc: apt-get install -y podman runc catatonit)"; exit 2
  fi
fi
case "$kind" in
  docker)
    ENGINE=(docker)
    export DOCKER_BUILDKIT=1
    ;;
  podman)
    # Machines with hybrid cgroups and no systemd: cgroupfs, no default ulimits, runc (crun fails
    # there with "cgroups in hybrid mode not supported"). See ../shared/NOTES.md.
    if [ -z "${CONTAINERS_CONF:-}" ]; then
      printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' >"$work/containers.conf"
      export CONTAINERS_CONF="$work/containers.conf"
    fi
    # --log-level=fatal: without systemd, podman logs harmless errors about its health-check
    # timers at every run/stop (the script runs the checks itself). Command failures still print.
    ENGINE=(podman --log-level=fatal)
    if [ -x /usr/sbin/runc ]; then ENGINE+=(--runtime /usr/sbin/runc); fi
    ;;
  *) say "CONTAINER_ENGINE must be docker or podman, not $kind"; exit 2 ;;
esac
E() { "${ENGINE[@]}" "$@"; }
if ! E info >"$work/engine-info.txt" 2>&1; then
  say "$kind does not work here:"; tail -n 5 "$work/engine-info.txt"; exit 2
fi
say "engine: ${ENGINE[*]} ($(E version --format '{{.Client.Version}}' 2>/dev/null || echo '?'))"

# ---- cleanup: everything this run made, by name --------------------------------------------------
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    for c in "$CO" "$OB" "$BS"; do
      if E container inspect "$c" >/dev/null 2>&1; then
        say "--- last log lines of $c ---"; E logs --tail 40 "$c" 2>&1 | sed 's/^/    /' || true
      fi
    done
  fi
  for c in "$CO" "$OB" "$BS"; do E rm -f -t 2 "$c" >/dev/null 2>&1 || E rm -f "$c" >/dev/null 2>&1 || true; done
  for v in "${VOLUMES[@]}"; do E volume rm -f "$v" >/dev/null 2>&1 || true; done
  if [ "${SMOKE_KEEP_IMAGES:-1}" = 0 ]; then E rmi -f "$IMG" "$BS_IMG" >/dev/null 2>&1 || true; fi
  # Each source change leaves untagged build-stage images behind; keep a day's worth as build cache.
  E image prune -f --filter until=24h >/dev/null 2>&1 || true
  rm -rf "$work"
  say "cleaned up containers and volumes of this run (prefix $prefix)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- base image ----------------------------------------------------------------------------------
have_image() { E image inspect "$1" >/dev/null 2>&1; }
base_note=""
if [ -z "${DEBIAN_IMAGE:-}" ]; then
  official="docker.io/library/debian:sid-slim"
  if have_image "$official"; then
    DEBIAN_IMAGE=$official; base_note="official image, already present"
  elif [ "${SMOKE_PULL:-0}" = 1 ] && E pull "$official" >"$work/pull.log" 2>&1; then
    DEBIAN_IMAGE=$official; base_note="official image, pulled"
  else
    if [ "${SMOKE_PULL:-0}" = 1 ]; then say "pulling $official failed: $(tail -n 1 "$work/pull.log")"
    else say "not pulling $official (set SMOKE_PULL=1 to try; image registries are unreachable here)"; fi
    DEBIAN_IMAGE="localhost/tox-persona-debian:sid"
    t=$(now_ms)
    if have_image "$DEBIAN_IMAGE"; then
      base_note="LOCAL base (debootstrap sid minbase), cached"
    else
      say "building a LOCAL base image instead: debootstrap sid minbase"
      scripts/container-base.sh "${ENGINE[*]}" "$DEBIAN_IMAGE" sid
      base_note="LOCAL base (debootstrap sid minbase), built in $(secs $(( $(now_ms) - t ))) s"
    fi
  fi
fi
say "base image: $DEBIAN_IMAGE ($base_note)"

# ---- build ---------------------------------------------------------------------------------------
build_args=(--network=host)
[ "$kind" = podman ] && build_args+=(--format docker)   # keeps HEALTHCHECK in the image
# Behind a TLS-intercepting proxy npm needs its CA: passed as a build secret, never stored in a layer.
ca=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}
if [ -n "$ca" ] && [ "$ca" != null ] && [ "$ca" != undefined ] && [ -s "$ca" ]; then
  build_args+=(--secret "id=npm_ca,src=$ca")
fi
t=$(now_ms)
if ! E build "${build_args[@]}" --target bootstrapd --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$BS_IMG" . >"$work/build-bootstrapd.log" 2>&1; then
  tail -n 30 "$work/build-bootstrapd.log"; fail "build of the bootstrapd image"
fi
t_build_bs=$(( $(now_ms) - t ))
t=$(now_ms)
if ! E build "${build_args[@]}" --target companion --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$IMG" . >"$work/build-companion.log" 2>&1; then
  tail -n 40 "$work/build-companion.log"; fail "build of the companion image"
fi
t_build_co=$(( $(now_ms) - t ))
size_mb() { E image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1000000 }'; }
pass "images built: companion $IMG $(size_mb "$IMG") in $(secs "$t_build_co") s, bootstrapd $BS_IMG $(size_mb "$BS_IMG") in $(secs "$t_build_bs") s"

# ---- helpers -------------------------------------------------------------------------------------
for v in "${VOLUMES[@]}"; do E volume create "$v" >/dev/null; done
running() { [ "$(E container inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
health() { E container inspect --format '{{.State.Health.Status}}' "$1" 2>/dev/null || echo unknown; }
# Waits until container $1 is healthy, at most $2 seconds. Podman without systemd runs no health
# timers, so the check is run here (podman healthcheck run updates the same status docker shows).
wait_healthy() {
  local c=$1 limit=$(( $(now_ms) + $2 * 1000 ))
  while [ "$(now_ms)" -lt "$limit" ]; do
    running "$c" || { say "$c is not running (exit code $(E container inspect --format '{{.State.ExitCode}}' "$c"))"; return 1; }
    if [ "$kind" = podman ]; then E healthcheck run "$c" >/dev/null 2>&1 || true; fi
    [ "$(health "$c")" = healthy ] && return 0
    sleep 0.5
  done
  say "$c did not turn healthy within $2 s (health: $(health "$c"))"
  return 1
}
# `tox-persona ... --json` inside container $1, printed on stdout.
tp_json() { local c=$1; shift; E exec "$c" tox-persona "$@" --json 2>/dev/null; }
# Field $2 (a JS expression on `j`) of JSON text $1, via the host's node.
jget() { node -e 'const j = JSON.parse(process.argv[1]); const v = (0, eval)("(j) => " + process.argv[2])(j); process.stdout.write(typeof v === "string" ? v : JSON.stringify(v ?? null));' "$1" "$2"; }
# Polls `$2...` (a command printing JSON) until JS predicate $1 holds on it, at most $3 s... (args: pred limit cmd...)
wait_json() {
  local pred=$1 lim=$2; shift 2
  local limit=$(( $(now_ms) + lim * 1000 )) out
  while [ "$(now_ms)" -lt "$limit" ]; do
    out=$("$@" 2>/dev/null || true)
    if [ -n "$out" ] && [ "$(jget "$out" "$pred" 2>/dev/null || echo false)" = true ]; then printf '%s' "$out"; return 0; fi
    sleep 1
  done
  printf '%s' "$out"
  return 1
}
run_companion() { # NAME VOLUME ADMIN_PORT [extra run args...]
  local name=$1 vol=$2 port=$3; shift 3
  E run -d --name "$name" --network "container:$BS" \
    --health-interval 2s --health-start-period 60s \
    -e TOX_PERSONA_BOOTSTRAP_KEY_FILE=127.0.0.1:33445:@/bootstrap/bootstrap.key \
    -e TOX_PERSONA_ADMIN_PORT="$port" \
    -v "$vol:/data" -v "$prefix-bootstrap-info:/bootstrap:ro" \
    "$@" "$IMG" >/dev/null
}

# ---- bootstrap node ------------------------------------------------------------------------------
E run -d --name "$BS" --network none --health-interval 2s \
  -e BOOTSTRAP_PUBLISH_HOST=127.0.0.1 \
  -v "$prefix-bootstrap-keys:/var/lib/tox-bootstrapd" -v "$prefix-bootstrap-info:/bootstrap" \
  "$BS_IMG" >/dev/null
wait_healthy "$BS" 30 || fail "bootstrap container healthy (UDP bootstrap-info reply on 127.0.0.1:33445)"
bs_key=$(E exec "$BS" cat /bootstrap/bootstrap.key)
pass "bootstrap container healthy; it published key $bs_key ($(E exec "$BS" /usr/local/bin/bootstrapd-health.sh 2>&1 | tail -n 1))"
ifaces=$(E exec "$BS" cat /proc/net/dev | awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' | tr '\n' ' ')
[ "$ifaces" = "lo " ] || fail "the story's network namespace has only loopback (found: $ifaces)"

# ---- companion: run → healthy → connected → published ---------------------------------------------
t_run=$(now_ms)
# The companion also runs the probe listener (health and metrics only) on 0.0.0.0:9190, as on Kubernetes.
CO_ARGS=(-e TOX_PERSONA_ACCEPT_REQUESTS=all -e TOX_PERSONA_STATUS_TEXT="container smoke" -e TOX_PERSONA_NAME=smoke-companion -e TOX_PERSONA_PROBE_PORT=9190)
run_companion "$CO" "$prefix-data" 9090 "${CO_ARGS[@]}"
wait_healthy "$CO" 120 || fail "companion healthy"
t_healthy=$(( $(now_ms) - t_run ))
hz=$(E exec "$CO" node /app/docker/healthcheck.mjs 2>&1 || true)
pass "companion healthy $(secs "$t_healthy") s after run (/healthz: ${hz:0:160})"

st=$(wait_json 'j.connection !== "none" && !!j.connection' 90 tp_json "$CO" status) \
  || fail "companion connected to the bootstrap node (last status: ${st:0:300})"
t_connected=$(( $(now_ms) - t_run ))
tox_id=$(jget "$st" j.toxId); persona_id=$(jget "$st" j.personaId); seq=$(jget "$st" j.seq)
hz=$(E exec "$CO" node /app/docker/healthcheck.mjs 2>&1 || true)
case "$hz" in 200*'"inGracePeriod": false'*) ;; *) fail "/healthz is healthy because connected, not by grace (got: ${hz:0:200})" ;; esac
pass "companion connected ($(jget "$st" j.connection)) via the bootstrap container $(secs "$t_connected") s after run; Tox ID $tox_id, PersonaID $persona_id"

# The versions the image runs: libtoxcore as the daemon reports it (status, /healthz, the metric) must be the
# libtoxcore2 package installed in the image, and no older than 0.2.22 (the newest in Debian's archive when written).
# The metric is read from the probe listener: the admin listener wants the token for /metrics (issue 10).
pkg_tox=$(E exec "$CO" dpkg-query -W -f '${Version}' libtoxcore2 2>/dev/null | sed 's/-[^-]*$//') || fail "dpkg-query libtoxcore2 in the companion image"
run_tox=$(jget "$st" j.libtoxcore)
node_v=$(E exec "$CO" node -v 2>/dev/null || echo '?')
[ -n "$pkg_tox" ] && [ "$run_tox" = "$pkg_tox" ] || fail "status reports the image's libtoxcore (status: $run_tox, package: $pkg_tox)"
[ "$(printf '0.2.22\n%s\n' "$run_tox" | sort -V | head -n 1)" = 0.2.22 ] || fail "the image runs libtoxcore 0.2.22 or newer (it runs $run_tox)"
ver_js='const h = await (await fetch("http://127.0.0.1:9090/healthz")).json(); const m = await (await fetch("http://127.0.0.1:9190/metrics")).text();
console.log(JSON.stringify({ healthz: h.libtoxcore, metric: (/^tox_persona_libtoxcore_info\{version="([^"]+)"\} 1$/m.exec(m) || [])[1] || null }));'
vr=$(E exec "$CO" node --input-type=module -e "$ver_js" 2>&1 || true)
[ "$(jget "$vr" "j.healthz === '$run_tox' && j.metric === '$run_tox'" 2>/dev/null)" = true ] \
  || fail "/healthz and the tox_persona_libtoxcore_info metric report libtoxcore $run_tox (got: ${vr:0:200})"
pass "the image runs libtoxcore $run_tox (package libtoxcore2 $pkg_tox; shown by status, /healthz and tox_persona_libtoxcore_info) on Node $node_v"

# Probe listener: GET /healthz and /metrics answer without a token; /personas, /status and /api/* do not exist there.
# Asked from inside the container (the story's namespace has only loopback); on Kubernetes the kubelet and
# Prometheus connect to the same listener from outside the pod.
probe_js='const b = "http://127.0.0.1:9190"; const g = async (p, o) => { const r = await fetch(b + p, o); return [r.status, await r.text()]; };
const [hs, hb] = await g("/healthz"); const [ms, mb] = await g("/metrics"); const [ps] = await g("/personas"); const [ss] = await g("/status");
const [api] = await g("/api/status", { method: "POST", headers: { authorization: "Bearer x" } });
console.log(JSON.stringify({ hs, ms, ps, ss, api, health: JSON.parse(hb).status, series: /^tox_persona_publishes_total [1-9]/m.test(mb) }));'
pr=$(E exec "$CO" node --input-type=module -e "$probe_js" 2>&1 || true)
rt_probe=$(E exec "$CO" cat /data/daemon.json 2>/dev/null || true)
[ "$(jget "$pr" 'j.hs === 200 && j.health === "ok" && j.ms === 200 && j.series && j.ps === 404 && j.ss === 404 && j.api === 404' 2>/dev/null)" = true ] \
  || fail "probe listener on :9190 serves /healthz and /metrics only (got: ${pr:0:300})"
[ "$(jget "$rt_probe" 'j.probe && j.probe.host === "0.0.0.0" && j.probe.port === 9190 && j.admin.host === "127.0.0.1"' 2>/dev/null)" = true ] \
  || fail "probe listener bound to 0.0.0.0:9190 while the admin endpoint stays on 127.0.0.1 (daemon.json: ${rt_probe:0:300})"
pass "probe listener 0.0.0.0:9190: /healthz 200, /metrics 200 with the companion's series; /personas, /status, /api/* 404 (admin stays on 127.0.0.1:9090)"

blob=$(E exec "$CO" tox-persona blob 2>/dev/null) || fail "tox-persona blob in the companion container"
vj=$(E exec "$CO" tox-persona verify "$blob" --json 2>/dev/null || true)
[ "$(jget "$vj" "j.ok === true && j.personaId === '$persona_id'" 2>/dev/null)" = true ] \
  || fail "tox-persona verify accepts the companion's status message for its own persona (got: ${vj:0:300})"
if [ ! -f dist/src/cli/main.js ]; then
  say "no dist/ on the host (npm run build): the host-side verify is skipped, the in-container one ran"
else
  hv=$(node dist/src/cli/main.js verify "$blob" --json 2>/dev/null || true)
  [ "$(jget "$hv" "j.ok === true && j.personaId === '$persona_id'" 2>/dev/null)" = true ] \
    || fail "tox-persona verify on the host accepts the same status message (got: ${hv:0:300})"
fi
pass "status message verifies (persona $persona_id, $(jget "$vj" '(j.devices || []).length') device(s)): ${blob:0:60}…"

# The observer is a separate Tox node: it learns the list only over the Tox network.
# It sets a Tox name because a friend with an EMPTY name currently stops the companion's restart
# ("friendName failed: NULL": ToxNode.friendName passes a zero-length Buffer, which koffi sends as
# NULL). Reported to the Tox layer; drop the name here once that is fixed, to cover that case.
run_companion "$OB" "$prefix-observer-data" 9091 -e TOX_PERSONA_NAME=smoke-observer
wait_healthy "$OB" 120 || fail "observer companion healthy"
E exec "$OB" tox-persona friend add "$tox_id" "container smoke" >/dev/null 2>&1 || fail "observer: friend add $tox_id"
pj=$(wait_json "j.personas.some((p) => p.personaId === '$persona_id' && p.seq !== null)" 120 tp_json "$OB" personas) \
  || fail "observer verified and mapped the companion's persona over Tox within 120 s (table: ${pj:0:300})"
t_published=$(( $(now_ms) - t_run ))
pass "a separate node (observer container) received and verified the published list over Tox: persona $persona_id is in its table (state $(jget "$pj" "j.personas.find((p) => p.personaId === '$persona_id').state"), seq $(jget "$pj" "j.personas.find((p) => p.personaId === '$persona_id').seq")) $(secs "$t_published") s after run"

# ---- restart: clean SIGTERM, new container, same volume ----------------------------------------
t=$(now_ms)
E stop -t 30 "$CO" >/dev/null
t_stop=$(( $(now_ms) - t ))
code=$(E container inspect --format '{{.State.ExitCode}}' "$CO")
E logs "$CO" >"$work/companion-1.log" 2>&1 || true
[ "$code" = 0 ] || fail "companion exits 0 on SIGTERM (exit code $code)"
grep -q 'everything saved' "$work/companion-1.log" || fail "companion logged that it saved everything on SIGTERM"
pass "SIGTERM: companion saved and exited 0 in $(secs "$t_stop") s"
files=$(E run --rm --network none --entrypoint sh -v "$prefix-data:/data" "$IMG" -c 'cd /data && ls -l --time-style=+ | awk "NR > 1 { print \$1, \$5, \$NF }"' 2>/dev/null | tr '\n' ';')
E rm "$CO" >/dev/null

t_run2=$(now_ms)
run_companion "$CO" "$prefix-data" 9090 "${CO_ARGS[@]}"
wait_healthy "$CO" 120 || fail "restarted companion healthy"
t_healthy2=$(( $(now_ms) - t_run2 ))
st2=$(wait_json 'j.running === true' 30 tp_json "$CO" status) || fail "restarted companion answers status"
[ "$(jget "$st2" j.toxId)" = "$tox_id" ] || fail "same Tox ID after restart ($(jget "$st2" j.toxId) != $tox_id)"
[ "$(jget "$st2" j.personaId)" = "$persona_id" ] || fail "same PersonaID after restart"
friends2=$(jget "$st2" j.friends.total)
[ "$friends2" -ge 1 ] || fail "the observer is still a friend after restart (friends: $friends2)"
st3=$(wait_json 'j.friends.online >= 1' 120 tp_json "$CO" status) || fail "the observer reconnects to the restarted companion (status: ${st3:0:300})"
pass "restart: same Tox ID and PersonaID, device list seq $(jget "$st2" j.seq) (was $seq), $friends2 friend(s) kept and back online; healthy $(secs "$t_healthy2") s after run"

# ---- summary -------------------------------------------------------------------------------------
say "summary:"
say "  engine            ${ENGINE[*]}"
say "  runs              libtoxcore $run_tox on Node $node_v"
say "  base image        $DEBIAN_IMAGE ($base_note)"
say "  image sizes       companion $(size_mb "$IMG"), bootstrapd $(size_mb "$BS_IMG")"
say "  build             companion $(secs "$t_build_co") s, bootstrapd $(secs "$t_build_bs") s"
say "  run -> healthy    $(secs "$t_healthy") s (first start, empty volume); $(secs "$t_healthy2") s after the restart (/healthz is 200 during the start-up grace period too)"
say "  run -> connected  $(secs "$t_connected") s; run -> list verified by the observer $(secs "$t_published") s"
say "  persisted         Tox ID $tox_id, PersonaID $persona_id, friends, in /data: ${files}"
say "  total             $(secs $(( $(now_ms) - t_start ))) s"
say "$passed passed, $failed failed"

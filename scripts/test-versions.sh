#!/usr/bin/env bash
# Runs the FFI unit tests and the integration and e2e suites against each newer libtoxcore Debian ships (0.2.20 from
# trixie, 0.2.22 from sid), fetched by scripts/get-libtoxcore.sh into a private folder; the system library stays as is.
#
# Usage: scripts/test-versions.sh [SUITE...]     (default: trixie sid; also `npm run test:versions`)
# Needs `npm test` (or scripts/setup.sh) to have run: dist/ and node_modules are used as they are.
# Prints one line per run and a total that .ci/run reads:
#   versions: libtoxcore 0.2.22 (sid): 120 passed, 0 failed, 1 skipped in 301 s
#   versions total: 240 passed, 0 failed, 2 skipped
# Exits non-zero when any run failed, or a library could not be fetched (that counts as one failed test).
set -uo pipefail
cd "$(dirname "$0")/.."

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(trixie sid)
# The suites that exercise the binding and real nodes; the other unit tests do not depend on the library version.
files=(test/unit/ffi-*.test.ts test/integration test/e2e)
# These two start their own children on fixed libraries (system and sid), whatever this run loads: `npm test` ran them.
skip=(--exclude test/e2e/mixed-versions.test.ts --exclude test/integration/groups-rekey.test.ts)
mkdir -p .tmp
t_pass=0 t_fail=0 t_skip=0 rc=0
for suite in "${suites[@]}"; do
  start=$(date +%s)
  if ! lib=$(bash scripts/get-libtoxcore.sh "$suite"); then
    echo "versions: libtoxcore from $suite: could not be fetched: 0 passed, 1 failed, 0 skipped"
    t_fail=$((t_fail + 1)); rc=1; continue
  fi
  # Debian version (epoch:upstream-revision) to the upstream "major.minor.patch" that tox_version_* report.
  version=$(sed -E 's/^[0-9]+://; s/-[^-]*$//; s/[+~].*$//' "${lib%/usr/lib/*}/.version")
  report=.tmp/vitest-report-$suite.json
  rm -f "$report"
  TOX_PERSONA_LIBTOXCORE=$lib LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    TOX_PERSONA_EXPECT_LIBTOXCORE=$version npx vitest run "${files[@]}" "${skip[@]}" --outputFile.json="$report"
  run_rc=$?
  line="0 0 0"
  [ -f "$report" ] && line=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.numPassedTests} ${r.numFailedTests} ${r.numPendingTests + r.numTodoTests}`);
  ' "$report")
  read -r pass fail skip <<<"$line"
  # A failed run without failed tests (vitest itself failed, or no report) counts as one failure.
  [ "$run_rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
  [ "$fail" -eq 0 ] || rc=1
  echo "versions: libtoxcore $version ($suite): $pass passed, $fail failed, $skip skipped in $(( $(date +%s) - start )) s"
  t_pass=$((t_pass + pass)); t_fail=$((t_fail + fail)); t_skip=$((t_skip + skip))
done
echo "versions total: $t_pass passed, $t_fail failed, $t_skip skipped"
exit "$rc"

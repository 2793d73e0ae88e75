// Test-only crash injection: SIGKILLs this process at a named step of a save or publish, so tests can crash it exactly there.
//
// Armed only by the environment variable TOX_PERSONA_TEST_FAULT=[<gate>>]<point>[@<n>]: the n-th time (default the
// first) the point is reached, counting only after the gate point was passed (so "after-sign>after-journal" crashes in
// the save of a change, not in a save at start-up). Read once at start. Production never sets it; unset, every fault
// point is one comparison.
// Points: after-sign, after-journal, after-file:<file name>, after-files, after-save, after-publish, and in device
// enroll after-enroll-intent (the intent is saved, the new profile not yet written) and after-enroll-file (written, the
// list not yet saved).

/** The environment variable that arms a fault point (tests only). */
export const FAULT_ENV = 'TOX_PERSONA_TEST_FAULT';

const spec = process.env[FAULT_ENV] || undefined;
const gated = spec?.includes('>') ? spec.slice(0, spec.indexOf('>')) : undefined;
const rest = spec?.includes('>') ? spec.slice(spec.indexOf('>') + 1) : spec;
const armedPoint = rest?.split('@')[0];
const armedCount = Number(rest?.split('@')[1] ?? 1);
let gateOpen = gated === undefined;
let hits = 0;

/** True when a fault point is armed in this process (the daemon logs a warning at start). */
export function faultArmed(): string | undefined {
  return armedPoint;
}

/** A named step: kills the process with SIGKILL here when this point is the armed one (and this is its n-th hit). */
export function faultPoint(name: string): void {
  if (armedPoint === undefined) return;
  if (!gateOpen) {
    if (name === gated) gateOpen = true;
    return;
  }
  if (name !== armedPoint || ++hits < armedCount) return;
  process.kill(process.pid, 'SIGKILL');
}

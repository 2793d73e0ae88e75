// Start-up phase timing: when each step of a daemon start finished, in ms since the process started, for the log line
// that says where a restart spends its time (the soak and bench/restart.ts read it).
import { performance } from 'node:perf_hooks';

/** The named steps of a daemon start, in order (a step that does not run is absent). */
export type StartupPhase =
  | 'modules' // node started, modules loaded, configuration read: startDaemon was called
  | 'lock' // the data-directory lock is held
  | 'recover' // a crashed save is finished or dropped, temp files are gone
  | 'bootstrapd' // the local tox-bootstrapd runs (network "local" only)
  | 'toxNew' // tox_new returned with the profile loaded
  | 'load' // persona key, own list, table, requests and outcomes are read
  | 'admin' // the admin endpoint listens
  | 'probe' // the probe listener listens
  | 'published' // bootstrapped, iterating, the saved list is in our status message and everything is saved
  | 'answering'; // daemon.json names this process: commands reach it

/** Milliseconds since this process started (Node's time origin), to one decimal. */
export function sinceProcessStart(): number {
  return Math.round(performance.now() * 10) / 10;
}

/** Records when each start-up phase finished. */
export class StartupTimer {
  private readonly marks: Array<[StartupPhase, number]> = [];

  /** Marks `phase` as finished now. */
  mark(phase: StartupPhase): void {
    this.marks.push([phase, sinceProcessStart()]);
  }

  /** Each phase's finishing time in ms since the process started, in the order they finished. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.marks);
  }
}

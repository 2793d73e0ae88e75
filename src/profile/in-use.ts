// Whether an ordinary Tox client seems to have a profile open, so that `profile sync` never writes under a running client (which would overwrite it on its next save).
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isKernelLockHeld } from '../util/lock.js';

/** Process names of ordinary Tox clients that keep their profile in memory and save it while they run. */
const CLIENT_NAMES = new Set(['toxic', 'qtox', 'utox']);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * qTox's lock: `NAME.lock` next to `NAME.tox`, a QLockFile (pid, app name, host name on three lines, plus an flock on
 * Unix). Held when its flock is held, or when it names a live pid on this host; a lock left by a dead qTox is stale.
 */
function qtoxLock(profile: string): string | undefined {
  const lock = join(dirname(profile), `${basename(profile).replace(/\.tox$/, '')}.lock`);
  if (!existsSync(lock)) return undefined;
  if (isKernelLockHeld(lock)) return `${lock} is locked (qTox holds this lock while the profile is open)`;
  let lines: string[];
  try {
    lines = readFileSync(lock, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const host = (lines[2] ?? '').trim();
  if (Number.isSafeInteger(pid) && pid > 0 && (host === '' || host === hostname()) && alive(pid)) {
    return `${lock} names the live process ${pid}${lines[1] ? ` (${lines[1].trim()})` : ''}`;
  }
  return undefined;
}

/**
 * Linux only: a process of this user that has the profile open, names it on its command line, or is an ordinary client
 * (toxic, qtox, utox) that names no other .tox file (toxic's default profile path needs no argument).
 */
function processUsing(profile: string): string | undefined {
  if (!existsSync('/proc/self/fd')) return undefined;
  let uid: number;
  try {
    uid = statSync('/proc/self').uid;
  } catch {
    return undefined;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const dir = `/proc/${entry}`;
    try {
      if (statSync(dir).uid !== uid) continue;
      const comm = readFileSync(`${dir}/comm`, 'utf8').trim();
      const args = readFileSync(`${dir}/cmdline`, 'utf8').split('\0').filter(Boolean);
      let cwd = '/';
      try {
        cwd = readlinkSync(`${dir}/cwd`);
      } catch {
        // no access to its cwd: absolute arguments still match
      }
      const named = args.slice(1).some((a) => a === profile || resolve(cwd, a) === profile);
      if (named) return `process ${entry} (${comm}) names it on its command line`;
      if (CLIENT_NAMES.has(comm.toLowerCase()) && !args.slice(1).some((a) => a.endsWith('.tox'))) {
        return `the Tox client ${comm} (process ${entry}) runs and may have it open`;
      }
      for (const fd of readdirSync(`${dir}/fd`)) {
        let target: string;
        try {
          target = readlinkSync(`${dir}/fd/${fd}`);
        } catch {
          continue;
        }
        if (target === profile) return `process ${entry} (${comm}) has it open`;
      }
    } catch {
      // The process ended while we looked, or is not readable: nothing to learn from it.
    }
  }
  return undefined;
}

/**
 * Why the profile at `path` looks in use by a running client, or undefined. Checks, in order: an flock on the profile
 * itself, qTox's `NAME.lock`, and (Linux) the processes of this user. toxic takes no lock, so only the process check
 * sees it; see docs/PROFILE.md "profile sync".
 */
export function profileInUse(path: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined; // a missing file is reported by the read that follows
  }
  if (isKernelLockHeld(real)) return `${path} is locked (flock) by another process`;
  return qtoxLock(real) ?? processUsing(real);
}

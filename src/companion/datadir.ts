// The data-directory layout, its lock (one writer at a time), the admin token and the running daemon's address file.
import { existsSync, readFileSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { acquireKernelLock, isKernelLockHeld, lockHolderPid, LockError } from '../util/lock.js';
import { recoverDir, writeFileAtomic } from '../util/fs.js';
import type { Logger } from './log.js';
import { ToxPersonaError } from '../util/errors.js';

/** A data-directory problem. Codes: `NOT_INITIALIZED`, `ALREADY_INITIALIZED`, `LOCKED`, `BAD_FILE`. */
export class DataDirError extends ToxPersonaError {}

/** File names inside a data directory. */
export const FILES = Object.freeze({
  /** Tox savedata of this device (0600). */
  profile: 'profile.tox',
  /** The persona's root key (0600); absent on a device the root was removed from (it lives in the recovery key). */
  personaKey: 'persona.key',
  /** This device's signer key (0600), certified by the root; alone, without signer.cert, it is a request waiting for the root. */
  signerKey: 'signer.key',
  /** The root's certificate of this device's signer and its epoch (JSON). */
  signerCert: 'signer.cert',
  /** The PersonaID table: friends' verified lists and pending updates. */
  table: 'personas.json',
  /** Our own device list and its latest signed form. */
  devices: 'devices.json',
  /** Incoming friend requests waiting for accept/decline. */
  requests: 'requests.json',
  /** Why each friend is one (added by the user, accepted, added for which personas), the block list and vouched personas. */
  friends: 'friends.json',
  /** Outcomes of the latest mutating requests by request id, saved in the same commit as the change they made. */
  outcomes: 'outcomes.json',
  /** Alarms and recent rejections of friends' lists, shown by `status` (bounded per friend). */
  alarms: 'alarms.json',
  /** Optional settings (see docs/CLI.md). */
  config: 'config.json',
  /** Bearer token for the admin endpoint's state-changing calls (0600). */
  token: 'admin.token',
  /** Written by a running daemon: where its admin endpoint listens, and its pid. */
  runtime: 'daemon.json',
  /** The data-directory lock: an flock(2) the kernel holds for the live holder; the file holds its pid. */
  lock: 'lock',
  /**
   * Held (flock) by a `run` process from before it takes `lock` until it exits: while it is held and daemon.json does
   * not name the daemon yet, commands wait for that daemon instead of taking `lock` themselves (which would keep a
   * restarting daemon waiting).
   */
  daemonLock: 'daemon.lock',
});

/** Absolute path of one file of the data directory. */
export function dataPath(dir: string, file: keyof typeof FILES): string {
  return join(dir, FILES[file]);
}

/** True when `dir` holds an initialized data directory (profile, and the root key or a certified signer). */
export function isInitialized(dir: string): boolean {
  return existsSync(dataPath(dir, 'profile')) && (existsSync(dataPath(dir, 'personaKey')) || existsSync(dataPath(dir, 'signerCert')));
}

/** Throws `NOT_INITIALIZED` unless {@link isInitialized}. */
export function requireInitialized(dir: string): void {
  if (isInitialized(dir)) return;
  // `init --join` left a profile and a signer request: the device waits for its certificate, which init cannot give.
  if (existsSync(dataPath(dir, 'profile')) && existsSync(dataPath(dir, 'signerKey'))) {
    throw new DataDirError('NOT_INITIALIZED', `${dir} waits for its signer certificate (made by "init --join"): run "tox-persona persona certify REQUEST" on the machine with the root, then "tox-persona persona join CERTIFICATE --dir ${dir}"`);
  }
  throw new DataDirError('NOT_INITIALIZED', `no tox-persona data in ${dir}: run "tox-persona init --dir ${dir}" first`);
}

/** Creates the directory (0700) when missing. */
export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * How long a daemon start or an offline command waits for the lock: a holder that just died (its last threads are still
 * closing its files) or a short offline command holding it lets go well within this.
 */
export const LOCK_WAIT_MS = 5_000;

/** How often a holder checks that its lock file is still the one at the path (someone could delete or replace it). */
export const LOCK_CHECK_MS = 5_000;

/** Releases a lock taken by {@link lockDataDir}. */
export type Release = () => Promise<void>;

/**
 * Takes the data directory's lock: an flock(2) on DIR/lock that the kernel drops the moment the holder dies (SIGKILL,
 * OOM, a container stop), so a restart takes it over at once, while two live processes can never both hold it. The
 * daemon holds it for its lifetime; offline commands hold it for one change. Throws `LOCKED` when a live process still
 * holds it after `waitMs` (default {@link LOCK_WAIT_MS}). `onCompromised` is called when the lock file is removed or replaced under us (then another process
 * could lock the new file, so the holder must stop writing).
 */
export async function lockDataDir(dir: string, options: { waitMs?: number; onCompromised?: (err: Error) => void } = {}): Promise<Release> {
  ensureDir(dir);
  const path = dataPath(dir, 'lock');
  // Versions before the kernel lock used proper-lockfile's lock *directory* at this path; an empty one is left over.
  try {
    if (statSync(path).isDirectory()) rmdirSync(path);
  } catch {
    // missing: fine; a non-empty directory: acquireKernelLock reports it
  }
  let lock;
  try {
    lock = await acquireKernelLock(path, { waitMs: options.waitMs ?? LOCK_WAIT_MS });
  } catch (err) {
    if (err instanceof LockError && err.code === 'LOCKED') {
      throw new DataDirError('LOCKED', `${dir} is in use by another tox-persona process${lockHolderPid(path) ? ` (pid ${lockHolderPid(path)})` : ''}`, { cause: err });
    }
    throw err;
  }
  const held = lock;
  let timer: NodeJS.Timeout | undefined;
  if (options.onCompromised) {
    const onCompromised = options.onCompromised;
    timer = setInterval(() => {
      if (held.stillOurs()) return;
      clearInterval(timer);
      onCompromised(new Error(`${path} was removed or replaced while this process held it`));
    }, LOCK_CHECK_MS);
    timer.unref();
  }
  return async () => {
    if (timer) clearInterval(timer);
    held.release();
  };
}

/** How long a starting daemon waits for `lock`: commands that run directly on the files finish within this, and no new one starts once `daemon.lock` is held. */
export const DAEMON_LOCK_WAIT_MS = 30_000;

/** Takes `daemon.lock` for a daemon's lifetime (see {@link FILES}); `LOCKED` when another daemon holds it. */
export async function lockDaemonIntent(dir: string): Promise<Release> {
  ensureDir(dir);
  const path = dataPath(dir, 'daemonLock');
  let lock;
  try {
    lock = await acquireKernelLock(path, { waitMs: LOCK_WAIT_MS });
  } catch (err) {
    if (err instanceof LockError && err.code === 'LOCKED') throw new DataDirError('LOCKED', `${dir}: another tox-persona daemon runs there${lockHolderPid(path) ? ` (pid ${lockHolderPid(path)})` : ''}`, { cause: err });
    throw err;
  }
  const held = lock;
  return async () => held.release();
}

/** True while a daemon process holds `daemon.lock` of `dir` (it may still be starting, before daemon.json names it). */
export function daemonHoldsDir(dir: string): boolean {
  return isKernelLockHeld(dataPath(dir, 'daemonLock'));
}

/**
 * Start-up repair, under the lock and before any state is read: finishes or drops a save that a crash interrupted (so
 * the files are the state of one moment), removes temp files (a profile copy holds the secret key), makes every file
 * 0600, and logs what it did.
 */
export async function repairDataDir(dir: string, log?: Logger): Promise<void> {
  const r = await recoverDir(dir);
  if (r.replayed.length > 0) log?.warn({ files: r.replayed }, 'finished a save that a crash interrupted');
  if (r.droppedTornJournal) log?.warn('dropped an incomplete save journal: the crash came before that save was committed');
  if (r.removedTemps.length > 0) log?.warn({ files: r.removedTemps }, 'removed temp files left by a crash');
  if (r.tightened.length > 0) log?.warn({ files: r.tightened }, 'made files readable by their owner only (0600)');
}

/** Returns the admin token, creating a random one (0600) on first use. */
export async function readOrCreateToken(dir: string): Promise<string> {
  const path = dataPath(dir, 'token');
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 16) {
      if ((statSync(path).mode & 0o077) !== 0) await chmod(path, 0o600);
      return token;
    }
  }
  const token = randomBytes(24).toString('base64url');
  await writeFileAtomic(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * Writes a fresh random admin token (0600) and returns it. The daemon calls this at every start: a token that a
 * command sent to the address of a daemon that has since died (a stale daemon.json, a reused port) is worthless.
 */
export async function rotateToken(dir: string): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await writeFileAtomic(dataPath(dir, 'token'), `${token}\n`, { mode: 0o600 });
  return token;
}

/** Reads the admin token if one exists. */
export function readToken(dir: string): string | undefined {
  const path = dataPath(dir, 'token');
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8').trim() || undefined;
}

/** What a running daemon records about itself in the data directory. */
export interface RuntimeInfo {
  pid: number;
  /** Admin endpoint, or null when disabled. */
  admin: { host: string; port: number } | null;
  /** Probe listener (health and metrics only), or null when off; absent in records of older versions. */
  probe?: { host: string; port: number } | null;
  startedAt: string;
  toxId: string;
}

/** Records the running daemon's pid and admin address. */
export async function writeRuntime(dir: string, info: RuntimeInfo): Promise<void> {
  await writeFileAtomic(dataPath(dir, 'runtime'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Reads the daemon record when a daemon holds the data directory now: the record counts only while the lock is held
 * (a record left by a daemon that died is ignored at once, even when its pid was reused, as in containers where every
 * daemon is pid 1) and its pid is a live process that is not a zombie.
 */
export function readRuntime(dir: string): RuntimeInfo | undefined {
  const path = dataPath(dir, 'runtime');
  if (!existsSync(path)) return undefined;
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as RuntimeInfo;
    if (typeof info.pid !== 'number') return undefined;
    if (!isKernelLockHeld(dataPath(dir, 'lock')) || !pidAlive(info.pid)) return undefined;
    return info;
  } catch {
    return undefined;
  }
}

/** True for a running process; a zombie (exited, not yet reaped by its parent) holds no lock and answers nothing, so it counts as dead. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; comm may hold spaces and parentheses, so the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs (not Linux): kill(0) decided
  }
}

/** Reads a JSON state file, or returns `fallback` when it does not exist; bad content throws `BAD_FILE` naming the file. */
export function readJsonFile<T>(path: string, fallback: T): T {
  if (!existsSync(path)) return fallback;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new DataDirError('BAD_FILE', `${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Writes a JSON state file atomically (0600). */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

// The data-directory layout, its lock (one writer at a time), the admin token and the running daemon's address file.
import { existsSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { writeFileAtomic } from '../util/fs.js';
import { ToxPersonaError } from '../util/errors.js';

/** A data-directory problem. Codes: `NOT_INITIALIZED`, `ALREADY_INITIALIZED`, `LOCKED`, `BAD_FILE`. */
export class DataDirError extends ToxPersonaError {}

/** File names inside a data directory. */
export const FILES = Object.freeze({
  /** Tox savedata of this device (0600). */
  profile: 'profile.tox',
  /** Persona signing key (0600). */
  personaKey: 'persona.key',
  /** The PersonaID table: friends' verified lists and pending updates. */
  table: 'personas.json',
  /** Our own device list and its latest signed form. */
  devices: 'devices.json',
  /** Incoming friend requests waiting for accept/decline. */
  requests: 'requests.json',
  /** Why each friend is one (added by the user, accepted, added for which personas), the block list and vouched personas. */
  friends: 'friends.json',
  /** Optional settings (see docs/CLI.md). */
  config: 'config.json',
  /** Bearer token for the admin endpoint's state-changing calls (0600). */
  token: 'admin.token',
  /** Written by a running daemon: where its admin endpoint listens, and its pid. */
  runtime: 'daemon.json',
  /** proper-lockfile's lock directory. */
  lock: 'lock',
});

/** Absolute path of one file of the data directory. */
export function dataPath(dir: string, file: keyof typeof FILES): string {
  return join(dir, FILES[file]);
}

/** True when `dir` holds an initialized data directory (profile and persona key). */
export function isInitialized(dir: string): boolean {
  return existsSync(dataPath(dir, 'profile')) && existsSync(dataPath(dir, 'personaKey'));
}

/** Throws `NOT_INITIALIZED` unless {@link isInitialized}. */
export function requireInitialized(dir: string): void {
  if (!isInitialized(dir)) throw new DataDirError('NOT_INITIALIZED', `no tox-persona data in ${dir}: run "tox-persona init --dir ${dir}" first`);
}

/** Creates the directory (0700) when missing. */
export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** After this long without a refresh, a data-directory lock counts as abandoned and another process may take it. */
export const LOCK_STALE_MS = 60_000;

/** How often the holder refreshes its lock (well below {@link LOCK_STALE_MS}, so several refreshes may fail first). */
export const LOCK_UPDATE_MS = 5_000;

/** Releases a lock taken by {@link lockDataDir}. */
export type Release = () => Promise<void>;

/**
 * Takes the data directory's lock. The daemon holds it for its lifetime; offline commands hold it for one change.
 * Throws `LOCKED` when another live process holds it (proper-lockfile refreshes the lock, so a crashed holder's lock goes stale).
 */
export async function lockDataDir(dir: string, options: { retries?: number | lockfile.LockOptions['retries']; onCompromised?: (err: Error) => void } = {}): Promise<Release> {
  ensureDir(dir);
  try {
    return await lockfile.lock(dir, {
      lockfilePath: dataPath(dir, 'lock'),
      // A holder that stops refreshing for this long (crash, or an event loop stalled that long) loses the lock; the
      // daemon then shuts down (onCompromised). Long, so that ordinary stalls never hand the lock to a second writer.
      stale: LOCK_STALE_MS,
      update: LOCK_UPDATE_MS,
      retries: options.retries ?? 0,
      realpath: false,
      onCompromised: options.onCompromised ?? ((err) => { throw err; }),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new DataDirError('LOCKED', `${dir} is in use by another tox-persona process`, { cause: err });
    }
    throw err;
  }
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

/** Reads the daemon record when present and its process is alive; stale records are ignored. */
export function readRuntime(dir: string): RuntimeInfo | undefined {
  const path = dataPath(dir, 'runtime');
  if (!existsSync(path)) return undefined;
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as RuntimeInfo;
    if (typeof info.pid !== 'number') return undefined;
    try {
      process.kill(info.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    }
    return info;
  } catch {
    return undefined;
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

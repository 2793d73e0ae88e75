// A kernel-held exclusive file lock (flock(2) through koffi on the C library already in the process): released the moment its holder dies, however it dies.
import { closeSync, fstatSync, openSync, readFileSync, statSync, writeSync, ftruncateSync, constants as C } from 'node:fs';
import koffi from 'koffi';
import { ToxPersonaError } from './errors.js';

/** A lock problem. Codes: `LOCKED` (another live process holds it), `LOCK_UNSUPPORTED` (no flock in this C library). */
export class LockError extends ToxPersonaError {}

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

type FlockFn = (fd: number, op: number) => number;
let flockFn: FlockFn | undefined;

/** flock from the symbols already in the process (dlopen(NULL)): glibc and musl both export it, nothing new is loaded. */
function flock(): FlockFn {
  if (!flockFn) {
    try {
      flockFn = koffi.load(null as unknown as string).func('int flock(int fd, int op)') as FlockFn;
    } catch (cause) {
      throw new LockError('LOCK_UNSUPPORTED', `this C library offers no flock(2): ${(cause as Error).message}`, { cause });
    }
  }
  return flockFn;
}

/** A held lock: the open file whose flock the kernel drops when the process dies or {@link KernelLock.release} closes it. */
export interface KernelLock {
  readonly path: string;
  /** False once the lock file was removed or replaced: another process could then lock a new file at the same path. */
  stillOurs(): boolean;
  /** Drops the lock (closing the file drops the flock); idempotent. */
  release(): void;
}

/** Tries once, without waiting: the fd on success, undefined when another open file description holds the lock. */
function tryLockOnce(path: string): number | undefined {
  // The held descriptor is read-only (flock needs no write access): a holder that keeps no file of the directory open
  // for writing lets an administrator remount it read-only (the kernel refuses that, EBUSY, while any file on it is
  // open for writing); the pid is written through a short-lived descriptor. O_CLOEXEC (libuv's default) keeps the lock
  // out of child processes; 0600 from the first byte.
  let fd: number;
  try {
    fd = openSync(path, C.O_RDONLY | C.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    closeSync(openSync(path, C.O_WRONLY | C.O_CREAT | C.O_NOFOLLOW, 0o600));
    return tryLockOnce(path);
  }
  let r: number;
  let errno = 0;
  do {
    r = flock()(fd, LOCK_EX | LOCK_NB);
    errno = r === 0 ? 0 : koffi.errno();
  } while (r !== 0 && errno === EINTR);
  if (r !== 0) {
    closeSync(fd);
    if (errno === EWOULDBLOCK) return undefined;
    throw new LockError('LOCK_FAILED', `flock(${path}) failed with errno ${errno}`);
  }
  // Someone may have removed (or replaced) the file between our open and our flock: that lock guards nothing.
  let same = false;
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    same = a.ino === b.ino && a.dev === b.dev;
  } catch {
    same = false;
  }
  if (!same) {
    closeSync(fd);
    return tryLockOnce(path);
  }
  return fd;
}

/** The pid written into a lock file by its holder, for messages (the lock itself, not this number, decides). */
export function lockHolderPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the exclusive lock on `path` (created 0600 when missing), waiting up to `waitMs` for another holder to let go.
 * Throws `LOCKED` when a live process still holds it. The holder's pid is written into the file for diagnostics.
 */
export async function acquireKernelLock(path: string, options: { waitMs?: number; pollMs?: number } = {}): Promise<KernelLock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let fd = tryLockOnce(path);
  while (fd === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
    fd = tryLockOnce(path);
  }
  if (fd === undefined) {
    const pid = lockHolderPid(path);
    throw new LockError('LOCKED', `${path} is held by another live process${pid ? ` (pid ${pid})` : ''}`);
  }
  const held = fd;
  // For messages only (the flock decides): best effort, a read-only directory still locks. Closing this second
  // descriptor does not drop the flock, which belongs to the held one's open file description.
  try {
    const w = openSync(path, C.O_WRONLY | C.O_NOFOLLOW);
    try {
      ftruncateSync(w, 0);
      writeSync(w, `${process.pid}\n`, 0);
    } finally {
      closeSync(w);
    }
  } catch {
    // EROFS and the like: the lock is held all the same
  }
  const ino = fstatSync(held).ino;
  let open = true;
  return {
    path,
    stillOurs() {
      if (!open) return false;
      try {
        return statSync(path).ino === ino;
      } catch {
        return false;
      }
    },
    release() {
      if (!open) return;
      open = false;
      // Closing our only descriptor drops the flock. The file stays: unlinking it would let a waiter lock an orphan.
      closeSync(held);
    },
  };
}

/** True when some process (this one included, through another open file) holds the lock on `path` right now. */
export function isKernelLockHeld(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, C.O_RDONLY | C.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const r = flock()(fd, LOCK_EX | LOCK_NB);
    return r !== 0 && koffi.errno() === EWOULDBLOCK;
  } finally {
    // Closing drops the probe lock if we got it.
    closeSync(fd);
  }
}

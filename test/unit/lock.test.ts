// The kernel-held data-directory lock: two live processes never both hold it, a SIGKILLed or zombie holder frees it at once.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { acquireKernelLock, isKernelLockHeld, LockError } from '../../src/util/lock.js';
import { lockDataDir, pidAlive, readRuntime, DataDirError } from '../../src/companion/datadir.js';
import { useTempDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const HOLDER = resolve(import.meta.dirname, '../support/lock-holder.ts');

/** Starts a process holding the lock on `path` (optionally as the child of a shell that never reaps it) and waits until it holds it. */
async function holder(path: string, options: { unreaped?: boolean; waitMs?: number } = {}): Promise<{ child: ChildProcess; pid: number; exited: Promise<unknown> }> {
  const cmd = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(HOLDER)} ${JSON.stringify(path)} ${options.waitMs ?? 0}`;
  // "cmd & exec sleep": the holder's parent becomes sleep, which never waits for it, so a killed holder stays a zombie.
  const child = options.unreaped ? spawn('sh', ['-c', `${cmd} & exec sleep 120`], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn('sh', ['-c', `exec ${cmd}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.on('exit', r));
  const pid = await waitFor(() => Number(/locked (\d+)/.exec(out)?.[1] ?? 0), { what: `a holder process to take the lock on ${path}`, timeoutMs: 30_000 });
  return { child, pid, exited };
}

describe('kernel lock', () => {
  const tmp = useTempDir('tp-lock-');

  it('two live processes never both hold it; a SIGKILLed holder frees it at once, with no staleness wait', async () => {
    const path = tmp('a.lock');
    const h = await holder(path);
    try {
      expect(isKernelLockHeld(path)).toBe(true);
      await expect(acquireKernelLock(path)).rejects.toSatisfy((e) => e instanceof LockError && e.code === 'LOCKED' && e.message.includes(`pid ${h.pid}`));
      // A second live process is refused too (not only a second lock in this one).
      const second = spawn('sh', ['-c', `exec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(HOLDER)} ${JSON.stringify(path)}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      second.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise((r) => second.on('exit', r));
      expect(code, err).not.toBe(0);
      expect(err).toContain('LOCKED');
    } finally {
      h.child.kill('SIGKILL');
      await h.exited;
    }
    // The process is gone, so the kernel dropped its lock: taken at once, without waiting.
    const mine = await acquireKernelLock(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    mine.release();
    expect(isKernelLockHeld(path)).toBe(false);
  });

  it('an unreaped zombie of a dead holder holds nothing: the lock is free and its pid counts as dead', async () => {
    const path = tmp('z.lock');
    const h = await holder(path, { unreaped: true });
    try {
      process.kill(h.pid, 'SIGKILL');
      await waitFor(() => !pidAlive(h.pid), { what: `pid ${h.pid} to become a zombie`, timeoutMs: 10_000 });
      // Still a process-table entry (kill(0) succeeds on a zombie), which the old check counted as alive.
      expect(() => process.kill(h.pid, 0)).not.toThrow();
      // The other threads of the dead process close its files a moment after its main thread turned zombie.
      await waitFor(() => !isKernelLockHeld(path), { what: 'the zombie\'s lock to be dropped', timeoutMs: 10_000 });
      const mine = await acquireKernelLock(path);
      mine.release();
    } finally {
      h.child.kill('SIGKILL');
      await h.exited;
    }
  });

  it('a data directory whose daemon died: its daemon.json is ignored at once, and the lock is taken at once', async () => {
    const dir = tmp('dd');
    mkdirSync(dir);
    const h = await holder(join(dir, 'lock'));
    writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ pid: h.pid, admin: { host: '127.0.0.1', port: 1 }, startedAt: '', toxId: '' }));
    expect(readRuntime(dir)?.pid).toBe(h.pid);
    await expect(lockDataDir(dir)).rejects.toSatisfy((e) => e instanceof DataDirError && e.code === 'LOCKED');
    h.child.kill('SIGKILL');
    await h.exited;
    expect(readRuntime(dir)).toBeUndefined();
    // Even a record naming a live pid (pid reuse, pid 1 in every container) is stale without the lock.
    writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ pid: process.pid, admin: null, startedAt: '', toxId: '' }));
    expect(readRuntime(dir)).toBeUndefined();
    const release = await lockDataDir(dir);
    await release();
  });

  it('a lock directory left by the old proper-lockfile lock is replaced; a lock file removed under the holder is reported', async () => {
    const dir = tmp('old');
    mkdirSync(join(dir, 'lock'), { recursive: true });
    let lost: Error | undefined;
    const release = await lockDataDir(dir, { onCompromised: (e) => (lost = e) });
    expect(statSync(join(dir, 'lock')).isFile()).toBe(true);
    rmSync(join(dir, 'lock'));
    await waitFor(() => lost, { what: 'onCompromised after the lock file was removed', timeoutMs: 15_000 });
    expect(lost!.message).toContain('removed or replaced');
    await release();
  });
});

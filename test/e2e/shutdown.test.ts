// End to end: SIGTERM while the daemon is busy changing its list loses nothing that was acknowledged.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../support/wait.js';
import { cliJson, startDaemonProcess } from './cli.js';
import { useTempDir } from '../support/tmp.js';

describe('graceful shutdown', () => {
  const root = useTempDir('tp-e2e-term-');

  it('SIGTERM during a burst of device adds: every acknowledged add is on disk, signed, and in the saved status message', async () => {
    const dir = root('a');
    await cliJson(['init', '--dir', dir, '--name', 'phone']);
    const d = await startDaemonProcess(dir, ['--network', 'local']);
    // Valid Curve25519 keys (last byte below 0x80), as toxcore requires.
    const keys = Array.from({ length: 30 }, () => randomBytes(32).toString('hex').toUpperCase().replace(/..$/, '3F'));
    const acked: string[] = [];
    const calls = keys.map((k, i) =>
      fetch(`${d.url}/api/deviceAdd`, { method: 'POST', headers: { authorization: `Bearer ${d.token}` }, body: JSON.stringify({ publicKey: k, name: `d${i}` }) })
        .then(async (res) => {
          if (res.status === 200) acked.push(k);
        })
        .catch(() => undefined),
    );
    await waitFor(() => acked.length >= 3, { what: 'the first device adds to be acknowledged', timeoutMs: 20_000, intervalMs: 5 });
    const code = await d.stop('SIGTERM');
    await Promise.all(calls);
    expect(code).toBe(0);
    expect(d.logs()).toContain('daemon stopped, everything saved');
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
    // Offline now: the commands read the files the daemon saved.
    const list = await cliJson(['device', 'list', '--dir', dir]);
    const saved = new Set(list.devices.map((x: any) => x.publicKey));
    for (const k of acked) expect(saved.has(k), `acknowledged device ${k.slice(0, 8)} is saved`).toBe(true);
    const blob = await cliJson(['blob', '--dir', dir]);
    const v = await cliJson(['verify', blob.statusMessage]);
    expect(v.devices.map((x: any) => x.publicKey)).toEqual(list.devices.map((x: any) => x.publicKey));
    expect(v.seq).toBe(list.seq);
  });

  /** SIGKILLs the frozen group unless it is already gone: the daemon's exit hook kills it, and a reaping PID 1 (systemd, tini, bash) removes it at once. */
  function killGroupIfLeft(pgid: number): void {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }

  /** Freezes the daemon's embedded tox-bootstrapd (its process group), so that stopping it takes seconds. */
  function freezeBootstrapd(daemonPid: number): number {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === daemonPid && Number(fields[2]) === Number(entry)) {
          process.kill(-Number(entry), 'SIGSTOP');
          return Number(entry);
        }
      } catch {
        // the process went away while we looked
      }
    }
    throw new Error(`no child process group of the daemon ${daemonPid} (the embedded tox-bootstrapd) found`);
  }

  it('a second signal during a slow shutdown exits at once (130), after the state was saved', async () => {
    const dir = root('b');
    await cliJson(['init', '--dir', dir, '--name', 'phone']);
    const d = await startDaemonProcess(dir, ['--network', 'local']);
    const pgid = freezeBootstrapd(d.child.pid!);
    try {
      await cliJson(['device', 'add', '--dir', dir, '34'.repeat(32), '--name', 'late']);
      d.child.kill('SIGTERM');
      await waitFor(() => d.logs().includes('shutting down: saving'), { what: 'the daemon to start its shutdown', timeoutMs: 10_000 });
      d.child.kill('SIGTERM');
      expect(await d.exited()).toBe(130);
      expect(d.logs()).toContain('second signal: exiting at once');
    } finally {
      killGroupIfLeft(pgid);
    }
    const list = await cliJson(['device', 'list', '--dir', dir]);
    expect(list.devices.map((x: any) => x.name)).toEqual(['phone', 'late']);
  });

  it('a shutdown that outlasts shutdownTimeoutMs exits at once with 1', async () => {
    const dir = root('c');
    await cliJson(['init', '--dir', dir]);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ shutdownTimeoutMs: 300 }));
    const d = await startDaemonProcess(dir, ['--network', 'local']);
    const pgid = freezeBootstrapd(d.child.pid!);
    try {
      d.child.kill('SIGTERM');
      expect(await d.exited()).toBe(1);
      expect(d.logs()).toContain('shutdown timed out: exiting at once');
    } finally {
      killGroupIfLeft(pgid);
    }
  });
});

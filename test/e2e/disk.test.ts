// End to end, a full disk and a read-only remount: the data directory on a small tmpfs that fills up, then is remounted read-only under the running daemon; the save fails with a clear error in the log, status and /healthz (the command exits 6 SAVE_FAILED), nothing saved is damaged or published, the daemon keeps running and saves again once the disk is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { generateKeyPair } from '../../src/profile/keys.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { waitFor } from '../support/wait.js';
import { cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';

const STATE_FILES = ['profile.tox', 'personas.json', 'devices.json', 'requests.json', 'persona.key'];

function mount(args: string[]): boolean {
  return spawnSync('mount', args, { stdio: 'ignore' }).status === 0;
}

/** Fills the file system holding `dir` until it refuses more (ENOSPC); returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w', 0o600);
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return path;
}

/** GET a JSON endpoint of the daemon. */
async function get(d: DaemonProcess, path: string): Promise<any> {
  return (await fetch(`${d.url}${path}`, { headers: { authorization: `Bearer ${d.token}` } })).json();
}

async function api(d: DaemonProcess, op: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${d.url}/api/${op}`, { method: 'POST', headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

describe('a full or read-only disk under a running daemon', () => {
  let mnt = '';
  let mounted = false;
  let bootstrapd: Bootstrapd;
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    mnt = mkdtempSync(join(tmpdir(), 'tp-e2e-disk-'));
    // A real small file system: needs root (CAP_SYS_ADMIN); elsewhere the test says so and is skipped.
    mounted = mount(['-t', 'tmpfs', '-o', 'size=768k,mode=0700', 'tmpfs', mnt]);
    bootstrapd = await startBootstrapd();
  });
  afterAll(async () => {
    await daemon?.stop();
    await bootstrapd?.close();
    if (mounted) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('ENOSPC, then EROFS (read-only remount): SAVE_FAILED to the command (HTTP 503, CLI exit 6), the reason in log, status and /healthz; the files stay whole and the change unpublished; saving resumes when the disk is back', async (ctx) => {
    if (!mounted) ctx.skip();
    const dir = join(mnt, 'data');
    await cliJson(['init', '--dir', dir, '--name', 'phone']);
    daemon = await startDaemonProcess(dir, ['--bootstrap', bootstrapd.nodeString(), '--health-grace', '3600']);
    const d = daemon;
    const snapshot = () => Object.fromEntries(STATE_FILES.map((f) => [f, existsSync(join(dir, f)) ? readFileSync(join(dir, f)).toString('base64') : null]));

    // The remount works because the daemon keeps no file of the directory open for writing (its lock descriptors are
    // read-only); the kernel refuses a read-only remount (EBUSY) while any file on it is open for writing.
    for (const fault of ['ENOSPC', 'EROFS'] as Array<'ENOSPC' | 'EROFS'>) {
      // Saving works (after the previous round, again) and no change waits to be saved (the devices added in the
      // previous round become friends, a change saved a second later), so the snapshot is the saved state.
      await waitFor(async () => { const s = (await get(d, '/status')).save; return s.ok && !s.pending; }, { what: 'saving to work, with no change waiting to be saved', timeoutMs: 30_000 });
      const before = snapshot();
      const seqBefore = (await get(d, '/status')).seq as number;
      const filler = fault === 'ENOSPC' ? fill(mnt) : undefined;
      if (fault === 'EROFS') expect(mount(['-o', 'remount,ro', mnt]), 'remount read-only').toBe(true);
      const pk = bytesToHex(generateKeyPair().publicKey).toUpperCase();
      const r = await api(d, 'deviceAdd', { publicKey: pk, name: 'tablet' });
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      expect(r.body.error.code).toBe('SAVE_FAILED');
      expect(r.body.error.message).toContain(fault);
      // The same through the CLI: exit 6 (outcome unknown: the change waits in memory, unpublished, and is retried).
      const pk2 = bytesToHex(generateKeyPair().publicKey).toUpperCase();
      const c = await cli(['device', 'add', '--dir', dir, pk2, '--name', 'watch', '--json'], { env: { TOX_PERSONA_RETRY_SECONDS: '0' } });
      expect(c.code, c.stderr).toBe(6);
      expect(JSON.parse(c.stderr).error.code).toBe('SAVE_FAILED');
      const status = await get(d, '/status');
      expect(status.save).toMatchObject({ ok: false, error: { code: fault } });
      const health = await fetch(`${d.url}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as any).save.error.code).toBe(fault);
      expect(d.logs()).toMatch(new RegExp(`"code":"${fault}".*"msg":"save failed`));
      // Nothing already saved is damaged, no temp file stays, and the old list is still what we publish.
      expect(snapshot()).toEqual(before);
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n === 'commit.journal')).toEqual([]);
      expect(status.devices.map((x: any) => x.publicKey), 'status shows the saved list, not the unsaved change').not.toContain(pk);
      // Unpublished: the list we publish (always the saved one) is still the one from before.
      expect(status.seq).toBe(seqBefore);
      // The disk comes back: the daemon (still running) saves by itself and publishes the change.
      if (filler) rmSync(filler);
      if (fault === 'EROFS') expect(mount(['-o', 'remount,rw', mnt]), 'remount read-write').toBe(true);
      await waitFor(async () => (await get(d, '/status')).save.ok, { what: `saving to work again after ${fault}`, timeoutMs: 30_000 });
      expect((await get(d, '/status')).devices.map((x: any) => x.publicKey)).toEqual(expect.arrayContaining([pk, pk2]));
      expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
      expect(d.logs()).toContain('saving works again');
    }
    expect(await d.stop()).toBe(0);
    daemon = undefined;
    // And it restarts on the directory as it was left.
    const shown = await cliJson(['device', 'list', '--dir', dir]);
    expect(shown.devices.filter((x: any) => x.name === 'tablet')).toHaveLength(2);
    expect(shown.devices.filter((x: any) => x.name === 'watch')).toHaveLength(2);
  });
});

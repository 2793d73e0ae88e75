// End to end, offline: init refuses to overwrite, persona export/import moves the key to a second device that starts
// from the newest list, verify explains rejections, --help everywhere, and exit codes.
import { describe, expect, it } from 'vitest';
import { closeSync, statSync, readFileSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import koffi from 'koffi';
import { CLI, cleanEnv, cli, cliJson } from './cli.js';
import { waitFor } from '../support/wait.js';

/** True once a process sleeps in a read of its stdin (Linux: /proc/PID/wchan names a pipe or poll wait), i.e. it got there before the data. */
function readProcStatus(pid: number): boolean {
  try {
    return /pipe|poll|wait|epoll/.test(readFileSync(`/proc/${pid}/wchan`, 'utf8')) && readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') S ');
  } catch {
    return false;
  }
}
import { useTempDir } from '../support/tmp.js';

describe('offline commands', () => {
  const root = useTempDir('tp-e2e-persona-');

  it('init creates 0600 secrets and refuses to overwrite (exit 3)', async () => {
    const dir = root('a');
    await cliJson(['init', '--dir', dir, '--name', 'phone']);
    for (const f of ['profile.tox', 'persona.key', 'admin.token']) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    const again = await cli(['init', '--dir', dir]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/ALREADY_INITIALIZED/);
    const missing = await cli(['status', '--dir', root('nothing')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/tox-persona init/);
  });

  it('persona export / import: the second device has the same PersonaID and appends itself to the newest list', async () => {
    const a = root('a');
    const b = root('b');
    const exp = await cliJson(['persona', 'export', '--dir', a], { env: { PASS: 'correct horse' } });
    expect(exp.export).toMatch(/^toxpersona-key-1\./);
    const enc = await cliJson(['persona', 'export', '--dir', a, '--passphrase-env', 'PASS'], { env: { PASS: 'correct horse' } });
    const blob = (await cliJson(['blob', '--dir', a])).statusMessage;
    const wrong = await cli(['persona', 'import', '--dir', b, '-', '--passphrase-env', 'PASS', '--list', blob], { env: { PASS: 'wrong' }, input: enc.export });
    expect(wrong.code).toBe(5);
    const r = await cli(['persona', 'import', '--dir', b, '-', '--passphrase-env', 'PASS', '--name', 'laptop', '--list', blob, '--json'], { env: { PASS: 'correct horse' }, input: enc.export });
    expect(r.code, r.stderr).toBe(0);
    const imported = JSON.parse(r.stdout);
    const showA = await cliJson(['persona', 'show', '--dir', a]);
    const showB = await cliJson(['persona', 'show', '--dir', b]);
    expect(showB.personaId).toBe(showA.personaId);
    expect(showB.devices.map((d: any) => d.name)).toEqual(['phone', 'laptop']);
    expect(showB.devices[1].publicKey).toBe(imported.publicKey);
    expect(showB.seq).toBeGreaterThan(showA.seq);
  });

  it('verify names the persona and devices, or the exact reason (exit 5)', async () => {
    const blob = (await cliJson(['blob', '--dir', root('a')])).statusMessage;
    const ok = await cliJson(['verify', blob]);
    expect(ok.ok).toBe(true);
    expect(ok.devices[0].name).toBe('phone');
    // Change the character that is replaced (checking the last one instead left it unchanged 1 time in 64).
    const i = blob.length - 3;
    const tampered = blob.slice(0, i) + (blob[i] === 'A' ? 'B' : 'A') + blob.slice(i + 1);
    expect(tampered).not.toBe(blob);
    const bad = await cli(['verify', tampered, '--json']);
    expect(bad.code).toBe(5);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, reason: expect.any(String) });
    const none = await cli(['verify', 'just a status']);
    expect(none.code).toBe(5);
    expect(none.stdout).toMatch(/rejected: NO_BLOB/);
  });

  it('verify - waits for a pipe that delivers late, even a non-blocking one (was EAGAIN, exit 1)', async () => {
    const blob = (await cliJson(['blob', '--dir', root('a')])).statusMessage as string;
    // A pipe whose read end is O_NONBLOCK, as a parent process may leave a shared stdin (the flag belongs to the open file).
    const libc = koffi.load(null as unknown as string);
    // pipe2 with O_CLOEXEC: otherwise the child inherits our write end too and never sees end-of-file.
    const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)') as (fds: Int32Array, flags: number) => number;
    const fcntl = libc.func('int fcntl(int fd, int cmd, ...)') as (fd: number, cmd: number, type: string, value: number) => number;
    const fds = new Int32Array(2);
    expect(pipe2(fds, 0o2000000)).toBe(0);
    const F_SETFL = 4;
    const O_NONBLOCK = 0o4000;
    expect(fcntl(fds[0]!, F_SETFL, 'int', O_NONBLOCK)).toBe(0);
    const child = spawn(process.execPath, [CLI, 'verify', '-', '--json'], { env: cleanEnv(), stdio: [fds[0]!, 'pipe', 'pipe'] });
    closeSync(fds[0]!);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((r) => child.on('exit', r));
    // The data comes once the command runs and has found stdin empty: late, as from a slow producer.
    await waitFor(() => out.length > 0 || err.length > 0 || readProcStatus(child.pid!), { what: 'verify to start reading stdin', timeoutMs: 30_000 });
    try {
      writeSync(fds[1]!, `${blob}\n`);
    } catch {
      // EPIPE: the command already gave up on stdin (the bug); its exit code below says so.
    }
    closeSync(fds[1]!);
    expect(await exit, err).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ ok: true });
  });

  it('device changes offline take the lock, re-sign and are refused with codes', async () => {
    const a = root('a');
    const key = '12'.repeat(32);
    const added = await cliJson(['device', 'add', '--dir', a, key, '--name', 'tablet']);
    expect(added.devices.map((d: any) => d.name)).toEqual(['phone', 'tablet']);
    const act = await cliJson(['device', 'activate', '--dir', a, 'tablet']);
    expect(act.devices[0].name).toBe('tablet');
    const dup = await cli(['device', 'add', '--dir', a, key]);
    expect(dup.code).toBe(5);
    expect(dup.stderr).toMatch(/DEVICE_EXISTS/);
    const badKey = await cli(['device', 'add', '--dir', a, 'xyz']);
    expect(badKey.code).toBe(2);
    // A key toxcore would refuse as a friend (last byte >= 0x80) is never signed into the list, with the real reason.
    const notCurve = await cli(['device', 'add', '--dir', a, 'AB'.repeat(32), '--json']);
    expect(notCurve.code).toBe(2);
    expect(JSON.parse(notCurve.stderr).error.code).toBe('INVALID_PUBLIC_KEY');
    const friendBad = await cli(['friend', 'add', '--dir', a, `${'AB'.repeat(32)}${'00'.repeat(6)}`, '--json']);
    expect(friendBad.code).toBe(2);
    expect(JSON.parse(friendBad.stderr).error.code).toBe('INVALID_PUBLIC_KEY');
    // The same request id again: the first outcome, not DEVICE_EXISTS, and nothing applied twice.
    const once = await cliJson(['device', 'add', '--dir', a, '13'.repeat(32), '--name', 'watch', '--request-id', 'watch-add-1']);
    const again = await cliJson(['device', 'add', '--dir', a, '13'.repeat(32), '--name', 'watch', '--request-id', 'watch-add-1']);
    expect(again).toEqual(once);
    expect((await cliJson(['device', 'remove', '--dir', a, 'watch'])).devices.map((d: any) => d.name)).not.toContain('watch');
    expect((await cliJson(['device', 'remove', '--dir', a, 'tablet'])).devices.map((d: any) => d.name)).toEqual(['phone']);
  });

  it('an encrypted profile: created with $TOX_PERSONA_PASSPHRASE, needed to open it, and enrolled devices stay encrypted', async () => {
    const dir = root('enc');
    const env = { TOX_PERSONA_PASSPHRASE: 'tr0ub4dor' };
    await cliJson(['init', '--dir', dir, '--name', 'phone'], { env });
    expect(readFileSync(join(dir, 'profile.tox')).subarray(0, 8).toString()).toBe('toxEsave');
    const locked = await cli(['status', '--dir', dir]);
    expect(locked.code).toBe(5);
    expect(locked.stderr).toMatch(/NO_PASSPHRASE|ENCRYPTED/);
    expect((await cliJson(['status', '--dir', dir], { env })).devices).toHaveLength(1);
    const out = root('enc-laptop.tox');
    const r = await cliJson(['device', 'enroll', '--dir', dir, out, '--name', 'laptop'], { env });
    expect(readFileSync(out).subarray(0, 8).toString()).toBe('toxEsave');
    expect((await cliJson(['device', 'list', '--dir', dir], { env })).devices.map((d: any) => d.publicKey)).toContain(r.publicKey);
  });

  it('every command has --help, and bad usage exits 2', async () => {
    for (const args of [['--help'], ['run', '--help'], ['device', 'enroll', '--help'], ['friend', 'add', '--help'], ['profile', '--help']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/Usage: tox-persona/);
    }
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['run', '--policy', 'sometimes'])).code).toBe(2);
  });
});

// End to end: the data directory's lifecycle around the CLI: encrypted persona.key at init/import, signals during start-up, concurrent inits.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '../support/wait.js';
import { CLI, cleanEnv, cli, cliJson, startDaemonProcess } from './cli.js';
import { useTempDir } from '../support/tmp.js';
import { isKernelLockHeld } from '../../src/util/lock.js';

/** `tox-persona run` as a child process that is not waited on to become ready; exposes its logs and its exit. */
function spawnRun(dir: string, args: string[] = []) {
  const child = spawn(process.execPath, [CLI, 'run', '--dir', dir, '--log-level', 'debug', '--network', 'local', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, logs: () => logs, exited };
}

/** Waits (bounded) for a child's exit; kills it and fails naming `what` when it does not come. */
async function exitOf(p: ReturnType<typeof spawnRun>, what: string, timeoutMs = 30_000) {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void p.exited.then((e) => (exit = e));
  try {
    return await waitFor(() => exit, { what, timeoutMs });
  } catch (err) {
    p.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nlogs:\n${p.logs()}`);
  }
}

/** Asserts that a persona.key file is the encrypted form: an `encrypted` object and no plain seed. */
function expectEncryptedKeyFile(path: string): void {
  const body = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  expect(body.encrypted).toBeTypeOf('object');
  expect(body.seed).toBeUndefined();
}

describe('data directory lifecycle', () => {
  const root = useTempDir('tp-e2e-life-');

  it('with TOX_PERSONA_KEY_PASSPHRASE set, init and persona import write persona.key encrypted; loading it needs the variable', async () => {
    const env = { TOX_PERSONA_KEY_PASSPHRASE: 'correct horse battery staple' };
    const dir = root('enc');
    const r = await cliJson<{ personaId: string }>(['init', '--dir', dir, '--name', 'phone'], { env });
    const keyFile = join(dir, 'persona.key');
    expectEncryptedKeyFile(keyFile);
    expect(readFileSync(keyFile, 'utf8')).not.toMatch(/"seed"/);

    const status = await cliJson<{ personaId: string }>(['status', '--dir', dir], { env });
    expect(status.personaId).toBe(r.personaId);
    const blob = await cli(['blob', '--dir', dir, '--blob-only'], { env });
    expect(blob.code).toBe(0);
    expect(blob.stdout.trim().length).toBeGreaterThan(0);

    const without = await cli(['status', '--dir', dir, '--json']);
    expect(without.code).toBe(5);
    expect(JSON.parse(without.stderr).error.code).toBe('PASSPHRASE_REQUIRED');
    const wrong = await cli(['blob', '--dir', dir], { env: { TOX_PERSONA_KEY_PASSPHRASE: 'wrong' } });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/WRONG_PASSPHRASE/);

    // persona import on a second device: the export is read from stdin, the new key file is encrypted too.
    const exported = await cliJson<{ export: string }>(['persona', 'export', '--dir', dir], { env });
    const dir2 = root('enc2');
    const imp = await cli(['persona', 'import', '-', '--dir', dir2, '--name', 'laptop', '--json'], { env, input: `${exported.export}\n` });
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout).personaId).toBe(r.personaId);
    expectEncryptedKeyFile(join(dir2, 'persona.key'));
    const shown = await cliJson<{ personaId: string }>(['persona', 'show', '--dir', dir2], { env });
    expect(shown.personaId).toBe(r.personaId);

    // Without the variable, init keeps writing the plain form (the documented default).
    const plain = root('plain');
    await cliJson(['init', '--dir', plain]);
    const body = JSON.parse(readFileSync(join(plain, 'persona.key'), 'utf8')) as Record<string, unknown>;
    expect(body.encrypted).toBeUndefined();
    expect(typeof body.seed).toBe('string');
  });

  it('SIGTERM during start-up: the daemon finishes starting, stops cleanly (exit 0), leaves no daemon.json, and the data dir still loads', async () => {
    const dir = root('term');
    await cliJson(['init', '--dir', dir, '--name', 'phone']);
    const p = spawnRun(dir);
    // The "starting" line comes after the handlers are installed and before start-up touches the data directory.
    await waitFor(() => /"msg":"starting"/.test(p.logs()) || undefined, { what: 'the daemon to log "starting"', timeoutMs: 20_000 });
    p.child.kill('SIGTERM');
    const exit = await exitOf(p, 'the daemon to exit after SIGTERM during start-up');
    expect(exit, p.logs()).toEqual({ code: 0, signal: null });
    expect(p.logs()).toMatch(/signal during start-up|shutting down: saving/);
    expect(p.logs()).toContain('daemon stopped, everything saved');
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
    expect(isKernelLockHeld(join(dir, 'lock')), 'nobody holds the lock after a clean stop').toBe(false);
    const status = await cliJson<{ running: boolean; personaId: string }>(['status', '--dir', dir]);
    expect(status.running).toBe(false);
  });

  it('SIGTERM the moment the process is spawned: killed before start-up or stopped cleanly, never a half-started data dir', async () => {
    const dir = root('term0');
    await cliJson(['init', '--dir', dir]);
    const p = spawnRun(dir);
    p.child.kill('SIGTERM');
    const exit = await exitOf(p, 'the daemon to exit after an immediate SIGTERM');
    // Before the CLI has loaded, Node's default action applies (nothing has been opened yet); after, the handler exits 0.
    expect([JSON.stringify({ code: 0, signal: null }), JSON.stringify({ code: null, signal: 'SIGTERM' })], p.logs()).toContain(JSON.stringify(exit));
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
    await cliJson(['status', '--dir', dir]);
  });

  it('every daemon start writes a new admin token; the previous one is refused', async () => {
    const dir = root('token');
    await cliJson(['init', '--dir', dir]);
    const first = await startDaemonProcess(dir, ['--network', 'local']);
    const oldToken = first.token;
    expect(await first.stop()).toBe(0);
    const second = await startDaemonProcess(dir, ['--network', 'local']);
    try {
      expect(second.token).not.toBe(oldToken);
      const call = (token: string) =>
        fetch(`${second.url}/api/deviceList`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      expect((await call(oldToken)).status, 'the previous start\'s token').toBe(401);
      expect((await call(second.token)).status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('read-only commands run offline leave every file of the data directory untouched', async () => {
    const dir = root('read-only');
    await cliJson(['init', '--dir', dir, '--name', 'phone']);
    const files = ['profile.tox', 'personas.json', 'devices.json', 'persona.key'].filter((f) => existsSync(join(dir, f)));
    const snapshot = () => files.map((f) => `${f} ${statSync(join(dir, f)).mtimeMs} ${readFileSync(join(dir, f)).toString('base64')}`);
    const before = snapshot();
    for (const args of [['status'], ['personas'], ['blob'], ['device', 'list'], ['persona', 'show'], ['friend', 'list'], ['requests']]) {
      await cliJson([...args, '--dir', dir]);
    }
    expect(snapshot()).toEqual(before);
  });

  it('a lost devices.json is rebuilt from the signed list in our own status message, not replaced by a new list', async () => {
    const dir = root('no-devices');
    await cliJson(['init', '--dir', dir, '--name', 'phone']);
    await cliJson(['device', 'add', '--dir', dir, '2B'.repeat(32), '--name', 'laptop']);
    const before = await cliJson(['device', 'list', '--dir', dir]);
    rmSync(join(dir, 'devices.json'));
    const after = await cliJson(['device', 'list', '--dir', dir]);
    expect(after.devices.map((x: any) => x.name)).toEqual(['phone', 'laptop']);
    expect(after.seq, 'the same list, not a new one').toBe(before.seq);
    expect(existsSync(join(dir, 'devices.json'))).toBe(true);
  });

  it('a daemon that loses its data-directory lock logs an error and shuts down with exit 1, removing daemon.json', async () => {
    const dir = root('lost');
    await cliJson(['init', '--dir', dir]);
    const d = await startDaemonProcess(dir, ['--network', 'local']);
    // The lock file removed under the daemon: another process could now lock a new file at the same path.
    rmSync(join(dir, 'lock'));
    let exit: { code: number | null } | undefined;
    void d.exited().then((c) => (exit = { code: c }));
    const code = await waitFor(() => exit, { what: 'the daemon to exit after its lock was taken over', timeoutMs: 30_000 }).catch(async (err: unknown) => {
      await d.stop('SIGKILL');
      throw new Error(`${(err as Error).message}\nlogs:\n${d.logs()}`);
    });
    expect(code.code, d.logs()).toBe(1);
    expect(d.logs()).toContain('data directory lock lost');
    // Another process may own the files now: the final save is skipped, not raced.
    expect(d.logs()).toContain('not saving: the data directory lock was lost');
    expect(d.logs()).toContain('daemon stopped without its final save');
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
  });

  it('two concurrent inits of one directory: exactly one succeeds, the other exits 3 (ALREADY_INITIALIZED), the directory is valid', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = root(`race${round}`);
      const results = await Promise.all([cli(['init', '--dir', dir, '--name', 'a', '--json']), cli(['init', '--dir', dir, '--name', 'b', '--json'])]);
      const ok = results.filter((r) => r.code === 0);
      const refused = results.filter((r) => r.code !== 0);
      expect(ok.length, results.map((r) => r.stderr).join('\n')).toBe(1);
      expect(refused[0]!.code, refused[0]!.stderr).toBe(3);
      expect(JSON.parse(refused[0]!.stderr).error.code).toBe('ALREADY_INITIALIZED');
      const winner = JSON.parse(ok[0]!.stdout) as { personaId: string; publicKey: string };
      const shown = await cliJson<{ personaId: string; devices: Array<{ publicKey: string }> }>(['persona', 'show', '--dir', dir]);
      expect(shown.personaId).toBe(winner.personaId);
      expect(shown.devices.map((d) => d.publicKey)).toEqual([winner.publicKey]);
      const status = await cliJson<{ toxId: string }>(['status', '--dir', dir]);
      expect(status.toxId.slice(0, 64)).toBe(winner.publicKey);
    }
  });

  it('persona import reads the export from @FILE, and hints "device add" only when no --list was given', async () => {
    const a = root('hint-a');
    await cliJson(['init', '--dir', a, '--name', 'phone']);
    const exported = await cliJson<{ export: string }>(['persona', 'export', '--dir', a]);
    const file = root('hint.export');
    writeFileSync(file, `${exported.export}\n`, { mode: 0o600 });
    const blob = (await cli(['blob', '--dir', a])).stdout.trim();

    const withList = await cli(['persona', 'import', `@${file}`, '--dir', root('hint-b'), '--name', 'laptop', '--list', blob]);
    expect(withList.code, withList.stderr).toBe(0);
    expect(withList.stdout).not.toContain('device add');
    expect(withList.stdout).toContain('tox-persona run');

    const withoutList = await cli(['persona', 'import', `@${file}`, '--dir', root('hint-c')]);
    expect(withoutList.code, withoutList.stderr).toBe(0);
    expect(withoutList.stdout).toContain('tox-persona device add');
    expect(withoutList.stderr).toContain('no --list given');
  });

  it('run after a SIGKILLed daemon takes the lock over at once (the kernel dropped it), while a second live run is refused LOCKED', async () => {
    const dir = root('killed');
    await cliJson(['init', '--dir', dir]);
    const first = await startDaemonProcess(dir, ['--network', 'local']);
    const second = await cli(['run', '--dir', dir, '--network', 'local', '--json']);
    expect(second.code, second.stderr).toBe(4);
    expect(second.stderr).toContain('LOCKED');
    await first.stop('SIGKILL');
    const d = await startDaemonProcess(dir, ['--network', 'local']);
    try {
      expect(d.logs()).not.toContain('waiting for the lock');
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });
});

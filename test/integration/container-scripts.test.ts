// The container entrypoints and health checks, run on the host against a real tox-bootstrapd, a real admin server and the real CLI.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapdHealthCheck } from '../../src/tox/bootstrapd.js';
import { startAdminServer, type AdminServer } from '../../src/companion/admin.js';
import { createLogger } from '../../src/companion/log.js';
import { waitFor } from '../support/wait.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCKER = join(ROOT, 'docker');
const CLI = join(ROOT, 'dist/src/cli/main.js');

const children: ChildProcess[] = [];
const dirs: string[] = [];
const servers: AdminServer[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tp-container-'));
  dirs.push(d);
  return d;
}

/** A UDP port on 127.0.0.1 that nothing listens on right now (the OS picked it). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (the OS picked it). */
async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts a script as a child process, collecting its output; killed in afterEach if still running. */
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string } {
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  return { child, out: () => text };
}

/** Runs a command to completion: exit code and output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

function exited(child: ChildProcess, what: string, timeoutMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what} to exit`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      res(code);
    });
  });
}

/** The bootstrap container's entrypoint on the host, on free loopback ports. */
async function startBootstrapEntrypoint(dir: string, port?: number) {
  const udp = port ?? (await freeUdpPort());
  const tcp = await freeTcpPort();
  const env = {
    BOOTSTRAP_PORT: String(udp),
    BOOTSTRAP_TCP_PORT: String(tcp),
    BOOTSTRAP_KEYS_DIR: join(dir, 'keys'),
    BOOTSTRAP_PUBLISH_DIR: join(dir, 'publish'),
    BOOTSTRAP_RUN_DIR: join(dir, 'run'),
    BOOTSTRAP_PUBLISH_HOST: '127.0.0.1',
  };
  const p = start('sh', [join(DOCKER, 'bootstrapd-entrypoint.sh')], env);
  const keyFile = join(dir, 'publish', 'bootstrap.key');
  await waitFor(() => existsSync(keyFile) && p.out().includes('Public Key:'), { what: 'the bootstrap entrypoint to publish its key', timeoutMs: 15_000 });
  return { ...p, port: udp, keyFile, key: readFileSync(keyFile, 'utf8').trim() };
}

describe('bootstrap container scripts', () => {
  it('publishes the key tox-bootstrapd prints, answers the health script, and keeps its identity across a restart', async () => {
    const dir = await tempDir();
    const bs = await startBootstrapEntrypoint(dir);
    const printed = /Public Key: ([0-9A-F]{64})/.exec(bs.out())![1];
    const keysFile = readFileSync(join(dir, 'keys', 'keys'));
    expect(bs.key).toBe(printed);
    expect(bs.key).toBe(keysFile.subarray(0, 32).toString('hex').toUpperCase());
    expect(readFileSync(join(dir, 'publish', 'bootstrap.node'), 'utf8').trim()).toBe(`127.0.0.1:${bs.port}:${bs.key}`);

    const health = await run('bash', [join(DOCKER, 'bootstrapd-health.sh')], { BOOTSTRAP_PORT: String(bs.port) });
    expect(health.code).toBe(0);
    expect(health.stdout).toContain('version 1000002018');
    expect((await bootstrapdHealthCheck('127.0.0.1', bs.port, 2000)).version).toBe(1000002018);

    bs.child.kill('SIGTERM');
    expect(await exited(bs.child, 'tox-bootstrapd after SIGTERM')).toBe(0);

    // Same keys volume, fresh container: the same node, so companions' saved key stays valid.
    await rm(join(dir, 'publish'), { recursive: true });
    const again = await startBootstrapEntrypoint(dir, bs.port);
    expect(again.key).toBe(bs.key);
  });

  it('health script fails with a clear message when no node answers', async () => {
    const port = await freeUdpPort();
    const r = await run('bash', [join(DOCKER, 'bootstrapd-health.sh')], { BOOTSTRAP_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no bootstrap-info reply on 127.0.0.1:${port}`);
  });
});

describe('companion health check (docker/healthcheck.mjs)', () => {
  async function adminWith(health: { healthy: boolean }): Promise<AdminServer> {
    const s = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      token: 't'.repeat(32),
      log: createLogger({ level: 'silent' }),
      handlers: {
        health: () => ({ healthy: health.healthy, body: { status: health.healthy ? 'ok' : 'unhealthy' } }),
        metrics: async () => ({ contentType: 'text/plain', text: '' }),
        personas: () => ({ personas: [] }),
        status: () => ({}),
        op: async () => null,
      },
    });
    servers.push(s);
    return s;
  }

  it('follows /healthz: exit 0 on 200, 1 on 503, found through the env port or daemon.json', async () => {
    const state = { healthy: true };
    const admin = await adminWith(state);
    const dir = await tempDir();
    const hc = join(DOCKER, 'healthcheck.mjs');

    const viaEnv = await run(process.execPath, [hc], { TOX_PERSONA_DIR: dir, TOX_PERSONA_ADMIN_PORT: String(admin.port) });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toMatch(/^200 /);

    await writeFile(join(dir, 'daemon.json'), JSON.stringify({ pid: 1, admin: { host: '127.0.0.1', port: admin.port } }));
    expect((await run(process.execPath, [hc], { TOX_PERSONA_DIR: dir })).code).toBe(0);

    state.healthy = false;
    const down = await run(process.execPath, [hc], { TOX_PERSONA_DIR: dir });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^503 /);
  });

  it('fails, naming the reason, when the daemon has not written daemon.json yet', async () => {
    const dir = await tempDir();
    const r = await run(process.execPath, [join(DOCKER, 'healthcheck.mjs')], { TOX_PERSONA_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no admin port');
  });
});

describe('companion container entrypoint', () => {
  /** A PATH holding `tox-persona` exactly as the image installs it: a wrapper around dist's CLI. */
  async function cliPath(): Promise<string> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it via scripts/setup.sh)`);
    const bin = join(await tempDir(), 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'tox-persona'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
    return `${bin}:${process.env.PATH}`;
  }

  it('gives up with exit 69 when the bootstrap key file never appears', async () => {
    const dir = await tempDir();
    const r = await run('sh', [join(DOCKER, 'companion-entrypoint.sh')], {
      TOX_PERSONA_DIR: join(dir, 'data'),
      TOX_PERSONA_BOOTSTRAP_KEY_FILE: `127.0.0.1:33445:@${join(dir, 'never', 'bootstrap.key')}`,
      TOX_PERSONA_BOOTSTRAP_WAIT: '1',
    });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(`bootstrap key file ${join(dir, 'never', 'bootstrap.key')} did not appear within 1s`);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('passes any other command to the CLI', async () => {
    const r = await run('sh', [join(DOCKER, 'companion-entrypoint.sh'), 'verify', 'plain status text', '--json'], { PATH: await cliPath() });
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false });
  });

  it('waits for the key file, then runs the daemon on an empty data directory, healthy, and saves on SIGTERM', async () => {
    const dir = await tempDir();
    const data = join(dir, 'data');
    const shared = join(dir, 'shared');
    const PATH = await cliPath();
    const port = await freeUdpPort();
    const companion = start('sh', [join(DOCKER, 'companion-entrypoint.sh')], {
      PATH,
      TOX_PERSONA_DIR: data,
      TOX_PERSONA_BOOTSTRAP_KEY_FILE: `127.0.0.1:${port}:@${join(shared, 'bootstrap.key')}`,
      TOX_PERSONA_LOG_LEVEL: 'info',
    });
    // The companion starts first, like a container whose bootstrap neighbour is still coming up.
    await waitFor(() => companion.out().includes('waiting up to 60s for bootstrap key file'), { what: 'the entrypoint to wait for the key file', timeoutMs: 10_000 });
    expect(existsSync(join(data, 'profile.tox'))).toBe(false);
    const bsDir = await tempDir();
    const bs = await startBootstrapEntrypoint(bsDir, port);
    await mkdir(shared, { recursive: true });
    await writeFile(join(shared, 'bootstrap.key'), `${bs.key}\n`);

    await waitFor(() => existsSync(join(data, 'daemon.json')), { what: 'the daemon to start and write daemon.json', timeoutMs: 30_000 });
    expect(companion.out()).toContain(`bootstrap node 127.0.0.1:${port} key ${bs.key}`);
    const hc = await run(process.execPath, [join(DOCKER, 'healthcheck.mjs')], { TOX_PERSONA_DIR: data });
    expect(hc.code).toBe(0);

    companion.child.kill('SIGTERM');
    expect(await exited(companion.child, 'the companion after SIGTERM')).toBe(0);
    expect(companion.out()).toContain('everything saved');
    expect(existsSync(join(data, 'profile.tox'))).toBe(true);
    expect(existsSync(join(data, 'persona.key'))).toBe(true);
  });
});

// End to end: the daemon's admin endpoint (health, metrics, table, token-protected operations), its probe listener (health and metrics only), and a bad configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';
import { useTempDir } from '../support/tmp.js';
import { expectedLibtoxcoreVersion } from '../support/libtoxcore-version.js';

/** A Tox public key toxcore accepts (last byte below 0x80, as device add requires). */
const VALID_KEY = `${'AB'.repeat(31)}0B`;

describe('admin endpoint of a running daemon (--network local)', () => {
  let root: string;
  let d: DaemonProcess;
  let probeUrl: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-admin-'));
    await cliJson(['init', '--dir', join(root, 'a'), '--name', 'phone']);
    // The probe listener on loopback here (its default is 0.0.0.0); port 0: a free one, recorded in daemon.json.
    d = await startDaemonProcess(join(root, 'a'), ['--network', 'local', '--probe-host', '127.0.0.1', '--probe-port', '0']);
    const rt = JSON.parse(readFileSync(join(d.dir, 'daemon.json'), 'utf8')) as { admin: { port: number }; probe: { host: string; port: number } | null };
    expect(rt.probe?.host).toBe('127.0.0.1');
    expect(rt.probe!.port).not.toBe(rt.admin.port);
    probeUrl = `http://127.0.0.1:${rt.probe!.port}`;
  });
  afterAll(async () => {
    await d?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('/healthz is healthy during the start-up grace period', async () => {
    const res = await fetch(`${d.url}/healthz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
  });

  it('/metrics speaks Prometheus and has the companion\'s series (with the token)', async () => {
    expect((await fetch(`${d.url}/metrics`)).status, 'admin /metrics without the token').toBe(401);
    const res = await fetch(`${d.url}/metrics`, { headers: { authorization: `Bearer ${d.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    for (const name of ['tox_persona_friends_online', 'tox_persona_personas', 'tox_persona_lists_verified_total', 'tox_persona_lists_rejected_total', 'tox_persona_publishes_total', 'tox_persona_iterate_lag_seconds', 'tox_persona_iterate_duration_seconds']) {
      expect(text, name).toContain(`# TYPE ${name}`);
    }
    expect(text).toMatch(/^tox_persona_publishes_total [1-9]/m);
    // The daemon's iterate loop has been turning since start-up: every turn is observed.
    expect(text, 'iterate turns observed').toMatch(/^tox_persona_iterate_lag_seconds_count [1-9]/m);
  });

  it('the libtoxcore version the daemon runs on shows in status (JSON and text), /healthz and tox_persona_libtoxcore_info', async () => {
    const version = expectedLibtoxcoreVersion();
    expect(((await cliJson(['status', '--dir', d.dir])) as { libtoxcore: string }).libtoxcore).toBe(version);
    const text = await cli(['status', '--dir', d.dir]);
    expect(text.stdout).toContain(`libtoxcore: ${version}`);
    expect(((await (await fetch(`${d.url}/healthz`)).json()) as { libtoxcore: string }).libtoxcore).toBe(version);
    for (const url of [d.url, probeUrl]) {
      expect(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${d.token}` } })).text()).toMatch(new RegExp(`^tox_persona_libtoxcore_info\\{version="${version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
    }
    // Without a daemon, status opens the node itself and reports the library it loaded.
    await cliJson(['init', '--dir', join(root, 'offline'), '--name', 'tablet']);
    const offline = (await cliJson(['status', '--dir', join(root, 'offline')])) as { running: boolean; libtoxcore: string };
    expect(offline).toMatchObject({ running: false, libtoxcore: version });
  });

  it('/personas returns the table as JSON, only with the token', async () => {
    expect((await fetch(`${d.url}/personas`)).status).toBe(401);
    expect((await fetch(`${d.url}/status`)).status).toBe(401);
    const res = await fetch(`${d.url}/personas`, { headers: { authorization: `Bearer ${d.token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ personas: [] });
  });

  it('refuses /personas, /status and /api/* addressed to a name other than loopback (DNS rebinding), 421', async () => {
    const port = Number(new URL(d.url).port);
    // fetch() cannot set Host; node:http sends what a rebinding browser would.
    const get = (path: string, host: string, method = 'GET') =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host, authorization: `Bearer ${d.token}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(method === 'POST' ? '{}' : undefined);
      });
    expect(await get('/personas', `evil.example:${port}`)).toBe(421);
    expect(await get('/status', 'evil.example')).toBe(421);
    expect(await get('/api/status', 'evil.example', 'POST')).toBe(421);
    expect(await get('/personas', `localhost:${port}`)).toBe(200);
    expect(await get('/healthz', 'evil.example')).toBe(200);
  });

  it('state-changing calls need the token', async () => {
    const call = (headers: Record<string, string>) => fetch(`${d.url}/api/deviceAdd`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ publicKey: VALID_KEY, name: 'x' }) });
    const none = await call({});
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe('UNAUTHORIZED');
    expect((await call({ authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    const ok = await call({ authorization: `Bearer ${d.token}` });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).result.devices.map((x: any) => x.name)).toEqual(['phone', 'x']);
    // Refusals carry the companion's code.
    const again = await call({ authorization: `Bearer ${d.token}` });
    expect(again.status).toBe(409);
    expect(((await again.json()) as any).error.code).toBe('DEVICE_EXISTS');
    const unknown = await fetch(`${d.url}/api/nope`, { method: 'POST', headers: { authorization: `Bearer ${d.token}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('UNKNOWN_OPERATION');
  });

  it('the probe listener answers /healthz and /metrics, and 404s /personas, /status and /api/* even with the token', async () => {
    const h = await fetch(`${probeUrl}/healthz`);
    expect(h.status).toBe(200);
    expect(((await h.json()) as { status: string }).status).toBe('ok');
    const m = await fetch(`${probeUrl}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toMatch(/^tox_persona_publishes_total [1-9]/m);
    for (const path of ['/personas', '/status']) {
      const res = await fetch(`${probeUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as any).error.code, path).toBe('NOT_FOUND');
    }
    const devicesBefore = (await cliJson(['device', 'list', '--dir', d.dir])) as unknown;
    const op = await fetch(`${probeUrl}/api/deviceAdd`, { method: 'POST', headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ publicKey: 'CD'.repeat(32), name: 'via-probe' }) });
    expect(op.status).toBe(404);
    expect(((await op.json()) as any).error.code).toBe('NOT_FOUND');
    expect(await cliJson(['device', 'list', '--dir', d.dir])).toEqual(devicesBefore);
  });

  it('the CLI goes through the daemon while it owns the data directory', async () => {
    const r = await cliJson(['device', 'remove', '--dir', d.dir, 'x']);
    expect(r.devices.map((x: any) => x.name)).toEqual(['phone']);
    expect(d.logs()).toContain('"why":"device removed"');
    const st = await cliJson(['status', '--dir', d.dir]);
    expect(st.running).toBe(true);
  });
});

describe('health after the grace period, and bad configuration', () => {
  const root = useTempDir('tp-e2e-cfg-');

  it('/healthz says 503 when not connected and the grace period is over', async () => {
    const dir = root('lonely');
    await cliJson(['init', '--dir', dir]);
    // The grace period from the flag (file and environment: test/unit/companion-config.test.ts).
    // A bootstrap node nobody answers at: the node stays offline.
    const d = await startDaemonProcess(dir, ['--bootstrap', `127.0.0.1:9:${'00'.repeat(32)}`, '--health-grace', '0']);
    try {
      const res = await fetch(`${d.url}/healthz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).connection).toBe('none');
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('a bad configuration gives one clear error listing every problem, exit 2, and starts nothing', async () => {
    const dir = root('bad');
    await cliJson(['init', '--dir', dir]);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ policy: 'sometimes', acceptRequests: 'everyone', admin: { port: 70000 }, colour: 'blue' }));
    const r = await cli(['run', '--dir', dir, '--ttl', 'soon', '--bootstrap', 'nohost'], { env: { TOX_PERSONA_SAVE_INTERVAL: '-5' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration \(7 problems\)/);
    for (const where of ['policy', 'acceptRequests', 'admin.port', 'colour', 'ttlSeconds', 'saveIntervalSeconds', 'bootstrap[0]']) {
      expect(r.stderr, where).toContain(`- ${where}`);
    }
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^tox-persona: invalid configuration/);
    expect(existsSync(join(dir, 'daemon.json'))).toBe(false);
  });
});

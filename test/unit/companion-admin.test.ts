// Admin endpoint: bearer-token checks, error-code → HTTP status, the server's routing with stub handlers, and the probe listener's allow-list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusForCode as httpStatusFor } from '../../src/util/error-codes.js';
import { checkBearer, startAdminServer, startProbeServer, callAdmin, getAdmin, type AdminHandlers, type AdminServer } from '../../src/companion/admin.js';
import { createLogger } from '../../src/companion/log.js';
import { ToxPersonaError } from '../../src/util/errors.js';
import { request as httpRequest } from 'node:http';

describe('admin auth', () => {
  it('accepts exactly "Bearer <token>"', () => {
    expect(checkBearer('Bearer abc123', 'abc123')).toBe(true);
    expect(checkBearer('bearer abc123', 'abc123')).toBe(true);
    expect(checkBearer('Bearer abc1234', 'abc123')).toBe(false);
    expect(checkBearer('Bearer abc12', 'abc123')).toBe(false);
    expect(checkBearer('abc123', 'abc123')).toBe(false);
    expect(checkBearer(undefined, 'abc123')).toBe(false);
    expect(checkBearer('Basic abc123', 'abc123')).toBe(false);
  });

  it('maps error codes to HTTP statuses', () => {
    expect(httpStatusFor('UNKNOWN_DEVICE')).toBe(404);
    expect(httpStatusFor('DEVICE_EXISTS')).toBe(409);
    expect(httpStatusFor('UNAUTHORIZED')).toBe(401);
    expect(httpStatusFor('BAD_ARGUMENT')).toBe(400);
  });
});

describe('admin server', () => {
  let server: AdminServer;
  const calls: Array<[string, Record<string, unknown>]> = [];
  let healthy = true;
  beforeAll(async () => {
    server = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      token: 'secret-token-123456',
      log: createLogger({ level: 'silent' }),
      handlers: {
        health: () => ({ healthy, body: { status: healthy ? 'ok' : 'unhealthy' } }),
        metrics: async () => ({ contentType: 'text/plain; version=0.0.4', text: 'x 1\n' }),
        personas: () => ({ personas: [] }),
        status: () => ({ ok: 1 }),
        op: async (name, args) => {
          calls.push([name, args]);
          if (name === 'boom') throw new ToxPersonaError('UNKNOWN_DEVICE', 'no such device');
          if (name === 'crash') throw new Error('bug');
          return { echoed: args };
        },
      },
    });
  });
  afterAll(async () => {
    await server.close();
  });
  const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

  it('serves health as 200 or 503', async () => {
    healthy = true;
    expect((await fetch(url('/healthz'))).status).toBe(200);
    healthy = false;
    expect((await fetch(url('/healthz'))).status).toBe(503);
    healthy = true;
  });

  it('serves /personas, /status and /metrics only with the token (any local user could read the social graph otherwise)', async () => {
    for (const path of ['/personas', '/status', '/metrics']) {
      expect((await fetch(url(path))).status, `GET ${path} without a token`).toBe(401);
      expect((await fetch(url(path), { headers: { authorization: 'Bearer wrong-token-wrong' } })).status, `GET ${path} with a wrong token`).toBe(401);
      expect((await fetch(url(path), { headers: { authorization: 'Bearer secret-token-123456' } })).status, `GET ${path} with the token`).toBe(200);
    }
    await expect(getAdmin({ host: '127.0.0.1', port: server.port }, 'secret-token-123456', '/status')).resolves.toEqual({ ok: 1 });
  });

  it('refuses operations without the token and never runs them', async () => {
    const before = calls.length;
    const res = await fetch(url('/api/x'), { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(calls.length).toBe(before);
  });

  it('runs operations with the token, and maps typed errors', async () => {
    await expect(callAdmin({ host: '127.0.0.1', port: server.port }, 'secret-token-123456', 'echo', { a: 1 })).resolves.toEqual({ echoed: { a: 1 } });
    await expect(callAdmin({ host: '127.0.0.1', port: server.port }, 'secret-token-123456', 'boom')).rejects.toMatchObject({ code: 'UNKNOWN_DEVICE', status: 404 });
    await expect(callAdmin({ host: '127.0.0.1', port: server.port }, 'secret-token-123456', 'crash')).rejects.toMatchObject({ code: 'INTERNAL', status: 500 });
    await expect(callAdmin({ host: '127.0.0.1', port: server.port }, 'wrong-token-wrong', 'echo')).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('rejects a body that is not a JSON object, and unknown routes', async () => {
    const res = await fetch(url('/api/echo'), { method: 'POST', headers: { authorization: 'Bearer secret-token-123456' }, body: '[1]' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('BAD_REQUEST');
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url('/healthz'), { method: 'DELETE' })).status).toBe(404);
  });

  it('a dead daemon gives DAEMON_UNREACHABLE', async () => {
    await expect(callAdmin({ host: '127.0.0.1', port: 1 }, 't', 'x', {}, 2000)).rejects.toMatchObject({ code: 'DAEMON_UNREACHABLE' });
  });
});

describe('probe listener (health and metrics only, no token)', () => {
  let probe: AdminServer;
  let healthy = true;
  const served: string[] = [];
  // The same handler shape the daemon gives its admin endpoint; the probe must only ever reach the first two.
  const handlers: AdminHandlers = {
    health: () => {
      served.push('health');
      return { healthy, body: { status: healthy ? 'ok' : 'unhealthy' } };
    },
    metrics: async () => {
      served.push('metrics');
      return { contentType: 'text/plain; version=0.0.4', text: 'tox_persona_friends_online 3\n' };
    },
    personas: () => {
      served.push('personas');
      return { personas: [{ secret: 'table' }] };
    },
    status: () => {
      served.push('status');
      return { secret: 'status' };
    },
    op: async (name) => {
      served.push(`op:${name}`);
      return { ran: name };
    },
  };
  beforeAll(async () => {
    probe = await startProbeServer({ host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent' }), handlers });
  });
  afterAll(async () => {
    await probe.close();
  });
  const url = (p: string) => `http://127.0.0.1:${probe.port}${p}`;

  it('answers /healthz (200 or 503) and /metrics', async () => {
    healthy = true;
    const ok = await fetch(url('/healthz'));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });
    healthy = false;
    expect((await fetch(url('/healthz'))).status).toBe(503);
    healthy = true;
    const m = await fetch(url('/metrics'));
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await m.text()).toBe('tox_persona_friends_online 3\n');
  });

  it('404s /personas, /status and every /api call, with or without a token, and never runs their handlers', async () => {
    const before = served.filter((s) => s !== 'health' && s !== 'metrics').length;
    for (const path of ['/personas', '/status', '/personas/', '/api/deviceAdd', '/']) {
      const res = await fetch(url(path));
      expect(res.status, `GET ${path}`).toBe(404);
      expect(((await res.json()) as any).error.code, `GET ${path}`).toBe('NOT_FOUND');
    }
    for (const headers of [{}, { authorization: 'Bearer anything-at-all' }, { authorization: 'Bearer ' }] as Array<Record<string, string>>) {
      const res = await fetch(url('/api/deviceAdd'), { method: 'POST', headers, body: '{}' });
      expect(res.status, JSON.stringify(headers)).toBe(404);
      expect(((await res.json()) as any).error.code).toBe('NOT_FOUND');
    }
    await expect(callAdmin({ host: '127.0.0.1', port: probe.port }, 'anything-at-all', 'status')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(served.filter((s) => s !== 'health' && s !== 'metrics').length).toBe(before);
  });

  it('the admin server refuses to serve its API, /personas or /status without a token', async () => {
    await expect(startAdminServer({ host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent' }), handlers })).rejects.toThrow(TypeError);
    await expect(startAdminServer({ host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent' }), handlers, routes: ['healthz', 'personas'] })).rejects.toThrow(TypeError);
    // A custom allow-list of health alone needs none.
    const s = await startAdminServer({ host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent' }), handlers, routes: ['healthz'] });
    try {
      expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${s.port}/metrics`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

describe('admin server Host check (DNS rebinding)', () => {
  let server: AdminServer;
  let probe: AdminServer;
  const ran: string[] = [];
  const handlers: AdminHandlers = {
    health: () => ({ healthy: true, body: { status: 'ok' } }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4', text: 'x 1\n' }),
    personas: () => ({ personas: [] }),
    status: () => ({ ok: 1 }),
    op: async (name) => {
      ran.push(name);
      return { ran: name };
    },
  };
  beforeAll(async () => {
    server = await startAdminServer({ host: '127.0.0.1', port: 0, token: 'secret-token-123456', log: createLogger({ level: 'silent' }), handlers });
    probe = await startProbeServer({ host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent' }), handlers });
  });
  afterAll(async () => {
    await server.close();
    await probe.close();
  });
  // fetch() does not let a caller set Host, so these go through node:http, as a rebinding browser's would arrive.
  function raw(port: number, path: string, host: string, method = 'GET'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host, authorization: 'Bearer secret-token-123456', 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(method === 'POST' ? '{}' : undefined);
    });
  }

  it('refuses /personas, /status and /api/* addressed to another name, and never runs the operation', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, '127.0.0.1.evil.example', 'localhost.evil.example:80']) {
      for (const path of ['/personas', '/status']) {
        const r = await raw(server.port, path, host);
        expect(r.status, `GET ${path} Host: ${host}`).toBe(421);
        expect(JSON.parse(r.body).error.code).toBe('MISDIRECTED_REQUEST');
      }
      const r = await raw(server.port, '/api/status', host, 'POST');
      expect(r.status, `POST /api/status Host: ${host}`).toBe(421);
    }
    expect(ran).toEqual([]);
  });

  it('answers requests addressed to 127.0.0.1, localhost or [::1] on any port', async () => {
    for (const host of [`127.0.0.1:${server.port}`, '127.0.0.1', `localhost:${server.port}`, 'LOCALHOST', `[::1]:${server.port}`]) {
      expect((await raw(server.port, '/personas', host)).status, host).toBe(200);
      expect((await raw(server.port, '/status', host)).status, host).toBe(200);
    }
    const r = await raw(server.port, '/api/status', `localhost:${server.port}`, 'POST');
    expect(r.status).toBe(200);
    expect(ran).toEqual(['status']);
  });

  it('leaves health and metrics, and the probe listener, answering under any name', async () => {
    expect((await raw(server.port, '/healthz', 'evil.example')).status).toBe(200);
    expect((await raw(probe.port, '/healthz', 'evil.example')).status).toBe(200);
    expect((await raw(probe.port, '/metrics', 'evil.example')).status).toBe(200);
    expect((await raw(probe.port, '/personas', 'evil.example')).status).toBe(404);
  });
});

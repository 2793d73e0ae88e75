// The admin HTTP endpoint on loopback (health, Prometheus metrics, the table, status, token-protected operations for the CLI), and the probe listener: the same server limited to health and metrics.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ToxPersonaError } from '../util/errors.js';
import { httpStatusForCode } from '../util/error-codes.js';
import type { Logger } from './log.js';

/** What the admin server serves; the companion implements it. */
export interface AdminHandlers {
  /** `healthy` decides 200 vs 503; `body` is returned as JSON either way. */
  health(): { healthy: boolean; body: unknown };
  metrics(): Promise<{ contentType: string; text: string }>;
  personas(): unknown;
  status(): unknown;
  /** Runs a named state-changing (or secret-revealing) operation; throws ToxPersonaError for refusals. */
  op(name: string, args: Record<string, unknown>): Promise<unknown>;
}

/** Constant-time check of an `Authorization: Bearer <token>` header. */
export function checkBearer(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const MAX_BODY = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ToxPersonaError('TOO_LARGE', `request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = contentType === 'application/json' ? `${JSON.stringify(body, null, 2)}\n` : String(body);
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

/** One group of endpoints the server can serve; `api` is every token-protected `POST /api/<op>`. */
export type AdminRoute = 'healthz' | 'metrics' | 'personas' | 'status' | 'api';

/** Every endpoint: the admin endpoint. */
export const ADMIN_ROUTES: readonly AdminRoute[] = Object.freeze(['healthz', 'metrics', 'personas', 'status', 'api']);

/** Routes that can never be served without a token. */
const TOKEN_ROUTES: readonly AdminRoute[] = Object.freeze(['personas', 'status', 'api']);

/** Health and metrics only: the probe listener, safe to bind on a routable address (nothing secret, nothing that changes state). */
export const PROBE_ROUTES: readonly AdminRoute[] = Object.freeze(['healthz', 'metrics']);

const GET_ROUTES: ReadonlyMap<string, AdminRoute> = new Map([
  ['/healthz', 'healthz'],
  ['/metrics', 'metrics'],
  ['/personas', 'personas'],
  ['/status', 'status'],
]);

/** True for an address on the loopback interface (127.0.0.0/8, ::1, or the name localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * True when a request's Host header names the loopback interface (127.0.0.1, localhost or [::1], any port).
 * A page on another site can make a browser send requests to 127.0.0.1 under its own name (DNS rebinding);
 * the browser still sends that name in Host, so refusing any other name keeps such pages away from the table.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (!header) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** Options for {@link startAdminServer}. */
export interface AdminServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token of every route but `/healthz` (and of `/metrics` when given); required when `routes` includes personas, status or api. */
  token?: string;
  handlers: AdminHandlers;
  log: Logger;
  /** Endpoints served; everything else answers 404 as if it did not exist. Default {@link ADMIN_ROUTES}. */
  routes?: readonly AdminRoute[];
}

/** A listening admin server. */
export interface AdminServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting connections and closes idle ones; idempotent. */
  close(): Promise<void>;
}

/** Starts the admin server (or, with `routes`, a limited one such as the probe listener); resolves once it listens. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { handlers, log } = options;
  const allowed = new Set<AdminRoute>(options.routes ?? ADMIN_ROUTES);
  const token = options.token ?? '';
  // An empty token would never match (checkBearer needs a non-empty one), but an endpoint nobody can call is a wiring bug.
  for (const r of TOKEN_ROUTES) if (allowed.has(r) && token.length === 0) throw new TypeError(`startAdminServer: a token is required when ${r} is served`);
  const notFound = (res: ServerResponse, method: string | undefined, path: string) =>
    send(res, 404, { error: { code: 'NOT_FOUND', message: `no such endpoint: ${method ?? 'GET'} ${path}` } });
  // Only on loopback: a listener bound elsewhere was put there on purpose and is reached under other names.
  const checkHost = isLoopbackHost(options.host);
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      log.error({ err: (err as Error).message }, 'admin request failed');
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
    });
  });
  const unauthorized = (res: ServerResponse, path: string) => {
    log.warn({ path }, 'admin request without a valid token refused');
    send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'a valid "Authorization: Bearer <token>" header is required (token file: admin.token in the data directory)' } });
  };
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    // Health and metrics stay reachable under any name (container probes); routes this listener does not serve
    // keep answering 404, so the probe listener behaves exactly as before.
    const guarded = (path === '/personas' && allowed.has('personas')) || (path === '/status' && allowed.has('status')) || (path.startsWith('/api/') && allowed.has('api'));
    if (checkHost && guarded && !isLoopbackHostHeader(req.headers.host)) {
      log.warn({ path }, 'admin request with a non-loopback Host header refused');
      return send(res, 421, { error: { code: 'MISDIRECTED_REQUEST', message: 'the admin endpoint only answers requests addressed to 127.0.0.1, localhost or [::1]' } });
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      // Routes outside the allow-list look exactly like routes that do not exist.
      const route = GET_ROUTES.get(path);
      if (!route || !allowed.has(route)) return notFound(res, req.method, path);
      // The table and status are the user's social graph: any local user could read them without a token. Metrics
      // need it too where a token exists; the probe listener (no token) is where they are configured public.
      if (route !== 'healthz' && token.length > 0 && !checkBearer(req.headers.authorization, token)) return unauthorized(res, path);
      switch (path) {
        case '/healthz': {
          const h = handlers.health();
          return send(res, h.healthy ? 200 : 503, h.body);
        }
        case '/metrics': {
          const m = await handlers.metrics();
          return send(res, 200, m.text, m.contentType);
        }
        case '/personas':
          return send(res, 200, handlers.personas());
        case '/status':
          return send(res, 200, handlers.status());
        default:
          return notFound(res, 'GET', path);
      }
    }
    const op = /^\/api\/([a-zA-Z][\w-]*)$/.exec(path);
    // Checked before the token: a listener without the API does not even say that a token would help.
    if (req.method !== 'POST' || !op || !allowed.has('api')) return notFound(res, req.method, path);
    if (!checkBearer(req.headers.authorization, token)) return unauthorized(res, path);
    let args: Record<string, unknown> = {};
    try {
      const text = await readBody(req);
      if (text.trim()) {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
        args = parsed as Record<string, unknown>;
      }
    } catch (err) {
      return send(res, 400, { error: { code: 'BAD_REQUEST', message: `request body: ${(err as Error).message}` } });
    }
    try {
      const result = await handlers.op(op[1]!, args);
      return send(res, 200, { ok: true, result: result ?? null });
    } catch (err) {
      if (err instanceof ToxPersonaError) {
        return send(res, httpStatusForCode(err.code), { error: { code: err.code, message: err.message } });
      }
      log.error({ op: op[1], err: (err as Error).message }, 'admin operation failed');
      return send(res, 500, { error: { code: 'INTERNAL', message: (err as Error).message } });
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    host: options.host,
    port: addr.port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** Options for {@link startProbeServer}: no token, no operations. */
export type ProbeServerOptions = Omit<AdminServerOptions, 'token' | 'routes'>;

/** Starts the probe listener: the admin server code limited to {@link PROBE_ROUTES}, without a token. */
export function startProbeServer(options: ProbeServerOptions): Promise<AdminServer> {
  return startAdminServer({ ...options, routes: PROBE_ROUTES });
}

/** An admin call answered with an error. */
export class AdminCallError extends ToxPersonaError {
  /** HTTP status of the answer (0 when the daemon could not be reached). */
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(code, message);
    this.status = status;
  }
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The error for a request that got no answer: `DAEMON_UNREACHABLE` when the connection was refused (nothing was sent, so
 * nothing was applied), `DAEMON_NO_ANSWER` when the request may have reached the daemon (it died or hung meanwhile).
 */
function noAnswer(err: unknown, where: string): AdminCallError {
  const cause = (err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
  const codes = [cause?.code, ...(cause?.errors ?? []).map((e) => e.code)];
  // Errors that happen before a connection exists: the request never left this process.
  const refused = codes.some((c) => c !== undefined && NOT_CONNECTED.has(c)) || cause?.message === 'bad port';
  return new AdminCallError(refused ? 'DAEMON_UNREACHABLE' : 'DAEMON_NO_ANSWER', `${refused ? 'cannot reach' : 'no answer from'} the daemon's admin endpoint at ${where}: ${(err as Error).message}${cause?.code ? ` (${cause.code})` : ''}`, 0);
}

/** Client side, used by the CLI: POSTs `/api/<op>` with the token and returns `result`, or throws {@link AdminCallError} with the daemon's code. */
export async function callAdmin(base: { host: string; port: number }, token: string, op: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<unknown> {
  const host = base.host.includes(':') ? `[${base.host}]` : base.host;
  let res: Response;
  try {
    res = await fetch(`http://${host}:${base.port}/api/${op}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw noAnswer(err, `${host}:${base.port}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw noAnswer(err, `${host}:${base.port}`);
  }
  const body = ((): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return {};
    }
  })() as { ok?: boolean; result?: unknown; error?: { code: string; message: string } };
  if (!res.ok || !body.ok) throw new AdminCallError(body.error?.code ?? 'ADMIN_ERROR', body.error?.message ?? `HTTP ${res.status}`, res.status);
  return body.result;
}

/** Client side: GETs a read-only endpoint with the token and returns its JSON. */
export async function getAdmin(base: { host: string; port: number }, token: string, path: string, timeoutMs = 10_000): Promise<unknown> {
  const host = base.host.includes(':') ? `[${base.host}]` : base.host;
  try {
    const res = await fetch(`http://${host}:${base.port}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    return await res.json();
  } catch (err) {
    throw new AdminCallError('DAEMON_UNREACHABLE', `cannot reach the daemon's admin endpoint at ${host}:${base.port}: ${(err as Error).message}`, 0);
  }
}

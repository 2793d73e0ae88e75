// Container health check: GET /healthz on the companion's admin endpoint (or its probe listener); exit 0 when it answers 200.
// Port: $TOX_PERSONA_ADMIN_PORT, else the running daemon's daemon.json in the data directory; with the admin
// endpoint off (TOX_PERSONA_ADMIN=false), the probe listener: $TOX_PERSONA_PROBE_PORT, else daemon.json's probe.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.TOX_PERSONA_DIR || '/data';
const adminOff = /^(false|0|no)$/.test(process.env.TOX_PERSONA_ADMIN || '');
let rt;
try {
  // daemon.json: { pid, admin: { host, port } | null, probe: { host, port } | null, ... }
  rt = JSON.parse(readFileSync(join(dir, 'daemon.json'), 'utf8'));
} catch {
  // No runtime file yet: the daemon is not up.
}
// Either listener, from the environment first, then from what the daemon recorded.
function endpoint(kind) {
  const envHost = process.env[`TOX_PERSONA_${kind.toUpperCase()}_HOST`];
  const envPort = Number(process.env[`TOX_PERSONA_${kind.toUpperCase()}_PORT`] || 0);
  let host = envHost || '127.0.0.1';
  let port = envPort;
  if (!port && rt?.[kind]) {
    port = Number(rt[kind].port ?? 0);
    if (rt[kind].host) host = rt[kind].host;
  }
  // A wildcard bind address is reachable on loopback.
  if (host === '0.0.0.0' || host === '::' || host === '[::]') host = '127.0.0.1';
  return port ? { host, port } : undefined;
}
const target = (adminOff ? undefined : endpoint('admin')) ?? endpoint('probe');
if (!target) {
  console.error('healthcheck: no admin port (set TOX_PERSONA_ADMIN_PORT, or the daemon has not written daemon.json yet)');
  process.exit(1);
}
const { host, port } = target;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  const body = await res.text();
  console.log(`${res.status} ${body.replace(/\s+/g, ' ').slice(0, 300)}`);
  process.exit(res.status === 200 ? 0 : 1);
} catch (err) {
  console.error(`healthcheck: ${url}: ${err.message}`);
  process.exit(1);
}

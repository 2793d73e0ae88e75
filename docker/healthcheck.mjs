// Container health check: GET /healthz on the companion's admin endpoint; exit 0 when it answers 200.
// Port: $TOX_PERSONA_ADMIN_PORT, else the running daemon's daemon.json in the data directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.TOX_PERSONA_DIR || '/data';
let host = process.env.TOX_PERSONA_ADMIN_HOST || '127.0.0.1';
// A wildcard bind address is reachable on loopback.
if (host === '0.0.0.0' || host === '::' || host === '[::]') host = '127.0.0.1';
let port = Number(process.env.TOX_PERSONA_ADMIN_PORT || 0);
if (!port) {
  try {
    const rt = JSON.parse(readFileSync(join(dir, 'daemon.json'), 'utf8'));
    // daemon.json: { pid, admin: { host, port } | null, ... }
    port = Number(rt.admin?.port ?? 0);
    const h = rt.admin?.host;
    if (h && h !== '0.0.0.0' && h !== '::') host = h;
  } catch {
    // No runtime file yet: the daemon is not up.
  }
}
if (!port) {
  console.error('healthcheck: no admin port (set TOX_PERSONA_ADMIN_PORT, or the daemon has not written daemon.json yet)');
  process.exit(1);
}
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

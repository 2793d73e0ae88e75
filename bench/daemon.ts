// What the restart bench (bench/restart.ts) and the kill -9 soak (scripts/soak.ts) share: running the built CLI,
// spawning `tox-persona run` and reading its start-up log, polling with a named bounded wait, and the medians.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The built CLI's entry point (run `npm run build` first). */
export const CLI = resolve(import.meta.dirname, '../dist/src/cli/main.js');

/** This process's environment without any TOX_PERSONA_ setting, so that a child sees only what it is given. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TOX_PERSONA_')) e[k] = v;
  return e;
}

/** What one CLI run printed and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI with `args` (and `extra` environment) to its exit. */
export function cli(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((r) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { ...cleanEnv(), ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => r({ code: code ?? -1, out, err }));
  });
}

/** Polls `fn` every `everyMs` until it returns a value other than undefined or false; throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 120_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The median of `xs` (the upper one of an even count); NaN when empty. */
export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** The 95th percentile of `xs`; NaN when empty. */
export function p95(xs: number[]): number {
  return quantile(xs, 0.95);
}

/** The value at fraction `f` of `xs` sorted (nearest rank); NaN when empty. */
export function quantile(xs: number[], f: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
}

/** What a daemon logged about its start: each phase's end and its first DHT connection, in ms since its process started. */
export interface StartLog {
  phases?: Record<string, number>;
  connectedMs?: number;
}

/** A running `tox-persona run` and what it has logged about its start so far. */
export interface Daemon {
  child: ChildProcess;
  start: StartLog;
}

/** Spawns `tox-persona run --dir DIR ...args`, parsing its JSON log on stderr into `start`; `onLine` sees every line. */
export function spawnDaemon(dir: string, args: string[], onLine?: (line: string) => void): Daemon {
  const child = spawn(process.execPath, [CLI, 'run', '--dir', dir, ...args], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const start: StartLog = {};
  let pending = '';
  child.stderr!.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      onLine?.(line);
      try {
        const j = JSON.parse(line) as { msg?: string; phasesMs?: Record<string, number>; sinceProcessStartMs?: number };
        if (j.phasesMs) start.phases = j.phasesMs;
        if (j.msg === 'first DHT connection since start') start.connectedMs = j.sinceProcessStartMs;
      } catch {
        // not a log line
      }
    }
  });
  return { child, start };
}

/** The admin endpoint of the daemon that daemon.json in `dir` names: its URL, pid and bearer header. */
export function adminOf(dir: string): { url: string; pid: number; headers: Record<string, string> } {
  const rt = JSON.parse(readFileSync(join(dir, 'daemon.json'), 'utf8')) as { pid: number; admin: { host: string; port: number } };
  const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  return { url: `http://${rt.admin.host}:${rt.admin.port}`, pid: rt.pid, headers: { authorization: `Bearer ${token}` } };
}

/** /healthz of the daemon in `dir` when daemon.json names `child` (the restarted process), else undefined. */
export async function healthOf(dir: string, child: ChildProcess): Promise<{ connection: string } | undefined> {
  const a = adminOf(dir);
  if (a.pid !== child.pid) return undefined;
  return (await (await fetch(`${a.url}/healthz`)).json()) as { connection: string };
}

/** GETs an admin endpoint (`/status`, `/personas`) of the daemon in `dir` as JSON. */
export async function adminGet<T>(dir: string, path: string): Promise<T> {
  const a = adminOf(dir);
  return (await (await fetch(`${a.url}${path}`, { headers: a.headers })).json()) as T;
}

// Helpers for the end-to-end tests: the built CLI as child processes (one-shot commands and the daemon), with bounded waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from '../support/wait.js';

/** The built CLI entry point (`npm test` builds before vitest runs). */
export const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

/** Result of a one-shot command. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Environment for child processes: none of the developer's TOX_PERSONA_* settings leak in, except
 * TOX_PERSONA_LIBTOXCORE, the library under test (CI runs these tests against each libtoxcore version).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if ((!k.startsWith('TOX_PERSONA_') || k === 'TOX_PERSONA_LIBTOXCORE') && !k.startsWith('VITEST')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs `tox-persona ARGS` to completion (bounded) and returns exit code and output. */
export function cli(args: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tox-persona ${args.join(' ')} did not finish within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a `--json` command that must succeed and returns its parsed output. */
export async function cliJson<T = any>(args: string[], options: { env?: Record<string, string> } = {}): Promise<T> {
  const r = await cli([...args, '--json'], options);
  if (r.code !== 0) throw new Error(`tox-persona ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A daemon (`tox-persona run`) running as a child process. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly dir: string;
  /** Admin endpoint base URL (from DIR/daemon.json). */
  readonly url: string;
  readonly token: string;
  /** Everything the daemon logged so far (JSON lines). */
  logs(): string;
  /** Sends SIGTERM and waits (bounded) for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited(): Promise<number | null>;
}

/** Starts `tox-persona run --dir DIR ARGS` and waits until its admin endpoint answers /healthz. */
export async function startDaemonProcess(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [CLI, 'run', '--dir', dir, '--log-level', 'debug', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => {
    exitCode = code;
    r(code);
  }));
  const runtime = join(dir, 'daemon.json');
  const info = await waitFor(() => {
    if (exitCode !== undefined) throw new Error(`daemon exited early with ${exitCode}: ${logs}`);
    if (!existsSync(runtime)) return undefined;
    const rt = JSON.parse(readFileSync(runtime, 'utf8')) as { pid: number; admin: { host: string; port: number } };
    return rt.pid === child.pid ? rt : undefined;
  }, { what: `the daemon on ${dir} to write daemon.json`, timeoutMs: 30_000 });
  const url = `http://${info.admin.host}:${info.admin.port}`;
  const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  return {
    child,
    dir,
    url,
    token,
    logs: () => logs,
    exited: () => exited,
    async stop(signal = 'SIGTERM') {
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

// Child processes on another libtoxcore than the test's own (one process loads one libtoxcore): the environment that
// selects each library, and a runner for the small scripts under test/support that print one JSON line.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Which library: the system's libtoxcore.so.2, or Debian trixie's / sid's fetched by scripts/get-libtoxcore.sh. */
export type LibtoxcoreSource = 'system' | 'trixie' | 'sid';

/** Upstream "major.minor.patch" of a Debian version string ("0.2.22-1+b2" → "0.2.22"). */
function upstream(debianVersion: string): string {
  return debianVersion.trim().replace(/^\d+:/, '').replace(/-[^-]*$/, '').replace(/[+~].*$/, '');
}

/**
 * The environment overrides that make a child (through cleanEnv or a plain spawn) load `source`, and that library's
 * version. trixie/sid are fetched into .tmp/libtoxcore on first use (apt download, no root, a few seconds when cached).
 */
export function libtoxcoreEnv(source: LibtoxcoreSource): { env: Record<string, string>; version: string } {
  if (source === 'system') {
    const version = upstream(execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libtoxcore2'], { encoding: 'utf8' }));
    // Empty values: the binding falls back to libtoxcore.so.2 from the system's library path.
    return { env: { TOX_PERSONA_LIBTOXCORE: '', LD_LIBRARY_PATH: '' }, version };
  }
  const lib = execFileSync('bash', [resolve(ROOT, 'scripts/get-libtoxcore.sh'), source], { encoding: 'utf8', cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim();
  const version = upstream(readFileSync(resolve(lib.replace(/\/usr\/lib\/.*$/, ''), '.version'), 'utf8'));
  return { env: { TOX_PERSONA_LIBTOXCORE: lib, LD_LIBRARY_PATH: dirname(lib) }, version };
}

/** Runs `node --import tsx SCRIPT ARGS` with `env` over this process's environment; resolves with its last stdout line parsed as JSON. */
export function runScript<T>(script: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, script), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
      try {
        resolvePromise(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON line\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

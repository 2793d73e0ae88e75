// How a CLI command reaches the companion: through the running daemon's admin endpoint, or directly on the data directory under its lock.
import type { Command } from 'commander';
import { resolveDataDir, loadConfig, type RawConfig, type CompanionConfig } from '../companion/config.js';
import { readRuntime, readToken, requireInitialized, DataDirError } from '../companion/datadir.js';
import { callAdmin, AdminCallError } from '../companion/admin.js';
import { createLogger, type Logger } from '../companion/log.js';
import { runOffline } from '../companion/open.js';

/** Options every command takes. */
export interface CommonOptions {
  dir?: string;
  json?: boolean;
  config?: string;
  logLevel?: string;
}

/** Adds the options every command takes (`--dir`, `--json`, `--config`, `--log-level`). */
export function common(cmd: Command): Command {
  return cmd
    .option('--dir <DIR>', 'data directory (default: $TOX_PERSONA_DIR, then the per-user data directory)')
    .option('--json', 'machine-readable JSON output')
    .option('--config <FILE>', 'config file to read instead of DIR/config.json')
    .option('--log-level <LEVEL>', 'trace|debug|info|warn|error|silent (default: warn for commands, info for run)');
}

/** Loads the validated configuration for a command (throws ConfigError listing every problem). */
export function commandConfig(opts: CommonOptions, flags: RawConfig = {}): CompanionConfig {
  const dir = resolveDataDir(opts.dir);
  return loadConfig({ dir, flags: { ...flags, ...(opts.logLevel ? { logLevel: opts.logLevel } : {}) }, ...(opts.config ? { file: opts.config } : {}) });
}

/** A logger for short commands: warnings and errors only unless --log-level says otherwise. */
export function commandLogger(opts: CommonOptions): Logger {
  return createLogger({ level: (opts.logLevel as never) ?? 'warn' });
}

/**
 * Runs a named companion operation: through the daemon when one runs on this data directory (it owns the profile),
 * otherwise directly on the files under the data-directory lock.
 */
export async function callOperation(opts: CommonOptions, op: string, args: Record<string, unknown> = {}): Promise<unknown> {
  const dir = resolveDataDir(opts.dir);
  requireInitialized(dir);
  const rt = readRuntime(dir);
  if (rt?.admin) {
    const token = readToken(dir);
    if (!token) throw new DataDirError('BAD_FILE', `a daemon runs on ${dir} but admin.token is missing`);
    try {
      return await callAdmin(rt.admin, token, op, args);
    } catch (err) {
      // A daemon that died without cleaning up leaves its record behind; then the lock decides below.
      if (!(err instanceof AdminCallError && err.code === 'DAEMON_UNREACHABLE')) throw err;
    }
  }
  const config = commandConfig(opts);
  try {
    return await runOffline(config, commandLogger(opts), op, args);
  } catch (err) {
    if (err instanceof DataDirError && err.code === 'LOCKED') {
      throw new DataDirError('LOCKED', `${dir} is in use by another process${rt && !rt.admin ? ' (a daemon runs there with its admin endpoint disabled: stop it or enable the endpoint)' : ''}`);
    }
    throw err;
  }
}

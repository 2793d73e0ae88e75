// How a CLI command reaches the companion: through the running daemon's admin endpoint, or directly on the data directory under its lock.
import type { Command } from 'commander';
import { resolveDataDir, loadConfig, type RawConfig, type CompanionConfig } from '../companion/config.js';
import { daemonHoldsDir, readRuntime, readToken, requireInitialized, DataDirError } from '../companion/datadir.js';
import { callAdmin, AdminCallError } from '../companion/admin.js';
import { createLogger, type Logger } from '../companion/log.js';
import { runOffline } from '../companion/open.js';
import { READ_ONLY_OPERATIONS } from '../companion/ops.js';
import { ToxPersonaError } from '../util/errors.js';
import { randomUUID } from 'node:crypto';

/** Options every command takes. */
export interface CommonOptions {
  dir?: string;
  json?: boolean;
  config?: string;
  logLevel?: string;
  requestId?: string;
}

/** Adds the options every command takes (`--dir`, `--json`, `--config`, `--log-level`). */
export function common(cmd: Command): Command {
  return cmd
    .option('--dir <DIR>', 'data directory (default: $TOX_PERSONA_DIR, then the per-user data directory)')
    .option('--json', 'machine-readable JSON output')
    .option('--config <FILE>', 'config file to read instead of DIR/config.json')
    .option('--log-level <LEVEL>', 'trace|debug|info|warn|error|silent (default: warn for commands, info for run)')
    .option('--request-id <ID>', 'changing commands: the id of this request (8-64 of A-Z a-z 0-9 _ -); the same command again with the same id returns the first outcome instead of applying twice (default: a fresh id)');
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

/** How long a mutating command keeps retrying (same request id) after its daemon went away mid-request; $TOX_PERSONA_RETRY_SECONDS overrides. */
export const RETRY_BUDGET_MS = 60_000;

/** The outcome of a mutating command is unknown: it may or may not have been applied. */
export class OutcomeUnknownError extends ToxPersonaError {}

/** `LOCKED` by a daemon whose admin endpoint is disabled: waiting would not help, nothing can reach it. */
class DaemonWithoutAdminError extends DataDirError {}

/** How long one attempt waits for the data-directory lock before it looks at daemon.json again. */
const LOCK_POLL_MS = 250;

/**
 * Runs a named companion operation: through the daemon when one runs on this data directory (it owns the profile),
 * otherwise directly on the files under the data-directory lock.
 *
 * A mutating operation carries a request id (`--request-id`, or a fresh one). When the daemon goes away after the
 * request was sent (a crash, a kill), the command does not guess: it retries with the same id, against the restarted
 * daemon or directly on the files once the lock is free, and gets the first outcome if the change was saved, or
 * applies it now if it was not (the outcome is saved in the same commit as the change). If nothing answers within the
 * retry budget, it fails with `OUTCOME_UNKNOWN` (exit 6) naming the request id to retry with.
 *
 * Any command also waits, within the same budget, while the data directory is locked by a process that does not answer
 * yet: a daemon that is starting (it holds the lock before daemon.json names it) or another command. `LOCKED` (exit 4,
 * nothing was sent) only when the budget runs out, or at once for a daemon whose admin endpoint is disabled.
 */
export async function callOperation(opts: CommonOptions, op: string, args: Record<string, unknown> = {}): Promise<unknown> {
  const dir = resolveDataDir(opts.dir);
  requireInitialized(dir);
  const mutating = !READ_ONLY_OPERATIONS.has(op);
  const requestId = mutating ? (opts.requestId ?? randomUUID()) : undefined;
  const full = requestId ? { ...args, requestId } : args;
  const budget = Number(process.env.TOX_PERSONA_RETRY_SECONDS ?? RETRY_BUDGET_MS / 1000) * 1000;
  const deadline = Date.now() + budget;
  let uncertain: Error | undefined;
  let waitingSaid = false;
  for (;;) {
    try {
      return await callOnce(opts, dir, op, full);
    } catch (err) {
      const noAnswer = err instanceof AdminCallError && err.code === 'DAEMON_NO_ANSWER';
      const locked = err instanceof DataDirError && err.code === 'LOCKED' && !(err instanceof DaemonWithoutAdminError);
      if (noAnswer && !mutating) throw err;
      if (noAnswer) uncertain ??= err;
      // LOCKED: a daemon is starting (it holds the lock before daemon.json names it) or another command runs; nothing
      // was sent by this attempt, so trying again is safe.
      if (locked && !uncertain) {
        if (Date.now() >= deadline) throw err;
        if (!waitingSaid) commandLogger(opts).warn({ dir }, 'the data directory is locked (a daemon starting, or another command): waiting for it');
        waitingSaid = true;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (!uncertain || !(noAnswer || locked)) throw err;
      if (Date.now() >= deadline) {
        throw new OutcomeUnknownError('OUTCOME_UNKNOWN', `the daemon went away while handling this ${op} (${uncertain.message}) and nothing answered a retry within ${Math.round(budget / 1000)} s: it may or may not have been applied; run the same command again with --request-id ${requestId} to learn the outcome (a retry never applies it twice)`);
      }
      commandLogger(opts).warn({ requestId, err: (err as Error).message }, 'no answer; retrying with the same request id');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** One attempt: the daemon's admin endpoint when daemon.json names a live daemon, otherwise the files under the lock. */
async function callOnce(opts: CommonOptions, dir: string, op: string, args: Record<string, unknown>): Promise<unknown> {
  const rt = readRuntime(dir);
  if (rt?.admin) {
    const token = readToken(dir);
    if (!token) throw new DataDirError('BAD_FILE', `a daemon runs on ${dir} but admin.token is missing`);
    try {
      return await callAdmin(rt.admin, token, op, args);
    } catch (err) {
      // Refused connection: nothing was sent; the daemon that daemon.json names is gone, so the lock decides below.
      if (!(err instanceof AdminCallError && err.code === 'DAEMON_UNREACHABLE')) throw err;
    }
  }
  // A daemon is starting (it holds daemon.lock before daemon.json names it): wait for it rather than take the lock first.
  if (!rt && daemonHoldsDir(dir)) throw new DataDirError('LOCKED', `${dir}: a daemon is starting there`);
  if (rt && !rt.admin) throw new DaemonWithoutAdminError('LOCKED', `${dir} is in use by another process (a daemon runs there with its admin endpoint disabled: stop it or enable the endpoint)`);
  const config = commandConfig(opts);
  try {
    // A short wait: a daemon that is starting holds the lock for good, and daemon.json names it soon; the caller loops.
    return await runOffline(config, commandLogger(opts), op, args, { lockWaitMs: LOCK_POLL_MS });
  } catch (err) {
    if (err instanceof DataDirError && err.code === 'LOCKED') throw new DataDirError('LOCKED', `${dir} is in use by another process`, { cause: err });
    throw err;
  }
}

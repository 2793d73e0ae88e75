// CLI output and exit codes: readable text by default, JSON with --json, one stable exit code per kind of failure.
import { ToxPersonaError } from '../util/errors.js';

/** Exit codes of `tox-persona` (documented in docs/CLI.md). */
export const EXIT = Object.freeze({
  /** Success (for `verify`: the status message is valid). */
  OK: 0,
  /** Unexpected failure (a bug, or an error with no code). */
  FAILURE: 1,
  /** Bad usage: unknown command or option, bad argument, invalid configuration. */
  USAGE: 2,
  /** Data directory: not initialized, already initialized, or a damaged file in it. */
  DATA_DIR: 3,
  /** Busy or unreachable: another process holds the data directory, or the daemon's admin endpoint did not answer. */
  BUSY: 4,
  /** Refused: the operation was understood but refused (unknown device, rejected status message, wrong passphrase...). */
  REFUSED: 5,
  /**
   * Outcome unknown: a changing command may or may not have been applied (its daemon went away and no retry answered,
   * or the disk refused the save and the daemon keeps retrying it). Run it again with the printed --request-id.
   */
  UNKNOWN: 6,
});

const DATA_DIR_CODES = new Set(['NOT_INITIALIZED', 'ALREADY_INITIALIZED', 'BAD_FILE', 'TABLE_CORRUPT', 'TABLE_UNKNOWN_VERSION', 'KEY_FILE_NOT_FOUND', 'KEY_FILE_PERMISSIONS', 'KEY_FILE_CORRUPT']);
const BUSY_CODES = new Set(['LOCKED', 'DAEMON_UNREACHABLE', 'DAEMON_NO_ANSWER']);
const UNKNOWN_CODES = new Set(['OUTCOME_UNKNOWN', 'SAVE_FAILED']);
const USAGE_CODES = new Set(['BAD_CONFIG', 'BAD_ARGUMENT', 'INVALID_PUBLIC_KEY', 'USAGE', 'BAD_NODE', 'BAD_NODE_LIST', 'AMBIGUOUS']);

/** The exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ToxPersonaError) {
    if (USAGE_CODES.has(err.code)) return EXIT.USAGE;
    if (DATA_DIR_CODES.has(err.code)) return EXIT.DATA_DIR;
    if (BUSY_CODES.has(err.code)) return EXIT.BUSY;
    if (UNKNOWN_CODES.has(err.code)) return EXIT.UNKNOWN;
    return EXIT.REFUSED;
  }
  return EXIT.FAILURE;
}

/** Prints a command's result: `json` as JSON when --json, otherwise the human text. */
export function print(json: boolean, value: unknown, human: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else {
    const text = human();
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** Prints an error (as `{"error": {code, message}}` with --json) to stderr. */
export function printError(json: boolean, err: unknown): void {
  const code = err instanceof ToxPersonaError ? err.code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`tox-persona: ${message}${code !== 'INTERNAL' ? ` [${code}]` : ''}\n`);
}

/** A short form of a 64-hex key for tables: first 8 and last 4 characters. */
export function shortKey(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

/** Formats rows as aligned columns. */
export function columns(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

// CLI output and exit codes: readable text by default, JSON with --json, one stable exit code per kind of failure.
import { ToxPersonaError } from '../util/errors.js';
import { EXIT, exitCodeForCode } from '../util/error-codes.js';

export { EXIT };

/** The exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  return err instanceof ToxPersonaError ? exitCodeForCode(err.code) : EXIT.FAILURE;
}

/**
 * Characters a terminal must not receive from text others chose (friends' Tox names, request messages, alarm details):
 * C0 controls but newline and tab (ESC starts escape sequences), DEL, C1 controls, and bidi formatting characters
 * (which can make a name display as another one).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_FOR_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every character a terminal would interpret shown as an escape (`\u{1b}`) instead. */
export function safeText(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** Prints a command's result: `json` as JSON when --json, otherwise the human text with unsafe characters escaped. */
export function print(json: boolean, value: unknown, human: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else {
    const text = safeText(human());
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** Prints an error (as `{"error": {code, message}}` with --json) to stderr. */
export function printError(json: boolean, err: unknown): void {
  const code = err instanceof ToxPersonaError ? err.code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`tox-persona: ${safeText(message)}${code !== 'INTERNAL' ? ` [${code}]` : ''}\n`);
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

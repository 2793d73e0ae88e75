// The companion's one root logger: pino, JSON lines when not on a terminal, short readable lines on one, secrets redacted.
import { Writable } from 'node:stream';
import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Field paths pino replaces with "[redacted]" wherever they appear (one and two levels deep). */
export const REDACT_PATHS: readonly string[] = [
  'secretKey', 'secret', 'token', 'passphrase', 'password', 'savedata', 'personaSecretKey', 'authorization', 'recoveryKey',
  '*.secretKey', '*.secret', '*.token', '*.passphrase', '*.password', '*.savedata', '*.personaSecretKey', '*.authorization', '*.recoveryKey',
  'headers.authorization', 'req.headers.authorization',
];

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Formats one pino JSON line as "HH:MM:SS LEVEL [component] message key=value ..."; exported for tests. */
export function formatPretty(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, component, pid: _pid, hostname: _host, ...rest } = rec;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
  const lvl = LEVEL_NAMES[level as number] ?? String(level);
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${lvl.padEnd(5)} ${component ? `[${String(component)}] ` : ''}${msg ?? ''}${extras ? `  ${extras}` : ''}`;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Readable lines instead of JSON; default: when the destination is a terminal. */
  pretty?: boolean;
  /** Where lines go; default stderr, so that stdout stays clean for command output and `--json`. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Creates the root logger; components take `logger.child({ component: 'name' })`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = options.destination ?? process.stderr;
  const pretty = options.pretty ?? Boolean(dest.isTTY);
  const base = { level: options.level ?? 'info', redact: { paths: [...REDACT_PATHS], censor: '[redacted]' }, base: { pid: process.pid } };
  if (!pretty) {
    if (dest === process.stderr || dest === process.stdout) return pino(base, pino.destination({ dest: dest === process.stderr ? 2 : 1, sync: true }));
    return pino(base, dest as NodeJS.WritableStream as never);
  }
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line) dest.write(`${formatPretty(line)}\n`);
      }
      cb();
    },
  });
  return pino(base, stream);
}

// Companion configuration: defaults < config.json < environment < flags, validated once with zod, every problem reported together, then frozen.
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';
import { ToxPersonaError } from '../util/errors.js';

/** The configuration could not be used; `problems` lists every problem found, one line each. Code `BAD_CONFIG`. */
export class ConfigError extends ToxPersonaError {
  /** Every problem, as "where: what is wrong". */
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super('BAD_CONFIG', `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = Object.freeze([...problems]);
  }
}

/** One bootstrap node as the companion hands it to the Tox layer. */
export interface BootstrapEntry {
  host: string;
  port: number;
  /** 64 uppercase hex characters. */
  publicKey: string;
}

/** How updates to friends' device lists are applied: by themselves (`auto`) or after `approve` (`manual`). */
export type Policy = 'auto' | 'manual';
/** Which incoming friend requests are accepted without `accept`. */
export type AcceptRequests = 'none' | 'personas' | 'all';
/** `public`: the shipped node list; `local`: an embedded tox-bootstrapd on loopback. */
export type NetworkMode = 'public' | 'local';

/** The validated, frozen companion configuration. */
export interface CompanionConfig {
  readonly dir: string;
  readonly policy: Policy;
  readonly acceptRequests: AcceptRequests;
  readonly network: NetworkMode;
  /** Extra bootstrap nodes (flags, environment, config file), already parsed. */
  readonly bootstrap: readonly BootstrapEntry[];
  /** Port of the embedded tox-bootstrapd under `--network local` (0 = pick a free one). */
  readonly localPort: number;
  readonly admin: { readonly enabled: boolean; readonly host: string; readonly port: number };
  /**
   * The probe listener: unauthenticated, serves only `GET /healthz` and `GET /metrics`, so Kubernetes probes and
   * Prometheus can reach those on a routable address while the admin endpoint stays on loopback. Off by default;
   * giving a host or port turns it on.
   */
  readonly probe: { readonly enabled: boolean; readonly host: string; readonly port: number };
  /** Human-readable part of the status message, shown before the signed blob. */
  readonly statusText: string;
  /** Tox name of this node; empty keeps whatever the profile has. */
  readonly name: string;
  /** Lifetime of a signed device list, in seconds. */
  readonly ttlSeconds: number;
  /** Periodic save interval, in seconds. */
  readonly saveIntervalSeconds: number;
  /** `/healthz` reports healthy for this long after start even while not yet connected. */
  readonly healthGraceSeconds: number;
  /** First signal: save and exit; this long later (or at a second signal) exit at once. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Use UDP (false = TCP relays only). */
  readonly udp: boolean;
  readonly ipv6: boolean;
  readonly localDiscovery: boolean;
}

const KEY_RE = /^[0-9A-Fa-f]{64}$/;

/** Parses `host:port:key`, where key is 64 hex characters or `@FILE` (a file holding the hex key, or tox-bootstrapd's 64-byte keys file). */
export function parseBootstrapEntry(text: string, readFile: (path: string) => Buffer = (p) => readFileSync(p)): BootstrapEntry {
  const t = text.trim();
  const keyAt = t.lastIndexOf(':');
  const portAt = keyAt > 0 ? t.lastIndexOf(':', keyAt - 1) : -1;
  if (keyAt < 0 || portAt <= 0) throw new Error(`"${t}" is not host:port:key`);
  let host = t.slice(0, portAt);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const portText = t.slice(portAt + 1, keyAt);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new Error(`"${t}": port "${portText}" is not 1-65535`);
  let key = t.slice(keyAt + 1);
  if (key.startsWith('@')) key = readBootstrapKeyFile(key.slice(1), readFile);
  if (!KEY_RE.test(key)) throw new Error(`"${t}": key is not 64 hex characters`);
  if (host.length === 0) throw new Error(`"${t}": empty host`);
  return { host, port, publicKey: key.toUpperCase() };
}

/** Reads a bootstrap node's public key from a file: 64 hex characters (text), or tox-bootstrapd's raw keys file (public key = first 32 bytes). */
export function readBootstrapKeyFile(path: string, readFile: (path: string) => Buffer = (p) => readFileSync(p)): string {
  let data: Buffer;
  try {
    data = readFile(path);
  } catch (err) {
    throw new Error(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const text = data.toString('latin1').trim();
  const hex = /([0-9A-Fa-f]{64})/.exec(text);
  if (hex && /^[\x20-\x7e\s]*$/.test(text)) return hex[1]!.toUpperCase();
  // tox-bootstrapd's keys file: 32-byte public key then 32-byte secret key. Only the public half is used.
  if (data.length === 64) return data.subarray(0, 32).toString('hex').toUpperCase();
  throw new Error(`key file ${path}: neither 64 hex characters nor a 64-byte tox-bootstrapd keys file`);
}

/** Splits a list given as one string (environment variables): commas, semicolons or whitespace. */
function splitList(value: string): string[] {
  return value.split(/[\s,;]+/).filter((s) => s.length > 0);
}

/** Raw, unvalidated settings as they come from one source (file, environment, flags). */
export interface RawConfig {
  policy?: unknown;
  acceptRequests?: unknown;
  network?: unknown;
  bootstrap?: unknown;
  localPort?: unknown;
  admin?: { enabled?: unknown; host?: unknown; port?: unknown };
  probe?: { enabled?: unknown; host?: unknown; port?: unknown };
  statusText?: unknown;
  name?: unknown;
  ttlSeconds?: unknown;
  saveIntervalSeconds?: unknown;
  healthGraceSeconds?: unknown;
  shutdownTimeoutMs?: unknown;
  logLevel?: unknown;
  udp?: unknown;
  ipv6?: unknown;
  localDiscovery?: unknown;
}

const boolish = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes')]);
const intish = (min: number, max: number) =>
  z.coerce
    .number({ error: (iss) => (iss.code === 'invalid_type' ? `expected a whole number from ${min} to ${max}, got ${JSON.stringify(iss.input)}` : undefined) })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `expected a whole number from ${min} to ${max}`)
    .max(max, `expected a whole number from ${min} to ${max}`);

const schema = z.object({
  policy: z.enum(['auto', 'manual']).default('auto'),
  acceptRequests: z.enum(['none', 'personas', 'all']).default('personas'),
  network: z.enum(['public', 'local']).default('public'),
  bootstrap: z.array(z.string()).default([]),
  localPort: intish(0, 65535).default(0),
  admin: z
    .object({
      enabled: boolish.default(true),
      host: z.string().min(1).default('127.0.0.1'),
      port: intish(0, 65535).default(0),
    })
    .strict()
    .default({ enabled: true, host: '127.0.0.1', port: 0 }),
  // Reached from outside by design (kubelet, Prometheus), hence the wildcard default; it serves nothing secret.
  probe: z
    .object({
      enabled: boolish.default(false),
      host: z.string().min(1).default('0.0.0.0'),
      port: intish(0, 65535).default(0),
    })
    .strict()
    .default({ enabled: false, host: '0.0.0.0', port: 0 }),
  statusText: z.string().max(200, 'at most 200 characters (the status message also carries the signed list)').default('tox-persona'),
  name: z.string().max(128).default(''),
  ttlSeconds: intish(60, 365 * 24 * 3600).default(7 * 24 * 3600),
  saveIntervalSeconds: intish(1, 86400).default(60),
  healthGraceSeconds: intish(0, 3600).default(60),
  shutdownTimeoutMs: intish(100, 600_000).default(10_000),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  udp: boolish.default(true),
  ipv6: boolish.default(false),
  localDiscovery: boolish.default(false),
}).strict();

/** Names of the environment variables read by {@link loadConfig}. */
export const ENV = {
  dir: 'TOX_PERSONA_DIR',
  policy: 'TOX_PERSONA_POLICY',
  acceptRequests: 'TOX_PERSONA_ACCEPT_REQUESTS',
  network: 'TOX_PERSONA_NETWORK',
  bootstrap: 'TOX_PERSONA_BOOTSTRAP',
  bootstrapKeyFile: 'TOX_PERSONA_BOOTSTRAP_KEY_FILE',
  localPort: 'TOX_PERSONA_LOCAL_PORT',
  adminHost: 'TOX_PERSONA_ADMIN_HOST',
  adminPort: 'TOX_PERSONA_ADMIN_PORT',
  adminEnabled: 'TOX_PERSONA_ADMIN',
  probeHost: 'TOX_PERSONA_PROBE_HOST',
  probePort: 'TOX_PERSONA_PROBE_PORT',
  probeEnabled: 'TOX_PERSONA_PROBE',
  statusText: 'TOX_PERSONA_STATUS_TEXT',
  name: 'TOX_PERSONA_NAME',
  ttlSeconds: 'TOX_PERSONA_TTL',
  saveIntervalSeconds: 'TOX_PERSONA_SAVE_INTERVAL',
  healthGraceSeconds: 'TOX_PERSONA_HEALTH_GRACE',
  logLevel: 'TOX_PERSONA_LOG_LEVEL',
  udp: 'TOX_PERSONA_UDP',
  ipv6: 'TOX_PERSONA_IPV6',
} as const;

/** Resolves the data directory: the flag, then `$TOX_PERSONA_DIR`, then the per-user data directory. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  const fromEnv = env[ENV.dir];
  if (fromEnv) return resolve(fromEnv);
  return envPaths('tox-persona', { suffix: '' }).data;
}

/** Reads the environment into a {@link RawConfig}; `TOX_PERSONA_BOOTSTRAP_KEY_FILE` is `host:port:@FILE` shorthand and joins the bootstrap list. */
export function configFromEnv(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  const set = <K extends keyof RawConfig>(key: K, name: string) => {
    const v = env[name];
    if (v !== undefined && v !== '') (raw as Record<string, unknown>)[key] = v;
  };
  set('policy', ENV.policy);
  set('acceptRequests', ENV.acceptRequests);
  set('network', ENV.network);
  set('localPort', ENV.localPort);
  set('statusText', ENV.statusText);
  set('name', ENV.name);
  set('ttlSeconds', ENV.ttlSeconds);
  set('saveIntervalSeconds', ENV.saveIntervalSeconds);
  set('healthGraceSeconds', ENV.healthGraceSeconds);
  set('logLevel', ENV.logLevel);
  set('udp', ENV.udp);
  set('ipv6', ENV.ipv6);
  const admin: NonNullable<RawConfig['admin']> = {};
  if (env[ENV.adminHost]) admin.host = env[ENV.adminHost];
  if (env[ENV.adminPort]) admin.port = env[ENV.adminPort];
  if (env[ENV.adminEnabled]) admin.enabled = env[ENV.adminEnabled];
  if (Object.keys(admin).length > 0) raw.admin = admin;
  const probe: NonNullable<RawConfig['probe']> = {};
  if (env[ENV.probeHost]) probe.host = env[ENV.probeHost];
  if (env[ENV.probePort]) probe.port = env[ENV.probePort];
  if (env[ENV.probeEnabled]) probe.enabled = env[ENV.probeEnabled];
  if (Object.keys(probe).length > 0) raw.probe = probe;
  const bootstrap: string[] = [];
  if (env[ENV.bootstrap]) bootstrap.push(...splitList(env[ENV.bootstrap]!));
  if (env[ENV.bootstrapKeyFile]) bootstrap.push(...splitList(env[ENV.bootstrapKeyFile]!));
  if (bootstrap.length > 0) raw.bootstrap = bootstrap;
  return raw;
}

/** Path of the config file in a data directory. */
export function configPath(dir: string): string {
  return join(dir, 'config.json');
}

/** Inputs of {@link loadConfig}. */
export interface LoadConfigInput {
  /** Data directory (already resolved with {@link resolveDataDir}). */
  dir: string;
  /** Settings from command-line flags; they win over everything else. */
  flags?: RawConfig;
  env?: NodeJS.ProcessEnv;
  /** Read `config.json` from the data directory when present (default true). */
  readFile?: boolean;
  /** Extra file to read instead of `DIR/config.json`. */
  file?: string;
}

function mergeRaw(...sources: RawConfig[]): RawConfig {
  const out: Record<string, unknown> = {};
  for (const src of sources) {
    for (const [k, v] of Object.entries(src)) {
      if (v === undefined) continue;
      if ((k === 'admin' || k === 'probe') && typeof v === 'object' && v !== null && typeof out[k] === 'object' && out[k] !== null) {
        out[k] = { ...(out[k] as object), ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) };
      } else if (k === 'bootstrap' && Array.isArray(v) && Array.isArray(out.bootstrap)) {
        // Bootstrap nodes accumulate across sources: a flag adds a node, it does not hide the file's.
        out.bootstrap = [...(out.bootstrap as unknown[]), ...v];
      } else {
        out[k] = v;
      }
    }
  }
  return out as RawConfig;
}

/** Builds the frozen configuration; throws {@link ConfigError} listing every problem across all sources. */
export function loadConfig(input: LoadConfigInput): CompanionConfig {
  const problems: string[] = [];
  let fileRaw: RawConfig = {};
  const file = input.file ?? configPath(input.dir);
  if ((input.readFile ?? true) && existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push(`${file}: expected a JSON object`);
      else fileRaw = parsed as RawConfig;
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  const merged = mergeRaw(fileRaw, configFromEnv(input.env ?? process.env), input.flags ?? {});
  // Naming a probe address or port is asking for the listener; only an explicit `enabled: false` keeps it off.
  if (typeof merged.probe === 'object' && merged.probe !== null && !Array.isArray(merged.probe)) {
    const p = merged.probe;
    if (p.enabled === undefined && (p.host !== undefined || p.port !== undefined)) merged.probe = { ...p, enabled: true };
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push(`${[...issue.path, key].join('.')}: unknown setting`);
        continue;
      }
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      problems.push(`${where}: ${issue.message}`);
    }
  }
  const bootstrap: BootstrapEntry[] = [];
  if (Array.isArray(merged.bootstrap)) {
    merged.bootstrap.forEach((entry, i) => {
      if (typeof entry !== 'string') return; // already reported by the schema
      try {
        bootstrap.push(parseBootstrapEntry(entry));
      } catch (err) {
        problems.push(`bootstrap[${i}]: ${(err as Error).message}`);
      }
    });
  }
  if (result.success) {
    const { admin, probe } = result.data;
    // One port cannot be both; 0 (a free port each) is fine. The OS would refuse it at start, after the lock and the network.
    if (admin.enabled && probe.enabled && probe.port !== 0 && probe.port === admin.port) {
      problems.push(`probe.port: ${probe.port} is also the admin port; the probe listener needs a port of its own`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const d = result.data;
  const config: CompanionConfig = {
    dir: input.dir,
    policy: d.policy,
    acceptRequests: d.acceptRequests,
    network: d.network,
    bootstrap: Object.freeze(bootstrap.map((b) => Object.freeze(b))),
    localPort: d.localPort,
    admin: Object.freeze({ ...d.admin }),
    probe: Object.freeze({ ...d.probe }),
    statusText: d.statusText,
    name: d.name,
    ttlSeconds: d.ttlSeconds,
    saveIntervalSeconds: d.saveIntervalSeconds,
    healthGraceSeconds: d.healthGraceSeconds,
    shutdownTimeoutMs: d.shutdownTimeoutMs,
    logLevel: d.logLevel,
    udp: d.udp,
    ipv6: d.ipv6,
    localDiscovery: d.localDiscovery,
  };
  return Object.freeze(config);
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

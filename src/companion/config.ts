// Companion configuration: defaults < config.json < environment < flags, validated once with zod, every problem reported together, then frozen.
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';
import { Option, type Command } from 'commander';
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
  /** Keep NGC groups in profile.tox so a restarted companion is back in its groups (libtoxcore 0.2.19+). */
  readonly groupsPersistence: boolean;
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
  groupsPersistence?: unknown;
}

const boolish = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes')]);
const intish = (min: number, max: number) =>
  z.coerce
    .number({ error: (iss) => (iss.code === 'invalid_type' ? `expected a whole number from ${min} to ${max}, got ${JSON.stringify(iss.input)}` : undefined) })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `expected a whole number from ${min} to ${max}`)
    .max(max, `expected a whole number from ${min} to ${max}`);

/** One setting, declared once: its `config.json` key, validation and default, environment variable, `run` flag and documentation. */
export interface SettingSpec {
  /** Key in config.json; `group.key` for the admin and probe groups. */
  readonly path: string;
  /** Validation, with the default. */
  readonly schema: z.ZodType;
  /** Environment variable, if any. */
  readonly env?: string;
  /** `run` flag, commander syntax (`--ttl <SECONDS>`); a `--no-x` flag sets the setting to false. */
  readonly flag?: string;
  /** Allowed values, shown in --help and enforced by commander too. */
  readonly choices?: readonly string[];
  /** What it does, one sentence (docs/CLI.md and --help). */
  readonly doc: string;
  /** The default, as the docs show it. */
  readonly defaultText: string;
}

/** Every setting of the companion. docs/CLI.md's settings table is generated from it ({@link settingsTable}) and a test keeps them equal. */
export const SETTINGS: readonly SettingSpec[] = Object.freeze([
  { path: 'policy', schema: z.enum(['auto', 'manual']).default('auto'), env: 'TOX_PERSONA_POLICY', flag: '--policy <POLICY>', choices: ['auto', 'manual'], doc: 'apply friends\' list updates by themselves, or after `approve`', defaultText: '`auto`' },
  { path: 'acceptRequests', schema: z.enum(['none', 'personas', 'all']).default('personas'), env: 'TOX_PERSONA_ACCEPT_REQUESTS', flag: '--accept-requests <WHICH>', choices: ['none', 'personas', 'all'], doc: 'friend requests accepted without `accept`; `personas`: only devices that confirmed a verified persona', defaultText: '`personas`' },
  { path: 'network', schema: z.enum(['public', 'local']).default('public'), env: 'TOX_PERSONA_NETWORK', flag: '--network <MODE>', choices: ['public', 'local'], doc: '`public`: the shipped node list (`data/nodes.json`); `local`: an embedded tox-bootstrapd on loopback', defaultText: '`public`' },
  { path: 'bootstrap', schema: z.array(z.string()).default([]), env: 'TOX_PERSONA_BOOTSTRAP', flag: '--bootstrap <HOST:PORT:KEY>', doc: 'extra bootstrap nodes, `host:port:key` (KEY may be `@FILE`: the hex key, or tox-bootstrapd\'s keys file); flags repeat, the environment separates them by commas or spaces, `TOX_PERSONA_BOOTSTRAP_KEY_FILE` adds more; they add up across sources', defaultText: 'none' },
  { path: 'localPort', schema: intish(0, 65535).default(0), env: 'TOX_PERSONA_LOCAL_PORT', flag: '--local-port <PORT>', doc: 'UDP port of the embedded tox-bootstrapd under `network: local`', defaultText: '0 (a free one)' },
  { path: 'admin.enabled', schema: boolish.default(true), env: 'TOX_PERSONA_ADMIN', flag: '--no-admin', doc: 'the admin endpoint (commands reach a running daemon through it)', defaultText: '`true`' },
  { path: 'admin.host', schema: z.string().min(1).default('127.0.0.1'), env: 'TOX_PERSONA_ADMIN_HOST', flag: '--admin-host <HOST>', doc: 'admin endpoint address', defaultText: '`127.0.0.1`' },
  { path: 'admin.port', schema: intish(0, 65535).default(0), env: 'TOX_PERSONA_ADMIN_PORT', flag: '--admin-port <PORT>', doc: 'admin endpoint port, recorded in `DIR/daemon.json`', defaultText: '0 (a free one)' },
  { path: 'probe.enabled', schema: boolish.default(false), env: 'TOX_PERSONA_PROBE', doc: 'the probe listener: `GET /healthz` and `GET /metrics` only, no token; setting a host or port turns it on unless this is `false`', defaultText: 'off' },
  // Reached from outside by design (kubelet, Prometheus), hence the wildcard default; it serves nothing secret.
  { path: 'probe.host', schema: z.string().min(1).default('0.0.0.0'), env: 'TOX_PERSONA_PROBE_HOST', flag: '--probe-host <HOST>', doc: 'probe listener address (meant for Kubernetes probes and Prometheus)', defaultText: '`0.0.0.0`' },
  { path: 'probe.port', schema: intish(0, 65535).default(0), env: 'TOX_PERSONA_PROBE_PORT', flag: '--probe-port <PORT>', doc: 'probe listener port; it must differ from the admin port', defaultText: '0 (a free one)' },
  { path: 'statusText', schema: z.string().max(200, 'at most 200 characters (the status message also carries the signed list)').default('tox-persona'), env: 'TOX_PERSONA_STATUS_TEXT', flag: '--status-text <TEXT>', doc: 'human part of the status message', defaultText: '`tox-persona`' },
  { path: 'name', schema: z.string().max(128).default(''), env: 'TOX_PERSONA_NAME', flag: '--name <NAME>', doc: 'Tox name of this node', defaultText: 'keep the profile\'s' },
  { path: 'ttlSeconds', schema: intish(60, 365 * 24 * 3600).default(7 * 24 * 3600), env: 'TOX_PERSONA_TTL', flag: '--ttl <SECONDS>', doc: 'lifetime of the signed list; it is re-signed at half of it', defaultText: '604800 (7 days)' },
  { path: 'saveIntervalSeconds', schema: intish(1, 86400).default(60), env: 'TOX_PERSONA_SAVE_INTERVAL', doc: 'period of the timer that saves bookkeeping changes and expires unconfirmed devices', defaultText: '60' },
  { path: 'healthGraceSeconds', schema: intish(0, 3600).default(60), env: 'TOX_PERSONA_HEALTH_GRACE', flag: '--health-grace <SECONDS>', doc: '`/healthz` says healthy this long after start while not yet connected', defaultText: '60' },
  { path: 'shutdownTimeoutMs', schema: intish(100, 600_000).default(10_000), doc: 'after the first signal, exit at once this long later (or at a second signal)', defaultText: '10000' },
  { path: 'logLevel', schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'), env: 'TOX_PERSONA_LOG_LEVEL', doc: 'log level (every command takes `--log-level`)', defaultText: '`info`' },
  { path: 'udp', schema: boolish.default(true), env: 'TOX_PERSONA_UDP', flag: '--no-udp', doc: 'use UDP; `false`: TCP relays only', defaultText: '`true`' },
  { path: 'ipv6', schema: boolish.default(false), env: 'TOX_PERSONA_IPV6', doc: 'use IPv6', defaultText: '`false`' },
  { path: 'localDiscovery', schema: boolish.default(false), doc: 'LAN discovery', defaultText: '`false`' },
  { path: 'groupsPersistence', schema: boolish.default(true), env: 'TOX_PERSONA_GROUPS_PERSISTENCE', doc: 'keep NGC groups in `profile.tox` (libtoxcore\'s `experimental_groups_persistence`), so a restarted companion is back in its groups; no effect on libtoxcore 0.2.18', defaultText: '`true`' },
] satisfies SettingSpec[]);

/** The validation schema, built from {@link SETTINGS}: groups (admin, probe) are strict nested objects. */
function buildSchema() {
  const top: Record<string, z.ZodType> = {};
  const groups: Record<string, Record<string, z.ZodType>> = {};
  for (const s of SETTINGS) {
    const [a, b] = s.path.split('.') as [string, string | undefined];
    if (b) (groups[a] ??= {})[b] = s.schema;
    else top[a] = s.schema;
  }
  for (const [g, shape] of Object.entries(groups)) top[g] = z.object(shape).strict().prefault({});
  return z.object(top).strict();
}

interface ParsedSettings {
  policy: Policy;
  acceptRequests: AcceptRequests;
  network: NetworkMode;
  bootstrap: string[];
  localPort: number;
  admin: { enabled: boolean; host: string; port: number };
  probe: { enabled: boolean; host: string; port: number };
  statusText: string;
  name: string;
  ttlSeconds: number;
  saveIntervalSeconds: number;
  healthGraceSeconds: number;
  shutdownTimeoutMs: number;
  logLevel: CompanionConfig['logLevel'];
  udp: boolean;
  ipv6: boolean;
  localDiscovery: boolean;
  groupsPersistence: boolean;
}

const schema = buildSchema() as unknown as z.ZodType<ParsedSettings>;

/** Environment variable naming the data directory. */
const DIR_ENV = 'TOX_PERSONA_DIR';
/** Extra environment variable: bootstrap entries meant as `host:port:@FILE`, added to TOX_PERSONA_BOOTSTRAP's. */
const BOOTSTRAP_KEY_FILE_ENV = 'TOX_PERSONA_BOOTSTRAP_KEY_FILE';

/** Names of the environment variables read by {@link loadConfig}, by setting path (and `dir`, `bootstrapKeyFile`). */
export const ENV: Readonly<Record<string, string>> = Object.freeze({
  dir: DIR_ENV,
  bootstrapKeyFile: BOOTSTRAP_KEY_FILE_ENV,
  ...Object.fromEntries(SETTINGS.filter((s) => s.env).map((s) => [s.path, s.env!])),
});

/** Sets `raw[path] = value`, `path` being `key` or `group.key`. */
function setPath(raw: Record<string, unknown>, path: string, value: unknown): void {
  const [a, b] = path.split('.') as [string, string | undefined];
  if (!b) raw[a] = value;
  else raw[a] = { ...((raw[a] as object | undefined) ?? {}), [b]: value };
}

/** The commander attribute name of a flag (`--admin-port <PORT>` → adminPort, `--no-admin` → admin). */
function flagAttribute(flag: string): string {
  const name = flag.split(/\s/)[0]!.replace(/^--(no-)?/, '');
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds every setting's `run` flag to `cmd` (help and choices from {@link SETTINGS}). */
export function addSettingFlags(cmd: Command): Command {
  for (const s of SETTINGS) {
    if (!s.flag) continue;
    const help = s.flag.startsWith('--no-') ? `turn off: ${s.doc}` : `${s.doc} (default ${s.defaultText.replace(/`/g, '')})`;
    if (s.path === 'bootstrap') cmd.option(s.flag, `${help}; repeatable`, (v: string, prev: string[] = []) => [...prev, v]);
    else if (s.choices) cmd.addOption(new Option(s.flag, help).choices([...s.choices]));
    else cmd.option(s.flag, help);
  }
  return cmd;
}

/** The settings given as `run` flags (commander's parsed options) as a {@link RawConfig}. */
export function settingsFromFlags(opts: Record<string, unknown>): RawConfig {
  const raw: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    if (!s.flag) continue;
    const v = opts[flagAttribute(s.flag)];
    if (s.flag.startsWith('--no-')) {
      if (v === false) setPath(raw, s.path, false);
    } else if (v !== undefined && !(Array.isArray(v) && v.length === 0)) {
      setPath(raw, s.path, v);
    }
  }
  return raw as RawConfig;
}

/** docs/CLI.md's settings table, generated from {@link SETTINGS}. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => `| \`${s.path}\` | ${s.env ? `\`${s.env}\`` : ''} | ${s.flag ? `\`${s.flag.replace(/ <.*>$/, (m) => m.replace(/[<>]/g, '').toUpperCase())}\`` : ''} | ${s.defaultText} | ${s.doc} |`);
  return ['| `config.json` key | environment | `run` flag | default | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Resolves the data directory: the flag, then `$TOX_PERSONA_DIR`, then the per-user data directory. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  const fromEnv = env[DIR_ENV];
  if (fromEnv) return resolve(fromEnv);
  return envPaths('tox-persona', { suffix: '' }).data;
}

/** Reads the environment into a {@link RawConfig}; `TOX_PERSONA_BOOTSTRAP_KEY_FILE` is `host:port:@FILE` shorthand and joins the bootstrap list. */
export function configFromEnv(env: NodeJS.ProcessEnv): RawConfig {
  const raw: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const v = s.env ? env[s.env] : undefined;
    if (v === undefined || v === '' || s.path === 'bootstrap') continue;
    setPath(raw, s.path, v);
  }
  const bootstrap = [...splitList(env.TOX_PERSONA_BOOTSTRAP ?? ''), ...splitList(env[BOOTSTRAP_KEY_FILE_ENV] ?? '')];
  if (bootstrap.length > 0) raw.bootstrap = bootstrap;
  return raw as RawConfig;
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
    groupsPersistence: d.groupsPersistence,
  };
  return Object.freeze(config);
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

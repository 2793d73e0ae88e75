// Bootstrap node lists: the public `nodes.json` format, `host:port:key` strings, and the default list shipped in data/.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeListError } from './errors.js';

/** One DHT bootstrap node; ToxNode uses it both as a UDP bootstrap node and as a TCP relay. */
export interface BootstrapNode {
  /** IPv4/IPv6 address or host name. */
  host: string;
  /** UDP port of the DHT node. */
  port: number;
  /** The node's DHT public key, 64 hex characters (uppercase once parsed). */
  publicKey: string;
  /** TCP relay ports; when absent the UDP port is tried as the relay port too (tox-bootstrapd's common setup). */
  tcpPorts?: number[];
}

/** Options for {@link parseNodesJson}. */
export interface ParseNodesJsonOptions {
  /** Also emit an entry for each node's IPv6 address (default false: most of our uses run with IPv6 off). */
  ipv6?: boolean;
  /** Drop nodes the list marks as down on both UDP and TCP (default true). */
  onlineOnly?: boolean;
}

const KEY_RE = /^[0-9A-Fa-f]{64}$/;

/** Parses one `host:port:key` entry (IPv6 as `[::1]:33445:KEY`); throws {@link NodeListError} `BAD_NODE` naming what is wrong. */
export function parseNodeString(entry: string): BootstrapNode {
  if (typeof entry !== 'string') throw new NodeListError('BAD_NODE', `node entry: expected a "host:port:key" string, got ${typeof entry}`);
  const text = entry.trim();
  // Split from the right so that unbracketed IPv6 hosts still work.
  const keyAt = text.lastIndexOf(':');
  const portAt = keyAt > 0 ? text.lastIndexOf(':', keyAt - 1) : -1;
  if (keyAt < 0 || portAt <= 0) throw new NodeListError('BAD_NODE', `node entry "${short(text)}": expected "host:port:key"`);
  let host = text.slice(0, portAt);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = parsePort(text.slice(portAt + 1, keyAt), `node entry "${short(text)}"`);
  const publicKey = parseKey(text.slice(keyAt + 1), `node entry "${short(text)}"`);
  checkHost(host, `node entry "${short(text)}"`);
  return { host, port, publicKey };
}

/** Parses a list of `host:port:key` entries (as given on a command line); the first bad one throws {@link NodeListError}. */
export function parseNodeStrings(entries: readonly string[]): BootstrapNode[] {
  return entries.map((e) => parseNodeString(e));
}

/**
 * Parses the public `nodes.json` format (`{nodes: [{ipv4, ipv6, port, tcp_ports, public_key, status_udp, status_tcp, ...}]}`).
 * Accepts the JSON text or the already-parsed value. A structurally bad list or entry throws {@link NodeListError}
 * naming the entry index, because a half-understood list would make failures to connect look like network trouble.
 */
export function parseNodesJson(input: string | unknown, options: ParseNodesJsonOptions = {}): BootstrapNode[] {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new NodeListError('BAD_NODE_LIST', `nodes.json: not valid JSON (${(err as Error).message})`, { cause: err });
    }
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { nodes?: unknown }).nodes)) {
    throw new NodeListError('BAD_NODE_LIST', 'nodes.json: expected an object with a "nodes" array');
  }
  const onlineOnly = options.onlineOnly ?? true;
  const out: BootstrapNode[] = [];
  (value as { nodes: unknown[] }).nodes.forEach((raw, i) => {
    const where = `nodes.json nodes[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new NodeListError('BAD_NODE', `${where}: expected an object`);
    const n = raw as Record<string, unknown>;
    const port = parsePort(n.port, where);
    const publicKey = parseKey(n.public_key, where);
    let tcpPorts: number[] | undefined;
    if (n.tcp_ports !== undefined) {
      if (!Array.isArray(n.tcp_ports)) throw new NodeListError('BAD_NODE', `${where}: "tcp_ports" must be an array`);
      tcpPorts = n.tcp_ports.map((p, j) => parsePort(p, `${where}.tcp_ports[${j}]`));
    }
    if (onlineOnly && n.status_udp === false && n.status_tcp === false) return;
    const hosts: string[] = [];
    for (const field of options.ipv6 ? ['ipv4', 'ipv6'] : ['ipv4']) {
      const h = n[field];
      if (h === undefined || h === null || h === '' || h === '-') continue;
      if (typeof h !== 'string') throw new NodeListError('BAD_NODE', `${where}: "${field}" must be a string`);
      checkHost(h, `${where}.${field}`);
      hosts.push(h);
    }
    if (hosts.length === 0 && (n.ipv4 === undefined || n.ipv4 === '-') && (n.ipv6 === undefined || n.ipv6 === '-')) {
      throw new NodeListError('BAD_NODE', `${where}: no address ("ipv4" and "ipv6" both missing)`);
    }
    for (const host of hosts) out.push(tcpPorts ? { host, port, publicKey, tcpPorts } : { host, port, publicKey });
  });
  return out;
}

/** Reads and parses a `nodes.json` file; read failures and bad content throw {@link NodeListError}. */
export function loadNodesFile(path: string, options?: ParseNodesJsonOptions): BootstrapNode[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NodeListError('BAD_NODE_LIST', `cannot read node list ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return parseNodesJson(text, options);
}

/** Path of the default public node list shipped with the package (`data/nodes.json`). */
export function defaultNodesPath(): string {
  // Walk up from this module: src/tox/ in development, dist/src/tox/ once built.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'data', 'nodes.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new NodeListError('BAD_NODE_LIST', 'default node list data/nodes.json not found next to the package');
}

/** The default public bootstrap nodes (for real-network use only; tests and demos use a local tox-bootstrapd). */
export function defaultNodes(options?: ParseNodesJsonOptions): BootstrapNode[] {
  return loadNodesFile(defaultNodesPath(), options);
}

/** Formats a node back as `host:port:key` (IPv6 hosts bracketed). */
export function formatNode(node: BootstrapNode): string {
  const host = node.host.includes(':') ? `[${node.host}]` : node.host;
  return `${host}:${node.port}:${node.publicKey}`;
}

function parsePort(value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new NodeListError('BAD_NODE', `${where}: port must be an integer 1-65535, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return n;
}

function parseKey(value: unknown, where: string): string {
  if (typeof value !== 'string' || !KEY_RE.test(value.trim())) {
    throw new NodeListError('BAD_NODE', `${where}: public key must be 64 hex characters`);
  }
  return value.trim().toUpperCase();
}

function checkHost(host: string, where: string): void {
  if (host.length === 0 || host.length > 253 || /[\s/]/.test(host)) {
    throw new NodeListError('BAD_NODE', `${where}: bad host "${short(host)}"`);
  }
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

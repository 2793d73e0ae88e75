// Runs a real tox-bootstrapd on loopback (for tests, benches and `--network local`): config, start, health check, stop, restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from '../util/env.js';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { BootstrapdError } from './errors.js';
import type { BootstrapNode } from './nodes.js';

/** Options for {@link startBootstrapd}; every field has a sane default for a throwaway local network. */
export interface BootstrapdOptions {
  /** Path or name of the daemon binary (default `tox-bootstrapd`, searched on PATH, then /usr/bin and /usr/sbin). */
  binary?: string;
  /** UDP port of the DHT node (default: a free loopback port). */
  port?: number;
  /** TCP relay port (default: a free loopback port). */
  tcpPort?: number;
  /** Directory for the config and the keys file; kept as given. Default: a fresh temp dir, removed by `close()`. */
  dir?: string;
  /** Message of the day returned by the health check (default `"tox-persona local"`). */
  motd?: string;
  /** Upper bound for each start-up step (key in the log, health-check reply), in ms (default 15000). */
  startTimeoutMs?: number;
  /** Receives every log line of the daemon (stdout and stderr), e.g. for a debug logger. */
  onLog?: (line: string) => void;
  /** Nodes this daemon bootstraps from (default none), e.g. earlier local daemons, to make a local network of several nodes. */
  bootstrapNodes?: BootstrapNode[];
}

/** Reply to the tox-bootstrapd UDP health check ("bootstrap info" packet). */
export interface BootstrapdInfo {
  /** Daemon version, e.g. 1000002018 for 0.2.18. */
  version: number;
  /** The configured message of the day. */
  motd: string;
}

/** A running (or stopped, restartable) local tox-bootstrapd. */
export interface Bootstrapd {
  /** Always `'127.0.0.1'`: nodes reach the daemon over loopback only. */
  readonly host: string;
  /** UDP DHT port. */
  readonly port: number;
  /** TCP relay port. */
  readonly tcpPort: number;
  /** The daemon's DHT public key, 64 uppercase hex characters; stable across restarts (same keys file). */
  readonly publicKey: string;
  /** Directory holding the config and keys file. */
  readonly dir: string;
  /** Version reported by the last successful health check. */
  readonly version: number;
  /** Whether the daemon process is currently running. */
  readonly running: boolean;
  /** The daemon as a {@link BootstrapNode} (UDP port plus its TCP relay port), ready for `ToxNode.bootstrap`. */
  node(): BootstrapNode;
  /** The daemon as a `host:port:key` string. */
  nodeString(): string;
  /** Sends one health-check packet and resolves with the reply; rejects with BOOTSTRAPD_TIMEOUT when none comes. */
  healthCheck(timeoutMs?: number): Promise<BootstrapdInfo>;
  /** Kills the daemon's process group (SIGTERM, then SIGKILL); idempotent; keeps the dir so `start()` can bring back the same node. */
  stop(): Promise<void>;
  /** Starts the daemon again with the same keys file and ports (no-op when running); rejects if it does not come up. */
  start(): Promise<void>;
  /** `stop()` then `start()`: the same node (key, ports) comes back. */
  restart(): Promise<void>;
  /** `stop()` and remove the temp dir when we created it; idempotent; the object is unusable afterwards. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
// "$@" is the daemon command line. Exits when the daemon exits, or kills it when stdin reaches EOF (owner gone).
const WATCHDOG = [
  'exec 3<&0',
  '"$@" 0</dev/null 3<&- &',
  'daemon=$!',
  // An explicit redirection: background jobs of a non-interactive sh would otherwise read /dev/null.
  '{ while read -r _; do :; done; kill -TERM "$daemon" 2>/dev/null; } <&3 &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$daemon"',
  'code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a tox-bootstrapd on free loopback ports and resolves once it printed its key and answered a health check. */
export async function startBootstrapd(options: BootstrapdOptions = {}): Promise<Bootstrapd> {
  const binary = findBinary(options.binary ?? 'tox-bootstrapd');
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'tox-bootstrapd-')));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const fixedPorts = options.port !== undefined || options.tcpPort !== undefined;
  // A free port can be taken between our probe and the daemon's bind; retry with new ports a few times.
  let lastError: unknown;
  for (let attempt = 0; attempt < (fixedPorts ? 1 : 4); attempt++) {
    const port = options.port ?? (await freeUdpPort());
    const tcpPort = options.tcpPort ?? (await freeTcpPort(port));
    const daemon = new Daemon(binary, dir, ownDir, port, tcpPort, options);
    try {
      await daemon.writeConfig();
      await daemon.start();
      return daemon;
    } catch (err) {
      lastError = err;
      await daemon.stop();
      if (!(err instanceof BootstrapdError && (err.code === 'BOOTSTRAPD_EXITED' || err.code === 'BOOTSTRAPD_PORT_IN_USE'))) break;
    }
  }
  if (ownDir) await rm(dir, { recursive: true, force: true });
  throw lastError;
}

/** Sends the tox-bootstrapd health-check packet (0xF0 + 77 filler bytes) to host:port and resolves with version and MOTD. */
export function bootstrapdHealthCheck(host: string, port: number, timeoutMs = 1000): Promise<BootstrapdInfo> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new BootstrapdError('BOOTSTRAPD_TIMEOUT', `no health-check reply from tox-bootstrapd at ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', (msg) => {
      if (msg.length < 5 || msg[0] !== 0xf0) return;
      clearTimeout(timer);
      sock.close();
      resolve({ version: msg.readUInt32BE(1), motd: msg.subarray(5).toString('utf8').replace(/\0+$/, '') });
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(new BootstrapdError('BOOTSTRAPD_TIMEOUT', `health check of ${host}:${port} failed: ${err.message}`, { cause: err }));
    });
    const packet = Buffer.alloc(78);
    packet[0] = 0xf0;
    sock.send(packet, port, host);
  });
}

class Daemon implements Bootstrapd {
  readonly host = HOST;
  publicKey = '';
  version = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly logTail: string[] = [];

  constructor(
    private readonly binary: string,
    readonly dir: string,
    private readonly ownDir: boolean,
    readonly port: number,
    readonly tcpPort: number,
    private readonly options: BootstrapdOptions,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get configPath(): string {
    return join(this.dir, 'tox-bootstrapd.conf');
  }

  node(): BootstrapNode {
    return { host: this.host, port: this.port, publicKey: this.publicKey, tcpPorts: [this.tcpPort] };
  }

  nodeString(): string {
    return `${this.host}:${this.port}:${this.publicKey}`;
  }

  async writeConfig(): Promise<void> {
    const q = (s: string) => JSON.stringify(s); // libconfig strings use C-like escapes, JSON's are compatible for our paths.
    const motd = (this.options.motd ?? 'tox-persona local').replace(/[^\x20-\x7e]/g, '?');
    const config = [
      `port = ${this.port}`,
      `keys_file_path = ${q(join(this.dir, 'keys'))}`,
      `pid_file_path = ${q(join(this.dir, 'tox-bootstrapd.pid'))}`,
      'enable_ipv6 = false',
      'enable_ipv4_fallback = true',
      'enable_lan_discovery = false',
      'enable_tcp_relay = true',
      `tcp_relay_ports = [${this.tcpPort}]`,
      'enable_motd = true',
      `motd = ${q(motd)}`,
      `bootstrap_nodes = (${(this.options.bootstrapNodes ?? []).map((n) => `{ address = ${q(n.host)}\n port = ${Number(n.port)}\n public_key = ${q(n.publicKey)} }`).join(',\n')})`,
      '',
    ].join('\n');
    await writeFile(this.configPath, config, { mode: 0o600 });
  }

  async start(): Promise<void> {
    if (this.closed) throw new BootstrapdError('BOOTSTRAPD_CLOSED', 'tox-bootstrapd: start() after close()');
    if (this.child) return;
    // tox-bootstrapd silently moves to the next port when its port is taken, and a health check would then be
    // answered by whoever holds ours: check both ports are free right before spawning.
    if (!(await udpPortFree(this.port)) || !(await tcpPortFree(this.tcpPort))) {
      throw new BootstrapdError('BOOTSTRAPD_PORT_IN_USE', `tox-bootstrapd: port ${this.port}/udp or ${this.tcpPort}/tcp is already in use`);
    }
    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    // A stale pid file from a killed run makes some builds refuse to start.
    await rm(join(this.dir, 'tox-bootstrapd.pid'), { force: true });
    // A small sh watchdog runs the daemon and kills it when our end of its stdin closes, i.e. when this process dies
    // without running stop() (a crashed or SIGKILLed test worker), so no daemon outlives its owner.
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'tox-bootstrapd-watchdog', this.binary, `--config=${this.configPath}`, '--foreground', '--log-backend=stdout'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // The daemon inherits nothing secret: the companion's passphrases stay in the companion.
      env: childEnv(),
      detached: true, // its own process group, so stop() reaches the daemon too
    });
    this.child = child;
    live.add(child);
    installExitHook();
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error ${err.message}`;
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    let keyResolve!: (key: string) => void;
    const keySeen = new Promise<string>((resolve) => (keyResolve = resolve));
    const onLine = (line: string) => {
      this.logTail.push(line);
      if (this.logTail.length > 40) this.logTail.shift();
      this.options.onLog?.(line);
      const m = /Public Key: ([0-9A-Fa-f]{64})/.exec(line);
      if (m) keyResolve(m[1]!.toUpperCase());
    };
    lines(child.stdout!, onLine);
    lines(child.stderr!, onLine);

    const died = this.exited.then(() => {
      throw new BootstrapdError('BOOTSTRAPD_EXITED', `tox-bootstrapd exited during start-up (${exitInfo}); port ${this.port}/${this.tcpPort}; log:\n${this.logTail.join('\n')}`);
    });
    const key = await Promise.race([keySeen, died, timeout(timeoutMs, () => `tox-bootstrapd never printed "Public Key:" within ${timeoutMs} ms; log:\n${this.logTail.join('\n')}`)]);
    if (this.publicKey && this.publicKey !== key) {
      throw new BootstrapdError('BOOTSTRAPD_EXITED', `tox-bootstrapd came back with another key (${key}, was ${this.publicKey})`);
    }
    this.publicKey = key;
    const info = await Promise.race([this.waitHealthy(timeoutMs), died]);
    this.version = info.version;
  }

  private async waitHealthy(timeoutMs: number): Promise<BootstrapdInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await bootstrapdHealthCheck(this.host, this.port, 300);
      } catch (err) {
        if (!this.child) throw err;
        if (Date.now() >= deadline) {
          throw new BootstrapdError('BOOTSTRAPD_TIMEOUT', `tox-bootstrapd on ${this.host}:${this.port} never answered the UDP health check within ${timeoutMs} ms`);
        }
      }
    }
  }

  healthCheck(timeoutMs = 1000): Promise<BootstrapdInfo> {
    return bootstrapdHealthCheck(this.host, this.port, timeoutMs);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) {
      await this.exited;
      return;
    }
    killGroup(child, 'SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), delay(5000).then(() => false)]);
    if (!done) {
      killGroup(child, 'SIGKILL');
      const gone = await Promise.race([this.exited.then(() => true), delay(5000).then(() => false)]);
      if (!gone) throw new BootstrapdError('BOOTSTRAPD_TIMEOUT', `tox-bootstrapd (pid ${child.pid}) did not exit within 10 s of SIGTERM+SIGKILL`);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    if (this.ownDir) await rm(this.dir, { recursive: true, force: true });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

// If the test runner or CLI exits without stopping the daemon, don't leave it running.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

function findBinary(name: string): string {
  if (name.includes('/')) {
    if (!existsSync(name)) throw new BootstrapdError('BOOTSTRAPD_NOT_FOUND', `tox-bootstrapd binary not found at ${name} (install the Debian package toxcore-utils, or run scripts/setup.sh)`);
    return name;
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  throw new BootstrapdError('BOOTSTRAPD_NOT_FOUND', `${name} not found on PATH (install the Debian package toxcore-utils, or run scripts/setup.sh)`);
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (buf) onLine(buf);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function timeout(ms: number, what: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new BootstrapdError('BOOTSTRAPD_TIMEOUT', what())), ms).unref());
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, '0.0.0.0', () => sock.close(() => resolve(true)));
  });
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, HOST, () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

async function freeTcpPort(avoid: number): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, HOST, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port !== avoid) return port;
  }
}

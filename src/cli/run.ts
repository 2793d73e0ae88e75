// `tox-persona run`: the daemon command. Flags → config, start, progress lines and QR code on a terminal, graceful shutdown on signals.
import { Command, Option } from 'commander';
import { common, commandConfig, type CommonOptions } from './context.js';
import type { RawConfig } from '../companion/config.js';
import { createLogger } from '../companion/log.js';
import { startDaemon, type Daemon } from '../companion/open.js';
import { safeText } from './output.js';

interface RunOptions extends CommonOptions {
  network?: string;
  bootstrap?: string[];
  bootstrapKeyFile?: string;
  localPort?: string;
  policy?: string;
  acceptRequests?: string;
  adminHost?: string;
  adminPort?: string;
  admin?: boolean;
  probeHost?: string;
  probePort?: string;
  healthGrace?: string;
  statusText?: string;
  name?: string;
  ttl?: string;
  udp?: boolean;
  qr?: boolean;
  init?: boolean;
}

/** What the QR code holds: the `tox:` URI of the Tox ID, as qTox's profile QR code does and Tox clients' scanners expect. */
export function qrPayload(toxId: string): string {
  return `tox:${toxId}`;
}

/** Renders the Tox ID's `tox:` URI as a terminal QR code (Tox clients scan these). */
export async function qrText(toxId: string): Promise<string> {
  // Loaded here, not at start: only a daemon on a terminal draws the code; in a container it would be dead weight.
  const { default: qrcode } = await import('qrcode-terminal');
  return new Promise((resolve) => qrcode.generate(qrPayload(toxId), { small: true }, (s: string) => resolve(s)));
}

function runFlags(o: RunOptions): RawConfig {
  const flags: RawConfig = {};
  if (o.network) flags.network = o.network;
  if (o.bootstrap?.length) flags.bootstrap = [...o.bootstrap];
  if (o.localPort) flags.localPort = o.localPort;
  if (o.policy) flags.policy = o.policy;
  if (o.acceptRequests) flags.acceptRequests = o.acceptRequests;
  if (o.statusText !== undefined) flags.statusText = o.statusText;
  if (o.name !== undefined) flags.name = o.name;
  if (o.ttl) flags.ttlSeconds = o.ttl;
  if (o.healthGrace) flags.healthGraceSeconds = o.healthGrace;
  if (o.udp === false) flags.udp = false;
  const admin: NonNullable<RawConfig['admin']> = {};
  if (o.adminHost) admin.host = o.adminHost;
  if (o.adminPort) admin.port = o.adminPort;
  if (o.admin === false) admin.enabled = false;
  if (Object.keys(admin).length) flags.admin = admin;
  const probe: NonNullable<RawConfig['probe']> = {};
  if (o.probeHost) probe.host = o.probeHost;
  if (o.probePort) probe.port = o.probePort;
  if (Object.keys(probe).length) flags.probe = probe;
  return flags;
}

/** Registers `run`. */
export function registerRunCommand(program: Command): void {
  common(program.command('run'))
    .description('run the companion daemon: publish this persona\'s list, verify friends\' lists and remap them by itself')
    .addOption(new Option('--network <MODE>', 'public: the shipped node list; local: an embedded tox-bootstrapd on loopback').choices(['public', 'local']))
    .option('--bootstrap <HOST:PORT:KEY>', 'extra bootstrap node (repeatable); KEY may be @FILE (hex, or tox-bootstrapd\'s keys file)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--local-port <PORT>', 'UDP port of the embedded tox-bootstrapd under --network local (default: a free one)')
    .addOption(new Option('--policy <POLICY>', 'apply friends\' list updates automatically or after approve').choices(['auto', 'manual']))
    .addOption(new Option('--accept-requests <WHICH>', 'friend requests accepted without "accept"').choices(['none', 'personas', 'all']))
    .option('--admin-host <HOST>', 'admin endpoint address (default 127.0.0.1)')
    .option('--admin-port <PORT>', 'admin endpoint port (default: a free one, recorded in DIR/daemon.json)')
    .option('--no-admin', 'no admin endpoint (commands then cannot reach the running daemon)')
    .option('--probe-port <PORT>', 'also serve only /healthz and /metrics, without a token, on this port (off by default; 0: a free one)')
    .option('--probe-host <HOST>', 'address of that probe listener (default 0.0.0.0: it is meant for Kubernetes probes and Prometheus)')
    .option('--status-text <TEXT>', 'human part of the status message')
    .option('--name <NAME>', 'Tox name of this node')
    .option('--ttl <SECONDS>', 'lifetime of the signed list; it is re-signed at half of it')
    .option('--health-grace <SECONDS>', '/healthz reports healthy this long after start even while not yet connected (default 60)')
    .option('--no-udp', 'TCP relays only')
    .option('--no-qr', 'do not print the Tox ID as a QR code on a terminal')
    .option('--init', 'initialize the data directory first when it is empty (containers)')
    .action(async (o: RunOptions) => {
      const config = commandConfig(o, runFlags(o));
      const log = createLogger({ level: config.logLevel });
      const tty = Boolean(process.stderr.isTTY);
      const say = (line: string) => {
        if (tty) process.stderr.write(`${safeText(line)}\n`);
      };
      // The signal handlers go in before anything touches the data directory: a signal during start-up then waits for
      // start-up to finish (or fail) and stops cleanly, instead of Node's default exit that leaves daemon.json behind.
      let starting: Promise<Daemon> | undefined;
      let stopping: Promise<void> | undefined;
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      const shutdown = (exitCode: number) => {
        if (exitCode !== 0) process.exitCode = exitCode;
        if (stopping) return;
        const timer = setTimeout(() => {
          log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out: exiting at once');
          process.exit(1);
        }, config.shutdownTimeoutMs);
        timer.unref();
        // A start-up that fails reports its own error (and cleans up after itself); only a started daemon is stopped here.
        stopping = (starting ?? Promise.reject(new Error('not started')))
          .then(
            (daemon) =>
              daemon.stop().catch((err: unknown) => {
                log.error({ err: (err as Error).message }, 'error while stopping');
                process.exitCode = 1;
              }),
            () => undefined,
          )
          .finally(() => finished());
      };
      let signals = 0;
      let started = false;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          log.warn({ signal: sig }, 'second signal: exiting at once');
          process.exit(130);
        }
        log.info({ signal: sig }, started ? 'shutting down: saving' : 'signal during start-up: shutting down once start-up has finished');
        shutdown(0);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      log.debug({ dir: config.dir, network: config.network }, 'starting');
      say(`tox-persona: starting on ${config.dir} (network ${config.network})`);
      starting = startDaemon(config, log, {
        initIfMissing: !!o.init,
        onLockLost: () => shutdown(1),
      });
      let daemon: Daemon;
      try {
        daemon = await starting;
      } catch (err) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        throw err;
      }
      started = true;
      if (!stopping) {
        const c = daemon.companion;
        say(`bootstrapping off ${daemon.bootstrapNodes.length} node${daemon.bootstrapNodes.length === 1 ? '' : 's'}…`);
        say(`Tox ID:    ${c.node.address}`);
        say(`PersonaID: ${c.personaId}`);
        if (daemon.admin) say(`admin:     http://${daemon.admin.host}:${daemon.admin.port}/healthz`);
        if (daemon.probe) say(`probe:     http://${daemon.probe.host}:${daemon.probe.port}/healthz and /metrics`);
        if (tty && o.qr !== false) process.stderr.write(`${await qrText(c.node.address)}\n`);
        c.on('selfConnection', (conn) => say(conn === 'none' ? 'DHT disconnected' : `DHT connected (${conn})`));
        c.on('friendConnection', (e) => say(`friends online ${e.online}/${e.total}`));
        c.on('alarm', (a) => say(`ALARM ${a.reason}: persona ${a.personaId.slice(0, 8)}…: ${a.detail}`));
      }
      await done;
    });
}

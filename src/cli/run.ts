// `tox-persona run`: the daemon command. Flags → config, start, progress lines and QR code on a terminal, graceful shutdown on signals.
import type { Command } from 'commander';
import { common, commandConfig, type CommonOptions } from './context.js';
import { addSettingFlags, settingsFromFlags } from '../companion/config.js';
import { createLogger } from '../companion/log.js';
import { startDaemon, type Daemon } from '../companion/open.js';
import { safeText } from './output.js';

interface RunOptions extends CommonOptions {
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

/** Registers `run`. */
export function registerRunCommand(program: Command): void {
  addSettingFlags(common(program.command('run')))
    .description('run the companion daemon: publish this persona\'s list, verify friends\' lists and remap them by itself')
    .option('--no-qr', 'do not print the Tox ID as a QR code on a terminal')
    .option('--init', 'initialize the data directory first when it is empty (containers)')
    .action(async (o: RunOptions) => {
      const config = commandConfig(o, settingsFromFlags(o as unknown as Record<string, unknown>));
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

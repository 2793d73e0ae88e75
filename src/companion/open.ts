// Opening a data directory: create one (init), open it for one offline operation under the lock, or run it as the daemon.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompanionConfig } from './config.js';
import { configPath } from './config.js';
import { Companion, loadCompanionState } from './companion.js';
import { FILES, DAEMON_LOCK_WAIT_MS, dataPath, ensureDir, isInitialized, lockDaemonIntent, lockDataDir, readOrCreateToken, repairDataDir, rotateToken, requireInitialized, writeJsonFile, writeRuntime, DataDirError, type Release } from './datadir.js';
import type { Logger } from './log.js';
import { CompanionMetrics } from './metrics.js';
import { openNode } from './node-adapter.js';
import type { NodePortBootstrap } from './node-port.js';
import { startAdminServer, startProbeServer, type AdminHandlers, type AdminServer } from './admin.js';
import { READ_ONLY_OPERATIONS, runOperation } from './ops.js';
import * as P from './persona-port.js';
import { buildStatusMessage, emptyTable, serializeTable } from '../persona/index.js';
import { useNativeCrypto } from '../crypto/native-sodium.js';
import { startBootstrapd, type Bootstrapd } from '../tox/bootstrapd.js';
import { commitFiles } from '../util/fs.js';
import { certifyNewSigner, rootKeyFile } from './signer.js';
import { decodeRecoveryKey, encodeSignerRequest, isRecoveryKeyText } from '../persona/recovery.js';
import { generatePersonaKey, personaKeyFileText, type PersonaKeyPair } from '../persona/keys.js';
import { hexToBytes } from '../util/bytes.js';
import { defaultNodes } from '../tox/nodes.js';
import { StartupTimer, sinceProcessStart } from './startup.js';

/** Environment variable holding the passphrase of an encrypted profile.tox (the same one `profile` commands read). */
export const PROFILE_PASSPHRASE_ENV = 'TOX_PERSONA_PASSPHRASE';

/** Environment variable holding the passphrase of an encrypted persona.key: `init` encrypts the new key file with it, every later load needs it. */
export const KEY_PASSPHRASE_ENV = 'TOX_PERSONA_KEY_PASSPHRASE';

/** The profile passphrase from the environment, if any (kept out of the config object so it never reaches a log). */
function profilePassphrase(): string | undefined {
  return process.env[PROFILE_PASSPHRASE_ENV] || undefined;
}

/** The persona-key passphrase from the environment, if any (read here only, never stored in the config). */
function keyPassphrase(): string | undefined {
  return process.env[KEY_PASSPHRASE_ENV] || undefined;
}

/** Options for {@link initDataDir}. */
export interface InitOptions {
  /** Import this persona key (an export string) instead of generating one. */
  personaExport?: string;
  /** Passphrase of that export string. */
  exportPassphrase?: string;
  /** Settings written to config.json (only the given ones). */
  settings?: Record<string, unknown>;
  /** Device name of this device in the first list. */
  deviceName?: string;
  ttlSeconds?: number;
  /**
   * A status message (or bare blob) carrying this persona's newest list, from a device that already has it: the new
   * device starts from that list plus itself, instead of a list of itself alone that would drop the other devices.
   */
  baseList?: string;
  /** Join an existing persona without its root: make a signer key and a request for the root to certify (`persona join` installs the answer). */
  join?: boolean;
}

/** What {@link initDataDir} created. */
export interface InitResult {
  dir: string;
  toxId: string;
  publicKey: string;
  personaId: string;
  /** `join`: the signer request to certify on the machine with the root (`persona certify`). */
  request?: string;
}

/** Throws `ALREADY_INITIALIZED` when any file init would create is already there. */
function refuseInitialized(dir: string): void {
  for (const f of ['profile', 'personaKey', 'signerKey', 'signerCert', 'devices', 'table'] as const) {
    if (existsSync(dataPath(dir, f))) throw new DataDirError('ALREADY_INITIALIZED', `${dataPath(dir, f)} already exists; init never overwrites a data directory`);
  }
}

/** Creates a data directory: profile, persona key, first signed list, empty table, config. Refuses an existing one (`ALREADY_INITIALIZED`). */
export async function initDataDir(dir: string, options: InitOptions = {}): Promise<InitResult> {
  useNativeCrypto();
  ensureDir(dir);
  refuseInitialized(dir);
  // Waits a little for the lock: a concurrent init then finishes first and this one reports ALREADY_INITIALIZED, not LOCKED.
  const release = await lockDataDir(dir, { waitMs: 10_000 });
  try {
    await repairDataDir(dir);
    // Checked again under the lock: another init may have created the directory between the first check and the lock.
    refuseInitialized(dir);
    const keyPass = keyPassphrase();
    // A device that joins an existing persona without its root: a signer key and a request for the root to certify.
    if (options.join) return await initJoining(dir, options, keyPass);
    const root = options.personaExport ? (await rootFromText(options.personaExport, options.exportPassphrase)) : (await P.newPersonaKey()).pair;
    // With $TOX_PERSONA_PASSPHRASE set, the new profile is written encrypted (toxEsave).
    const pass = profilePassphrase();
    const node = await openNode({ profilePath: dataPath(dir, 'profile'), create: true, ...(pass ? { passphrase: pass } : {}) });
    try {
      const me = { publicKey: node.publicKey, name: options.deviceName ?? '' };
      let prev: P.DeviceList | undefined;
      let devices: P.DeviceView[] = [me];
      if (options.baseList) {
        const v = P.decodeOwnList(options.baseList);
        if (!v.ok) throw new DataDirError('BAD_ARGUMENT', `--list: ${v.reason}: ${v.detail}`);
        if (P.listPersonaIdHex(v.signed.list) !== P.personaIdHex({ pair: root })) throw new DataDirError('BAD_ARGUMENT', '--list: that list belongs to another persona than the imported key');
        prev = v.signed.list;
        devices = [...P.devicesOf(prev).filter((d) => d.publicKey !== me.publicKey), me];
      }
      // Every device signs with its own signer, certified by the root for the persona's current epoch: the root can then
      // leave the device (persona root remove) without friends seeing any change. The key files are 0600 and encrypted
      // with $TOX_PERSONA_KEY_PASSPHRASE when it is set; loading them later reads the same variable.
      const signer = await certifyNewSigner(root, prev?.epoch ?? 0, keyPass);
      const keys: P.OwnKeys = { personaId: root.publicKey, root, signer: signer.signer };
      const own = P.signNext(prev, devices, keys, Date.now() / 1000, options.ttlSeconds ?? prev?.ttl ?? 7 * 24 * 3600);
      // The device name is also the Tox name, so friends see "phone" rather than libtoxcore's empty name ("Anonymous").
      if (options.deviceName) node.setName(options.deviceName);
      node.setStatusMessage(buildStatusMessage(own, typeof options.settings?.statusText === 'string' ? options.settings.statusText : 'tox-persona'));
      // Keys, profile, first list and table in one commit: a crash leaves all of them or none (then init can run again).
      await commitFiles(dir, [
        await rootKeyFile(root, keyPass),
        ...signer.files,
        { name: FILES.profile, data: node.profileBytes() },
        { name: FILES.devices, data: `${JSON.stringify(P.ownListToJson(own), null, 2)}\n` },
        { name: FILES.table, data: serializeTable(emptyTable()) },
      ]);
      if (!existsSync(configPath(dir))) await writeJsonFile(configPath(dir), options.settings ?? {});
      await readOrCreateToken(dir);
      return { dir, toxId: node.address, publicKey: node.publicKey, personaId: P.personaIdHex(keys) };
    } finally {
      await node.close();
    }
  } finally {
    await release();
  }
}

/** The root from an export string or a recovery key. */
async function rootFromText(text: string, passphrase: string | undefined): Promise<PersonaKeyPair> {
  return isRecoveryKeyText(text) ? decodeRecoveryKey(text) : (await P.importKey(text, passphrase)).pair;
}

/** `init --join`: a profile and a signer key waiting for its certificate (`persona join`); no list, no root. */
async function initJoining(dir: string, options: InitOptions, keyPass: string | undefined): Promise<InitResult> {
  const pass = profilePassphrase();
  const node = await openNode({ profilePath: dataPath(dir, 'profile'), create: true, ...(pass ? { passphrase: pass } : {}) });
  try {
    await P.ready();
    const signer = await generatePersonaKey();
    if (options.deviceName) node.setName(options.deviceName);
    const request = encodeSignerRequest({ signerKey: signer.publicKey, device: hexToBytes(node.publicKey, 32, 'device'), name: options.deviceName ?? '' });
    await commitFiles(dir, [
      { name: FILES.signerKey, data: await personaKeyFileText(signer, keyPass ? { passphrase: keyPass } : {}) },
      { name: FILES.profile, data: node.profileBytes() },
    ]);
    if (!existsSync(configPath(dir))) await writeJsonFile(configPath(dir), options.settings ?? {});
    await readOrCreateToken(dir);
    return { dir, toxId: node.address, publicKey: node.publicKey, personaId: '', request };
  } finally {
    await node.close();
  }
}

/** Opens an initialized data directory without networking; the caller must `close()` the companion and then `release()`. */
export async function openOffline(config: CompanionConfig, log: Logger, options: { lockWaitMs?: number } = {}): Promise<{ companion: Companion; release: Release }> {
  useNativeCrypto();
  requireInitialized(config.dir);
  const release = await lockDataDir(config.dir, options.lockWaitMs !== undefined ? { waitMs: options.lockWaitMs } : {});
  try {
    await repairDataDir(config.dir, log);
    const pass = profilePassphrase();
    const node = await openNode({ profilePath: dataPath(config.dir, 'profile'), udp: config.udp, ipv6: config.ipv6, localDiscovery: config.localDiscovery, ...(pass ? { passphrase: pass } : {}) });
    try {
      const state = await loadCompanionState(config.dir, node.publicKey, config.ttlSeconds, undefined, { selfStatusMessage: node.statusMessage(), log });
      const companion = new Companion(config, state, { node, log, ...(pass ? { profilePassphrase: pass } : {}) });
      await companion.finishInterruptedEnrollments();
      return { companion, release };
    } catch (err) {
      await node.close();
      throw err;
    }
  } catch (err) {
    await release();
    throw err;
  }
}

/** Runs one operation directly on the data directory (daemon not running), under the lock (waiting `lockWaitMs` for it, default LOCK_WAIT_MS). */
export async function runOffline(config: CompanionConfig, log: Logger, op: string, args: Record<string, unknown>, options: { lockWaitMs?: number } = {}): Promise<unknown> {
  const { companion, release } = await openOffline(config, log, options);
  try {
    return await runOperation(companion, op, args);
  } finally {
    await companion.close({ save: !READ_ONLY_OPERATIONS.has(op) });
    await release();
  }
}

/** A running daemon. */
export interface Daemon {
  readonly companion: Companion;
  readonly admin: AdminServer | undefined;
  /** The probe listener (health and metrics only), when `probe.enabled`. */
  readonly probe: AdminServer | undefined;
  readonly bootstrapd: Bootstrapd | undefined;
  readonly bootstrapNodes: readonly NodePortBootstrap[];
  /** Saves and stops everything; idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startDaemon}. */
export interface DaemonOptions {
  /** Create the data directory first when it is not initialized (containers start from an empty volume). */
  initIfMissing?: boolean;
  metrics?: CompanionMetrics;
  /**
   * Called when the data directory's lock is lost (another process may be writing the files). The daemon must stop:
   * `run` shuts down through its signal path and exits 1. Without it, the daemon stops itself (after start-up, if it
   * was still starting).
   */
  onLockLost?: (err: Error) => void;
}

/** Starts the daemon: takes the lock for its lifetime, opens profile/key/table, starts the network, the admin endpoint, and publishes. */
export async function startDaemon(config: CompanionConfig, log: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const phases = new StartupTimer();
  phases.mark('modules');
  useNativeCrypto();
  if (!isInitialized(config.dir)) {
    if (!options.initIfMissing) requireInitialized(config.dir);
    const r = await initDataDir(config.dir, { ttlSeconds: config.ttlSeconds });
    log.info({ dir: config.dir, toxId: r.toxId, personaId: r.personaId }, 'initialized a new data directory');
  }
  // Set once start-up has built the daemon: a lock lost without an onLockLost handler stops it through stop().
  let stopSelf: (() => Promise<void>) | undefined;
  let companionRef: Companion | undefined;
  let lostDuringStartup = false;
  let lockLost = false;
  // Commands see this one at once and wait for the daemon instead of taking the data-directory lock before it.
  const releaseIntent = await lockDaemonIntent(config.dir);
  const release = await lockDataDir(config.dir, {
    waitMs: DAEMON_LOCK_WAIT_MS,
    onCompromised: (err) => {
      // The lock file was removed or replaced: another process may lock the new one, so saving on would race it.
      log.error({ err: err.message }, 'data directory lock lost: another process may be writing it; shutting down');
      lockLost = true;
      companionRef?.stopWriting();
      if (options.onLockLost) options.onLockLost(err);
      else if (stopSelf) void stopSelf();
      else lostDuringStartup = true;
    },
  }).catch(async (err: unknown) => {
    await releaseIntent();
    throw err;
  });
  phases.mark('lock');
  // Undone in reverse: the data-directory lock first, daemon.lock last.
  const cleanups: Array<() => Promise<void>> = [releaseIntent, release];
  const undo = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    await repairDataDir(config.dir, log);
    phases.mark('recover');
    let bootstrapd: Bootstrapd | undefined;
    const nodes: NodePortBootstrap[] = [];
    if (config.network === 'local') {
      bootstrapd = await startBootstrapd({
        dir: join(config.dir, 'bootstrapd'),
        ...(config.localPort ? { port: config.localPort } : {}),
        onLog: (line) => log.trace({ component: 'bootstrapd' }, line),
      });
      cleanups.push(() => bootstrapd!.close());
      nodes.push(bootstrapd.node());
      log.info({ node: bootstrapd.nodeString() }, 'local tox-bootstrapd running');
      phases.mark('bootstrapd');
    } else if (config.bootstrap.length === 0) {
      nodes.push(...defaultNodes());
    }
    nodes.push(...config.bootstrap);
    const pass = profilePassphrase();
    const node = await openNode({ profilePath: dataPath(config.dir, 'profile'), udp: config.udp, ipv6: config.ipv6, localDiscovery: config.localDiscovery, ...(pass ? { passphrase: pass } : {}) });
    phases.mark('toxNew');
    const state = await loadCompanionState(config.dir, node.publicKey, config.ttlSeconds, undefined, { selfStatusMessage: node.statusMessage(), log }).catch(async (err: unknown) => {
      await node.close();
      throw err;
    });
    phases.mark('load');
    const metrics = options.metrics ?? new CompanionMetrics();
    const companion = new Companion(config, state, { node, log, metrics, ...(pass ? { profilePassphrase: pass } : {}) });
    companionRef = companion;
    cleanups.push(() => companion.close());
    await companion.finishInterruptedEnrollments();
    // One set of handlers for both listeners; the probe listener's route allow-list decides what it exposes.
    const handlers: AdminHandlers = {
      health: () => companion.health(),
      metrics: async () => ({ contentType: metrics.contentType, text: await metrics.render() }),
      personas: () => ({ personas: companion.personas() }),
      status: () => companion.status(),
      op: (name, args) => runOperation(companion, name, args),
    };
    let admin: AdminServer | undefined;
    if (config.admin.enabled) {
      const token = await rotateToken(config.dir);
      admin = await startAdminServer({ host: config.admin.host, port: config.admin.port, token, log: log.child({ component: 'admin' }), handlers });
      // Closed before the companion so no operation arrives while it saves for the last time.
      cleanups.push(() => admin!.close());
      log.info({ host: admin.host, port: admin.port }, 'admin endpoint listening');
      phases.mark('admin');
    }
    let probe: AdminServer | undefined;
    if (config.probe.enabled) {
      probe = await startProbeServer({ host: config.probe.host, port: config.probe.port, log: log.child({ component: 'probe' }), handlers });
      cleanups.push(() => probe!.close());
      log.info({ host: probe.host, port: probe.port }, 'probe listener (/healthz, /metrics) listening');
      phases.mark('probe');
    }
    // How long toxcore takes from tox_new to its first connection (its own onion timers decide, not us), for the log.
    const onConnection = (c: string) => {
      if (c === 'none') return;
      companion.off('selfConnection', onConnection);
      log.info({ sinceProcessStartMs: sinceProcessStart(), sinceToxNewMs: Math.round(sinceProcessStart() - phases.toJSON().toxNew!), connection: c }, 'first DHT connection since start');
    };
    companion.on('selfConnection', onConnection);
    await companion.start(nodes);
    phases.mark('published');
    await writeRuntime(config.dir, {
      pid: process.pid,
      admin: admin ? { host: admin.host, port: admin.port } : null,
      probe: probe ? { host: probe.host, port: probe.port } : null,
      startedAt: new Date().toISOString(),
      toxId: node.address,
    });
    cleanups.push(() => rm(dataPath(config.dir, 'runtime'), { force: true }));
    phases.mark('answering');
    log.info({ phasesMs: phases.toJSON() }, 'daemon started (each phase: ms since the process started)');
    let stopping: Promise<void> | undefined;
    const daemon: Daemon = {
      companion,
      admin,
      probe,
      bootstrapd,
      bootstrapNodes: nodes,
      stop() {
        stopping ??= (async () => {
          // undo() closes the listeners before the companion, so no request writes during its final save.
          await undo();
          if (lockLost) log.warn('daemon stopped without its final save: the data directory lock was lost');
          else log.info('daemon stopped, everything saved');
        })();
        return stopping;
      },
    };
    stopSelf = () => daemon.stop();
    if (lostDuringStartup) {
      await daemon.stop();
      throw new DataDirError('LOCKED', `${config.dir}: the data directory lock was lost during start-up (another process may be writing it)`);
    }
    return daemon;
  } catch (err) {
    await undo();
    throw err;
  }
}

// Actors for the adversarial tests: personas that sign lists at will (Alice, Mallory) and a victim companion on a real node.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig, type RawConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import { openNode, type ToxNodePort } from '../../src/companion/node-adapter.js';
import { initDataDir } from '../../src/companion/open.js';
import * as P from '../../src/companion/persona-port.js';
import { buildStatusMessage } from '../../src/persona/index.js';
import type { BootstrapNode } from '../../src/tox/nodes.js';

/** A random Tox public key, 64 uppercase hex; valid as toxcore checks one (last byte below 0x80), as device add and friend add require. */
export const randomKey = (): string => {
  const b = randomBytes(32);
  b[31]! &= 0x7f;
  return b.toString('hex').toUpperCase();
};

/** A persona whose key the test holds: it signs whatever list an honest or hostile owner would publish. */
export interface TestPersona {
  readonly key: P.PersonaKey;
  /** PersonaID, 64 uppercase hex. */
  readonly id: string;
  /** Signs the next list (seq above every earlier one; issued a second after the last unless `sameSecond`) as a status message. */
  publish(devices: readonly (string | P.DeviceView)[], human?: string, sameSecond?: boolean): string;
  /** Signs a list with the same seq as the last one published but other devices: an equivocation. */
  equivocate(devices: readonly (string | P.DeviceView)[], human?: string): string;
}

const view = (d: string | P.DeviceView): P.DeviceView => (typeof d === 'string' ? { publicKey: d, name: '' } : d);

/** A fresh persona with its own key; lists are issued one second apart, starting now. */
export async function makePersona(): Promise<TestPersona> {
  await P.ready();
  const key = await P.newPersonaKey();
  let prev: P.DeviceList | undefined;
  let before: P.DeviceList | undefined;
  let issuedAt = Math.floor(Date.now() / 1000);
  return {
    key,
    id: P.personaIdHex(key),
    publish(devices, human = '', sameSecond = false) {
      if (!sameSecond) issuedAt += 1;
      const s = P.signNext(prev, devices.map(view), key.pair, issuedAt, 3600);
      before = prev;
      prev = s.list;
      return buildStatusMessage(s, human);
    },
    equivocate(devices, human = '') {
      if (!prev) throw new Error('equivocate: publish a list first');
      const s = P.signNext(before, devices.map(view), key.pair, prev.issuedAt, 3600);
      if (s.list.seq !== prev.seq) throw new Error(`equivocate: seq ${s.list.seq} differs from ${prev.seq}`);
      return buildStatusMessage(s, human);
    },
  };
}

/** A victim companion over a real ToxNode, with its own initialized data directory. */
export interface Victim {
  readonly companion: Companion;
  readonly node: ToxNodePort;
  readonly dir: string;
  close(): Promise<void>;
}

/** Initializes a data directory under `root`, opens its node and starts the companion, bootstrapped off `bootstrap`. */
export async function startVictim(root: string, bootstrap: BootstrapNode, flags: RawConfig = {}): Promise<Victim> {
  const dir = join(root, `victim-${randomBytes(4).toString('hex')}`);
  await initDataDir(dir);
  const config = loadConfig({ dir, env: {}, readFile: false, flags: { localDiscovery: false, ipv6: false, ...flags } });
  const node = await openNode({ profilePath: join(dir, 'profile.tox'), ipv6: false, localDiscovery: false });
  const state = await loadCompanionState(dir, node.publicKey, config.ttlSeconds, undefined, { selfStatusMessage: node.statusMessage() });
  const companion = new Companion(config, state, { node, log: createLogger({ level: 'silent' }) });
  await companion.start([bootstrap]);
  return { companion, node, dir, close: () => companion.close() };
}

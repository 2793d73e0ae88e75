// `tox-persona demo`: the scripted story on a private loopback network (real tox-bootstrapd, real Tox nodes), told in readable lines.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../companion/config.js';
import { createLogger } from '../companion/log.js';
import { initDataDir, startDaemon, type Daemon } from '../companion/open.js';
import { openNode, type ToxNodePort } from '../companion/node-adapter.js';
import type { Companion, StatusOutcome } from '../companion/companion.js';
import { startBootstrapd, type Bootstrapd } from '../tox/bootstrapd.js';
import { personasText } from './commands.js';
import type * as P from '../companion/persona-port.js';
import { shortKey } from './output.js';
import { ToxPersonaError } from '../util/errors.js';

/** A demo step did not happen in time. */
export class DemoError extends ToxPersonaError {}

/** Polls `cond` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until<T>(cond: () => T | undefined | false | null, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > deadline) throw new DemoError('DEMO_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where story lines go (default stdout). */
  out?: (line: string) => void;
  /** Keep the temp directory (printed) instead of removing it. */
  keep?: boolean;
  logLevel?: string;
}

/** What the demo ends with, for tests. */
export interface DemoResult {
  alicePersona: string;
  laptop: string;
  bobTable: ReturnType<Companion['personas']>;
  alarms: ReturnType<Companion['status']>['alarms'];
}

/** Runs the four-step story; resolves with the final state, throws DemoError naming the step that did not happen. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const say = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  // The story is on stdout; node logs stay quiet unless asked for (the alarm the story provokes is told there too).
  const log = createLogger({ level: (options.logLevel as never) ?? 'error' });
  const root = await mkdtemp(join(tmpdir(), 'tox-persona-demo-'));
  let bootstrapd: Bootstrapd | undefined;
  const daemons: Daemon[] = [];
  let laptop: ToxNodePort | undefined;
  try {
    say('== tox-persona demo: a private Tox network on loopback ==');
    bootstrapd = await startBootstrapd();
    say(`local tox-bootstrapd up at ${bootstrapd.host}:${bootstrapd.port} (key ${shortKey(bootstrapd.publicKey)})`);
    const flags = { bootstrap: [bootstrapd.nodeString()], admin: { enabled: false }, logLevel: options.logLevel ?? 'error', statusText: '' };
    const open = async (name: string, deviceName: string, statusText: string) => {
      const dir = join(root, name);
      await initDataDir(dir, { deviceName, settings: { statusText } });
      const config = loadConfig({ dir, flags: { ...flags, statusText, name }, env: {} });
      const d = await startDaemon(config, log.child({ node: name }));
      daemons.push(d);
      return d.companion;
    };

    say('');
    say('-- 1. Alice\'s companion (her phone) and Bob\'s node come up and befriend each other');
    const alice = await open('alice', 'phone', 'Alice');
    const bob = await open('bob', 'bob', 'Bob');
    say(`Alice: PersonaID ${shortKey(alice.personaId)}, phone ${shortKey(alice.node.publicKey)}`);
    say(`Bob:   PersonaID ${shortKey(bob.personaId)}, node  ${shortKey(bob.node.publicKey)}`);
    await until(() => alice.node.selfConnection() !== 'none' && bob.node.selfConnection() !== 'none', 'Alice and Bob to join the DHT');
    say('both nodes are on the DHT');
    alice.friendAdd(bob.node.address, 'hi Bob, it is Alice');
    say('Alice sends Bob a friend request');
    await until(() => bob.pendingRequests().some((r) => r.publicKey === alice.node.publicKey), 'Bob to receive Alice\'s friend request');
    bob.accept(alice.node.publicKey);
    say('Bob accepts it (Alice is not in his table yet, so his "personas" policy waits for him)');
    await until(() => bob.node.friend(alice.node.publicKey)?.connection !== 'none' && bob.node.friend(alice.node.publicKey), 'Alice and Bob to connect');
    say('Alice and Bob are connected');
    const alicePersona = await until(() => bob.personas().find((p) => p.personaId === alice.personaId && p.state === 'verified'), 'Bob to verify Alice\'s list');
    say(`Bob verified Alice's signed list and mapped her persona: devices ${alicePersona.devices.map((d) => d.name || shortKey(d.publicKey)).join(', ')} (seq ${alicePersona.seq})`);

    say('');
    say('-- 2. Alice enrolls a laptop: a rekeyed copy of her profile, listed and re-signed');
    const enrolled = await alice.enroll(join(root, 'laptop.tox'), 'laptop');
    say(`new device key ${shortKey(enrolled.publicKey)}; ${enrolled.friends} friend(s) carried over; list now ${enrolled.devices.map((d) => d.name).join(', ')}`);
    laptop = await openNode({ profilePath: enrolled.out });
    laptop.bootstrap([bootstrapd.node()]);
    laptop.start();
    say('the laptop starts with that profile; its status message already carries the new list');
    await until(() => bob.node.friend(enrolled.publicKey), 'Bob\'s companion to add the laptop by itself');
    say('Bob\'s companion saw the new list and added the laptop by itself (no friend request)');
    await until(() => bob.node.friend(enrolled.publicKey)?.connection !== 'none', 'Bob and the laptop to connect', 90_000);
    say('Bob and the laptop are connected');
    await until(() => bob.personas().find((p) => p.personaId === alice.personaId)?.devices.find((d) => d.publicKey === enrolled.publicKey)?.confirmed, 'the laptop to confirm Alice\'s list over its own connection');
    say('the laptop published the same list over its own connection: confirmed in Bob\'s table');

    say('');
    say('-- 3. Alice removes the laptop, and Bob drops it');
    alice.deviceRemove(enrolled.publicKey);
    say('Alice re-signs and publishes a list without the laptop');
    await until(() => !bob.node.friend(enrolled.publicKey) && !bob.personas().find((p) => p.personaId === alice.personaId)?.devices.some((d) => d.publicKey === enrolled.publicKey), 'Bob to drop the laptop');
    say('Bob\'s companion removed the laptop from Alice\'s persona and from his friends');

    say('');
    say('-- 4. A replay of Alice\'s older list is refused as a rollback');
    say('Bob adds the dropped laptop back by hand; it still publishes the older list that names it');
    const outcome = await new Promise<StatusOutcome>((resolveOutcome, rejectOutcome) => {
      const timer = setTimeout(() => {
        bob.off('statusProcessed', onProcessed);
        rejectOutcome(new DemoError('DEMO_TIMEOUT', 'timed out after 90000 ms waiting for the laptop\'s older list to reach Bob over the network'));
      }, 90_000);
      const onProcessed = (e: { from: string; outcome: StatusOutcome }) => {
        if (e.from !== enrolled.publicKey || !('personaId' in e.outcome) || e.outcome.personaId !== alice.personaId) return;
        clearTimeout(timer);
        bob.off('statusProcessed', onProcessed);
        resolveOutcome(e.outcome);
      };
      bob.on('statusProcessed', onProcessed);
      bob.friendAdd(enrolled.toxId, 'come back?');
    });
    say(`outcome: ${outcome.kind}${'reason' in outcome ? ` (${outcome.reason})` : ''}`);
    const alarm = bob.status().alarms.find((a) => a.reason === 'ROLLBACK');
    if (!alarm) throw new DemoError('DEMO_FAILED', 'the replay raised no ROLLBACK alarm');
    say(`ALARM ${alarm.reason}: ${alarm.detail}`);
    const after = bob.personas().find((p) => p.personaId === alice.personaId)!;
    say(`Alice's persona in Bob's table is unchanged: seq ${after.seq}, devices ${after.devices.map((d) => d.name || shortKey(d.publicKey)).join(', ')}`);
    say('(the laptop is Bob\'s friend again, but only on its own: a provisional entry, not part of Alice\'s persona)');

    say('');
    say('== Bob\'s table at the end ==');
    say(personasText(bob.personas()));
    return { alicePersona: alice.personaId, laptop: enrolled.publicKey, bobTable: bob.personas(), alarms: bob.status().alarms };
  } finally {
    if (laptop) await laptop.close().catch(() => undefined);
    for (const d of daemons.reverse()) await d.stop().catch(() => undefined);
    if (bootstrapd) await bootstrapd.close().catch(() => undefined);
    if (options.keep) say(`(kept ${root})`);
    else await rm(root, { recursive: true, force: true });
  }
}

/** Registers `demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the story on a private loopback network: Alice enrolls a laptop, Bob follows by himself, then she removes it and a replay is refused')
    .option('--keep', 'keep the temporary data directories')
    .option('--log-level <LEVEL>', 'log level of the nodes, on stderr (default error)')
    .action(async (o: { keep?: boolean; logLevel?: string }) => {
      const started = Date.now();
      await runDemo({ ...(o.keep ? { keep: true } : {}), ...(o.logLevel ? { logLevel: o.logLevel } : {}) });
      process.stdout.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
}

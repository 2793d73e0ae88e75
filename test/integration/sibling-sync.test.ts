// Sibling sync over a real local Tox network: Alice's companion enrolls a laptop and a tablet (companions too, from the
// profiles `device enroll` wrote, holding her persona key); the three befriend each other by themselves and keep one
// view. Alice removes the tablet and every sibling converges to the same list and friends; a reject and a block made
// on the companion hold on the laptop; the laptop, offline during a change, catches up when it comes back and does
// not revert it; and Mallory, a friend but no device of Alice's, changes nothing with sync packets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useLocalNetwork } from '../support/network.js';
import { waitFor } from '../support/wait.js';
import { makePersona, startVictim, type Victim } from '../support/hostile.js';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import { openNode } from '../../src/companion/node-adapter.js';
import * as P from '../../src/companion/persona-port.js';
import { encodeCore, encodeFrames } from '../../src/companion/sibling-codec.js';
import type { ToxNode } from '../../src/tox/node.js';

const net = useLocalNetwork();
const open: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const v of open.reverse()) await v.close().catch(() => undefined);
});

const FLAGS = { policy: 'manual', localDiscovery: false, ipv6: false } as const;

/** Starts a companion on the data directory `dir` (an enrolled profile and the persona key put there). */
async function startDevice(dir: string): Promise<Victim> {
  const config = loadConfig({ dir, env: {}, readFile: false, flags: FLAGS });
  const node = await openNode({ profilePath: join(dir, 'profile.tox'), ipv6: false, localDiscovery: false });
  const state = await loadCompanionState(dir, node.publicKey, config.ttlSeconds, undefined, { selfStatusMessage: node.statusMessage() });
  const companion = new Companion(config, state, { node, log: createLogger({ level: 'silent' }) });
  await companion.start([net.get().bootstrapd.node()]);
  const v = { companion, node, dir, close: () => companion.close() };
  open.push(v);
  return v;
}

/** A data directory for a device Alice enrolled on `from`: its profile and her persona key. */
async function enroll(from: Victim, name: string): Promise<string> {
  const dir = join(net.get().dir, `alice-${name}`);
  await mkdir(dir, { recursive: true });
  await from.companion.enroll(join(dir, 'profile.tox'), name);
  await copyFile(join(from.dir, 'persona.key'), join(dir, 'persona.key'));
  return dir;
}

const devices = (v: Victim) => P.devicesOf(v.companion.ownList.list).map((d) => d.publicKey);
const online = (v: Victim, pk: string) => (v.node.friend(pk)?.connection ?? 'none') !== 'none';

describe('Alice\'s devices act as one (real nodes)', () => {
  let phone: Victim;
  let laptop: Victim;
  let tablet: Victim;
  let laptopDir = '';

  beforeAll(async () => {
    phone = await startVictim(net.get().dir, net.get().bootstrapd.node(), FLAGS);
    open.push(phone);
    laptopDir = await enroll(phone, 'laptop');
    const tabletDir = await enroll(phone, 'tablet');
    laptop = await startDevice(laptopDir);
    tablet = await startDevice(tabletDir);
  }, 60_000);

  it('the three befriend each other by themselves (the laptop adds the tablet it learns of from the phone\'s list)', async () => {
    const all = [phone, laptop, tablet];
    await waitFor(() => all.every((a) => all.every((b) => a === b || online(a, b.node.publicKey))), {
      what: 'Alice\'s phone, laptop and tablet to be online friends of each other', timeoutMs: 120_000, intervalMs: 250,
    });
    await waitFor(() => all.every((v) => devices(v).join() === devices(phone).join()), { what: 'the three to hold the same list', timeoutMs: 30_000 });
    expect(devices(phone)).toHaveLength(3);
  }, 150_000);

  it('Mallory, a friend but no device of Alice\'s, sends sync packets: nothing changes on the laptop', async () => {
    const mallory: ToxNode = await net.get().addNode();
    await laptop.companion.friendAdd(mallory.addressHex.toUpperCase(), 'hi');
    mallory.friendAddNorequest(laptop.node.publicKey);
    const m = mallory.friendByPublicKey(laptop.node.publicKey)!;
    await waitFor(() => online(laptop, mallory.publicKeyHex.toUpperCase()) && mallory.friendConnectionStatus(m) !== 'none', { what: 'Mallory and Alice\'s laptop to connect', timeoutMs: 90_000, intervalMs: 250 });
    const before = JSON.stringify({ f: laptop.companion.current.friends, b: laptop.companion.current.blocked, s: laptop.companion.ownList.list.seq });
    const dropped = laptop.companion.siblings.stats.dropped.NOT_SIBLING ?? 0;
    // A copy of the phone's list and a "block the phone" register: the kind of message a sibling sends.
    const state = encodeCore({ kind: 'state', full: true, own: Buffer.from(P.ownListToJson(phone.companion.ownList).record, 'base64'), registers: [{ key: phone.node.publicKey, kind: 'blocked', t: Date.now(), by: phone.node.publicKey, personas: [] }], decisions: [], vouched: [], lists: [], held: [] });
    const n = laptop.node.tox.friendByPublicKey(mallory.publicKeyHex)!;
    expect(n).toBeDefined();
    for (let i = 0; i < 50; i++) for (const f of encodeFrames(state.type, i, state.body)) mallory.sendLosslessPacket(m, f);
    await waitFor(() => (laptop.companion.siblings.stats.dropped.NOT_SIBLING ?? 0) >= dropped + 50, { what: 'the laptop to receive (and drop) Mallory\'s 50 sync packets', timeoutMs: 30_000 });
    expect(JSON.stringify({ f: laptop.companion.current.friends, b: laptop.companion.current.blocked, s: laptop.companion.ownList.list.seq })).toBe(before);
    expect(laptop.companion.siblings.bufferedBytes).toBe(0);
  }, 150_000);

  it('a reject and a block made on the phone hold on the laptop', async () => {
    const bobPhone: ToxNode = await net.get().addNode();
    const bob = await makePersona();
    const bobPk = bobPhone.publicKeyHex.toUpperCase();
    for (const v of [phone, laptop]) {
      await v.companion.friendAdd(bobPhone.addressHex.toUpperCase(), 'hi');
      bobPhone.friendAddNorequest(v.node.publicKey);
    }
    bobPhone.setStatusMessage(bob.publish([bobPk]));
    await waitFor(() => [phone, laptop].every((v) => v.companion.current.table.pending.some((p) => p.personaId === bob.id)), {
      what: 'Bob\'s list to be held on both the phone and the laptop (manual policy)', timeoutMs: 120_000, intervalMs: 250,
    });
    phone.companion.reject(bob.id);
    await waitFor(() => !laptop.companion.current.table.pending.some((p) => p.personaId === bob.id), { what: 'the laptop to drop the list rejected on the phone', timeoutMs: 30_000 });

    phone.companion.friendRemove(bobPk);
    await waitFor(() => laptop.companion.current.blocked.includes(bobPk) && !laptop.node.friend(bobPk), { what: 'the laptop to block and delete Bob\'s phone, removed on Alice\'s phone', timeoutMs: 30_000 });
  }, 250_000);

  it('Alice removes the tablet on the phone: the laptop converges to the same list and friends', async () => {
    const tabletPk = tablet.node.publicKey;
    phone.companion.deviceRemove(tabletPk);
    await waitFor(() => devices(laptop).join() === devices(phone).join() && !laptop.node.friend(tabletPk) && !phone.node.friend(tabletPk), {
      what: 'the laptop to adopt the list without the tablet and both to unfriend the tablet', timeoutMs: 30_000,
    });
    expect(devices(laptop)).not.toContain(tabletPk);
  }, 60_000);

  it('the laptop, offline during a change, catches up when it comes back and does not revert it', async () => {
    const laptopPk = laptop.node.publicKey;
    await laptop.close();
    open.splice(open.indexOf(laptop), 1);
    await waitFor(() => !online(phone, laptopPk), { what: 'the phone to see the laptop offline', timeoutMs: 60_000 });
    const x = (await net.get().addNode({}, { waitOnline: false })).publicKeyHex.toUpperCase();
    await phone.companion.friendAdd(`${x}000000000000`, 'hi');
    phone.companion.friendRemove(x);
    phone.companion.deviceActivate(laptopPk);
    await phone.companion.flush();
    const seq = phone.companion.ownList.list.seq;
    laptop = await startDevice(laptopDir);
    expect(devices(laptop)[0], 'the laptop started with the change already').not.toBe(laptopPk);
    await waitFor(() => devices(laptop).join() === devices(phone).join() && laptop.companion.current.blocked.includes(x), {
      what: 'the laptop to catch up with the list and the block made while it was offline', timeoutMs: 120_000, intervalMs: 250,
    });
    expect(phone.companion.ownList.list.seq, 'the phone went back to an older list').toBe(seq);
    expect(devices(phone)[0]).toBe(laptop.node.publicKey);
  }, 250_000);
});

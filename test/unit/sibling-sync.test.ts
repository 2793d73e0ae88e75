// Sibling sync between companions over stub nodes whose lossless packets are wired to each other: Alice's three
// devices (A, B, C) hold one persona; what one of them decides reaches the others, a sibling that was offline catches
// up, and a friend that is not (or no longer) a device of the list changes nothing, however much it sends.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig, type RawConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import * as P from '../../src/companion/persona-port.js';
import { buildStatusMessage } from '../../src/persona/codec.js';
import { digestLines, digestOf } from '../../src/companion/sibling-sync.js';
import { SIBLING_RATE } from '../../src/companion/sibling-channel.js';
import { encodeCore, encodeFrames, MAX_MESSAGE_BYTES } from '../../src/companion/sibling-codec.js';
import { FakeNode } from '../support/fake-node.js';
import type { SelfConnection } from '../../src/companion/node-port.js';

const pk = () => { const b = randomBytes(32); b[31]! &= 0x7f; return b.toString('hex').toUpperCase(); };

/** Stub nodes whose lossless packets reach each other (asynchronously, as over a network) while both sides are "online". */
class Wire {
  readonly nodes = new Map<string, WiredNode>();
  inFlight = 0;
  deliver(from: string, to: string, data: Uint8Array): void {
    const target = this.nodes.get(to);
    if (!target || target.friend(from)?.connection === 'none') return;
    this.inFlight++;
    setImmediate(() => {
      this.inFlight--;
      target.emitEvent('friendLosslessPacket', { publicKey: from, data });
    });
  }
  /** Waits until no packet is on its way (bounded). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      await new Promise((r) => setImmediate(r));
      if (this.inFlight === 0) {
        await new Promise((r) => setImmediate(r));
        if (this.inFlight === 0) return;
      }
    }
    throw new Error('sibling packets never stopped flowing (a sync loop?)');
  }
}

class WiredNode extends FakeNode {
  constructor(publicKey: string, private readonly wire: Wire) {
    super(publicKey);
    wire.nodes.set(publicKey, this);
  }
  override sendLosslessPacket(publicKey: string, data: Uint8Array): void {
    super.sendLosslessPacket(publicKey, data);
    this.wire.deliver(this.publicKey, publicKey, data);
  }
  /** Sets our side of the connection to `pk` and tells the companion. */
  connect(pk: string, connection: SelfConnection): void {
    const f = this.friend(pk)!;
    f.connection = connection;
    this.emitEvent('friendConnection', { publicKey: pk, status: connection });
  }
}

interface Device {
  c: Companion;
  node: WiredNode;
  dir: string;
}

describe('sibling sync between Alice\'s companions (stub nodes, wired packets)', () => {
  let root: string;
  let wire: Wire;
  let key: P.PersonaKey;
  const open: Device[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-sibling-'));
    wire = new Wire();
    await P.ready();
    key = await P.newPersonaKey();
  });
  afterEach(async () => {
    for (const d of open.splice(0)) await d.c.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Alice's devices: one persona key, one signed list naming all of them, every device a friend of every other, online. */
  async function alice(n: number, flags: RawConfig = {}, clockOffsets: number[] = []): Promise<Device[]> {
    const keys = Array.from({ length: n }, pk);
    const list = P.signNext(undefined, keys.map((k, i) => ({ publicKey: k, name: `d${i}` })), key.pair, Date.now() / 1000, 3600);
    const out: Device[] = [];
    for (const [i, k] of keys.entries()) {
      const dir = join(root, k.slice(0, 8));
      await rm(dir, { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
      await P.writePersonaKey(join(dir, 'persona.key'), key);
      await writeFile(join(dir, 'devices.json'), JSON.stringify(P.ownListToJson(list)));
      const node = new WiredNode(k, wire);
      for (const other of keys) if (other !== k) node.addFriend(other, '', 'udp');
      const config = loadConfig({ dir, env: {}, readFile: false, flags });
      const state = await loadCompanionState(dir, k, 3600);
      const offset = clockOffsets[i] ?? 0;
      const c = new Companion(config, state, { node, log: createLogger({ level: 'silent' }), ...(offset ? { now: () => Date.now() / 1000 + offset } : {}) });
      await c.start([]);
      const d = { c, node, dir };
      open.push(d);
      out.push(d);
    }
    return out;
  }

  /** Every companion's effects performed (a save before a publish is awaited), then every packet delivered, until quiet. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      for (const d of open) await d.c.flush();
      await wire.settle();
    }
  }
  const devicesOf = (d: Device) => P.devicesOf(d.c.ownList.list).map((x) => x.publicKey);
  const digest = (d: Device) => Buffer.from(digestOf(d.c.current)).toString('hex');

  /** A friend's persona (Bob): a key and his lists. */
  async function bobPersona() {
    const k = await P.newPersonaKey();
    let prev: P.DeviceList | undefined;
    let t = Date.now() / 1000;
    return {
      id: P.personaIdHex(k),
      publish(devices: string[]): string {
        t += 1;
        const s = P.signNext(prev, devices.map((publicKey) => ({ publicKey, name: '' })), k.pair, t, 3600);
        prev = s.list;
        return buildStatusMessage(s, 'Bob');
      },
      refresh(): string {
        t += 1;
        const s = P.signRefresh(prev!, k.pair, t, 3600);
        prev = s.list;
        return buildStatusMessage(s, 'Bob');
      },
    };
  }

  it('Alice removes device C on A: B adopts the list over sync alone and unfriends C; C\'s sync is ignored from then on', async () => {
    const [a, b, c] = await alice(3);
    const x = pk();
    b!.node.addFriend(x, '', 'udp');
    b!.c.scanFriends();
    a!.c.deviceRemove(c!.node.publicKey);
    await settle();
    expect(devicesOf(b!)).toEqual(devicesOf(a!));
    expect(b!.node.friend(c!.node.publicKey), 'B still has the removed device C as a friend').toBeUndefined();
    // A and B deleted C before telling anyone: C keeps its old list and hears nothing more.
    expect(devicesOf(c!)).toContain(c!.node.publicKey);

    // The stolen C, still A's friend in this stub, says "the user blocked x": nobody listens.
    const before = b!.c.siblings.stats.dropped.NOT_SIBLING ?? 0;
    const hostile = encodeCore({ kind: 'state', full: true, own: P.ownListToJson(c!.c.ownList).record ? Buffer.from(P.ownListToJson(c!.c.ownList).record, 'base64') : new Uint8Array(1), registers: [{ key: x, kind: 'blocked', t: Date.now() + 1000, by: c!.node.publicKey, personas: [] }], decisions: [], vouched: [], lists: [], held: [] });
    c!.node.addFriend(b!.node.publicKey, '', 'udp');
    b!.node.addFriend(c!.node.publicKey, '', 'udp');
    for (const f of encodeFrames(hostile.type, 1, hostile.body)) c!.node.sendLosslessPacket(b!.node.publicKey, f);
    await settle();
    expect(b!.c.siblings.stats.dropped.NOT_SIBLING).toBe(before + 1);
    expect(b!.c.current.blocked).not.toContain(x);
    expect(b!.node.friend(x)).toBeDefined();
  });

  it('a block made on A holds on B; a later unblock on A does not lift it on B (only B\'s user can)', async () => {
    const [a, b] = await alice(2);
    const x = pk();
    for (const d of [a!, b!]) {
      d.node.addFriend(x, '', 'udp');
      d.c.scanFriends();
    }
    a!.c.friendRemove(x);
    await settle();
    expect(b!.c.current.blocked).toContain(x);
    expect(b!.node.friend(x), 'B kept the friend the user removed on A').toBeUndefined();
    a!.c.friendAdd(`${x}000000000000`, 'again');
    await settle();
    expect(a!.c.current.blocked).not.toContain(x);
    expect(b!.c.current.blocked, 'a sibling lifted a block on B').toContain(x);
  });

  it('a reject made on A holds on B, also when the same version arrives again later; an approve on A applies on B', async () => {
    const [a, b] = await alice(2, { policy: 'manual' });
    const bob = await bobPersona();
    const phone = pk();
    for (const d of [a!, b!]) {
      d.node.addFriend(phone, '', 'udp');
      d.c.scanFriends();
    }
    const first = bob.publish([phone]);
    for (const d of [a!, b!]) expect(d.c.onStatusMessage(phone, first).kind).toBe('pending');
    await settle();
    a!.c.reject(bob.id);
    await settle();
    expect(b!.c.current.table.pending, 'B still holds the list the user rejected on A').toEqual([]);
    // Bob's phone re-signs the same version (a refresh): B rejects it by itself.
    expect(b!.c.onStatusMessage(phone, bob.refresh()).kind).toBe('pending');
    expect(b!.c.current.table.pending).toEqual([]);

    const second = bob.publish([phone]);
    for (const d of [a!, b!]) expect(d.c.onStatusMessage(phone, second).kind).toBe('pending');
    await settle();
    a!.c.approve(bob.id);
    await settle();
    expect(b!.c.current.table.personas[bob.id]?.state).toBe('verified');
    expect(b!.c.current.table.pending).toEqual([]);
    const view = (d: Device) => ({ ...d.c.current.sibling, vouched: d.c.current.vouched, lists: Object.values(d.c.current.table.personas).filter((e) => e.state !== 'provisional').map((e) => [e.personaId, e.state, e.contentHash]) });
    expect(view(b!)).toEqual(view(a!));
    expect(digestLines(b!.c.current)).toEqual(digestLines(a!.c.current));
    expect(digest(b!)).toBe(digest(a!));
  });

  it('a sibling offline during a change catches up when it reconnects and does not revert it', async () => {
    const [a, b, c] = await alice(3);
    const x = pk();
    for (const d of [a!, b!]) {
      d.node.addFriend(x, '', 'udp');
      d.c.scanFriends();
    }
    // B goes offline for A and C.
    for (const d of [a!, c!]) {
      d.node.connect(b!.node.publicKey, 'none');
      b!.node.connect(d.node.publicKey, 'none');
    }
    a!.c.friendRemove(x);
    a!.c.deviceRemove(c!.node.publicKey);
    await settle();
    expect(b!.c.current.blocked).not.toContain(x);
    expect(devicesOf(b!)).toContain(c!.node.publicKey);
    const seqBefore = a!.c.ownList.list.seq;
    // B comes back: HELLO both ways, the digests differ, each sends its state.
    a!.node.connect(b!.node.publicKey, 'udp');
    b!.node.connect(a!.node.publicKey, 'udp');
    await settle();
    expect(devicesOf(b!)).toEqual(devicesOf(a!));
    expect(a!.c.ownList.list.seq, 'A went back to an older list').toBe(seqBefore);
    expect(b!.c.current.blocked).toContain(x);
    expect(b!.node.friend(c!.node.publicKey)).toBeUndefined();
    expect(b!.node.friend(x)).toBeUndefined();
    expect(digest(b!)).toBe(digest(a!));
  });

  it('a friend B holds only as copied with the profile is deleted when the persona that A added it for drops it', async () => {
    const [a, b] = await alice(2);
    const bob = await bobPersona();
    const phone = pk();
    const laptop = pk();
    a!.node.addFriend(phone, '', 'udp');
    a!.c.friendAdd(`${phone}000000000000`, 'hi');
    a!.c.onStatusMessage(phone, bob.publish([phone, laptop]));
    expect(a!.node.friend(laptop), 'A did not add Bob\'s laptop').toBeDefined();
    // B got both with the copied profile (device enroll): it holds them as the user's.
    for (const k of [phone, laptop]) b!.node.addFriend(k, '', 'udp');
    b!.c.scanFriends();
    a!.node.connect(b!.node.publicKey, 'udp');
    await settle();
    expect(b!.c.current.friends[laptop]).toMatchObject({ user: false, personas: [bob.id] });
    // Bob drops the laptop; only A hears it (B is not online with Bob's phone): B deletes it too.
    a!.c.onStatusMessage(phone, bob.publish([phone]));
    await settle();
    expect(a!.node.friend(laptop)).toBeUndefined();
    expect(b!.node.friend(laptop), 'the device Bob dropped stays B\'s friend for ever').toBeUndefined();
    expect(b!.node.friend(phone), 'B deleted the friend the user added').toBeDefined();
  });

  it('a friend that is not a device of the list changes nothing with any amount of packets, and buffers nothing', async () => {
    const [a, b] = await alice(2);
    const m = pk();
    const x = pk();
    b!.node.addFriend(m, '', 'udp');
    b!.node.addFriend(x, '', 'udp');
    b!.c.scanFriends();
    const mallory = new WiredNode(m, wire);
    mallory.addFriend(b!.node.publicKey, '', 'udp');
    const before = JSON.stringify({ f: b!.c.current.friends, bl: b!.c.current.blocked, own: b!.c.ownList.list.seq, d: digest(b!) });
    const state = encodeCore({ kind: 'state', full: true, own: Buffer.from(P.ownListToJson(a!.c.ownList).record, 'base64'), registers: [{ key: x, kind: 'blocked', t: Date.now(), by: a!.node.publicKey, personas: [] }], decisions: [], vouched: [pk()], lists: [], held: [] });
    for (let i = 0; i < 200; i++) {
      for (const f of encodeFrames(state.type, i, state.body)) mallory.sendLosslessPacket(b!.node.publicKey, f);
      // Unfinished maximal messages too.
      mallory.sendLosslessPacket(b!.node.publicKey, encodeFrames(2, 1000 + i, new Uint8Array(MAX_MESSAGE_BYTES))[0]!);
      mallory.sendLosslessPacket(b!.node.publicKey, randomBytes(1373));
    }
    await settle();
    expect(b!.c.siblings.bufferedBytes).toBe(0);
    expect(b!.c.siblings.stats.dropped.NOT_SIBLING).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify({ f: b!.c.current.friends, bl: b!.c.current.blocked, own: b!.c.ownList.list.seq, d: digest(b!) })).toBe(before);
  });

  it('a sibling\'s flood is rate-limited: at most the burst of messages is processed at once', async () => {
    const [a, b] = await alice(2);
    const hello = encodeCore({ kind: 'hello', own: Buffer.from(P.ownListToJson(a!.c.ownList).record, 'base64'), digest: new Uint8Array(32) });
    const inBefore = b!.c.siblings.stats.messagesIn;
    for (let i = 0; i < 1000; i++) b!.c.siblings.receive(a!.node.publicKey, encodeFrames(hello.type, i, hello.body)[0]!);
    const processed = b!.c.siblings.stats.messagesIn - inBefore;
    expect(processed).toBeLessThanOrEqual(SIBLING_RATE.burst + SIBLING_RATE.perSecond);
    expect(b!.c.siblings.stats.dropped.RATE_LIMITED).toBeGreaterThanOrEqual(1000 - processed);
    await settle();
  });

  it('siblings that refreshed the same list at different times agree on the digest (no full exchange at every HELLO)', async () => {
    // The list was signed with another ttl than the configured one: each refreshes it at start, B's clock 5 s later.
    const [a, b] = await alice(2, {}, [0, 5]);
    await settle();
    const out = b!.c.siblings.stats.messagesOut;
    expect(a!.c.ownList.list.seq).toBe(b!.c.ownList.list.seq);
    expect(a!.c.ownList.list.issuedAt).not.toBe(b!.c.ownList.list.issuedAt);
    a!.node.connect(b!.node.publicKey, 'udp');
    await settle();
    expect(digest(a!)).toBe(digest(b!));
    expect(b!.c.siblings.stats.messagesOut - out, 'B answered a HELLO with its full state').toBe(0);
  });

  it('HELLOs with a differing digest, as fast as a sibling can send them, get at most one full state a second', async () => {
    const [a, b] = await alice(2);
    const hello = encodeCore({ kind: 'hello', own: Buffer.from(P.ownListToJson(a!.c.ownList).record, 'base64'), digest: new Uint8Array(32) });
    const outBefore = b!.c.siblings.stats.messagesOut;
    for (let i = 0; i < 20; i++) b!.c.siblings.receive(a!.node.publicKey, encodeFrames(hello.type, i, hello.body)[0]!);
    await b!.c.flush();
    expect(b!.c.siblings.stats.messagesOut - outBefore).toBe(1);
    expect(b!.c.siblings.stats.dropped.FULL_STATE_SUPPRESSED).toBe(19);
    await settle();
  });

  it('extensions: a registered message type reaches siblings only; core and taken types are refused', async () => {
    const [a, b] = await alice(2);
    const got: Array<[string, string]> = [];
    const codec = { encode: (s: string) => new TextEncoder().encode(s), decode: (u: Uint8Array) => (u.length > 0 ? new TextDecoder().decode(u) : undefined) };
    b!.c.siblings.register(40, codec, (from, v) => got.push([from, v]));
    a!.c.siblings.register(40, codec, () => undefined);
    expect(() => a!.c.siblings.register(40, codec, () => undefined)).toThrow(expect.objectContaining({ code: 'SIBLING_TYPE_TAKEN' }));
    expect(() => a!.c.siblings.register(2, codec, () => undefined)).toThrow(expect.objectContaining({ code: 'SIBLING_BAD_TYPE' }));
    expect(a!.c.siblings.send(40, 'my group peer keys')).toBe(1);
    await settle();
    expect(got).toEqual([[a!.node.publicKey, 'my group peer keys']]);
  });
});

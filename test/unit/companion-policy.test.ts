// The companion's logic over a stub node: Bob's companion follows Alice's lists (auto), holds them (manual), applies the
// friend-request policy, records alarms, refuses lists that would not fit, saves what it changed, and logs no secrets.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { MAX_STRANGER_REQUESTS } from '../../src/companion/requests.js';
import { loadConfig, type RawConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import * as P from '../../src/companion/persona-port.js';
import { buildStatusMessage } from '../../src/persona/index.js';
import { FakeNode } from '../support/fake-node.js';

// A valid Curve25519 public key as toxcore sees one: random, last byte below 0x80.
const pk = () => { const b = randomBytes(32); b[31]! &= 0x7f; return b.toString('hex').toUpperCase(); };

/** Alice: a persona key and her signed lists, as her devices would publish them. */
async function makeAlice() {
  const key = await P.newPersonaKey();
  let prev: P.DeviceList | undefined;
  let t = Date.now() / 1000;
  return {
    key,
    id: P.personaIdHex(key),
    publish(devices: P.DeviceView[]): string {
      t += 1;
      const s = P.signNext(prev, devices, key.pair, t, 3600);
      prev = s.list;
      return buildStatusMessage(s, 'Alice');
    },
  };
}

describe('companion logic (stub node)', () => {
  let dir: string;
  let bob: Companion;
  let node: FakeNode;
  const open = async (flags: RawConfig = {}) => {
    const config = loadConfig({ dir, env: {}, readFile: false, flags });
    node = new FakeNode(pk());
    const state = await loadCompanionState(dir, node.publicKey, 3600);
    bob = new Companion(config, state, { node, log: createLogger({ level: 'silent' }) });
    await bob.start([]);
    return bob;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-policy-'));
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
  });
  afterEach(async () => {
    await bob?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('auto: Bob verifies Alice, adds her new laptop by himself, and drops it when she removes it', async () => {
    await open();
    const alice = await makeAlice();
    const phone = pk();
    const laptop = pk();
    node.addFriend(phone);
    expect(bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }])).kind).toBe('applied');
    expect(bob.personas().find((p) => p.personaId === alice.id)?.state).toBe('verified');
    bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }, { publicKey: laptop, name: 'laptop' }]));
    expect(node.calls).toContain(`addNorequest ${laptop}`);
    const dev = bob.personas().find((p) => p.personaId === alice.id)!.devices.find((d) => d.publicKey === laptop)!;
    expect(dev).toMatchObject({ confirmed: false, addedByUs: true });
    bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }]));
    expect(node.calls).toContain(`delete ${laptop}`);
    expect(node.friend(laptop)).toBeUndefined();
  });

  it('manual: updates wait for approve; approve applies them and their actions, reject drops them', async () => {
    await open({ policy: 'manual' });
    const alice = await makeAlice();
    const phone = pk();
    const laptop = pk();
    node.addFriend(phone);
    expect(bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }])).kind).toBe('pending');
    expect(bob.personas().find((p) => p.personaId === alice.id)?.pending).toHaveLength(1);
    bob.approve(alice.id.slice(0, 10));
    expect(bob.personas().find((p) => p.personaId === alice.id)?.state).toBe('verified');
    expect(bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }, { publicKey: laptop, name: 'laptop' }])).kind).toBe('pending');
    expect(node.calls).not.toContain(`addNorequest ${laptop}`);
    bob.reject(alice.id);
    expect(bob.personas().find((p) => p.personaId === alice.id)?.pending).toBeUndefined();
    expect(() => bob.approve(alice.id)).toThrow(expect.objectContaining({ code: 'NO_PENDING' }));
  });

  it('manual: approving a held update the table refuses (a rollback) throws APPROVE_REFUSED and drops it', async () => {
    await open({ policy: 'manual' });
    const alice = await makeAlice();
    const phone = pk();
    node.addFriend(phone);
    bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }]));
    bob.approve(alice.id);
    expect(bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }, { publicKey: pk(), name: 'a' }])).kind).toBe('pending');
    // Approving a newer list drops older held ones, so the held list is made a rollback by moving the entry past it
    // directly, as a list applied between holding and approving would.
    const table = bob.current.table;
    const seq = table.personas[alice.id]!.seq! + 1e9;
    table.personas[alice.id]!.seq = seq;
    expect(() => bob.approve(alice.id)).toThrow(expect.objectContaining({ code: 'APPROVE_REFUSED', message: expect.stringMatching(/ROLLBACK/) }));
    const after = bob.personas().find((p) => p.personaId === alice.id)!;
    expect(after.seq).toBe(seq);
    expect(after.pending).toBeUndefined();
    expect(() => bob.approve(alice.id)).toThrow(expect.objectContaining({ code: 'NO_PENDING' }));
  });

  it('friend requests: "personas" accepts only confirmed devices of verified personas, the rest wait for accept', async () => {
    await open();
    const alice = await makeAlice();
    const phone = pk();
    const tablet = pk();
    const laptop = pk();
    const stranger = pk();
    node.addFriend(phone);
    const list = alice.publish([{ publicKey: phone, name: 'phone' }, { publicKey: tablet, name: 'tablet' }, { publicKey: laptop, name: 'laptop' }]);
    bob.onStatusMessage(phone, list);
    bob.onStatusMessage(tablet, list); // the tablet confirms Alice's list; the laptop never does
    node.friendDelete(tablet); // the friendship got lost on the Tox side
    node.friendDelete(laptop);
    node.request(tablet, 'hi');
    node.request(laptop, 'me too');
    node.request(stranger, 'let me in');
    expect(node.friend(tablet)).toBeDefined();
    expect(node.friend(laptop)).toBeUndefined();
    expect(node.friend(stranger)).toBeUndefined();
    expect(bob.pendingRequests().map((r) => r.publicKey)).toEqual([laptop, stranger]);
    bob.decline(laptop);
    bob.accept(stranger.slice(0, 8));
    expect(node.friend(stranger)).toBeDefined();
    expect(bob.pendingRequests()).toEqual([]);
  });

  it('friend requests: "none" keeps every request waiting, "all" accepts every one', async () => {
    await open({ acceptRequests: 'none' });
    const x = pk();
    node.request(x, '');
    expect(node.friend(x)).toBeUndefined();
    bob.decline(x);
    expect(bob.pendingRequests()).toEqual([]);
    await bob.close();
    await open({ acceptRequests: 'all' });
    const y = pk();
    node.request(y, '');
    expect(node.friend(y)).toBeDefined();
  });

  it('friend requests: strangers fill at most their bucket, the newest beyond it are dropped and counted, and a repeat updates its entry without a save of its own', async () => {
    await open({ acceptRequests: 'none' });
    const keys = Array.from({ length: MAX_STRANGER_REQUESTS + 5 }, () => pk());
    for (const k of keys) node.request(k, `from ${k.slice(0, 4)}`);
    // The first ones stay: a flood of new keys is what gets dropped, not the requests that were waiting.
    expect(bob.pendingRequests().map((r) => r.publicKey)).toEqual(keys.slice(0, MAX_STRANGER_REQUESTS));
    expect(bob.status().requestsDropped).toBe(5);
    const saves = vi.spyOn(bob, 'requestSave');
    const last = keys[MAX_STRANGER_REQUESTS - 1]!;
    for (let i = 0; i < 50; i++) node.request(last, `again ${i}`);
    for (const k of keys.slice(MAX_STRANGER_REQUESTS)) node.request(k, 'still here');
    expect(saves, 'repeats and drops saved on their own').not.toHaveBeenCalled();
    expect(bob.pendingRequests()).toHaveLength(MAX_STRANGER_REQUESTS);
    expect(bob.pendingRequests().filter((r) => r.publicKey === last)).toEqual([expect.objectContaining({ message: 'again 49' })]);
    expect(await bob.metrics.render()).toMatch(/tox_persona_friend_requests_dropped 10\n/);
    // The update and the count are still saved: by the next save, here the one at close.
    await bob.close();
    const state = await loadCompanionState(dir, node.publicKey, 3600);
    expect(state.requests).toHaveLength(MAX_STRANGER_REQUESTS);
    expect(state.requestsDropped).toBe(10);
    expect(state.requests.find((r) => r.publicKey === last)?.message).toBe('again 49');
  });

  it('a rollback from a dropped device raises an alarm kept in status and metrics', async () => {
    await open();
    const alice = await makeAlice();
    const phone = pk();
    const old = pk();
    node.addFriend(phone);
    node.addFriend(old);
    const withOld = alice.publish([{ publicKey: phone, name: 'phone' }, { publicKey: old, name: 'old' }]);
    bob.onStatusMessage(phone, withOld);
    bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }]));
    const o = bob.onStatusMessage(old, withOld);
    expect(o).toMatchObject({ kind: 'ignored', reason: 'ROLLBACK' });
    expect(bob.status().alarms.map((a) => a.reason)).toEqual(['ROLLBACK']);
    expect(await bob.metrics.registry.getSingleMetricAsString('tox_persona_alarms_total')).toMatch(/reason="ROLLBACK"\} 1/);
  });

  it('the start-up scan applies friends\' saved status messages (toxcore restores them without an event)', async () => {
    const alice = await makeAlice();
    const phone = pk();
    const config = loadConfig({ dir, env: {}, readFile: false });
    node = new FakeNode(pk());
    node.addFriend(phone, alice.publish([{ publicKey: phone, name: 'phone' }]));
    bob = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600), { node, log: createLogger({ level: 'silent' }) });
    await bob.start([]);
    expect(bob.personas().find((p) => p.personaId === alice.id)?.state).toBe('verified');
    expect(node.status).toContain('~tp1:');
  });

  it('own list: changes re-sign and publish; a list that would not fit is refused and nothing changes', async () => {
    await open();
    const seq0 = bob.ownList.list.seq;
    const before = node.status;
    bob.deviceAdd(pk(), 'tablet');
    expect(bob.ownList.list.seq).toBeGreaterThan(seq0);
    // Durable before visible: the new list is published only once it is saved.
    expect(node.status).toBe(before);
    await bob.flush();
    expect(JSON.parse(readFileSync(join(dir, 'devices.json'), 'utf8'))).toEqual(P.ownListToJson(bob.ownList));
    expect(P.verifyStatus(node.status, Date.now() / 1000)).toMatchObject({ ok: true, devices: [expect.anything(), expect.objectContaining({ name: 'tablet' })] });
    expect(() => bob.deviceRemove(node.publicKey)).toThrow(expect.objectContaining({ code: 'OWN_DEVICE' }));
    let refused: unknown;
    for (let i = 0; i < 40 && !refused; i++) {
      try {
        bob.deviceAdd(pk(), `device-with-a-long-name-${i}`);
      } catch (e) {
        refused = e;
      }
    }
    expect(refused).toMatchObject({ code: 'STATUS_MESSAGE_TOO_LONG' });
    await bob.flush();
    expect(P.verifyStatus(node.status, Date.now() / 1000)).toMatchObject({ ok: true, seq: bob.ownList.list.seq });
  });

  it('saves the table and own list; a reopened companion sees the same state', async () => {
    await open();
    const alice = await makeAlice();
    const phone = pk();
    node.addFriend(phone);
    bob.onStatusMessage(phone, alice.publish([{ publicKey: phone, name: 'phone' }]));
    bob.deviceAdd(pk(), 'tablet');
    await bob.flush();
    const before = { personas: bob.personas(), seq: bob.ownList.list.seq };
    await bob.close();
    const state = await loadCompanionState(dir, node.publicKey, 3600);
    expect(state.own.list.seq).toBe(before.seq);
    // The tablet is befriended as a sibling (a provisional entry, whose "active" the companion derives from pins).
    const settled = (views: P.PersonaView[]) => views.filter((v) => v.state !== 'provisional');
    expect(settled(P.tableView(state.table))).toEqual(settled(before.personas));
    expect(state.friends?.friends[P.devicesOf(state.own.list)[1]!.publicKey]?.user).toBe(true);
  });

  it('refreshes (same seq, later issuedAt) and republishes at half the time-to-live, and at start when the saved list is past it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      let now = Date.now() / 1000;
      const config = loadConfig({ dir, env: {}, readFile: false, flags: { ttlSeconds: 3600 } });
      node = new FakeNode(pk());
      bob = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600, now), { node, log: createLogger({ level: 'silent' }), now: () => now });
      await bob.start([]);
      const first = bob.ownList.list;
      now += 1700;
      vi.advanceTimersByTime(1700 * 1000);
      expect(bob.ownList.list.seq).toBe(first.seq);
      now += 200;
      vi.advanceTimersByTime(200 * 1000);
      const second = bob.ownList.list;
      // A refresh is never a new version: a stale device's refresh can't outrank a newer list (PROTOCOL.md, section 8).
      expect(second.seq).toBe(first.seq);
      expect(second.issuedAt).toBe(Math.floor(now));
      expect(second.issuedAt).toBeGreaterThan(first.issuedAt);
      await bob.flush();
      expect(P.verifyStatus(node.status, now)).toMatchObject({ ok: true, seq: second.seq });
      await bob.close();
      // Reopened much later: the list is refreshed before it is published.
      now += 5000;
      node = new FakeNode(node.publicKey);
      bob = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600, now), { node, log: createLogger({ level: 'silent' }), now: () => now });
      await bob.start([]);
      expect(bob.ownList.list.seq).toBe(second.seq);
      expect(bob.ownList.list.issuedAt).toBe(Math.floor(now));
      expect(P.verifyStatus(node.status, now)).toMatchObject({ ok: true, stale: false });
    } finally {
      vi.useRealTimers();
    }
  });

  it('adopts a newer list of its own persona published by another device holding the key', async () => {
    await open();
    const key = await P.loadPersonaKey(join(dir, 'persona.key'));
    const laptop = pk();
    node.addFriend(laptop);
    // The laptop (same persona key) re-signed the list with itself added.
    const newer = P.signNext(bob.ownList.list, [...P.devicesOf(bob.ownList.list), { publicKey: laptop, name: 'laptop' }], key.pair, Date.now() / 1000 + 1, 3600);
    bob.onStatusMessage(laptop, buildStatusMessage(newer, 'laptop'));
    expect(bob.ownList.list.seq).toBe(newer.list.seq);
    await bob.flush();
    expect(P.verifyStatus(node.status, Date.now() / 1000)).toMatchObject({ ok: true, seq: newer.list.seq, human: 'tox-persona ' }) // the space separates the text from the marker;
    // Our next change starts from the adopted list, so the laptop stays listed.
    const devices = bob.deviceAdd(pk(), 'tablet');
    expect(devices.map((d) => d.name)).toEqual(['', 'laptop', 'tablet']);
    // A device the list does not name cannot push our list.
    const stranger = pk();
    node.addFriend(stranger);
    const forged = P.signNext(bob.ownList.list, [{ publicKey: node.publicKey, name: '' }], key.pair, Date.now() / 1000 + 5, 3600);
    bob.onStatusMessage(stranger, buildStatusMessage(forged, ''));
    expect(bob.ownList.list.devices).toHaveLength(3);
  });

  it('logs never carry secret fields', () => {
    let out = '';
    const dest = new Writable({ write(chunk, _e, cb) { out += chunk.toString(); cb(); } });
    const log = createLogger({ level: 'info', pretty: false, destination: dest });
    log.info({ secretKey: 'S3CRET', token: 'T0KEN', nested: { passphrase: 'PASS' } }, 'hello');
    expect(out).toContain('hello');
    expect(out).not.toMatch(/S3CRET|T0KEN|PASS/);
  });
});

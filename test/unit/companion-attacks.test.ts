// Attacks 4-6 of issue 10 (and the stranger chain of attack 2) against Bob's companion over a stub node: each test is
// what Mallory, a friend of Bob, does, and what Bob's companion must not do because of it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig, type RawConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import { runOperation } from '../../src/companion/ops.js';
import * as P from '../../src/companion/persona-port.js';
import { FakeNode } from '../support/fake-node.js';
import { makePersona, randomKey } from '../support/hostile.js';

describe('issue 10 attacks on the companion (stub node)', () => {
  let dir: string;
  let bob: Companion;
  let node: FakeNode;
  const open = async (flags: RawConfig = {}, friends: string[] = []) => {
    const config = loadConfig({ dir, env: {}, readFile: false, flags });
    node ??= new FakeNode(randomKey());
    for (const f of friends) node.addFriend(f);
    bob = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600), { node, log: createLogger({ level: 'silent' }) });
    await bob.start([]);
    return bob;
  };
  /** `from` publishes `text`; Bob's node delivers it to the companion. */
  const deliver = (from: string, text: string) => node.emitEvent('friendStatusMessage', { friendNumber: node.friend(from)?.friendNumber ?? 0, publicKey: from, message: text });
  /** Bob adds `pk` by hand (`friend add`); the friend accepts. */
  const addByHand = async (pk: string) => {
    await runOperation(bob, 'friendAdd', { toxId: `${pk}000000000000` });
    node.friendMap.get(pk)!.connection = 'udp';
  };
  const personaOf = (id: string) => bob.personas().find((p) => p.personaId === id);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-attacks-'));
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
    node = undefined as unknown as FakeNode;
  });
  afterEach(async () => {
    await bob?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('attack 4: Mallory listing Alice\'s PersonaID as a device key neither makes Bob befriend it nor freezes Alice', async () => {
    await open();
    const alice = await makePersona();
    const mal = await makePersona();
    const phone = randomKey();
    const m1 = randomKey();
    await addByHand(phone);
    await addByHand(m1);
    deliver(phone, alice.publish([phone]));
    deliver(m1, mal.publish([m1, alice.id]));
    expect(node.friend(alice.id), 'Bob added a PersonaID as a friend').toBeUndefined();
  });

  it('attack 4, enrolled device: a friend entry whose key is Alice\'s PersonaID does not freeze Alice', async () => {
    // A device enrolled from a profile that holds such a friend starts with a fresh table and that friend.
    const alice = await makePersona();
    const phone = randomKey();
    await open({}, [alice.id, phone]);
    deliver(phone, alice.publish([phone]));
    expect(personaOf(alice.id)?.state, 'a friend entry froze Alice\'s persona').toBe('verified');
  });

  it('attack 5: devices a persona lists but that never confirmed are not its members (friend list, requests, active device)', async () => {
    await open();
    const alice = await makePersona();
    const mal = await makePersona();
    const laptop = randomKey();
    const m1 = randomKey();
    await addByHand(m1);
    // Mallory lists Alice's laptop first (active) before it ever confirmed anything.
    deliver(m1, mal.publish([laptop, m1]));
    const row = bob.friendList().find((f) => f.publicKey === laptop);
    expect(row?.persona, 'the friend list shows an unconfirmed device as Mallory\'s').toBeUndefined();
    expect(personaOf(mal.id)?.devices.find((d) => d.active)?.publicKey, 'an unconfirmed device is Mallory\'s active device').toBe(m1);
    // Bob removes the laptop by hand; its friend request then waits, since no persona it confirmed vouches for it.
    if (node.friend(laptop)) await runOperation(bob, 'friendRemove', { friend: laptop });
    node.emitEvent('friendRequest', { publicKey: laptop, message: 'hi' });
    expect(node.friend(laptop), 'a request from an unconfirmed device was auto-accepted').toBeUndefined();
    expect(bob.pendingRequests().map((r) => r.publicKey)).toContain(laptop);
    void alice;
  });

  it('attack 6: a friend Bob added by hand is never deleted because a list named it and then dropped it', async () => {
    await open();
    const mal = await makePersona();
    const m1 = randomKey();
    const x = randomKey();
    await addByHand(m1);
    await addByHand(x);
    deliver(m1, mal.publish([m1, x]));
    deliver(m1, mal.publish([m1]));
    expect(node.friend(x), 'Bob\'s own friend was deleted by Mallory\'s list').toBeDefined();
  });

  it('attack 2, second level: a stranger Bob auto-added cannot make him add more strangers', async () => {
    await open();
    const mal = await makePersona();
    const stranger = await makePersona();
    const m1 = randomKey();
    await addByHand(m1);
    const s1 = randomKey();
    deliver(m1, mal.publish([m1, s1]));
    expect(node.friend(s1), 'the first stranger Mallory listed is within his budget').toBeDefined();
    node.friendMap.get(s1)!.connection = 'udp';
    const more = Array.from({ length: 5 }, randomKey);
    deliver(s1, stranger.publish([s1, ...more]));
    const added = more.filter((k) => node.friend(k));
    expect(added, 'a persona no one vouched for made Bob add its devices').toEqual([]);
  });
});

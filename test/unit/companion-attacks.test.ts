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
import { readFile, writeFile } from 'node:fs/promises';
import { safeText } from '../../src/cli/output.js';
import { personasText } from '../../src/cli/commands.js';

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
  const deliver = (from: string, text: string) => node.deliverStatus(from, text);
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
    node.request(laptop, 'hi');
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

  it('item 7: accept and decline refuse a prefix that names two requests', async () => {
    await open({ acceptRequests: 'none' });
    const a = `ABCDEF01${randomKey().slice(8)}`;
    const b = `ABCDEF01${randomKey().slice(8)}`;
    node.request(a, '');
    node.request(b, '');
    expect(() => bob.accept('abcdef01')).toThrow(expect.objectContaining({ code: 'AMBIGUOUS' }));
    expect(() => bob.decline('ABCDEF01')).toThrow(expect.objectContaining({ code: 'AMBIGUOUS' }));
    expect(node.friend(a)).toBeUndefined();
    expect(bob.accept(a.slice(0, 12)).publicKey).toBe(a);
  });

  it('item 7: a devices.json whose signature no longer verifies is refused on load (BAD_FILE), not re-signed', async () => {
    await open();
    await bob.close();
    const path = join(dir, 'devices.json');
    const json = JSON.parse(await readFile(path, 'utf8')) as { record: string };
    const bytes = Buffer.from(json.record, 'base64');
    bytes[bytes.length - 70]! ^= 0x01; // a byte of the last device key, inside the signed payload
    await writeFile(path, JSON.stringify({ record: bytes.toString('base64') }));
    await expect(loadCompanionState(dir, node.publicKey, 3600)).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringMatching(/signature/) });
  });

  it('item 6: status shows recent rejections per friend with the reason; personas shows friends\' own Tox names', async () => {
    await open();
    const alice = await makePersona();
    const phone = randomKey();
    const m1 = randomKey();
    await addByHand(phone);
    await addByHand(m1);
    node.friendMap.get(phone)!.name = 'Alice \u202Eenohp';
    const list = alice.publish([{ publicKey: phone, name: 'phone' }]);
    deliver(phone, list);
    deliver(m1, list);
    deliver(m1, 'hi ~tp1:AAAA');
    const rejections = (bob.status().rejections as Record<string, Array<{ reason: string }>>)[m1];
    expect(rejections?.map((r) => r.reason)).toEqual(['NOT_A_MEMBER', expect.any(String)]);
    const view = bob.personas().find((p) => p.personaId === alice.id)!;
    expect(view.devices[0]).toMatchObject({ name: 'phone', toxName: 'Alice \u202Eenohp' });
    // Printed for a terminal, the bidi override a friend put in its name is shown, not obeyed.
    expect(safeText(personasText([view]))).toContain('Alice \\u{202e}enohp');
  });

  it('item 7: text for the terminal escapes controls, C1 and bidi characters and keeps the rest', () => {
    expect(safeText('a\u001b[31mb\u0085c\u202Ed\ne\tf ü 😀')).toBe('a\\u{1b}[31mb\\u{85}c\\u{202e}d\ne\tf ü 😀');
  });
});

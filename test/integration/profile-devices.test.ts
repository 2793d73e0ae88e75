// A rekeyed profile as a second device on a real local Tox network: friends who add its key connect to it, and the
// original and the copy stay online side by side without disturbing each other (unlike two copies of one key).
import { describe, expect, it } from 'vitest';
import { rekeyProfile } from '../../src/profile/index.js';
import { bytesToHex } from '../../src/util/bytes.js';
import type { FriendConnectionEvent, ToxNode } from '../../src/tox/node.js';
import { befriend, useLocalNetwork, waitFriendOnline, FRIEND_TIMEOUT_MS } from '../support/network.js';
import { waitForEvent } from '../support/wait.js';

const net = useLocalNetwork();

/** Records every friendConnection event of `node` until `stop()` is called. */
function recordConnections(node: ToxNode): { events: FriendConnectionEvent[]; stop(): void } {
  const events: FriendConnectionEvent[] = [];
  const listener = (e: FriendConnectionEvent) => events.push(e);
  node.on('friendConnection', listener);
  return { events, stop: () => node.off('friendConnection', listener) };
}

/** Bob sends one message to `friend` at `to`, and we wait until `to` receives exactly that text from him. */
async function deliver(bob: ToxNode, bobsNumberForIt: number, to: ToxNode, toNumberForBob: number, text: string): Promise<void> {
  const got = waitForEvent<{ friend: number; message: string }>(to, 'friendMessage', {
    what: `"${text}" from Bob to arrive`,
    timeoutMs: 15_000,
    filter: (m) => m.friend === toNumberForBob && m.message === text,
  });
  bob.sendMessage(bobsNumberForIt, text);
  await got;
}

describe('a rekeyed profile as a second device', () => {
  it('Bob adds the new key without a request and connects to it; the original and the copy then run side by side without flapping', async () => {
    const [alice, bob] = await net.get().addNodes(2);
    alice!.setName('Alice desktop');
    const { aToB, bToA } = await befriend(alice!, bob!);

    // Alice's desktop profile becomes her laptop's profile: new key, Bob kept as a confirmed friend.
    const rekeyed = rekeyProfile(alice!.savedata({ plain: true }), { name: 'Alice laptop' });
    expect(bytesToHex(rekeyed.publicKey)).not.toBe(alice!.publicKeyHex);

    const bobToLaptop = bob!.friendAddNorequest(rekeyed.publicKey);
    const startedAt = Date.now();
    const laptop = await net.get().addNode({ savedata: rekeyed.bytes });
    expect(laptop.publicKeyHex).toBe(bytesToHex(rekeyed.publicKey));
    expect(laptop.friendList().map((f) => bytesToHex(laptop.friendPublicKey(f)))).toEqual([bob!.publicKeyHex]);
    const laptopToBob = laptop.friendByPublicKey(bob!.publicKey)!;

    await Promise.all([
      waitFriendOnline(bob!, bobToLaptop, { what: 'Bob to see the laptop (rekeyed key) online', timeoutMs: FRIEND_TIMEOUT_MS }),
      waitFriendOnline(laptop, laptopToBob, { what: 'the laptop to see Bob online', timeoutMs: FRIEND_TIMEOUT_MS }),
    ]);
    console.log(`profile-devices: Bob connected to the rekeyed laptop ${Date.now() - startedAt} ms after it started`);
    expect(bob!.friendConnectionStatus(bToA)).not.toBe('none');

    // Observation window: record every connection change while Bob keeps talking to both devices. Each round waits
    // for delivery (events); the pause between rounds only spreads the window over time, it synchronises nothing.
    const recorders = [recordConnections(bob!), recordConnections(alice!), recordConnections(laptop)];
    const windowMs = 20_000;
    const windowStart = Date.now();
    let round = 0;
    try {
      while (Date.now() - windowStart < windowMs) {
        round++;
        await deliver(bob!, bToA, alice!, aToB, `to desktop ${round}`);
        await deliver(bob!, bobToLaptop, laptop, laptopToBob, `to laptop ${round}`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    } finally {
      recorders.forEach((r) => r.stop());
    }
    const offline = recorders.flatMap((r, i) => r.events.filter((e) => e.status === 'none').map((e) => `${['bob', 'alice', 'laptop'][i]}: friend ${e.friend} offline`));
    expect(offline, 'connections that dropped during the observation window').toEqual([]);
    expect(round).toBeGreaterThanOrEqual(5);
    expect([bob!.friendConnectionStatus(bToA), bob!.friendConnectionStatus(bobToLaptop)]).not.toContain('none');
  });

  it('control: two nodes running the same key do disturb their friend (what rekeying avoids)', async () => {
    const [alice, bob] = await net.get().addNodes(2);
    const { bToA } = await befriend(alice!, bob!);
    const recorder = recordConnections(bob!);
    try {
      // A plain copy of Alice's profile, not rekeyed: same key online twice.
      await net.get().addNode({ savedata: alice!.savedata({ plain: true }) });
      await waitForEvent<FriendConnectionEvent>(bob!, 'friendConnection', {
        what: "Bob's link to Alice to drop while two nodes share her key",
        timeoutMs: 60_000,
        filter: (e) => e.friend === bToA && e.status === 'none',
      });
    } finally {
      recorder.stop();
    }
    expect(recorder.events.some((e) => e.friend === bToA && e.status === 'none')).toBe(true);
  });
});

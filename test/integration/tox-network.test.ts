// Real nodes on a real local tox-bootstrapd: bootstrap, friend request and accept, messages, status messages, packets.
import { describe, expect, it } from 'vitest';
import { befriend, useLocalNetwork, waitFriendOnline } from '../support/network.js';
import { waitFor, waitForEvent } from '../support/wait.js';
import type { FriendMessageEvent, FriendPacketEvent, FriendRequestEvent, FriendStatusMessageEvent } from '../../src/tox/node.js';
import { ToxError } from '../../src/tox/errors.js';

describe('ToxNode on a local network', () => {
  const net = useLocalNetwork();

  it('three nodes bootstrap off the local tox-bootstrapd and come online', async () => {
    const nodes = await net.get().addNodes(3);
    for (const node of nodes) expect(['tcp', 'udp']).toContain(node.connectionStatus);
    expect(new Set(nodes.map((n) => n.publicKeyHex)).size).toBe(3);
  });

  it('Alice sends a friend request, Bob accepts, and a message goes each way', async () => {
    const [alice, bob] = await net.get().addNodes(2);
    alice!.setName('Alice');
    const request = waitForEvent<FriendRequestEvent>(bob!, 'friendRequest', { what: "Bob to receive Alice's friend request", timeoutMs: 60_000 });
    const bobAtAlice = alice!.friendAdd(bob!.address, 'hi Bob, it is Alice');
    const req = await request;
    expect(req.message).toBe('hi Bob, it is Alice');
    expect(Buffer.from(req.publicKey).equals(Buffer.from(alice!.publicKey))).toBe(true);
    const aliceAtBob = bob!.friendAddNorequest(req.publicKey);
    await Promise.all([
      waitFriendOnline(alice!, bobAtAlice, { what: 'Alice to see Bob online after he accepted' }),
      waitFriendOnline(bob!, aliceAtBob, { what: 'Bob to see Alice online after accepting' }),
    ]);

    const toBob = waitForEvent<FriendMessageEvent>(bob!, 'friendMessage', { what: "Bob to receive Alice's message", timeoutMs: 20_000 });
    alice!.sendMessage(bobAtAlice, 'hello Bob ✓');
    expect(await toBob).toMatchObject({ friend: aliceAtBob, type: 'normal', message: 'hello Bob ✓' });

    const toAlice = waitForEvent<FriendMessageEvent>(alice!, 'friendMessage', { what: "Alice to receive Bob's action message", timeoutMs: 20_000 });
    bob!.sendMessage(aliceAtBob, 'waves', 'action');
    expect(await toAlice).toMatchObject({ friend: bobAtAlice, type: 'action', message: 'waves' });

    await waitFor(() => bob!.friendName(aliceAtBob) === 'Alice', { what: "Alice's name to reach Bob", timeoutMs: 20_000 });
    expect(alice!.friendAdd.bind(alice, bob!.address, 'again')).toThrow(expect.objectContaining({ op: 'friendAdd', code: 'ALREADY_SENT' }) as unknown as Error);
  });

  it("a status-message change reaches a connected friend, byte for byte", async () => {
    const [carol, dave] = await net.get().addNodes(2);
    const { bToA } = await befriend(carol!, dave!);
    const text = 'persona:v1 ✓ ' + 'x'.repeat(900);
    const got = waitForEvent<FriendStatusMessageEvent>(dave!, 'friendStatusMessage', {
      what: "Carol's new status message to reach Dave",
      timeoutMs: 20_000,
      filter: (e) => e.friend === bToA && e.message === text,
    });
    carol!.setStatusMessage(text);
    const event = await got;
    expect(Buffer.from(event.bytes).equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(Buffer.from(dave!.friendStatusMessage(bToA)).toString('utf8')).toBe(text);
    expect(Buffer.from(carol!.statusMessage).toString('utf8')).toBe(text);
  });

  it('lossless and lossy custom packets arrive intact; a throwing handler becomes an error event and the node keeps going', async () => {
    const [erin, frank] = await net.get().addNodes(2);
    const { aToB, bToA } = await befriend(erin!, frank!);
    const boom = new Error('handler exploded');
    frank!.once('friendLosslessPacket', () => {
      throw boom;
    });
    const errored = waitForEvent<Error>(frank!, 'error', { what: "the throwing handler's error to surface as an 'error' event", timeoutMs: 20_000 });
    const lossless = waitForEvent<FriendPacketEvent>(frank!, 'friendLosslessPacket', {
      what: 'the lossless packet to reach the second (non-throwing) handler',
      timeoutMs: 20_000,
    });
    const payload = Uint8Array.from([170, 0, 1, 2, 255]);
    erin!.sendLosslessPacket(aToB, payload);
    expect(await errored).toBe(boom);
    expect(Buffer.from((await lossless).data).equals(Buffer.from(payload))).toBe(true);

    // Lossy packets may drop; send until one arrives, bounded.
    const lossy = waitForEvent<FriendPacketEvent>(frank!, 'friendLossyPacket', { what: 'a lossy packet to arrive', timeoutMs: 20_000 });
    const timer = setInterval(() => erin!.sendLossyPacket(aToB, Uint8Array.from([200, 42])), 200);
    try {
      const got = await lossy;
      expect(got.friend).toBe(bToA);
      expect(Array.from(got.data)).toEqual([200, 42]);
    } finally {
      clearInterval(timer);
    }
    expect(frank!.running).toBe(true);
  });

  it('sending to an offline friend or an unknown friend number is a typed ToxError', async () => {
    const [gina] = await net.get().addNodes(1);
    const other = await net.get().addNode({}, { waitOnline: false });
    const n = gina!.friendAddNorequest(other.publicKey);
    net.get().closeNode(other);
    const offline = (() => {
      try {
        gina!.sendMessage(n, 'anyone?');
      } catch (err) {
        return err;
      }
    })();
    expect(offline).toBeInstanceOf(ToxError);
    expect(offline).toMatchObject({ op: 'sendMessage', code: 'FRIEND_NOT_CONNECTED' });
    expect(() => gina!.sendMessage(9999, 'x')).toThrow(expect.objectContaining({ code: 'FRIEND_NOT_FOUND' }) as unknown as Error);
    expect(() => gina!.friendAddNorequest(gina!.publicKey)).toThrow(expect.objectContaining({ code: 'OWN_KEY' }) as unknown as Error);
  });
});

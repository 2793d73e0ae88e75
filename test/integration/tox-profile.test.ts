// Profiles through ToxNode with real nodes: save/reload keeps friends, encrypted round trip, wrong passphrase, bad savedata.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { ToxNode } from '../../src/tox/node.js';
import { ToxError } from '../../src/tox/errors.js';
import { useLocalNetwork, waitFriendOnline, befriend } from '../support/network.js';
import { waitForEvent } from '../support/wait.js';
import type { FriendMessageEvent } from '../../src/tox/node.js';

const offline = { ipv6: false, localDiscovery: false, udp: true } as const;

function createError(fn: () => unknown): ToxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ToxError);
    return err as ToxError;
  }
  throw new Error('expected ToxNode.createSync to throw, but it returned a node');
}

describe('ToxNode profiles', () => {
  const net = useLocalNetwork();

  it('save and reload keep the identity and the friends, and the reloaded node reconnects to its friend', async () => {
    const n = net.get();
    const [alice, bob] = await n.addNodes(2);
    const { aToB } = await befriend(alice!, bob!);
    alice!.setName('Alice');
    alice!.setStatusMessage('back soon');
    const path = n.path('alice.tox');
    await alice!.save(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(n.dir).filter((f) => f.startsWith('alice.tox'))).toEqual(['alice.tox']); // no temp file left
    const address = alice!.addressHex;
    const bobKey = Buffer.from(bob!.publicKey);
    n.closeNode(alice!);

    const again = await n.addNode({ profilePath: path });
    expect(again.addressHex).toBe(address);
    expect(again.name).toBe('Alice');
    expect(Buffer.from(again.statusMessage).toString()).toBe('back soon');
    const friend = again.friendByPublicKey(bobKey);
    expect(friend).toBe(aToB);
    await waitFriendOnline(again, friend!, { what: 'the reloaded Alice to reconnect to Bob from her saved friend list' });
    const bobAtAlice = bob!.friendByPublicKey(again.publicKey)!;
    await waitFriendOnline(bob!, bobAtAlice, { what: 'Bob to see the reloaded Alice online' });
    const got = waitForEvent<FriendMessageEvent>(bob!, 'friendMessage', { what: 'a message from the reloaded Alice to reach Bob', timeoutMs: 20_000 });
    again.sendMessage(friend!, 'I am back');
    expect((await got).message).toBe('I am back');
  });

  it('an encrypted profile round-trips with its passphrase; a wrong or missing passphrase is a clear error', async () => {
    const n = net.get();
    const path = n.path('enc.tox');
    const friendKey = Buffer.alloc(32, 0x42);
    const first = ToxNode.createSync({ ...offline, passphrase: 'correct horse', profilePath: path });
    expect(first.encrypted).toBe(true);
    first.friendAddNorequest(friendKey);
    first.setName('Enc');
    const address = first.addressHex;
    await first.save();
    first.close();

    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('toxEsave');
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const reloaded = await ToxNode.create({ ...offline, passphrase: 'correct horse', profilePath: path });
    try {
      expect(reloaded.addressHex).toBe(address);
      expect(reloaded.name).toBe('Enc');
      expect(reloaded.friendByPublicKey(friendKey)).toBe(0);
      // Saving again stays encrypted and loads again.
      const again = reloaded.savedata();
      expect(Buffer.from(again.subarray(0, 8)).toString('latin1')).toBe('toxEsave');
      const third = ToxNode.createSync({ ...offline, passphrase: 'correct horse', savedata: again });
      expect(third.addressHex).toBe(address);
      third.close();
    } finally {
      reloaded.close();
    }

    const wrong = createError(() => ToxNode.createSync({ ...offline, passphrase: 'wrong horse', savedata: bytes }));
    expect({ op: wrong.op, code: wrong.code }).toEqual({ op: 'create', code: 'WRONG_PASSPHRASE' });
    const missing = createError(() => ToxNode.createSync({ ...offline, savedata: bytes }));
    expect(missing.code).toBe('NO_PASSPHRASE');
    await expect(ToxNode.create({ ...offline, profilePath: path })).rejects.toMatchObject({ code: 'NO_PASSPHRASE' });
    // A corrupted encrypted file fails its MAC: toxencryptsave cannot tell that from a wrong passphrase, and neither can we.
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 1;
    expect(createError(() => ToxNode.createSync({ ...offline, passphrase: 'correct horse', savedata: flipped })).code).toBe('WRONG_PASSPHRASE');
  });

  it('bad savedata is refused with LOAD_BAD_FORMAT and leaves no half-loaded node behind', async () => {
    const n = net.get();
    const source = ToxNode.createSync(offline);
    source.friendAddNorequest(Buffer.alloc(32, 9));
    const good = Buffer.from(source.savedata());
    source.close();
    const flippedSecret = Buffer.from(good);
    flippedSecret[8 + 8 + 4 + 40] = flippedSecret[8 + 8 + 4 + 40]! ^ 1; // inside the secret key: toxcore half-loads it and reports LOAD_BAD_FORMAT
    const cases: Array<[string, Uint8Array]> = [
      ['secret key not matching the public key', flippedSecret],
      ['truncated in the middle', good.subarray(0, good.length >> 1)],
      ['header only (toxcore would start a new identity)', good.subarray(0, 8)],
      ['cut right after the identity section', good.subarray(0, 8 + 8 + 68)],
      ['random bytes', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 73 + 11) & 255))],
      ['empty', new Uint8Array(0)],
    ];
    const port = await freeUdpPort();
    for (const [name, data] of cases) {
      const err = createError(() => ToxNode.createSync({ ...offline, savedata: data, startPort: port, endPort: port }));
      expect({ name, op: err.op, code: err.code }).toEqual({ name, op: 'create', code: 'LOAD_BAD_FORMAT' });
    }
    // If a partly loaded instance had been left alive it would still hold the port.
    const fresh = ToxNode.createSync({ ...offline, startPort: port, endPort: port });
    expect(fresh.udpPort).toBe(port);
    fresh.close();

    const path = n.path('corrupt.tox');
    writeFileSync(path, good.subarray(0, 40));
    await expect(ToxNode.create({ ...offline, profilePath: path })).rejects.toMatchObject({ op: 'create', code: 'LOAD_BAD_FORMAT' });
    // And the good profile still loads.
    const ok = ToxNode.createSync({ ...offline, savedata: good });
    expect(ok.friendList()).toEqual([0]);
    ok.close();
  });

  it('a node created from a secret key has that identity', () => {
    const sd = ToxNode.createSync(offline);
    // The secret key is the last 32 bytes of the NOSPAMKEYS section (header 8, section header 8, nospam 4, public key 32).
    const secret = Buffer.from(sd.savedata({ plain: true })).subarray(8 + 8 + 4 + 32, 8 + 8 + 4 + 64);
    const expected = sd.publicKeyHex;
    sd.close();
    const fromKey = ToxNode.createSync({ ...offline, secretKey: secret });
    expect(fromKey.publicKeyHex).toBe(expected);
    expect(fromKey.friendList()).toEqual([]);
    fromKey.close();
  });
});

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, '0.0.0.0', () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

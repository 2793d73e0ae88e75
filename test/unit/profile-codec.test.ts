// Savedata parser/writer against profiles libtoxcore itself wrote: byte-exact round trips, typed fields, typed errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sodium from 'libsodium-wrappers';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { bytesToHex } from '../../src/util/bytes.js';
import {
  decodeConferences,
  derivePublicKey,
  findSection,
  formatNodeIp,
  generateKeyPair,
  inspectProfile,
  makePackedNode,
  parseProfile,
  toxAddress,
  writeProfile,
  type Profile,
} from '../../src/profile/index.js';
import { buildNetworkedProfile, buildSocialProfile, newRawTox, getSavedata, selfAddress, friendKeysHex, type SocialProfile } from '../support/profile-tox.js';
import { expectProfileError } from '../support/profile-errors.js';

/** Drops libtoxcore's zero padding after END (tox_get_savedata_size over-estimates). */
function stripZeros(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.subarray(0, end);
}

/** Byte equality with a short failure message: lengths and the first differing offset, not two huge hex dumps. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  let diff = -1;
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    if (actual[i] !== expected[i]) {
      diff = i;
      break;
    }
  }
  expect(diff === -1 ? 'same' : `${what}: ${actual.length} vs ${expected.length} bytes, first difference at offset ${diff}`).toBe('same');
}

/** Offset of the first section of `type` in plain savedata (independent walker). */
function sectionOffset(save: Uint8Array, type: number): number {
  const view = new DataView(save.buffer, save.byteOffset, save.byteLength);
  let at = 8;
  while (at + 8 <= save.length) {
    if (view.getUint16(at + 4, true) === type) return at;
    at += 8 + view.getUint32(at, true);
  }
  throw new Error(`no section of type ${type}`);
}

let fresh: Uint8Array;
let social: SocialProfile;
let networked: { savedata: Uint8Array; bobKey: Uint8Array };
let bootstrapd: Bootstrapd;

beforeAll(async () => {
  const t = newRawTox({ udp: false });
  fresh = getSavedata(t.tox);
  t.kill();
  social = buildSocialProfile();
  bootstrapd = await startBootstrapd();
  networked = await buildNetworkedProfile(bootstrapd);
  await sodium.ready;
}, 90_000);

afterAll(async () => {
  await bootstrapd?.close();
});

describe('round trip on profiles libtoxcore wrote', () => {
  it('a fresh profile: parse then write gives the same bytes', () => {
    expectSameBytes(writeProfile(parseProfile(fresh)), stripZeros(fresh), 'fresh');
  });

  it('a profile with name, status message, friends, a pending request and a conference', () => {
    expectSameBytes(writeProfile(parseProfile(social.savedata)), stripZeros(social.savedata), 'social');
  });

  it('a profile that was online: DHT nodes, TCP relay, path nodes, a connected friend', () => {
    expectSameBytes(writeProfile(parseProfile(networked.savedata)), stripZeros(networked.savedata), 'networked');
  });

  it('libtoxcore loads what we wrote and saves it back unchanged (but for the conference message counters)', () => {
    const withoutConferences = (p: Profile): Uint8Array => writeProfile({ ...p, sections: p.sections.filter((s) => s.kind !== 'conferences') });
    const written = writeProfile(parseProfile(social.savedata));
    const t = newRawTox({ savedata: written, udp: false });
    try {
      expect(friendKeysHex(t.tox)).toEqual(social.friendKeys);
      // Each save moves a conference's message number on by 65536 (group.c SAVE_OFFSET_MESSAGE_NUMBER), so compare the rest.
      expectSameBytes(withoutConferences(parseProfile(getSavedata(t.tox))), withoutConferences(parseProfile(written)), 'resaved');
    } finally {
      t.kill();
    }
  });
});

describe('typed fields match what libtoxcore reports', () => {
  let p: Profile;
  beforeAll(() => {
    p = parseProfile(social.savedata);
  });

  it('keys and nospam', () => {
    const keys = findSection(p, 'nospamKeys')!;
    expect(bytesToHex(keys.publicKey)).toBe(bytesToHex(social.publicKey));
    expect(keys.nospam).toBe(social.nospam);
    expect(bytesToHex(derivePublicKey(keys.secretKey))).toBe(bytesToHex(keys.publicKey));
  });

  it('name, status message, conference bytes', () => {
    const s = inspectProfile(p);
    expect(s.name).toBe(social.name);
    expect(s.statusMessage).toBe(social.statusMessage);
    expect(s.conferencesBytes).toBeGreaterThan(0);
  });

  it('friends: three confirmed, one request waiting with its message and address', () => {
    const friends = findSection(p, 'friends')!.friends;
    expect(friends.map((f) => bytesToHex(f.publicKey))).toEqual(social.friendKeys);
    expect(friends.slice(0, 3).every((f) => f.status === 3)).toBe(true);
    const pending = friends[3]!;
    expect([1, 2]).toContain(pending.status);
    expect(new TextDecoder().decode(pending.requestMessage)).toBe('Hi, it is Alice: please add me');
    expect(inspectProfile(p).friends[3]!.requestAddress).toMatch(new RegExp(`^${social.friendKeys[3]}`));
  });

  it('the Tox address we compute is the one libtoxcore reports', () => {
    const t = newRawTox({ savedata: social.savedata, udp: false });
    try {
      const keys = findSection(p, 'nospamKeys')!;
      expect(bytesToHex(toxAddress(keys.publicKey, keys.nospam))).toBe(bytesToHex(selfAddress(t.tox)));
    } finally {
      t.kill();
    }
  });

  it('the online profile: DHT nodes, the bootstrap relay over TCP, path nodes, Bob as a seen friend', () => {
    const s = inspectProfile(parseProfile(networked.savedata));
    expect(s.dhtNodes.length).toBeGreaterThan(0);
    expect(s.dhtNodes.every((n) => n.host === '127.0.0.1' && n.transport === 'udp')).toBe(true);
    expect(s.tcpRelays).toContainEqual({ transport: 'tcp', host: '127.0.0.1', port: bootstrapd.tcpPort, publicKey: bootstrapd.publicKey });
    expect(s.pathNodes.length).toBeGreaterThan(0);
    const bob = s.friends.find((f) => f.publicKey === bytesToHex(networked.bobKey))!;
    expect(bob).toMatchObject({ status: 'confirmed', name: 'Bob', statusMessage: 'Bob was here' });
    expect(bob.lastSeen).toBeGreaterThan(Date.now() / 1000 - 3600);
  });
});

describe('kept as they are', () => {
  it('a section of a type we do not know survives byte for byte, in place, and inspect names it', () => {
    const base = stripZeros(social.savedata);
    const endAt = sectionOffset(base, 255);
    const unknown = Uint8Array.from([5, 0, 0, 0, 42, 0, 0xce, 0x01, 1, 2, 3, 4, 5]);
    const withUnknown = new Uint8Array([...base.subarray(0, endAt), ...unknown, ...base.subarray(endAt)]);
    const p = parseProfile(withUnknown);
    expect(p.sections.find((s) => s.kind === 'unknown')).toEqual({ kind: 'unknown', type: 42, data: Uint8Array.from([1, 2, 3, 4, 5]) });
    expectSameBytes(writeProfile(p), withUnknown, 'with unknown section');
    expect(inspectProfile(p).unknownSections).toEqual([{ type: 42, bytes: 5 }]);
  });

  it('zero bytes at the end of the DHT section (libtoxcore size estimate) survive', () => {
    const p = parseProfile(social.savedata);
    const dht = findSection(p, 'dht')!;
    dht.trailing = new Uint8Array(39);
    expectSameBytes(writeProfile(parseProfile(writeProfile(p))), writeProfile(p), 'DHT trailing zeros');
    expect(findSection(parseProfile(writeProfile(p)), 'dht')!.trailing.length).toBe(39);
  });

  it('a friend record with bytes outside its fields (not written by libtoxcore) comes back exactly; a changed one is written clean', () => {
    const b = Uint8Array.from(stripZeros(social.savedata));
    const rec = sectionOffset(b, 3) + 8;
    b[rec + 1057] = 0xaa; // padding byte before the request length
    b[rec + 1060 + 100] = 0x41; // past the (zero) name length
    const p = parseProfile(b);
    expectSameBytes(writeProfile(p), b, 'junk kept');
    findSection(p, 'friends')!.friends[0]!.name = new TextEncoder().encode('Bob');
    const changed = writeProfile(p);
    expect([changed[rec + 1057], changed[rec + 1060 + 100]]).toEqual([0, 0]);
    expect(new TextDecoder().decode(findSection(parseProfile(changed), 'friends')!.friends[0]!.name)).toBe('Bob');
  });

  it('a profile without END (ends right after a section) is accepted, as libtoxcore accepts it', () => {
    const base = stripZeros(fresh);
    const noEnd = base.subarray(0, sectionOffset(base, 255));
    const p = parseProfile(noEnd);
    expect(p.sections.some((s) => s.kind === 'end')).toBe(false);
    expectSameBytes(writeProfile(p), noEnd, 'no END');
  });

  it('IPv6 and TCP nodes pack and format', () => {
    const key = generateKeyPair().publicKey;
    const v6 = makePackedNode('2001:db8::1', 33445, key, 'tcp');
    expect(v6.family).toBe(138);
    expect(formatNodeIp(v6.ip)).toBe('2001:db8::1');
    expect(formatNodeIp(makePackedNode('::ffff:127.0.0.1', 1, key, 'udp').ip)).toBe('::ffff:7f00:1');
    const p = parseProfile(fresh);
    p.sections = p.sections.map((s) => (s.kind === 'tcpRelays' ? { kind: 'tcpRelays', nodes: [v6, makePackedNode('127.0.0.1', 33446, key, 'tcp')] } : s));
    const again = parseProfile(writeProfile(p));
    expect(findSection(again, 'tcpRelays')!.nodes).toEqual([v6, makePackedNode('127.0.0.1', 33446, key, 'tcp')]);
  });
});

describe('conferences: refused exactly where libtoxcore refuses them', () => {
  /** The social profile with its one conference given a frozen peer holding `peerKey` under the conference's own peer number. */
  function withFrozenPeer(peerKey: Uint8Array, samePeerNumber: boolean): Uint8Array {
    const p = parseProfile(social.savedata);
    const conf = findSection(p, 'conferences')!;
    const d = Uint8Array.from(conf.data);
    const view = new DataView(d.buffer);
    const own = view.getUint16(39, true);
    view.setUint32(41, 1, true); // one frozen peer
    const peer = new Uint8Array(75 + 3);
    peer.set(peerKey, 0);
    peer.set(generateKeyPair().publicKey, 32);
    new DataView(peer.buffer).setUint16(64, samePeerNumber ? own : own + 1, true);
    peer[74] = 3;
    peer.set(new TextEncoder().encode('Eve'), 75);
    const titleEnd = 46 + d[45]!;
    conf.data = new Uint8Array([...d.subarray(0, titleEnd), ...peer, ...d.subarray(titleEnd)]);
    return writeProfile(p);
  }

  function libtoxcoreLoads(save: Uint8Array): boolean {
    try {
      newRawTox({ savedata: save, udp: false }).kill();
      return true;
    } catch {
      return false;
    }
  }

  it('a frozen peer with another number loads in both, and decodes', () => {
    const save = withFrozenPeer(generateKeyPair().publicKey, false);
    expect(libtoxcoreLoads(save)).toBe(true);
    const confs = decodeConferences(findSection(parseProfile(save), 'conferences')!.data, social.publicKey);
    expect(confs).toHaveLength(1);
    expect(new TextDecoder().decode(confs[0]!.frozenPeers[0]!.nick)).toBe('Eve');
  });

  it('a frozen peer holding our own peer number under another key: libtoxcore refuses, so do we', () => {
    const save = withFrozenPeer(generateKeyPair().publicKey, true);
    expect(libtoxcoreLoads(save)).toBe(false);
    expectProfileError(() => parseProfile(save), 'BAD_SECTION');
  });

  it('... and under our own key: both accept', () => {
    const save = withFrozenPeer(social.publicKey, true);
    expect(libtoxcoreLoads(save)).toBe(true);
    expect(parseProfile(save).sections.some((s) => s.kind === 'conferences')).toBe(true);
  });
});

describe('keys', () => {
  it('our X25519 derivation equals libsodium crypto_scalarmult_base, for generated and arbitrary secrets', () => {
    for (let i = 0; i < 50; i++) {
      const sk = i % 2 === 0 ? generateKeyPair().secretKey : sodium.randombytes_buf(32);
      expect(bytesToHex(derivePublicKey(sk))).toBe(bytesToHex(sodium.crypto_scalarmult_base(sk)));
    }
  });

  it('a generated keypair is accepted by libtoxcore', () => {
    const p = parseProfile(fresh);
    const kp = generateKeyPair();
    p.sections = p.sections.map((s) => (s.kind === 'nospamKeys' ? { ...s, ...kp } : s));
    const t = newRawTox({ savedata: writeProfile(p), udp: false });
    try {
      expect(bytesToHex(selfAddress(t.tox).subarray(0, 32))).toBe(bytesToHex(kp.publicKey));
    } finally {
      t.kill();
    }
  });
});

describe('bad input gives a typed error', () => {
  const base = () => Uint8Array.from(stripZeros(social.savedata));

  it('wrong magic', () => {
    const b = base();
    b[4] = b[4]! ^ 0xff;
    expectProfileError(() => parseProfile(b), 'BAD_MAGIC');
    expectProfileError(() => parseProfile(new TextEncoder().encode('{"not":"a profile"}')), 'BAD_MAGIC');
  });

  it('truncated: inside the header, inside a section header, inside a section', () => {
    expectProfileError(() => parseProfile(base().subarray(0, 5)), 'TRUNCATED');
    expectProfileError(() => parseProfile(new Uint8Array(0)), 'TRUNCATED');
    expectProfileError(() => parseProfile(base().subarray(0, 8 + 5)), 'TRUNCATED');
    expectProfileError(() => parseProfile(base().subarray(0, 8 + 8 + 30)), 'SECTION_OVERFLOW');
  });

  it('a section length past the end', () => {
    const b = base();
    new DataView(b.buffer).setUint32(sectionOffset(b, 4), 0x7fffffff, true);
    expectProfileError(() => parseProfile(b), 'SECTION_OVERFLOW');
  });

  it('a DHT subsection length past the end of the DHT section', () => {
    const b = Uint8Array.from(stripZeros(networked.savedata));
    new DataView(b.buffer).setUint32(sectionOffset(b, 2) + 12, 0xffff, true);
    expectProfileError(() => parseProfile(b), 'SECTION_OVERFLOW');
  });

  it('a bad section cookie', () => {
    const b = base();
    b[sectionOffset(b, 4) + 6] = 0;
    expectProfileError(() => parseProfile(b), 'BAD_SECTION');
  });

  it('a bad key pair (public key not derived from the secret key), which libtoxcore also refuses', () => {
    const b = base();
    b[sectionOffset(b, 1) + 8 + 4] = b[sectionOffset(b, 1) + 8 + 4]! ^ 1;
    expectProfileError(() => parseProfile(b), 'BAD_KEYPAIR');
    expect(() => newRawTox({ savedata: b, udp: false })).toThrow(/LOAD_BAD_FORMAT/);
    expect(parseProfile(b, { checkKeyPair: false }).sections[0]!.kind).toBe('nospamKeys');
  });

  it('section contents that do not fit their type', () => {
    const b = base();
    const friendsAt = sectionOffset(b, 3);
    const nameLen = b.slice();
    nameLen[friendsAt + 8 + 1188] = 0xff; // name length high byte
    expectProfileError(() => parseProfile(nameLen), 'BAD_SECTION');
    const relays = Uint8Array.from(stripZeros(networked.savedata));
    relays[sectionOffset(relays, 10) + 8] = 77; // unknown family byte
    expectProfileError(() => parseProfile(relays), 'BAD_SECTION');
    const dhtCookie = Uint8Array.from(stripZeros(networked.savedata));
    dhtCookie[sectionOffset(dhtCookie, 2) + 8] = dhtCookie[sectionOffset(dhtCookie, 2) + 8]! ^ 1;
    expectProfileError(() => parseProfile(dhtCookie), 'BAD_SECTION');
  });

  it('an encrypted profile without a passphrase', () => {
    const b = new Uint8Array(200);
    b.set(new TextEncoder().encode('toxEsave'));
    expectProfileError(() => parseProfile(b), 'ENCRYPTED');
  });

  it('writing fields of the wrong shape', () => {
    const p = parseProfile(base());
    const keys = findSection(p, 'nospamKeys')!;
    keys.publicKey = new Uint8Array(31);
    expectProfileError(() => writeProfile(p), 'BAD_ARGUMENT');
    const q = parseProfile(base());
    findSection(q, 'friends')!.friends[0]!.name = new Uint8Array(129);
    expectProfileError(() => writeProfile(q), 'TOO_LONG');
  });
});

// Group identity statements (docs/GROUPS.md): the checked-in vectors, valid and invalid, decoder and receiver; property
// tests; and the receiver's group view: Alice's peers merge, an impostor is flagged and not merged, hostile peers stay bounded.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { personaKeyFromSeed, certifySigner } from '../../src/persona/index.js';
import {
  decodeGroupClaim, encodeGroupClaimPayload, groupClaimPacket, signGroupClaim, signGroupClaimWith, GROUP_CLAIM_CONTEXT, MAX_GROUP_CLAIM_BYTES,
  type GroupClaim,
} from '../../src/persona/group-claim.js';
import {
  applyGroupPacket, emptyGroupView, groupView, removeGroupPeer, GROUP_VERIFY_BUDGET, MAX_GROUP_ALARMS, type GroupViewState, type KnownPersona,
} from '../../src/persona/group-view.js';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.js';
import { sodium } from '../../src/persona/sodium.js';

interface ValidVector {
  name: string; personaSeed: string; signerSeed?: string; certSignature?: string;
  claim: { chatId: string; personaId: string; epoch: number; seq: number; issuedAt: number; ttl: number; entries: { peerKey: string; deviceKey: string }[] };
  payload: string; signature: string; packet: string;
}
interface InvalidVector { name: string; expectedReason: string; packetHex: string }
interface ReceiverVector { name: string; expected: string; packetHex: string; from: string; chatId: string; now: number; known: KnownPersona | null }

const validFile = JSON.parse(readFileSync('test/vectors/group-valid.json', 'utf8')) as { context: string; vectors: ValidVector[] };
const invalidFile = JSON.parse(readFileSync('test/vectors/group-invalid.json', 'utf8')) as { vectors: InvalidVector[]; receiver: ReceiverVector[] };
const h = (s: string) => hexToBytes(s, undefined, 'hex');
const lower = (b: Uint8Array) => bytesToHex(b, false);

describe('group statement vectors', () => {
  it('the files name the signing context of the code', () => {
    expect(validFile.context).toBe(GROUP_CLAIM_CONTEXT);
  });

  for (const v of validFile.vectors) {
    it(`valid ${v.name}: signing from the seeds gives the same bytes, and decoding gives the claim back`, () => {
      const root = personaKeyFromSeed(h(v.personaSeed));
      expect(bytesToHex(root.publicKey), v.name).toBe(v.claim.personaId);
      const c: GroupClaim = { ...v.claim, chatId: h(v.claim.chatId), personaId: h(v.claim.personaId), entries: v.claim.entries.map((e) => ({ peerKey: h(e.peerKey), deviceKey: h(e.deviceKey) })) };
      const cert = v.signerSeed ? certifySigner(root, c.epoch, personaKeyFromSeed(h(v.signerSeed)).publicKey) : null;
      if (cert) expect(lower(cert.signature), v.name).toBe(v.certSignature);
      const s = signGroupClaim(c, v.signerSeed ? personaKeyFromSeed(h(v.signerSeed)) : root, cert);
      expect(lower(s.payload), v.name).toBe(v.payload);
      expect(lower(s.signature), v.name).toBe(v.signature);
      expect(lower(groupClaimPacket(s)), v.name).toBe(v.packet);
      const d = decodeGroupClaim(h(v.packet));
      expect(d.ok, `${v.name}: ${d.ok ? '' : d.reason}`).toBe(true);
      if (!d.ok) return;
      expect({ ...d.value.claim, chatId: bytesToHex(d.value.claim.chatId), personaId: bytesToHex(d.value.claim.personaId), entries: d.value.claim.entries.map((e) => ({ peerKey: bytesToHex(e.peerKey), deviceKey: bytesToHex(e.deviceKey) })) }, v.name).toEqual(v.claim);
      expect(h(v.packet).length, v.name).toBeLessThanOrEqual(MAX_GROUP_CLAIM_BYTES);
    });
  }

  for (const v of invalidFile.vectors) {
    it(`invalid ${v.name}: ${v.expectedReason}`, () => {
      const d = decodeGroupClaim(h(v.packetHex));
      expect(d.ok ? 'ok' : d.reason, v.name).toBe(v.expectedReason);
    });
  }

  it('every decoder reason code has an invalid vector', () => {
    const reasons = new Set(invalidFile.vectors.map((v) => v.expectedReason));
    for (const r of ['NOT_OURS', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'BAD_FLAGS', 'BAD_FIELD', 'TOO_MANY_ENTRIES', 'DUPLICATE_PEER', 'DUPLICATE_DEVICE', 'PERSONA_IS_DEVICE', 'BAD_CERT', 'TRAILING_BYTES', 'SIGNER_NOT_CERTIFIED', 'BAD_SIGNATURE', 'SEQ_AHEAD', 'TTL_TOO_LONG']) {
      expect(reasons.has(r), r).toBe(true);
    }
  });

  for (const v of invalidFile.receiver) {
    it(`receiver ${v.name}: ${v.expected}`, () => {
      const r = applyGroupPacket(emptyGroupView(v.chatId), { from: v.from, data: h(v.packetHex), now: v.now, lookup: () => v.known ?? undefined });
      const o = r.outcome;
      expect(o.kind === 'accepted' ? 'accepted' : o.reason, v.name).toBe(v.expected);
    });
  }
});

describe('group statement codec properties', () => {
  it('any bytes after the magic decode to a value or a reason, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1400 }), (tail) => {
      const d = decodeGroupClaim(Uint8Array.from([0x74, 0x70, 0x67, ...tail]));
      expect(typeof d.ok).toBe('boolean');
    }), { numRuns: 2000 });
  });

  it('a flipped byte anywhere in a valid statement is refused', () => {
    const k = personaKeyFromSeed(sodium.crypto_generichash(32, 'prop/alice', null));
    const packet = groupClaimPacket(signGroupClaim({ chatId: new Uint8Array(32).fill(7), personaId: k.publicKey, epoch: 0, seq: 5_000, issuedAt: 5, ttl: 60, entries: [{ peerKey: new Uint8Array(32).fill(1), deviceKey: new Uint8Array(32).fill(2) }] }, k));
    fc.assert(fc.property(fc.nat(packet.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const b = Uint8Array.from(packet);
      b[i]! ^= x;
      expect(decodeGroupClaim(b).ok).toBe(false);
    }), { numRuns: 500 });
  });

  it('the encoder refuses what the decoder would refuse (17 entries, a duplicate device, ttl over 7 days)', () => {
    const k = personaKeyFromSeed(new Uint8Array(32).fill(3));
    const base = { chatId: new Uint8Array(32), personaId: k.publicKey, epoch: 0, seq: 1, issuedAt: 1, ttl: 60 };
    const e = (i: number) => ({ peerKey: new Uint8Array(32).fill(i), deviceKey: new Uint8Array(32).fill(100 + i) });
    expect(() => encodeGroupClaimPayload({ ...base, entries: Array.from({ length: 17 }, (_, i) => e(i)) })).toThrow(RangeError);
    expect(() => encodeGroupClaimPayload({ ...base, entries: [e(1), { ...e(2), deviceKey: e(1).deviceKey }] })).toThrow(RangeError);
    expect(() => encodeGroupClaimPayload({ ...base, ttl: 7 * 86_400 + 1, entries: [e(1)] })).toThrow(RangeError);
  });
});

// ---- the receiver's view, with personas signing at will
const seed = (s: string) => sodium.crypto_generichash(32, s, null);
const alice = personaKeyFromSeed(seed('view/alice'));
const mallory = personaKeyFromSeed(seed('view/mallory'));
const CHAT = seed('view/chat');
const key = (s: string) => bytesToHex(seed(s));
const [phoneDev, laptopDev, oldDev] = [key('dev/phone'), key('dev/laptop'), key('dev/old')];
const [phonePeer, laptopPeer, malPeer, oldPeer, bobPeer] = [key('peer/phone'), key('peer/laptop'), key('peer/mallory'), key('peer/old'), key('peer/bob')];
const NOW = 1_800_000_000;
const aliceKnown: KnownPersona = { epoch: 0, devices: [phoneDev, laptopDev] };
const lookup = (id: string) => (id === bytesToHex(alice.publicKey) ? aliceKnown : undefined);
let seqCounter = NOW * 1000;
const statement = (by = alice, entries: [string, string][], over: Partial<GroupClaim> = {}) =>
  groupClaimPacket(signGroupClaimWith({ key: by, cert: null, epoch: 0 }, {
    chatId: CHAT, personaId: by.publicKey, seq: ++seqCounter, issuedAt: NOW, ttl: 3600,
    entries: entries.map(([p, d]) => ({ peerKey: h(p), deviceKey: h(d) })), ...over,
  }));
const apply = (s: GroupViewState, from: string, data: Uint8Array, now = NOW + 1) => applyGroupPacket(s, { from, data, now, lookup });

describe("Bob's companion's view of a group", () => {
  it("Alice's phone and laptop each confirm with their own peer key: one persona with two peers", () => {
    let s = emptyGroupView(bytesToHex(CHAT));
    s = apply(s, phonePeer, statement(alice, [[phonePeer, phoneDev], [laptopPeer, laptopDev]])).state;
    let v = groupView(s, [phonePeer, laptopPeer, bobPeer], NOW + 1, lookup);
    // The phone vouches for the laptop before the laptop said anything: grouped, but not confirmed.
    expect(v.personas).toEqual([{ personaId: bytesToHex(alice.publicKey), known: true, peers: [{ peerKey: phonePeer, deviceKey: phoneDev, confirmed: true }, { peerKey: laptopPeer, deviceKey: laptopDev, confirmed: false }] }]);
    s = apply(s, laptopPeer, statement(alice, [[laptopPeer, laptopDev]])).state;
    v = groupView(s, [phonePeer, laptopPeer, bobPeer], NOW + 1, lookup);
    expect(v.personas[0]!.peers.map((p) => [p.deviceKey, p.confirmed]).sort()).toEqual([[laptopDev, true], [phoneDev, true]].sort());
    expect(v.others).toEqual([bobPeer]);
    expect(v.alarms).toEqual([]);
  });

  it('Mallory relaying Alice\'s statement is an impostor: alarm, not merged', () => {
    let s = emptyGroupView(bytesToHex(CHAT));
    const r = apply(s, malPeer, statement(alice, [[phonePeer, phoneDev]]));
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'NOT_A_MEMBER' });
    expect(r.alarm).toMatchObject({ code: 'IMPOSTOR', peerKey: malPeer, personaId: bytesToHex(alice.publicKey) });
    s = r.state;
    expect(groupView(s, [malPeer], NOW + 1, lookup)).toMatchObject({ personas: [], others: [malPeer] });
  });

  it('Mallory signing with his own key in Alice\'s name is refused as a forgery with an alarm', () => {
    const forged = statement(alice, [[malPeer, phoneDev]]);
    // Replace the signature with Mallory's over the same bytes.
    const payload = forged.slice(0, forged.length - 64);
    const sig = sodium.crypto_sign_detached(Uint8Array.from([...new TextEncoder().encode(GROUP_CLAIM_CONTEXT), ...payload]), mallory.secretKey);
    const r = apply(emptyGroupView(bytesToHex(CHAT)), malPeer, Uint8Array.from([...payload, ...sig]));
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'BAD_SIGNATURE' });
    expect(r.alarm).toMatchObject({ code: 'IMPOSTOR', personaId: bytesToHex(alice.publicKey) });
  });

  it('a device Alice dropped (a stolen phone with the signer) is refused with an alarm, and its earlier claim stops counting', () => {
    let s = emptyGroupView(bytesToHex(CHAT));
    const known = { epoch: 0, devices: [phoneDev, oldDev] };
    s = applyGroupPacket(s, { from: oldPeer, data: statement(alice, [[oldPeer, oldDev]]), now: NOW + 1, lookup: () => known }).state;
    expect(groupView(s, [oldPeer], NOW + 1, () => known).personas).toHaveLength(1);
    // Alice drops the old device from her list: the held claim no longer counts.
    expect(groupView(s, [oldPeer], NOW + 1, lookup).personas).toEqual([]);
    const r = apply(s, oldPeer, statement(alice, [[oldPeer, oldDev]]));
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'NOT_LISTED' });
    expect(r.alarm?.code).toBe('IMPOSTOR');
  });

  it('two peers claiming one device: the first keeps it, the second raises DOUBLE_CLAIM', () => {
    let s = apply(emptyGroupView(bytesToHex(CHAT)), phonePeer, statement(alice, [[phonePeer, phoneDev]])).state;
    const r = apply(s, laptopPeer, statement(alice, [[laptopPeer, phoneDev]]));
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'DOUBLE_CLAIM' });
    expect(r.alarm?.code).toBe('DOUBLE_CLAIM');
    s = removeGroupPeer(r.state, phonePeer);
    // The first peer left: the device may come back under its new peer key.
    expect(apply(s, laptopPeer, statement(alice, [[laptopPeer, phoneDev]])).outcome.kind).toBe('accepted');
  });

  it('a replayed older statement of the same peer changes nothing; an identical re-send is dropped before verifying', () => {
    const older = statement(alice, [[phonePeer, phoneDev]]);
    const newer = statement(alice, [[phonePeer, phoneDev], [laptopPeer, laptopDev]]);
    const s = apply(emptyGroupView(bytesToHex(CHAT)), phonePeer, newer).state;
    expect(apply(s, phonePeer, older).outcome).toEqual({ kind: 'unchanged', reason: 'STALE' });
    expect(apply(s, phonePeer, newer).outcome).toEqual({ kind: 'unchanged', reason: 'DUPLICATE' });
  });

  it('a hostile peer flooding statements costs at most the budget of verifications, and alarms stay bounded', () => {
    let s = emptyGroupView(bytesToHex(CHAT));
    let verified = 0;
    for (let i = 0; i < 200; i++) {
      const r = apply(s, malPeer, statement(mallory, [[key(`peer/x${i}`), key(`dev/x${i}`)]]));
      if (r.outcome.kind !== 'rejected' || r.outcome.reason !== 'RATE_LIMITED') verified++;
      s = r.state;
    }
    expect(verified).toBe(GROUP_VERIFY_BUDGET);
    for (let i = 0; i < 100; i++) s = apply(s, key(`peer/m${i}`), statement(alice, [[phonePeer, phoneDev]])).state;
    expect(s.alarms.length).toBe(MAX_GROUP_ALARMS);
    expect(Object.keys(s.claims)).toEqual([]);
  });

  it('an unknown persona groups its own peers, marked not known', () => {
    const s = apply(emptyGroupView(bytesToHex(CHAT)), malPeer, statement(mallory, [[malPeer, key('dev/m')]])).state;
    expect(groupView(s, [malPeer], NOW + 1, lookup).personas).toEqual([{ personaId: bytesToHex(mallory.publicKey), known: false, peers: [{ peerKey: malPeer, deviceKey: key('dev/m'), confirmed: true }] }]);
  });
});

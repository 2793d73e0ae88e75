// Regenerates the group statement vectors (test/vectors/group-valid.json, group-invalid.json) from fixed seeds; the tests
// check the checked-in files against the code: `npx tsx scripts/gen-group-vectors.ts`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { personaKeyFromSeed, certifySigner, type PersonaKeyPair } from '../src/persona/index.js';
import {
  signGroupClaim, groupClaimPacket, encodeGroupClaimPayload, groupClaimSigningInput, GROUP_CLAIM_CONTEXT, MAX_GROUP_TTL_SECONDS,
  type GroupClaim, type GroupEntry,
} from '../src/persona/group-claim.js';
import { sodium } from '../src/persona/sodium.js';
import { bytesToHex } from '../src/util/bytes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A fixed 32-byte value: BLAKE2b-256 of a label, so every key in the vectors is reproducible from its name. */
const fixed = (label: string): Uint8Array => sodium.crypto_generichash(32, label, null);

const aliceSeed = fixed('persona-seed/alice');
const alice = personaKeyFromSeed(aliceSeed);
const mallory = personaKeyFromSeed(fixed('persona-seed/mallory'));
const signerSeed = fixed('signer-seed/alice-laptop');
const signer = personaKeyFromSeed(signerSeed);
const chat = fixed('group/chat-id');
const otherChat = fixed('group/other-chat-id');
const peer = (i: number) => fixed(`group/peer/${i}`);
const dev = (i: number) => fixed(`device/${i}`);
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const EPOCH = 1;

const entry = (i: number): GroupEntry => ({ peerKey: peer(i), deviceKey: dev(i) });
const claim = (entries: GroupEntry[], over: Partial<GroupClaim> = {}): GroupClaim => ({
  chatId: chat, personaId: alice.publicKey, epoch: EPOCH, seq: T0 * 1000, issuedAt: T0, ttl: 86_400, entries, ...over,
});

const hex = (b: Uint8Array) => bytesToHex(b, false);
const jsonClaim = (c: GroupClaim) => ({
  chatId: bytesToHex(c.chatId), personaId: bytesToHex(c.personaId), epoch: c.epoch, seq: c.seq, issuedAt: c.issuedAt, ttl: c.ttl,
  entries: c.entries.map((e) => ({ peerKey: bytesToHex(e.peerKey), deviceKey: bytesToHex(e.deviceKey) })),
});

const valid: unknown[] = [];
function addValid(name: string, description: string, c: GroupClaim, by: 'root' | 'signer' = 'root') {
  const cert = by === 'signer' ? certifySigner(alice, c.epoch, signer.publicKey) : null;
  const s = signGroupClaim(c, by === 'signer' ? signer : alice, cert);
  valid.push({
    name, description, personaSeed: hex(aliceSeed), ...(cert ? { signerSeed: hex(signerSeed), certSignature: hex(cert.signature) } : {}),
    claim: jsonClaim(c), payload: hex(s.payload), signature: hex(s.signature), packet: hex(groupClaimPacket(s)),
  });
}

addValid('root-one', 'the root signs one binding: the sender itself', claim([entry(0)]));
addValid('root-two', 'the root signs the sender and a sibling it vouches for', claim([entry(0), entry(1)]));
addValid('signer-one', 'a certified signer (epoch 1) signs one binding', claim([entry(0)]), 'signer');
addValid('signer-sixteen', 'the largest statement: 16 bindings and a certificate (1,270 bytes)', claim(Array.from({ length: 16 }, (_, i) => entry(i))), 'signer');
addValid('max-ttl', `ttl at the cap (${MAX_GROUP_TTL_SECONDS} s)`, claim([entry(0)], { ttl: MAX_GROUP_TTL_SECONDS }));

const invalid: unknown[] = [];
function addInvalid(name: string, description: string, expectedReason: string, bytes: Uint8Array) {
  invalid.push({ name, description, expectedReason, packetHex: hex(bytes) });
}
const good = groupClaimPacket(signGroupClaim(claim([entry(0), entry(1)]), alice));
const mut = (f: (b: Uint8Array) => void, from = good) => {
  const b = Uint8Array.from(from);
  f(b);
  return b;
};
/** Signs raw payload bytes as the root would (for layouts the encoder refuses to produce). */
const signRaw = (payload: Uint8Array, key: PersonaKeyPair = alice) => {
  const sig = sodium.crypto_sign_detached(groupClaimSigningInput(payload), key.secretKey);
  const out = new Uint8Array(payload.length + 64);
  out.set(payload);
  out.set(sig, payload.length);
  return out;
};
const payloadOf = (c: GroupClaim) => encodeGroupClaimPayload(c);

addInvalid('not-ours', 'another application\'s group custom packet', 'NOT_OURS', new TextEncoder().encode('hello group'));
addInvalid('magic-only', 'the magic and nothing else', 'TRUNCATED', Uint8Array.of(0x74, 0x70, 0x67));
addInvalid('version-2', 'an unknown version byte', 'UNSUPPORTED_VERSION', mut((b) => (b[3] = 2)));
addInvalid('short-header', 'ends inside the header', 'TRUNCATED', good.slice(0, 60));
addInvalid('bad-flags', 'an unknown flag bit', 'BAD_FLAGS', mut((b) => (b[4] = 0x02)));
addInvalid('ttl-zero', 'ttl 0', 'BAD_FIELD', signRaw(mut((b) => new DataView(b.buffer).setUint32(81, 0), payloadOf(claim([entry(0)])))));
addInvalid('no-entries', 'count 0', 'BAD_FIELD', mut((b) => (b[85] = 0), payloadOf(claim([entry(0)])).slice(0, 86)));
addInvalid('seventeen', 'count 17', 'TOO_MANY_ENTRIES', mut((b) => (b[85] = 17)));
addInvalid('truncated-entry', 'count says 3, two entries follow', 'TRUNCATED', mut((b) => (b[85] = 3), payloadOf(claim([entry(0), entry(1)]))));
{
  const p = payloadOf(claim([entry(0), entry(1)]));
  p.set(peer(0), 86 + 64);
  addInvalid('duplicate-peer', 'the same peer key twice', 'DUPLICATE_PEER', signRaw(p));
}
{
  const p = payloadOf(claim([entry(0), entry(1)]));
  p.set(dev(0), 86 + 64 + 32);
  addInvalid('duplicate-device', 'the same device key twice', 'DUPLICATE_DEVICE', signRaw(p));
}
{
  const p = payloadOf(claim([entry(0)]));
  p.set(alice.publicKey, 86 + 32);
  addInvalid('persona-is-device', 'the PersonaID as a device', 'PERSONA_IS_DEVICE', signRaw(p));
}
{
  const p = payloadOf(claim([entry(0)]));
  const withCert = new Uint8Array(p.length + 96);
  withCert.set(p);
  withCert[4] = 0x01;
  withCert.set(alice.publicKey, p.length);
  addInvalid('cert-names-root', 'a certificate naming the PersonaID as signer', 'BAD_CERT', signRaw(withCert));
}
{
  const s = groupClaimPacket(signGroupClaim(claim([entry(0)]), signer, certifySigner(alice, EPOCH, signer.publicKey)));
  addInvalid('cert-truncated', 'ends inside the certificate', 'TRUNCATED', s.slice(0, 86 + 64 + 50));
  const forgedCert = groupClaimPacket(signGroupClaim(claim([entry(0)]), signer, certifySigner(mallory, EPOCH, signer.publicKey)));
  addInvalid('cert-by-other-root', 'a certificate made by another persona\'s root', 'SIGNER_NOT_CERTIFIED', forgedCert);
  const otherEpoch = groupClaimPacket(signGroupClaim(claim([entry(0)], { epoch: 2 }), signer, certifySigner(alice, EPOCH, signer.publicKey)));
  addInvalid('cert-other-epoch', 'a certificate of epoch 1 on a statement of epoch 2', 'SIGNER_NOT_CERTIFIED', otherEpoch);
}
addInvalid('sig-truncated', 'ends inside the signature', 'TRUNCATED', good.slice(0, good.length - 1));
addInvalid('trailing', 'a byte after the signature', 'TRAILING_BYTES', Uint8Array.from([...good, 0]));
addInvalid('bad-signature', 'one flipped signature bit', 'BAD_SIGNATURE', mut((b) => (b[b.length - 1]! ^= 1)));
addInvalid('mallory-signs', 'Mallory signs a statement naming Alice\'s PersonaID', 'BAD_SIGNATURE', signRaw(payloadOf(claim([entry(0)])), mallory));
addInvalid('context-v1', 'signed over the device-list context instead of the group context', 'BAD_SIGNATURE', (() => {
  const p = payloadOf(claim([entry(0)]));
  const ctx = new TextEncoder().encode('tox-persona/device-list/v2\0');
  const msg = new Uint8Array(ctx.length + p.length);
  msg.set(ctx);
  msg.set(p, ctx.length);
  return Uint8Array.from([...p, ...sodium.crypto_sign_detached(msg, alice.secretKey)]);
})());
addInvalid('seq-ahead', 'seq more than 300 s ahead of issuedAt', 'SEQ_AHEAD', groupClaimPacket(signGroupClaim(claim([entry(0)], { seq: T0 * 1000 + 300_001 }), alice)));
addInvalid('ttl-too-long', 'ttl one second over 7 days', 'TTL_TOO_LONG', signRaw(mut((b) => new DataView(b.buffer).setUint32(81, MAX_GROUP_TTL_SECONDS + 1), payloadOf(claim([entry(0)])))));

/** Receiver vectors (docs/GROUPS.md section 5): a packet, from which peer, in which group, at what time, against what list. */
const receiver: unknown[] = [];
const aliceList = { epoch: EPOCH, devices: [bytesToHex(dev(0)), bytesToHex(dev(1))] };
function addReceiver(name: string, description: string, expected: string, o: { packet: Uint8Array; from: Uint8Array; chatId?: Uint8Array; now?: number; known?: { epoch: number; devices: string[] } | null }) {
  receiver.push({
    name, description, expected, packetHex: hex(o.packet), from: bytesToHex(o.from), chatId: bytesToHex(o.chatId ?? chat), now: o.now ?? T0 + 10,
    known: o.known === undefined ? aliceList : o.known,
  });
}
addReceiver('accepted', 'peer 0 sends the statement naming itself as device 0, which Alice lists', 'accepted', { packet: good, from: peer(0) });
addReceiver('accepted-unknown-persona', 'the same from a persona we hold no list of: accepted, not known', 'accepted', { packet: good, from: peer(0), known: null });
addReceiver('wrong-group', 'the statement replayed in another group', 'WRONG_GROUP', { packet: good, from: peer(0), chatId: otherChat });
addReceiver('future', 'issued more than 300 s after our clock', 'FUTURE_DATED', { packet: good, from: peer(0), now: T0 - 301 });
addReceiver('expired', 'one second past issuedAt + ttl', 'EXPIRED', { packet: good, from: peer(0), now: T0 + 86_401 });
addReceiver('copied', 'peer 5 relays Alice\'s statement, which does not name it (an impostor)', 'NOT_A_MEMBER', { packet: good, from: peer(5) });
addReceiver('not-listed', 'peer 1 claims device 1, which Alice\'s list no longer names (a dropped device)', 'NOT_LISTED', { packet: good, from: peer(1), known: { epoch: EPOCH, devices: [bytesToHex(dev(0))] } });
addReceiver('revoked', 'signed under epoch 1, the list we hold is of epoch 2', 'EPOCH_REVOKED', { packet: good, from: peer(0), known: { epoch: 2, devices: aliceList.devices } });

const meta = { context: GROUP_CLAIM_CONTEXT, magic: '747067', maxTtlSeconds: MAX_GROUP_TTL_SECONDS };
writeFileSync(join(root, 'test/vectors/group-valid.json'), `${JSON.stringify({ ...meta, vectors: valid }, null, 2)}\n`);
writeFileSync(join(root, 'test/vectors/group-invalid.json'), `${JSON.stringify({ ...meta, vectors: invalid, receiver }, null, 2)}\n`);
console.log(`group vectors: ${valid.length} valid, ${invalid.length} invalid, ${receiver.length} receiver`);

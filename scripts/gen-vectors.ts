// Regenerates the persona test vectors (test/vectors/persona-*.json) from fixed seeds; the tests compare against the checked-in files.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import pako from 'pako';
import {
  personaKeyFromSeed,
  signDeviceList,
  certifySigner,
  encodeStatusMessage,
  encodeBlob,
  signingInput,
  certSigningInput,
  chainRef,
  versionHash,
  SIGNING_CONTEXT,
  SIGNING_CONTEXT_V1,
  CERT_CONTEXT,
  VERSION_CONTEXT,
  STATUS_MARKER,
  MAX_TTL_SECONDS,
  MAX_SEQ_LEAD_MS,
  GENESIS,
  base64urlEncode,
  type ChainRef,
  type Device,
  type DeviceList,
  type PersonaKeyPair,
} from '../src/persona/index.js';
import { sodium } from '../src/persona/sodium.js';
import { bytesToHex } from '../src/util/bytes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A fixed 32-byte value: BLAKE2b-256 of a label, so every key in the vectors is reproducible from its name. */
function fixed(label: string): Uint8Array {
  return sodium.crypto_generichash(32, label, null);
}

const aliceSeed = fixed('persona-seed/alice');
const alice = personaKeyFromSeed(aliceSeed);
const mallorySeed = fixed('persona-seed/mallory');
const mallory = personaKeyFromSeed(mallorySeed);
const signerSeed = fixed('signer-seed/alice-laptop');
const signer = personaKeyFromSeed(signerSeed);
const dev = (i: number): Uint8Array => fixed(`device/${i}`);
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const EPOCH = 1;
/** The list every version-2 vector is built from: the same devices one day earlier. */
const PREV: ChainRef = chainRef({ version: 2, personaId: alice.publicKey, epoch: EPOCH, seq: (T0 - 86_400) * 1000, issuedAt: T0 - 86_400, ttl: 604_800, prev: GENESIS, devices: [{ publicKey: dev(0), name: '' }] });
const certFor = (epoch: number, by: PersonaKeyPair = alice, who: Uint8Array = signer.publicKey) => certifySigner(by, epoch, who);

function list(devices: Device[], over: Partial<DeviceList> = {}): DeviceList {
  return { version: 2, personaId: alice.publicKey, epoch: EPOCH, seq: T0 * 1000, issuedAt: T0, ttl: 604_800, prev: PREV, devices, ...over };
}
function listV1(devices: Device[], over: Partial<DeviceList> = {}): DeviceList {
  return { version: 1, personaId: alice.publicKey, seq: T0 * 1000, issuedAt: T0, ttl: 604_800, devices, ...over };
}

function jsonList(l: DeviceList): unknown {
  return {
    version: l.version,
    personaId: bytesToHex(l.personaId),
    ...(l.version === 2 ? { epoch: l.epoch ?? 0, prev: { seq: (l.prev ?? GENESIS).seq, hash: bytesToHex((l.prev ?? GENESIS).hash, false) } } : {}),
    seq: l.seq,
    issuedAt: l.issuedAt,
    ttl: l.ttl,
    devices: l.devices.map((d) => ({ publicKey: bytesToHex(d.publicKey), name: d.name })),
  };
}

const valid: unknown[] = [];
/** A valid vector; `certified` signs with Alice's signer under a certificate of the list's epoch, else the root signs. */
function addValid(name: string, description: string, l: DeviceList, human: string, o: { certified?: boolean; key?: PersonaKeyPair; seed?: Uint8Array } = {}): void {
  const key = o.key ?? alice;
  const certified = o.certified ?? l.version === 2;
  const cert = certified ? certFor(l.epoch ?? 0, key) : null;
  const signed = signDeviceList(l, certified ? signer : key, cert);
  const statusMessage = encodeStatusMessage(signed, human);
  valid.push({
    name,
    description,
    personaSeed: bytesToHex(o.seed ?? aliceSeed, false),
    ...(cert ? { signerSeed: bytesToHex(signerSeed, false), certSignature: bytesToHex(cert.signature, false) } : {}),
    list: jsonList(l),
    versionHash: bytesToHex(versionHash(l), false),
    human,
    payload: bytesToHex(signed.payload, false),
    signature: bytesToHex(signed.signature, false),
    envelope: encodeBlob(signed).envelope,
    statusMessage,
    statusMessageBytes: Buffer.byteLength(statusMessage),
  });
}

const NAMES6 = ['laptop', 'phone', 'tablet', 'desktop', 'work', 'rpi'];
addValid('one-device', 'a single unnamed device signed by a certified signer, no human text', list([{ publicKey: dev(0), name: '' }]), '');
addValid('two-named-human', 'two named devices behind a short human text', list([{ publicKey: dev(0), name: 'laptop' }, { publicKey: dev(1), name: 'phone' }]), 'at work');
addValid('sixteen-unnamed', 'the capacity: 16 unnamed devices with a certificate and no human text', list(Array.from({ length: 16 }, (_, i) => ({ publicKey: dev(i), name: '' }))), '');
addValid('six-named-400-human', 'the capacity floor: 6 named devices with a certificate and 400 bytes of human text', list(NAMES6.map((name, i) => ({ publicKey: dev(i), name }))), 'x'.repeat(400));
addValid('unicode-names', 'multi-byte UTF-8 names and human text', list([{ publicKey: dev(3), name: 'Ordinateur portable é' }, { publicKey: dev(4), name: '手机' }]), 'Grüße 👋 ');
addValid('some-names-empty', 'names flag set because one device is named; the others have empty names', list([{ publicKey: dev(5), name: '' }, { publicKey: dev(6), name: 'x' }, { publicKey: dev(7), name: '' }]), '');
addValid('marker-in-human-text', 'the human text itself contains the marker; the last marker is the real one', list([{ publicKey: dev(0), name: '' }]), `see ${STATUS_MARKER}AAAA and ${STATUS_MARKER}`);
addValid(
  'deflate-envelope',
  'long repetitive names make DEFLATE shrink the record, so the blob uses envelope 0x02',
  list(Array.from({ length: 6 }, (_, i) => ({ publicKey: dev(10 + i), name: `workstation-office-${i}` }))),
  'compressed',
);
addValid('root-signed', 'the root (PersonaID key) signs a version-2 list itself: no certificate, any epoch', list([{ publicKey: dev(0), name: '' }], { epoch: 2 }), '', { certified: false });
addValid('genesis', 'a first list: built from nothing (prev seq 0, prev hash 00000000)', list([{ publicKey: dev(0), name: '' }], { prev: GENESIS }), '');
addValid('max-fields', 'the largest epoch, issuedAt and ttl, and seq the full 300 s ahead of issuedAt', list([{ publicKey: dev(0), name: '' }], { epoch: 65_535, issuedAt: 2 ** 32 - 1, seq: (2 ** 32 - 1) * 1000 + MAX_SEQ_LEAD_MS, ttl: MAX_TTL_SECONDS }), '');
addValid('zero-fields', 'epoch 0, seq 0 and issuedAt 0 are allowed (a genesis list); ttl must be at least 1', list([{ publicKey: dev(0), name: '' }], { epoch: 0, seq: 0, issuedAt: 0, ttl: 1, prev: GENESIS }), '');
addValid('other-persona', 'a different persona key, root-signed', { ...list([{ publicKey: dev(20), name: 'm' }]), personaId: mallory.publicKey }, '', { certified: false, key: mallory, seed: mallorySeed });
addValid('v1-one-device', 'version 1: the PersonaID signs for itself (epoch 0, no chain)', listV1([{ publicKey: dev(0), name: '' }]), '');
addValid('v1-two-named-human', 'version 1, two named devices behind a short human text', listV1([{ publicKey: dev(0), name: 'laptop' }, { publicKey: dev(1), name: 'phone' }]), 'at work');
addValid('v1-nineteen-unnamed', 'version 1 at its capacity: 19 unnamed devices', listV1(Array.from({ length: 19 }, (_, i) => ({ publicKey: dev(i), name: '' }))), '');
addValid('v1-zero-fields', 'version 1, seq 0 and issuedAt 0', listV1([{ publicKey: dev(0), name: '' }], { seq: 0, issuedAt: 0, ttl: 1 }), '');

// ---- invalid vectors: each breaks exactly one rule ----
const invalid: unknown[] = [];
function addInvalid(name: string, description: string, expectedReason: string, message: string | Uint8Array): void {
  invalid.push(
    typeof message === 'string'
      ? { name, description, expectedReason, statusMessage: message }
      : { name, description, expectedReason, statusMessageHex: bytesToHex(message, false) },
  );
}

/** Serialises a version-1 payload without any validation, so a vector can break one rule at a time. */
function rawPayloadV1(o: { version?: number; flags?: number; personaId?: Uint8Array; seq?: number; issuedAt?: number; ttl?: number; count?: number; records: Uint8Array[] }): Uint8Array {
  const body = Buffer.concat(o.records);
  const out = new Uint8Array(49 + body.length);
  const v = new DataView(out.buffer);
  out[0] = o.version ?? 1;
  out[1] = o.flags ?? 0;
  out.set(o.personaId ?? alice.publicKey, 2);
  const seq = o.seq ?? T0 * 1000;
  v.setUint16(34, Math.floor(seq / 2 ** 32));
  v.setUint32(36, seq % 2 ** 32);
  v.setUint32(40, o.issuedAt ?? T0);
  v.setUint32(44, o.ttl ?? 604_800);
  out[48] = o.count ?? o.records.length;
  out.set(body, 49);
  return out;
}
interface RawV2 {
  version?: number;
  flags?: number;
  personaId?: Uint8Array;
  epoch?: number;
  seq?: number;
  issuedAt?: number;
  ttl?: number;
  prev?: ChainRef;
  count?: number;
  records: Uint8Array[];
  /** Certificate bytes (signer key || root signature); sets flag bit 1 unless `flags` is given. */
  cert?: Uint8Array;
}
/** Serialises a version-2 payload (certificate included) without any validation. */
function rawPayload(o: RawV2): Uint8Array {
  const body = Buffer.concat(o.records);
  const cert = o.cert ?? new Uint8Array(0);
  const out = new Uint8Array(61 + body.length + cert.length);
  const v = new DataView(out.buffer);
  const seq = o.seq ?? T0 * 1000;
  const prev = o.prev ?? PREV;
  out[0] = o.version ?? 2;
  out[1] = o.flags ?? (o.cert ? 2 : 0);
  out.set(o.personaId ?? alice.publicKey, 2);
  v.setUint16(34, o.epoch ?? EPOCH);
  v.setUint16(36, Math.floor(seq / 2 ** 32));
  v.setUint32(38, seq % 2 ** 32);
  v.setUint32(42, o.issuedAt ?? T0);
  v.setUint32(46, o.ttl ?? 604_800);
  v.setUint16(50, Math.floor(prev.seq / 2 ** 32));
  v.setUint32(52, prev.seq % 2 ** 32);
  out.set(prev.hash, 56);
  out[60] = o.count ?? o.records.length;
  out.set(body, 61);
  out.set(cert, 61 + body.length);
  return out;
}
/** Certificate bytes: signer key || the root's signature over the certificate input. */
function certBytes(epoch = EPOCH, by: PersonaKeyPair = alice, who: Uint8Array = signer.publicKey, forPersona: Uint8Array = by.publicKey): Uint8Array {
  const sig = sodium.crypto_sign_detached(certSigningInput(forPersona, epoch, who), by.secretKey);
  return Uint8Array.from([...who, ...sig]);
}
function named(pk: Uint8Array, name: Uint8Array): Uint8Array {
  return Uint8Array.from([...pk, name.length, ...name]);
}
function sign(payload: Uint8Array, context: Uint8Array | null = null, key: PersonaKeyPair = alice): Uint8Array {
  const msg = context ? Uint8Array.from([...context, ...payload]) : signingInput(payload);
  return sodium.crypto_sign_detached(msg, key.secretKey);
}
function blobText(envelope: number, body: Uint8Array, human = ''): string {
  return human + STATUS_MARKER + base64urlEncode(Uint8Array.from([envelope, ...body]));
}
/** A status message for a payload signed by `key` (the root by default; pass the signer for a certified payload). */
function signedText(payload: Uint8Array, key: PersonaKeyPair = alice, human = ''): string {
  return blobText(1, Uint8Array.from([...payload, ...sign(payload, null, key)]), human);
}

const goodPayload = rawPayload({ records: [dev(0), dev(1)], cert: certBytes() });
const goodRecord = Uint8Array.from([...goodPayload, ...sign(goodPayload, null, signer)]);
const goodText = blobText(1, goodRecord);
const v1Payload = rawPayloadV1({ records: [dev(0), dev(1)] });
const v1Record = Uint8Array.from([...v1Payload, ...sign(v1Payload)]);

addInvalid('no-marker', 'a plain status message', 'NO_BLOB', 'just a normal status');
addInvalid('empty-blob', 'the marker with nothing after it', 'TRUNCATED', 'hi' + STATUS_MARKER);
addInvalid('bad-base64-char', 'a character outside the base64url alphabet', 'BAD_BASE64', goodText.slice(0, -3) + '+' + goodText.slice(-2));
addInvalid('base64-padding', 'padding is not allowed', 'BAD_BASE64', goodText + '=');
addInvalid('base64-length-4k+1', 'a base64url length of 4k+1 can encode nothing', 'BAD_BASE64', blobText(1, goodRecord.subarray(0, 2)) + 'A');
addInvalid('base64-noncanonical-bits', 'unused trailing bits must be zero', 'BAD_BASE64', (() => {
  const t = blobText(1, goodRecord.subarray(0, goodRecord.length - 2)); // a blob length of 3k+2 ends in 3 characters with 2 unused bits
  const last = t.at(-1) as string;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return t.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
})());
addInvalid('unknown-envelope', 'envelope byte 0x03', 'BAD_ENVELOPE', blobText(3, goodRecord));
addInvalid('truncated-signature', 'the last signature byte is missing', 'TRUNCATED', blobText(1, goodRecord.subarray(0, goodRecord.length - 1)));
addInvalid('truncated-header', 'only half a header', 'TRUNCATED', blobText(1, goodRecord.subarray(0, 20)));
addInvalid('truncated-header-v2', 'a version-2 record of 60 bytes: longer than a version-1 header, shorter than a version-2 one', 'TRUNCATED', blobText(1, goodRecord.subarray(0, 60)));
addInvalid('truncated-device', 'the record ends inside a device key', 'TRUNCATED', blobText(1, goodRecord.subarray(0, 61 + 40)));
addInvalid('truncated-cert', 'the record ends inside the certificate', 'TRUNCATED', blobText(1, goodRecord.subarray(0, 61 + 64 + 50)));
addInvalid('trailing-bytes', 'one byte after the signature', 'TRAILING_BYTES', blobText(1, Uint8Array.from([...goodRecord, 0])));
addInvalid('bad-signature', 'one bit of the signature flipped', 'BAD_SIGNATURE', blobText(1, Uint8Array.from(goodRecord, (b, i) => (i === goodRecord.length - 10 ? b ^ 1 : b))));
addInvalid('tampered-device', 'one bit of a device key flipped after signing', 'BAD_SIGNATURE', blobText(1, Uint8Array.from(goodRecord, (b, i) => (i === 70 ? b ^ 1 : b))));
addInvalid('tampered-seq', 'one bit of seq flipped after signing (the certificate still verifies)', 'BAD_SIGNATURE', blobText(1, Uint8Array.from(goodRecord, (b, i) => (i === 41 ? b ^ 1 : b))));
addInvalid('wrong-context', `signed without the context string "${SIGNING_CONTEXT.replace('\0', '\\0')}"`, 'BAD_SIGNATURE', blobText(1, Uint8Array.from([...goodPayload, ...sign(goodPayload, new Uint8Array(0), signer)])));
addInvalid('v1-context-on-v2', 'a version-2 payload signed with the version-1 context', 'BAD_SIGNATURE', blobText(1, Uint8Array.from([...goodPayload, ...sign(goodPayload, new TextEncoder().encode(SIGNING_CONTEXT_V1), signer)])));
addInvalid('root-signs-certified', 'a payload carrying a certificate but signed by the root instead of the certified signer', 'BAD_SIGNATURE', signedText(goodPayload, alice));
addInvalid('uncertified-signer', 'no certificate flag, signed by the signer: only the root may sign without a certificate', 'BAD_SIGNATURE', signedText(rawPayload({ records: [dev(0)] }), signer));
addInvalid('cert-other-persona', "a certificate Mallory's root made for Mallory's persona, in a list of Alice's persona", 'SIGNER_NOT_CERTIFIED', signedText(rawPayload({ records: [dev(0)], cert: certBytes(EPOCH, mallory) }), signer));
addInvalid('cert-signed-by-other-root', "Mallory's root certifying a signer for Alice's PersonaID", 'SIGNER_NOT_CERTIFIED', signedText(rawPayload({ records: [dev(0)], cert: certBytes(EPOCH, mallory, signer.publicKey, alice.publicKey) }), signer));
addInvalid('cert-other-epoch', 'a certificate for epoch 1 carried in a list of epoch 2 (a revoked signer claiming the new epoch)', 'SIGNER_NOT_CERTIFIED', signedText(rawPayload({ epoch: 2, records: [dev(0)], cert: certBytes(1) }), signer));
addInvalid('cert-wrong-context', 'a certificate signed without its context string', 'SIGNER_NOT_CERTIFIED', signedText(rawPayload({ records: [dev(0)], cert: Uint8Array.from([...signer.publicKey, ...sodium.crypto_sign_detached(certSigningInput(alice.publicKey, EPOCH, signer.publicKey).subarray(CERT_CONTEXT.length), alice.secretKey)]) }), signer));
addInvalid('cert-for-root', 'a certificate naming the PersonaID itself as signer', 'BAD_CERT', signedText(rawPayload({ records: [dev(0)], cert: Uint8Array.from([...alice.publicKey, ...new Uint8Array(64)]) })));
addInvalid('chain-not-below', 'prev seq equal to seq: a list can only be built from an older one', 'BAD_CHAIN', signedText(rawPayload({ records: [dev(0)], prev: { seq: T0 * 1000, hash: PREV.hash } })));
addInvalid('chain-above', 'prev seq above seq', 'BAD_CHAIN', signedText(rawPayload({ records: [dev(0)], prev: { seq: T0 * 1000 + 1, hash: PREV.hash } })));
addInvalid('seq-ahead', 'seq 300.001 s ahead of issuedAt: a clock glitch cannot outrank later lists', 'SEQ_AHEAD', signedText(rawPayload({ records: [dev(0)], seq: T0 * 1000 + MAX_SEQ_LEAD_MS + 1, cert: certBytes() }), signer));
addInvalid('seq-max-lockout', 'seq 2^48-1 with issuedAt now: the stolen-key lockout of version 1 is refused', 'SEQ_AHEAD', signedText(rawPayload({ records: [dev(0)], seq: 2 ** 48 - 1, cert: certBytes() }), signer));
addInvalid('v1-seq-max-lockout', 'version 1 with seq 2^48-1 and issuedAt now: refused the same way', 'SEQ_AHEAD', signedText(rawPayloadV1({ records: [dev(0)], seq: 2 ** 48 - 1 })));
addInvalid('ttl-too-long', 'a ttl of 90 days and 1 second', 'TTL_TOO_LONG', signedText(rawPayload({ records: [dev(0)], ttl: MAX_TTL_SECONDS + 1, cert: certBytes() }), signer));
addInvalid('v1-ttl-136-years', 'version 1 with the largest ttl (136 years)', 'TTL_TOO_LONG', signedText(rawPayloadV1({ records: [dev(0)], ttl: 2 ** 32 - 1 })));
addInvalid('unsupported-version', 'version byte 3, correctly signed', 'UNSUPPORTED_VERSION', signedText(rawPayload({ version: 3, records: [dev(0)] })));
addInvalid('unknown-flag', 'flag bit 2 set', 'BAD_FLAGS', signedText(rawPayload({ flags: 4, records: [dev(0)] })));
addInvalid('v1-cert-flag', 'flag bit 1 in a version-1 list (version 1 has no certificate)', 'BAD_FLAGS', signedText(rawPayloadV1({ flags: 2, records: [dev(0)] })));
addInvalid('ttl-zero', 'ttl 0', 'BAD_FIELD', signedText(rawPayload({ ttl: 0, records: [dev(0)] })));
addInvalid('no-devices', 'device count 0', 'BAD_FIELD', signedText(rawPayload({ records: [] })));
addInvalid('count-too-high', 'count says 3, two devices follow', 'TRUNCATED', signedText(rawPayload({ count: 3, records: [dev(0), dev(1)] })));
addInvalid('duplicate-device', 'the same key twice', 'DUPLICATE_DEVICE', signedText(rawPayload({ records: [dev(0), dev(1), dev(0)] })));
addInvalid('persona-is-device', 'the PersonaID listed as a device', 'PERSONA_IS_DEVICE', signedText(rawPayload({ records: [dev(0), alice.publicKey] })));
addInvalid('name-too-long', 'a 33-byte name', 'BAD_NAME', signedText(rawPayload({ flags: 1, records: [named(dev(0), new Uint8Array(33).fill(0x61))] })));
addInvalid('name-invalid-utf8', 'a name with a lone continuation byte', 'INVALID_UTF8', signedText(rawPayload({ flags: 1, records: [named(dev(0), Uint8Array.from([0x61, 0x80]))] })));
addInvalid('name-overlong-utf8', 'an overlong UTF-8 encoding of "/"', 'INVALID_UTF8', signedText(rawPayload({ flags: 1, records: [named(dev(0), Uint8Array.from([0xc0, 0xaf]))] })));
addInvalid('name-control-char', 'a newline in a name', 'BAD_NAME', signedText(rawPayload({ flags: 1, records: [named(dev(0), Uint8Array.from([0x61, 0x0a]))] })));
addInvalid('name-c1-control', 'a C1 control (U+0085 NEL) in a name', 'BAD_NAME', signedText(rawPayload({ flags: 1, records: [named(dev(0), Uint8Array.from([0x61, 0xc2, 0x85]))] })));
addInvalid('name-bidi-override', 'a right-to-left override (U+202E) in a name, which makes it display reversed', 'BAD_NAME', signedText(rawPayload({ flags: 1, records: [named(dev(0), Uint8Array.from([0x61, 0xe2, 0x80, 0xae, 0x62]))] })));
addInvalid('names-flag-all-empty', 'names flag set but every name empty (a second spelling of an unnamed list)', 'NON_CANONICAL', signedText(rawPayload({ flags: 1, records: [named(dev(0), new Uint8Array(0)), named(dev(1), new Uint8Array(0))] })));
addInvalid('v1-bad-signature', 'version 1 with one bit of the signature flipped', 'BAD_SIGNATURE', blobText(1, Uint8Array.from(v1Record, (b, i) => (i === v1Record.length - 10 ? b ^ 1 : b))));
addInvalid('v1-wrong-context', 'a version-1 payload signed with the version-2 context', 'BAD_SIGNATURE', blobText(1, Uint8Array.from([...v1Payload, ...sign(v1Payload, new TextEncoder().encode(SIGNING_CONTEXT))])));
addInvalid('deflate-bomb', 'a DEFLATE envelope that inflates to 256 KiB of zeros', 'INFLATE_TOO_LARGE', blobText(2, pako.deflateRaw(new Uint8Array(1 << 18), { level: 9 })));
addInvalid('deflate-corrupt', 'a DEFLATE envelope holding garbage', 'INFLATE_FAILED', blobText(2, Uint8Array.from([0xff, 0xff, 0xff, 0x00, 0x11])));
addInvalid('deflate-unterminated', 'a DEFLATE stream cut before its final block', 'INFLATE_FAILED', blobText(2, pako.deflateRaw(goodRecord).subarray(0, 40)));
addInvalid('deflate-bad-signature', 'a compressed record whose signature does not verify', 'BAD_SIGNATURE', blobText(2, pako.deflateRaw(Uint8Array.from(goodRecord, (b, i) => (i === 70 ? b ^ 4 : b)))));
addInvalid('too-long', '1008 bytes: one more than Tox allows', 'TOO_LONG', 'y'.repeat(1008 - goodText.length) + goodText);
addInvalid('too-long-multibyte', '1008 UTF-8 bytes in fewer characters', 'TOO_LONG', 'é'.repeat(Math.floor((1008 - goodText.length) / 2)) + 'y'.repeat((1008 - goodText.length) % 2) + goodText);
addInvalid('invalid-utf8-text', 'raw bytes that are not UTF-8 in the human part', 'INVALID_UTF8', Uint8Array.from([0xff, 0xfe, ...Buffer.from(goodText)]));
addInvalid('invalid-utf8-surrogate', 'an encoded UTF-16 surrogate (CESU-style) in the human part', 'INVALID_UTF8', Uint8Array.from([0xed, 0xa0, 0x80, ...Buffer.from(goodText)]));

const header = {
  about: 'tox-persona device-list test vectors; see docs/PROTOCOL.md. Keys are BLAKE2b-256 of labels; seeds are Ed25519 seeds (libsodium crypto_sign_seed_keypair).',
  signingContext: SIGNING_CONTEXT.replace('\0', '\\0'),
  signingContextV1: SIGNING_CONTEXT_V1.replace('\0', '\\0'),
  certContext: CERT_CONTEXT.replace('\0', '\\0'),
  versionContext: VERSION_CONTEXT.replace('\0', '\\0'),
  marker: STATUS_MARKER,
};
writeFileSync(join(root, 'test/vectors/persona-valid.json'), JSON.stringify({ ...header, vectors: valid }, null, 2) + '\n');
writeFileSync(join(root, 'test/vectors/persona-invalid.json'), JSON.stringify({ ...header, vectors: invalid }, null, 2) + '\n');
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid vectors`);

// Regenerates the persona test vectors (test/vectors/persona-*.json) from fixed seeds; the tests compare against the checked-in files.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import pako from 'pako';
import {
  personaKeyFromSeed,
  signDeviceList,
  encodeStatusMessage,
  encodeBlob,
  signingInput,
  SIGNING_CONTEXT,
  STATUS_MARKER,
  base64urlEncode,
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
const dev = (i: number): Uint8Array => fixed(`device/${i}`);
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

function list(devices: Device[], over: Partial<DeviceList> = {}): DeviceList {
  return { version: 1, personaId: alice.publicKey, seq: T0 * 1000, issuedAt: T0, ttl: 604_800, devices, ...over };
}

function jsonList(l: DeviceList): unknown {
  return {
    version: l.version,
    personaId: bytesToHex(l.personaId),
    seq: l.seq,
    issuedAt: l.issuedAt,
    ttl: l.ttl,
    devices: l.devices.map((d) => ({ publicKey: bytesToHex(d.publicKey), name: d.name })),
  };
}

const valid: unknown[] = [];
function addValid(name: string, description: string, l: DeviceList, human: string, key: PersonaKeyPair = alice, seed = aliceSeed): void {
  const signed = signDeviceList(l, key);
  const statusMessage = encodeStatusMessage(signed, human);
  valid.push({
    name,
    description,
    personaSeed: bytesToHex(seed, false),
    list: jsonList(l),
    human,
    payload: bytesToHex(signed.payload, false),
    signature: bytesToHex(signed.signature, false),
    envelope: encodeBlob(signed).envelope,
    statusMessage,
    statusMessageBytes: Buffer.byteLength(statusMessage),
  });
}

addValid('one-device', 'a single unnamed device, no human text', list([{ publicKey: dev(0), name: '' }]), '');
addValid('two-named-human', 'two named devices behind a short human text', list([{ publicKey: dev(0), name: 'laptop' }, { publicKey: dev(1), name: 'phone' }]), 'at work');
addValid('nineteen-unnamed', 'the capacity target: 19 unnamed devices and no human text', list(Array.from({ length: 19 }, (_, i) => ({ publicKey: dev(i), name: '' }))), '');
addValid(
  'eight-named-400-human',
  'the capacity target: 8 named devices with 400 bytes of human text',
  list(['laptop', 'phone', 'tablet', 'desktop', 'work', 'pi', 'tv', 'watch'].map((name, i) => ({ publicKey: dev(i), name }))),
  'x'.repeat(400),
);
addValid('unicode-names', 'multi-byte UTF-8 names and human text', list([{ publicKey: dev(3), name: 'Ordinateur portable é' }, { publicKey: dev(4), name: '手机' }]), 'Grüße 👋 ');
addValid('some-names-empty', 'names flag set because one device is named; the others have empty names', list([{ publicKey: dev(5), name: '' }, { publicKey: dev(6), name: 'x' }, { publicKey: dev(7), name: '' }]), '');
addValid('marker-in-human-text', 'the human text itself contains the marker; the last marker is the real one', list([{ publicKey: dev(0), name: '' }]), `see ${STATUS_MARKER}AAAA and ${STATUS_MARKER}`);
addValid(
  'deflate-envelope',
  'long repetitive names make DEFLATE shrink the record, so the blob uses envelope 0x02',
  list(Array.from({ length: 6 }, (_, i) => ({ publicKey: dev(10 + i), name: `workstation-office-${i}` }))),
  'compressed',
);
addValid('max-fields', 'the largest seq, issuedAt and ttl', list([{ publicKey: dev(0), name: '' }], { seq: 2 ** 48 - 1, issuedAt: 2 ** 32 - 1, ttl: 2 ** 32 - 1 }), '');
addValid('zero-fields', 'seq 0 and issuedAt 0 are allowed; ttl must be at least 1', list([{ publicKey: dev(0), name: '' }], { seq: 0, issuedAt: 0, ttl: 1 }), '');
addValid('other-persona', 'a different persona key', { ...list([{ publicKey: dev(20), name: 'm' }]), personaId: mallory.publicKey }, '', mallory, mallorySeed);

// ---- invalid vectors: each breaks exactly one rule ----
const invalid: unknown[] = [];
function addInvalid(name: string, description: string, expectedReason: string, message: string | Uint8Array): void {
  invalid.push(
    typeof message === 'string'
      ? { name, description, expectedReason, statusMessage: message }
      : { name, description, expectedReason, statusMessageHex: bytesToHex(message, false) },
  );
}

/** Serialises header fields and device records without any validation, so a vector can break one rule at a time. */
function rawPayload(o: { version?: number; flags?: number; personaId?: Uint8Array; seq?: number; issuedAt?: number; ttl?: number; count?: number; records: Uint8Array[] }): Uint8Array {
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
function signedText(payload: Uint8Array, human = ''): string {
  return blobText(1, Uint8Array.from([...payload, ...sign(payload)]), human);
}

const goodPayload = rawPayload({ records: [dev(0), dev(1)] });
const goodRecord = Uint8Array.from([...goodPayload, ...sign(goodPayload)]);
const goodText = blobText(1, goodRecord);

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
addInvalid('truncated-device', 'the record ends inside a device key', 'TRUNCATED', blobText(1, goodRecord.subarray(0, 49 + 40)));
addInvalid('trailing-bytes', 'one byte after the signature', 'TRAILING_BYTES', blobText(1, Uint8Array.from([...goodRecord, 0])));
addInvalid('bad-signature', 'one bit of the signature flipped', 'BAD_SIGNATURE', blobText(1, Uint8Array.from(goodRecord, (b, i) => (i === goodRecord.length - 10 ? b ^ 1 : b))));
addInvalid('tampered-device', 'one bit of a device key flipped after signing', 'BAD_SIGNATURE', blobText(1, Uint8Array.from(goodRecord, (b, i) => (i === 60 ? b ^ 1 : b))));
addInvalid('wrong-context', `signed without the context string "${SIGNING_CONTEXT.replace('\0', '\\0')}"`, 'BAD_SIGNATURE', blobText(1, Uint8Array.from([...goodPayload, ...sign(goodPayload, new Uint8Array(0))])));
addInvalid('other-context', 'signed with the context of a hypothetical version 2', 'BAD_SIGNATURE', blobText(1, Uint8Array.from([...goodPayload, ...sign(goodPayload, new TextEncoder().encode('tox-persona/device-list/v2\0'))])));
addInvalid('wrong-key', 'signed by another key than the PersonaID in the payload', 'BAD_SIGNATURE', blobText(1, Uint8Array.from([...goodPayload, ...sign(goodPayload, null, mallory)])));
addInvalid('unsupported-version', 'version byte 2, correctly signed', 'UNSUPPORTED_VERSION', signedText(rawPayload({ version: 2, records: [dev(0)] })));
addInvalid('unknown-flag', 'flag bit 1 set', 'BAD_FLAGS', signedText(rawPayload({ flags: 2, records: [dev(0)] })));
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
  marker: STATUS_MARKER,
};
writeFileSync(join(root, 'test/vectors/persona-valid.json'), JSON.stringify({ ...header, vectors: valid }, null, 2) + '\n');
writeFileSync(join(root, 'test/vectors/persona-invalid.json'), JSON.stringify({ ...header, vectors: invalid }, null, 2) + '\n');
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid vectors`);

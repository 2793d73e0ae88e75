// The signed device list: its canonical binary form, Ed25519 signing and verification, and the sequence-number scheme.
import { onPersonaCryptoSwap, personaCrypto as crypto } from './sodium.js';
import { InvalidDeviceList } from './errors.js';
import { abytes, bytesEqual, bytesToHex } from '../util/bytes.js';

/** Version 1 of the format: the PersonaID key signs the list itself (still accepted: the root signing for itself). */
export const DEVICE_LIST_VERSION_1 = 1;
/** Version 2 of the format: epoch, chain reference, and an optional signer certificate; what new lists use. */
export const DEVICE_LIST_VERSION = 2;
/** Domain-separation prefix of version-1 list signatures. */
export const SIGNING_CONTEXT_V1 = 'tox-persona/device-list/v1\0';
/** Domain-separation prefix signed in front of a version-2 payload, so a signature made for anything else never verifies here. */
export const SIGNING_CONTEXT = 'tox-persona/device-list/v2\0';
/** The version-2 signing context as bytes (ASCII, NUL-terminated). */
export const SIGNING_CONTEXT_BYTES: Uint8Array = new TextEncoder().encode(SIGNING_CONTEXT);
/** The version-1 signing context as bytes. */
export const SIGNING_CONTEXT_V1_BYTES: Uint8Array = new TextEncoder().encode(SIGNING_CONTEXT_V1);
/** Domain-separation prefix of a signer certificate (the root's signature over PersonaID, epoch and signer key). */
export const CERT_CONTEXT = 'tox-persona/signer-cert/v2\0';
/** The certificate context as bytes. */
export const CERT_CONTEXT_BYTES: Uint8Array = new TextEncoder().encode(CERT_CONTEXT);
/** Domain-separation prefix of a version hash (what a chain reference names). */
export const VERSION_CONTEXT = 'tox-persona/version/v2\0';
const VERSION_CONTEXT_BYTES: Uint8Array = new TextEncoder().encode(VERSION_CONTEXT);
/** Flag bit 0: every device record carries a length-prefixed name. */
export const FLAG_NAMES = 0x01;
/** Flag bit 1 (version 2 only): a signer certificate follows the devices, and the signer it names signed the list. */
export const FLAG_CERT = 0x02;
/** Longest device name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 32;
/** Most devices a list can hold (the count is one byte); the 1007-byte status message is the tighter limit in practice. */
export const MAX_DEVICES = 255;
/** Largest sequence number (48 bits, so milliseconds since 1970 fit until the year 10889 and every value is a safe JS integer). */
export const MAX_SEQ = 2 ** 48 - 1;
/** Largest issued-at and time-to-live values (32-bit unsigned seconds). */
export const MAX_U32 = 2 ** 32 - 1;
/** Largest epoch (16 bits: 65,535 rotations). */
export const MAX_EPOCH = 2 ** 16 - 1;
/** Longest ttl receivers accept (90 days): a stolen key can't publish a list that stays fresh for a century. */
export const MAX_TTL_SECONDS = 90 * 24 * 3600;
/** How far seq (milliseconds) may run ahead of issuedAt (seconds x 1000): 300 s, the clock-skew allowance. */
export const MAX_SEQ_LEAD_MS = 300_000;
/** Bytes before the first device record of a version-1 list. */
export const HEADER_BYTES_V1 = 1 + 1 + 32 + 6 + 4 + 4 + 1;
/** Bytes before the first device record of a version-2 list: version, flags, PersonaID, epoch, seq, issuedAt, ttl, prev seq, prev hash, count. */
export const HEADER_BYTES = 1 + 1 + 32 + 2 + 6 + 4 + 4 + 6 + 4 + 1;
/** Length of the version-hash prefix a chain reference carries. */
export const CHAIN_HASH_BYTES = 4;
/** Ed25519 signature length. */
export const SIGNATURE_BYTES = 64;
/** A signer certificate in a version-2 record: signer public key and the root's signature. */
export const CERT_BYTES = 32 + SIGNATURE_BYTES;
/** Default time-to-live of a new list: 7 days. */
export const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;

/** A 32-byte Tox public key of one device. */
export type ToxPublicKey = Uint8Array;
/** A PersonaID: the persona's 32-byte Ed25519 root public key. */
export type PersonaId = Uint8Array;

/** One device in a list. */
export interface Device {
  /** The device's Tox public key (32 bytes). */
  readonly publicKey: ToxPublicKey;
  /** A short UTF-8 name (at most 32 bytes, no control or bidi formatting characters); '' for none. */
  readonly name: string;
}

/** Names the version a list was built from: its seq and the first 4 bytes of its version hash. */
export interface ChainRef {
  /** seq of the list built from. */
  readonly seq: number;
  /** First CHAIN_HASH_BYTES bytes of that list's version hash. */
  readonly hash: Uint8Array;
}

/** The chain reference of a first list (built from nothing). */
export const GENESIS: ChainRef = Object.freeze({ seq: 0, hash: new Uint8Array(CHAIN_HASH_BYTES) });

/** The content a persona signs: its devices in order, the first being the active one. */
export interface DeviceList {
  /** Format version: 2 for new lists, 1 for lists signed by the PersonaID key in the old format. */
  readonly version: number;
  /** The persona's root public key. */
  readonly personaId: PersonaId;
  /** Signer epoch (version 2; 0 for version 1): a list under a lower epoch than one seen is revoked. */
  readonly epoch?: number;
  /** Sequence number; a higher one replaces a lower one within an epoch (see PROTOCOL.md, "Sequence numbers"). */
  readonly seq: number;
  /** When the list was signed, Unix seconds. */
  readonly issuedAt: number;
  /** Seconds after issuedAt during which the list may trigger automatic adds. */
  readonly ttl: number;
  /** The version this one was built from (version 2 only; GENESIS for a first list). */
  readonly prev?: ChainRef;
  /** Devices in order, active first; at least one. */
  readonly devices: readonly Device[];
}

/** The root's statement that `signerKey` may sign lists of the persona under the list's epoch. */
export interface SignerCert {
  /** The signer's Ed25519 public key. */
  readonly signerKey: Uint8Array;
  /** Ed25519 signature of the root over CERT_CONTEXT || personaId || epoch (u16) || signerKey. */
  readonly signature: Uint8Array;
}

/** A device list together with its canonical payload bytes and signature. */
export interface SignedDeviceList {
  /** The decoded list. */
  readonly list: DeviceList;
  /** The canonical payload bytes the signature covers (after the context string); includes the certificate. */
  readonly payload: Uint8Array;
  /** Ed25519 signature over the signing context || payload. */
  readonly signature: Uint8Array;
  /** The signer certificate, or null when the root (PersonaID key) signed the list itself. */
  readonly cert: SignerCert | null;
}

/** Reasons a blob or list is rejected; see PROTOCOL.md, "Reason codes". */
export type RejectReason =
  | 'TOO_LONG'
  | 'INVALID_UTF8'
  | 'NO_BLOB'
  | 'BAD_BASE64'
  | 'BAD_ENVELOPE'
  | 'INFLATE_TOO_LARGE'
  | 'INFLATE_FAILED'
  | 'TRUNCATED'
  | 'TRAILING_BYTES'
  | 'UNSUPPORTED_VERSION'
  | 'BAD_FLAGS'
  | 'BAD_FIELD'
  | 'BAD_CHAIN'
  | 'BAD_NAME'
  | 'NON_CANONICAL'
  | 'DUPLICATE_DEVICE'
  | 'PERSONA_IS_DEVICE'
  | 'BAD_CERT'
  | 'SIGNER_NOT_CERTIFIED'
  | 'BAD_SIGNATURE'
  | 'SEQ_AHEAD'
  | 'TTL_TOO_LONG';

/** A rejection value: the reason code for programs, a detail for people. */
export interface Rejection {
  readonly ok: false;
  readonly reason: RejectReason;
  readonly detail: string;
}

/** Builds a rejection value. */
export function reject(reason: RejectReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Characters no name may hold: C0 controls, DEL, C1 controls (U+0080..U+009F), and the bidirectional formatting
 * characters (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069), which can make a name display as another one.
 */
// eslint-disable-next-line no-control-regex
export const FORBIDDEN_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Returns the reason a name is not allowed, or undefined when it is fine. */
export function checkName(name: string): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  if (!isWellFormed(name)) return 'not valid Unicode (lone surrogate)';
  if (utf8.encode(name).length > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} UTF-8 bytes`;
  if (FORBIDDEN_NAME_CHARS.test(name)) return 'contains a control or bidirectional formatting character';
  return undefined;
}

function isGenesis(ref: ChainRef): boolean {
  return ref.seq === 0 && ref.hash.every((b) => b === 0);
}

/** Checks every rule of a list that the encoder must uphold; throws InvalidDeviceList naming the broken rule. */
export function assertValidDeviceList(list: DeviceList): void {
  if (list.version !== DEVICE_LIST_VERSION && list.version !== DEVICE_LIST_VERSION_1) throw new InvalidDeviceList(`version must be 1 or 2, got ${String(list.version)}`);
  abytes(list.personaId, 32, 'personaId');
  if (!Number.isSafeInteger(list.seq) || list.seq < 0 || list.seq > MAX_SEQ) throw new InvalidDeviceList(`seq must be an integer in 0..2^48-1, got ${String(list.seq)}`);
  if (!Number.isSafeInteger(list.issuedAt) || list.issuedAt < 0 || list.issuedAt > MAX_U32) throw new InvalidDeviceList(`issuedAt must be an integer in 0..2^32-1, got ${String(list.issuedAt)}`);
  if (!Number.isSafeInteger(list.ttl) || list.ttl < 1 || list.ttl > MAX_U32) throw new InvalidDeviceList(`ttl must be an integer in 1..2^32-1, got ${String(list.ttl)}`);
  if (list.version === DEVICE_LIST_VERSION_1) {
    if ((list.epoch ?? 0) !== 0 || list.prev !== undefined) throw new InvalidDeviceList('a version-1 list has no epoch and no chain reference');
  } else {
    const epoch = list.epoch ?? 0;
    if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new InvalidDeviceList(`epoch must be an integer in 0..65535, got ${String(list.epoch)}`);
    const prev = list.prev ?? GENESIS;
    abytes(prev.hash, CHAIN_HASH_BYTES, 'prev.hash');
    if (!Number.isSafeInteger(prev.seq) || prev.seq < 0 || prev.seq > MAX_SEQ) throw new InvalidDeviceList(`prev.seq must be an integer in 0..2^48-1, got ${String(prev.seq)}`);
    if (!isGenesis(prev) && prev.seq >= list.seq) throw new InvalidDeviceList(`prev.seq ${prev.seq} must be below seq ${list.seq}`);
  }
  if (!Array.isArray(list.devices) || list.devices.length < 1 || list.devices.length > MAX_DEVICES) {
    throw new InvalidDeviceList(`a list holds 1..${MAX_DEVICES} devices, got ${Array.isArray(list.devices) ? list.devices.length : 'none'}`);
  }
  list.devices.forEach((d, i) => {
    abytes(d.publicKey, 32, `devices[${i}].publicKey`);
    const bad = checkName(d.name);
    if (bad) throw new InvalidDeviceList(`devices[${i}].name ${bad}`);
    if (bytesEqual(d.publicKey, list.personaId)) throw new InvalidDeviceList(`devices[${i}] is the PersonaID itself`);
    for (let j = 0; j < i; j++) {
      if (bytesEqual((list.devices[j] as Device).publicKey, d.publicKey)) throw new InvalidDeviceList(`devices[${i}] repeats devices[${j}]`);
    }
  });
}

/** The device records (flags byte's NAMES bit and the records), shared by the payload and the version hash. */
function encodeDevices(devices: readonly Device[]): { named: boolean; bytes: Uint8Array } {
  const names = devices.map((d) => utf8.encode(d.name));
  const named = names.some((n) => n.length > 0);
  let size = 32 * devices.length;
  if (named) for (const n of names) size += 1 + n.length;
  const out = new Uint8Array(size);
  let o = 0;
  devices.forEach((d, i) => {
    out.set(d.publicKey, o);
    o += 32;
    if (named) {
      const n = names[i] as Uint8Array;
      out[o++] = n.length;
      out.set(n, o);
      o += n.length;
    }
  });
  return { named, bytes: out };
}

function putU48(view: DataView, at: number, value: number): void {
  view.setUint16(at, Math.floor(value / 2 ** 32));
  view.setUint32(at + 2, value % 2 ** 32);
}

function getU48(view: DataView, at: number): number {
  return view.getUint16(at) * 2 ** 32 + view.getUint32(at + 2);
}

/**
 * Serialises a list to its canonical payload bytes (PROTOCOL.md, "Payload"); a version-2 list signed by a certified
 * signer includes `cert`. Throws InvalidDeviceList for a list that breaks a rule.
 */
export function encodeDeviceListPayload(list: DeviceList, cert: SignerCert | null = null): Uint8Array {
  assertValidDeviceList(list);
  const { named, bytes } = encodeDevices(list.devices);
  if (list.version === DEVICE_LIST_VERSION_1) {
    if (cert) throw new InvalidDeviceList('a version-1 list carries no certificate');
    const out = new Uint8Array(HEADER_BYTES_V1 + bytes.length);
    const view = new DataView(out.buffer);
    out[0] = 1;
    out[1] = named ? FLAG_NAMES : 0;
    out.set(list.personaId, 2);
    putU48(view, 34, list.seq);
    view.setUint32(40, list.issuedAt);
    view.setUint32(44, list.ttl);
    out[48] = list.devices.length;
    out.set(bytes, HEADER_BYTES_V1);
    return out;
  }
  if (cert) {
    abytes(cert.signerKey, 32, 'cert.signerKey');
    abytes(cert.signature, SIGNATURE_BYTES, 'cert.signature');
    if (bytesEqual(cert.signerKey, list.personaId)) throw new InvalidDeviceList('the root does not certify itself; sign without a certificate');
  }
  const prev = list.prev ?? GENESIS;
  const out = new Uint8Array(HEADER_BYTES + bytes.length + (cert ? CERT_BYTES : 0));
  const view = new DataView(out.buffer);
  out[0] = DEVICE_LIST_VERSION;
  out[1] = (named ? FLAG_NAMES : 0) | (cert ? FLAG_CERT : 0);
  out.set(list.personaId, 2);
  view.setUint16(34, list.epoch ?? 0);
  putU48(view, 36, list.seq);
  view.setUint32(42, list.issuedAt);
  view.setUint32(46, list.ttl);
  putU48(view, 50, prev.seq);
  out.set(prev.hash, 56);
  out[60] = list.devices.length;
  out.set(bytes, HEADER_BYTES);
  if (cert) {
    out.set(cert.signerKey, HEADER_BYTES + bytes.length);
    out.set(cert.signature, HEADER_BYTES + bytes.length + 32);
  }
  return out;
}

/** Parses the device records starting at `o`; shared by both versions. */
function parseDevices(record: Uint8Array, o: number, count: number, named: boolean, personaId: Uint8Array, copy: boolean): { ok: true; devices: Device[]; end: number } | Rejection {
  const devices: Device[] = [];
  const starts = keyStarts;
  let anyName = false;
  for (let i = 0; i < count; i++) {
    if (o + 32 > record.length) return reject('TRUNCATED', `record ends inside device ${i}`);
    const at = o;
    const publicKey = copy ? record.slice(o, o + 32) : record.subarray(o, o + 32);
    o += 32;
    let name = '';
    if (named) {
      if (o + 1 > record.length) return reject('TRUNCATED', `record ends before the name length of device ${i}`);
      const len = record[o++] as number;
      if (len > MAX_NAME_BYTES) return reject('BAD_NAME', `device ${i} name is ${len} bytes, the limit is ${MAX_NAME_BYTES}`);
      if (o + len > record.length) return reject('TRUNCATED', `record ends inside the name of device ${i}`);
      try {
        name = utf8Strict.decode(record.subarray(o, o + len));
      } catch {
        return reject('INVALID_UTF8', `device ${i} name is not valid UTF-8`);
      }
      o += len;
      if (FORBIDDEN_NAME_CHARS.test(name)) return reject('BAD_NAME', `device ${i} name contains a control or bidirectional formatting character`);
      if (len > 0) anyName = true;
    }
    if (bytesEqual(publicKey, personaId)) return reject('PERSONA_IS_DEVICE', `device ${i} is the PersonaID itself`);
    // Compared in place in the record (offsets, no views): a full list makes 120 comparisons, most ending at byte 0.
    for (let j = 0; j < i; j++) {
      if (keysEqualAt(record, starts[j] as number, at)) return reject('DUPLICATE_DEVICE', `device ${i} appears twice`);
    }
    starts[i] = at;
    devices.push({ publicKey, name });
  }
  if (named && !anyName) return reject('NON_CANONICAL', 'names flag set but every name is empty');
  return { ok: true, devices, end: o };
}

/** Scratch for {@link parseDevices}: where each device's key starts in the record (count is one byte). */
const keyStarts = new Int32Array(MAX_DEVICES);

function keysEqualAt(record: Uint8Array, a: number, b: number): boolean {
  for (let k = 0; k < 32; k++) if (record[a + k] !== record[b + k]) return false;
  return true;
}

function splitSignature(record: Uint8Array, o: number, copy: boolean): { ok: true; payload: Uint8Array; signature: Uint8Array } | Rejection {
  const remaining = record.length - o;
  if (remaining < SIGNATURE_BYTES) return reject('TRUNCATED', `signature is ${remaining} bytes, expected ${SIGNATURE_BYTES}`);
  if (remaining > SIGNATURE_BYTES) return reject('TRAILING_BYTES', `${remaining - SIGNATURE_BYTES} bytes after the signature`);
  return copy ? { ok: true, payload: record.slice(0, o), signature: record.slice(o) } : { ok: true, payload: record.subarray(0, o), signature: record.subarray(o) };
}

/**
 * Parses a signed record (payload || signature) of either version with every structural check of PROTOCOL.md,
 * "Decoding", but verifies no signature. Never throws.
 */
export function parseSignedRecord(record: Uint8Array, options: { copy?: boolean } = {}): { ok: true; value: SignedDeviceList } | Rejection {
  if (record.length < 1) return reject('TRUNCATED', 'empty record');
  const version = record[0] as number;
  // copy: false (the status-message decoder, which owns a fresh buffer per message) shares the record's memory instead
  // of copying every key, the payload and the signature out of it.
  const copy = options.copy ?? true;
  if (version === DEVICE_LIST_VERSION_1) return parseV1(record, copy);
  if (version === DEVICE_LIST_VERSION) return parseV2(record, copy);
  if (record.length < HEADER_BYTES_V1) return reject('TRUNCATED', `record is ${record.length} bytes, the shortest header is ${HEADER_BYTES_V1}`);
  return reject('UNSUPPORTED_VERSION', `version ${version}, this decoder knows 1 and 2`);
}

function parseV1(record: Uint8Array, copy: boolean): { ok: true; value: SignedDeviceList } | Rejection {
  if (record.length < HEADER_BYTES_V1) return reject('TRUNCATED', `record is ${record.length} bytes, the header alone is ${HEADER_BYTES_V1}`);
  const flags = record[1] as number;
  if ((flags & ~FLAG_NAMES) !== 0) return reject('BAD_FLAGS', `unknown flag bits 0x${(flags & ~FLAG_NAMES).toString(16)}`);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const personaId = copy ? record.slice(2, 34) : record.subarray(2, 34);
  const seq = getU48(view, 34);
  const issuedAt = view.getUint32(40);
  const ttl = view.getUint32(44);
  const count = record[48] as number;
  if (ttl === 0) return reject('BAD_FIELD', 'ttl is 0');
  if (count === 0) return reject('BAD_FIELD', 'device count is 0');
  const d = parseDevices(record, HEADER_BYTES_V1, count, (flags & FLAG_NAMES) !== 0, personaId, copy);
  if (!d.ok) return d;
  const s = splitSignature(record, d.end, copy);
  if (!s.ok) return s;
  return { ok: true, value: { list: { version: 1, personaId, epoch: 0, seq, issuedAt, ttl, devices: d.devices }, payload: s.payload, signature: s.signature, cert: null } };
}

function parseV2(record: Uint8Array, copy: boolean): { ok: true; value: SignedDeviceList } | Rejection {
  if (record.length < HEADER_BYTES) return reject('TRUNCATED', `record is ${record.length} bytes, the header alone is ${HEADER_BYTES}`);
  const flags = record[1] as number;
  if ((flags & ~(FLAG_NAMES | FLAG_CERT)) !== 0) return reject('BAD_FLAGS', `unknown flag bits 0x${(flags & ~(FLAG_NAMES | FLAG_CERT)).toString(16)}`);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const personaId = copy ? record.slice(2, 34) : record.subarray(2, 34);
  const epoch = view.getUint16(34);
  const seq = getU48(view, 36);
  const issuedAt = view.getUint32(42);
  const ttl = view.getUint32(46);
  const prev: ChainRef = { seq: getU48(view, 50), hash: copy ? record.slice(56, 60) : record.subarray(56, 60) };
  const count = record[60] as number;
  if (ttl === 0) return reject('BAD_FIELD', 'ttl is 0');
  if (count === 0) return reject('BAD_FIELD', 'device count is 0');
  if (!isGenesis(prev) && prev.seq >= seq) return reject('BAD_CHAIN', `built from seq ${prev.seq}, which is not below its own seq ${seq}`);
  const d = parseDevices(record, HEADER_BYTES, count, (flags & FLAG_NAMES) !== 0, personaId, copy);
  if (!d.ok) return d;
  let o = d.end;
  let cert: SignerCert | null = null;
  if (flags & FLAG_CERT) {
    if (o + CERT_BYTES > record.length) return reject('TRUNCATED', 'record ends inside the signer certificate');
    cert = copy ? { signerKey: record.slice(o, o + 32), signature: record.slice(o + 32, o + CERT_BYTES) } : { signerKey: record.subarray(o, o + 32), signature: record.subarray(o + 32, o + CERT_BYTES) };
    o += CERT_BYTES;
    if (bytesEqual(cert.signerKey, personaId)) return reject('BAD_CERT', 'the certificate names the PersonaID itself as signer');
  }
  const s = splitSignature(record, o, copy);
  if (!s.ok) return s;
  return { ok: true, value: { list: { version: 2, personaId, epoch, seq, issuedAt, ttl, prev, devices: d.devices }, payload: s.payload, signature: s.signature, cert } };
}

/** Signing inputs the status-message decoder laid out in place (context || payload, a view of its own buffer). */
const preparedInputs = new WeakMap<SignedDeviceList, Uint8Array>();
/** Length of both signing contexts (v1 and v2 have the same length). */
export const SIGNING_CONTEXT_LENGTH = SIGNING_CONTEXT_BYTES.length;

/**
 * Parses a record that sits in `buffer` after SIGNING_CONTEXT_LENGTH free bytes, without copying: the context of the
 * record's version is written into those bytes, so verification reads context || payload in place. `buffer` must be
 * the caller's own (the result shares its memory). Same checks and results as {@link parseSignedRecord}.
 */
export function parseSignedRecordInPlace(buffer: Uint8Array): { ok: true; value: SignedDeviceList } | Rejection {
  const n = SIGNING_CONTEXT_LENGTH;
  const record = buffer.subarray(n);
  const parsed = parseSignedRecord(record, { copy: false });
  if (!parsed.ok) return parsed;
  buffer.set(record[0] === DEVICE_LIST_VERSION_1 ? SIGNING_CONTEXT_V1_BYTES : SIGNING_CONTEXT_BYTES, 0);
  preparedInputs.set(parsed.value, buffer.subarray(0, n + parsed.value.payload.length));
  return parsed;
}

/** The bytes an Ed25519 signature of a list covers: the version's context string followed by the payload. */
export function signingInput(payload: Uint8Array): Uint8Array {
  const ctx = payload[0] === DEVICE_LIST_VERSION_1 ? SIGNING_CONTEXT_V1_BYTES : SIGNING_CONTEXT_BYTES;
  const msg = new Uint8Array(ctx.length + payload.length);
  msg.set(ctx, 0);
  msg.set(payload, ctx.length);
  return msg;
}

/** The bytes the root signs to certify `signerKey` under `epoch`: CERT_CONTEXT || personaId || epoch (u16) || signerKey. */
export function certSigningInput(personaId: Uint8Array, epoch: number, signerKey: Uint8Array): Uint8Array {
  const msg = new Uint8Array(CERT_CONTEXT_BYTES.length + 32 + 2 + 32);
  msg.set(CERT_CONTEXT_BYTES, 0);
  msg.set(abytes(personaId, 32, 'personaId'), CERT_CONTEXT_BYTES.length);
  new DataView(msg.buffer).setUint16(CERT_CONTEXT_BYTES.length + 32, epoch);
  msg.set(abytes(signerKey, 32, 'signerKey'), CERT_CONTEXT_BYTES.length + 34);
  return msg;
}

/** An Ed25519 keypair as libsodium holds it (64-byte secret key = seed || public key). */
export interface SigningKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** The root (PersonaID key) certifies `signerKey` for `epoch`; throws RangeError for an epoch outside 0..65535. */
export function certifySigner(root: SigningKeyPair, epoch: number, signerKey: Uint8Array): SignerCert {
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError(`epoch must be an integer in 0..65535, got ${epoch}`);
  if (bytesEqual(abytes(signerKey, 32, 'signerKey'), abytes(root.publicKey, 32, 'root.publicKey'))) throw new InvalidDeviceList('the root does not certify itself');
  const signature = crypto().sign(certSigningInput(root.publicKey, epoch, signerKey), abytes(root.secretKey, 64, 'root.secretKey'));
  return { signerKey: Uint8Array.from(signerKey), signature };
}

/** How many verified certificates {@link verifyCert} remembers (a persona has a few signers; a companion sees a few thousand personas at most). */
export const CERT_CACHE_SIZE = 4096;
/** A verified certificate, keyed by its signature; a hit must match every other input of the verification too. */
interface CachedCert {
  readonly personaId: Uint8Array;
  readonly epoch: number;
  readonly signerKey: Uint8Array;
}
const certCache = new Map<string, CachedCert>();

/**
 * True when `cert` is the root's (PersonaID's) certificate of its signer for `epoch`. Valid certificates are cached
 * (a hit compares every byte the verification reads, so it is the same computation): every list of a signer carries
 * the same certificate, and verifying it again would halve throughput. Bounded, oldest first out; failures are not
 * cached.
 */
export function verifyCert(personaId: Uint8Array, epoch: number, cert: SignerCert): boolean {
  const sig = cert.signature;
  if (sig.length !== SIGNATURE_BYTES) return false;
  const key = Buffer.from(sig.buffer, sig.byteOffset, SIGNATURE_BYTES).toString('latin1');
  const hit = certCache.get(key);
  if (hit && hit.epoch === epoch && bytesEqual(hit.personaId, personaId) && bytesEqual(hit.signerKey, cert.signerKey)) return true;
  const ok = crypto().verify(sig, certSigningInput(personaId, epoch, cert.signerKey), personaId);
  if (ok) {
    if (certCache.size >= CERT_CACHE_SIZE) certCache.delete(certCache.keys().next().value as string);
    certCache.set(key, { personaId: Uint8Array.from(personaId), epoch, signerKey: Uint8Array.from(cert.signerKey) });
  }
  return ok;
}

/** Forgets every cached certificate (for benches and tests that measure or swap the crypto). */
export function clearCertCache(): void {
  certCache.clear();
}
onPersonaCryptoSwap(clearCertCache);

/**
 * Signs a list. Version 1, or version 2 without `cert`: `key` must be the root (PersonaID) key. Version 2 with `cert`:
 * `key` must be the certified signer. Throws InvalidDeviceList when the list breaks a rule or the key does not match.
 */
export function signDeviceList(list: DeviceList, key: SigningKeyPair, cert: SignerCert | null = null): SignedDeviceList {
  const signer = cert ? cert.signerKey : list.personaId;
  if (!bytesEqual(abytes(key.publicKey, 32, 'key.publicKey'), abytes(signer, 32, 'signer'))) {
    throw new InvalidDeviceList(cert ? 'the signing key is not the certified signer' : 'the list names a different PersonaID than the signing key');
  }
  const payload = encodeDeviceListPayload(list, cert);
  const signature = crypto().sign(signingInput(payload), abytes(key.secretKey, 64, 'key.secretKey'));
  return { list: copyList(list), payload, signature, cert: cert ? { signerKey: Uint8Array.from(cert.signerKey), signature: Uint8Array.from(cert.signature) } : null };
}

/** The key whose signature the list carries: the certified signer, or the PersonaID for a root-signed list. */
export function signerOf(signed: SignedDeviceList): Uint8Array {
  return signed.cert ? signed.cert.signerKey : signed.list.personaId;
}

/** Why a parsed list fails verification (certificate, then signature), or undefined when it verifies. */
export function verifyFailure(signed: SignedDeviceList): Rejection | undefined {
  if (signed.cert && !verifyCert(signed.list.personaId, signed.list.epoch ?? 0, signed.cert)) {
    return reject('SIGNER_NOT_CERTIFIED', `the certificate of signer ${bytesToHex(signed.cert.signerKey).slice(0, 16)}… does not verify under this PersonaID and epoch ${signed.list.epoch ?? 0} (made for another persona, or forged)`);
  }
  if (!crypto().verify(signed.signature, preparedInputs.get(signed) ?? signingInput(signed.payload), signerOf(signed))) {
    return reject('BAD_SIGNATURE', signed.cert ? 'signature does not verify under the certified signer' : 'signature does not verify under the PersonaID');
  }
  return undefined;
}

/** True when the certificate (if any) and the signature are valid. */
export function verifySignedList(signed: SignedDeviceList): boolean {
  return verifyFailure(signed) === undefined;
}

/**
 * The receiver's rules that need no state and no clock: seq may not run ahead of issuedAt by more than
 * MAX_SEQ_LEAD_MS (a clock glitch can't outrank later lists), and ttl may not pass MAX_TTL_SECONDS.
 */
export function policyFailure(list: DeviceList): Rejection | undefined {
  if (list.seq > list.issuedAt * 1000 + MAX_SEQ_LEAD_MS) {
    return reject('SEQ_AHEAD', `seq ${list.seq} runs more than ${MAX_SEQ_LEAD_MS / 1000}s ahead of issuedAt ${list.issuedAt}`);
  }
  if (list.ttl > MAX_TTL_SECONDS) return reject('TTL_TOO_LONG', `ttl ${list.ttl}s is longer than the ${MAX_TTL_SECONDS}s (90 days) receivers accept`);
  return undefined;
}

/** The payload followed by the signature: what the status-message blob carries. */
export function signedRecord(signed: SignedDeviceList): Uint8Array {
  const out = new Uint8Array(signed.payload.length + signed.signature.length);
  out.set(signed.payload, 0);
  out.set(signed.signature, signed.payload.length);
  return out;
}

/** BLAKE2b-256 of the payload: the content hash of this exact signed statement. */
export function listHash(signed: SignedDeviceList): Uint8Array {
  return crypto().hash(signed.payload);
}

/**
 * BLAKE2b-256 of VERSION_CONTEXT || personaId || seq || prev seq || prev hash || names flag || count || device records:
 * what stays the same when a list is re-signed (refresh, other signer, new epoch) and what a chain reference names.
 * A version-1 list has the GENESIS reference.
 */
export function versionHash(list: DeviceList): Uint8Array {
  const { named, bytes } = encodeDevices(list.devices);
  const prev = list.prev ?? GENESIS;
  const n = VERSION_CONTEXT_BYTES.length;
  const msg = new Uint8Array(n + 32 + 6 + 6 + CHAIN_HASH_BYTES + 2 + bytes.length);
  const view = new DataView(msg.buffer);
  msg.set(VERSION_CONTEXT_BYTES, 0);
  msg.set(list.personaId, n);
  putU48(view, n + 32, list.seq);
  putU48(view, n + 38, prev.seq);
  msg.set(prev.hash, n + 44);
  msg[n + 44 + CHAIN_HASH_BYTES] = named ? FLAG_NAMES : 0;
  msg[n + 45 + CHAIN_HASH_BYTES] = list.devices.length;
  msg.set(bytes, n + 46 + CHAIN_HASH_BYTES);
  return crypto().hash(msg);
}

/** The chain reference naming `list`: what a list built from it carries as `prev`. */
export function chainRef(list: DeviceList): ChainRef {
  return { seq: list.seq, hash: versionHash(list).slice(0, CHAIN_HASH_BYTES) };
}

/** True when both lists are the same version (same PersonaID, seq, chain reference and devices): one is a re-signature of the other. */
export function sameVersion(a: DeviceList, b: DeviceList): boolean {
  return a.seq === b.seq && bytesEqual(a.personaId, b.personaId) && bytesEqual(versionHash(a), versionHash(b));
}

/** True when both lists name the same devices with the same names in the same order (seq, issuedAt and ttl aside). */
export function sameDevices(a: DeviceList, b: DeviceList): boolean {
  if (!bytesEqual(a.personaId, b.personaId) || a.devices.length !== b.devices.length) return false;
  return a.devices.every((d, i) => {
    const e = b.devices[i] as Device;
    return d.name === e.name && bytesEqual(d.publicKey, e.publicKey);
  });
}

/** Options for {@link nextDeviceList}. */
export interface NextDeviceListOptions {
  /** The current time, Unix seconds (fractions allowed; they feed the millisecond part of seq). */
  now: number;
  /** Time-to-live in seconds; defaults to the previous list's, or 7 days. */
  ttl?: number;
  /** The PersonaID; required when there is no previous list. */
  personaId?: PersonaId;
  /** Epoch of the new list (version 2); defaults to the previous list's. */
  epoch?: number;
  /** Format version of the new list; default 2. Version 1 only for tests and vectors of the old format. */
  version?: 1 | 2;
}

/**
 * Builds the next version to sign: seq = max(prev.seq + 1, now in milliseconds), issuedAt = now, prev = a chain
 * reference to `prev` (GENESIS without one). Throws InvalidDeviceList (SEQ_AHEAD_OF_CLOCK in the message) when
 * prev.seq runs so far ahead of this clock that the new list would break the seq-vs-issuedAt rule: fix the clock.
 */
export function nextDeviceList(prev: DeviceList | undefined, devices: readonly Device[], options: NextDeviceListOptions): DeviceList {
  const personaId = prev?.personaId ?? options.personaId;
  if (!personaId) throw new TypeError('nextDeviceList: personaId is required when there is no previous list');
  if (prev && options.personaId && !bytesEqual(prev.personaId, options.personaId)) {
    throw new InvalidDeviceList('the previous list belongs to a different PersonaID');
  }
  if (!Number.isFinite(options.now) || options.now < 0) throw new RangeError(`nextDeviceList: now must be Unix seconds, got ${options.now}`);
  const nowMs = Math.floor(options.now * 1000);
  const seq = Math.max(prev ? prev.seq + 1 : 0, nowMs);
  if (seq > MAX_SEQ) throw new InvalidDeviceList('sequence number space exhausted');
  const issuedAt = Math.floor(options.now);
  if (seq > issuedAt * 1000 + MAX_SEQ_LEAD_MS) {
    throw new InvalidDeviceList(`SEQ_AHEAD_OF_CLOCK: the newest list has seq ${prev?.seq}, more than ${MAX_SEQ_LEAD_MS / 1000}s ahead of this clock; receivers would refuse the next list, so check the clock`);
  }
  const version = options.version ?? DEVICE_LIST_VERSION;
  const list: DeviceList = {
    version,
    personaId: Uint8Array.from(personaId),
    ...(version === DEVICE_LIST_VERSION ? { epoch: options.epoch ?? prev?.epoch ?? 0, prev: prev ? chainRef(prev) : GENESIS } : {}),
    seq,
    issuedAt,
    ttl: options.ttl ?? prev?.ttl ?? DEFAULT_TTL_SECONDS,
    devices: devices.map((d) => ({ publicKey: Uint8Array.from(d.publicKey), name: d.name })),
  };
  assertValidDeviceList(list);
  return list;
}

/** True when a JS string has no lone surrogate, i.e. it has an exact UTF-8 form (String.prototype.isWellFormed is ES2024). */
export function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDFFF]/u.test(text);
}

function copyList(list: DeviceList): DeviceList {
  return {
    version: list.version,
    personaId: Uint8Array.from(list.personaId),
    ...(list.version === DEVICE_LIST_VERSION ? { epoch: list.epoch ?? 0, prev: { seq: (list.prev ?? GENESIS).seq, hash: Uint8Array.from((list.prev ?? GENESIS).hash) } } : { epoch: 0 }),
    seq: list.seq,
    issuedAt: list.issuedAt,
    ttl: list.ttl,
    devices: list.devices.map((d) => ({ publicKey: Uint8Array.from(d.publicKey), name: d.name })),
  };
}

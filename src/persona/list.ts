// The signed device list: its canonical binary form, Ed25519 signing and verification, and the sequence-number scheme.
import { sodium } from './sodium.js';
import { InvalidDeviceList } from './errors.js';
import { abytes, bytesEqual } from '../util/bytes.js';

/** Format version carried in the first payload byte. */
export const DEVICE_LIST_VERSION = 1;
/** Domain-separation prefix signed in front of the payload, so a signature made for anything else never verifies here. */
export const SIGNING_CONTEXT = 'tox-persona/device-list/v1\0';
/** The signing context as bytes (ASCII, NUL-terminated). */
export const SIGNING_CONTEXT_BYTES: Uint8Array = new TextEncoder().encode(SIGNING_CONTEXT);
/** Flag bit 0: every device record carries a length-prefixed name. */
export const FLAG_NAMES = 0x01;
/** Longest device name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 32;
/** Most devices a list can hold (the count is one byte); the 1007-byte status message is the tighter limit in practice. */
export const MAX_DEVICES = 255;
/** Largest sequence number (48 bits, so milliseconds since 1970 fit until the year 10889 and every value is a safe JS integer). */
export const MAX_SEQ = 2 ** 48 - 1;
/** Largest issued-at and time-to-live values (32-bit unsigned seconds). */
export const MAX_U32 = 2 ** 32 - 1;
/** Bytes before the first device record: version, flags, PersonaID, seq, issuedAt, ttl, count. */
export const HEADER_BYTES = 1 + 1 + 32 + 6 + 4 + 4 + 1;
/** Ed25519 signature length. */
export const SIGNATURE_BYTES = 64;
/** Default time-to-live of a new list: 7 days. */
export const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;

/** A 32-byte Tox public key of one device. */
export type ToxPublicKey = Uint8Array;
/** A PersonaID: the persona's 32-byte Ed25519 signing public key. */
export type PersonaId = Uint8Array;

/** One device in a list. */
export interface Device {
  /** The device's Tox public key (32 bytes). */
  readonly publicKey: ToxPublicKey;
  /** A short UTF-8 name (at most 32 bytes, no control or bidi formatting characters); '' for none. */
  readonly name: string;
}

/** The content a persona signs: its devices in order, the first being the active one. */
export interface DeviceList {
  /** Format version, always 1 for now. */
  readonly version: number;
  /** The persona's signing public key. */
  readonly personaId: PersonaId;
  /** Sequence number; a higher one replaces a lower one (see PROTOCOL.md, "Sequence numbers"). */
  readonly seq: number;
  /** When the list was signed, Unix seconds. */
  readonly issuedAt: number;
  /** Seconds after issuedAt during which the list may trigger automatic adds. */
  readonly ttl: number;
  /** Devices in order, active first; at least one. */
  readonly devices: readonly Device[];
}

/** A device list together with its canonical payload bytes and signature. */
export interface SignedDeviceList {
  /** The decoded list. */
  readonly list: DeviceList;
  /** The canonical payload bytes the signature covers (after the context string). */
  readonly payload: Uint8Array;
  /** Ed25519 signature over SIGNING_CONTEXT_BYTES || payload. */
  readonly signature: Uint8Array;
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
  | 'BAD_NAME'
  | 'NON_CANONICAL'
  | 'DUPLICATE_DEVICE'
  | 'PERSONA_IS_DEVICE'
  | 'BAD_SIGNATURE';

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

/** Checks every rule of a list that the encoder must uphold; throws InvalidDeviceList naming the broken rule. */
export function assertValidDeviceList(list: DeviceList): void {
  if (list.version !== DEVICE_LIST_VERSION) throw new InvalidDeviceList(`version must be ${DEVICE_LIST_VERSION}, got ${String(list.version)}`);
  abytes(list.personaId, 32, 'personaId');
  if (!Number.isSafeInteger(list.seq) || list.seq < 0 || list.seq > MAX_SEQ) throw new InvalidDeviceList(`seq must be an integer in 0..2^48-1, got ${String(list.seq)}`);
  if (!Number.isSafeInteger(list.issuedAt) || list.issuedAt < 0 || list.issuedAt > MAX_U32) throw new InvalidDeviceList(`issuedAt must be an integer in 0..2^32-1, got ${String(list.issuedAt)}`);
  if (!Number.isSafeInteger(list.ttl) || list.ttl < 1 || list.ttl > MAX_U32) throw new InvalidDeviceList(`ttl must be an integer in 1..2^32-1, got ${String(list.ttl)}`);
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

/** Serialises a list to its canonical payload bytes (PROTOCOL.md, "Payload"); throws InvalidDeviceList for a list that breaks a rule. */
export function encodeDeviceListPayload(list: DeviceList): Uint8Array {
  assertValidDeviceList(list);
  const names = list.devices.map((d) => utf8.encode(d.name));
  const named = names.some((n) => n.length > 0);
  let size = HEADER_BYTES + 32 * list.devices.length;
  if (named) for (const n of names) size += 1 + n.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = list.version;
  out[1] = named ? FLAG_NAMES : 0;
  out.set(list.personaId, 2);
  view.setUint16(34, Math.floor(list.seq / 2 ** 32));
  view.setUint32(36, list.seq % 2 ** 32);
  view.setUint32(40, list.issuedAt);
  view.setUint32(44, list.ttl);
  out[48] = list.devices.length;
  let o = HEADER_BYTES;
  list.devices.forEach((d, i) => {
    out.set(d.publicKey, o);
    o += 32;
    if (named) {
      const n = names[i] as Uint8Array;
      out[o++] = n.length;
      out.set(n, o);
      o += n.length;
    }
  });
  return out;
}

/**
 * Parses a signed record (payload || signature) with every structural check of PROTOCOL.md, "Decoding", but does not
 * verify the signature. Never throws.
 */
export function parseSignedRecord(record: Uint8Array): { ok: true; value: SignedDeviceList } | Rejection {
  if (record.length < HEADER_BYTES) return reject('TRUNCATED', `record is ${record.length} bytes, the header alone is ${HEADER_BYTES}`);
  const version = record[0] as number;
  if (version !== DEVICE_LIST_VERSION) return reject('UNSUPPORTED_VERSION', `version ${version}, this decoder knows ${DEVICE_LIST_VERSION}`);
  const flags = record[1] as number;
  if ((flags & ~FLAG_NAMES) !== 0) return reject('BAD_FLAGS', `unknown flag bits 0x${(flags & ~FLAG_NAMES).toString(16)}`);
  const named = (flags & FLAG_NAMES) !== 0;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const personaId = record.slice(2, 34);
  const seq = view.getUint16(34) * 2 ** 32 + view.getUint32(36);
  const issuedAt = view.getUint32(40);
  const ttl = view.getUint32(44);
  const count = record[48] as number;
  if (ttl === 0) return reject('BAD_FIELD', 'ttl is 0');
  if (count === 0) return reject('BAD_FIELD', 'device count is 0');
  const devices: Device[] = [];
  let o = HEADER_BYTES;
  let anyName = false;
  for (let i = 0; i < count; i++) {
    if (o + 32 > record.length) return reject('TRUNCATED', `record ends inside device ${i}`);
    const publicKey = record.slice(o, o + 32);
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
    for (const prev of devices) {
      if (bytesEqual(prev.publicKey, publicKey)) return reject('DUPLICATE_DEVICE', `device ${i} appears twice`);
    }
    devices.push({ publicKey, name });
  }
  if (named && !anyName) return reject('NON_CANONICAL', 'names flag set but every name is empty');
  const remaining = record.length - o;
  if (remaining < SIGNATURE_BYTES) return reject('TRUNCATED', `signature is ${remaining} bytes, expected ${SIGNATURE_BYTES}`);
  if (remaining > SIGNATURE_BYTES) return reject('TRAILING_BYTES', `${remaining - SIGNATURE_BYTES} bytes after the signature`);
  return {
    ok: true,
    value: {
      list: { version, personaId, seq, issuedAt, ttl, devices },
      payload: record.slice(0, o),
      signature: record.slice(o),
    },
  };
}

/** The bytes an Ed25519 signature of a list covers: the context string followed by the payload. */
export function signingInput(payload: Uint8Array): Uint8Array {
  const msg = new Uint8Array(SIGNING_CONTEXT_BYTES.length + payload.length);
  msg.set(SIGNING_CONTEXT_BYTES, 0);
  msg.set(payload, SIGNING_CONTEXT_BYTES.length);
  return msg;
}

/** Signs a list with the persona key; throws InvalidDeviceList when the list breaks a rule or names a different PersonaID. */
export function signDeviceList(list: DeviceList, key: { publicKey: Uint8Array; secretKey: Uint8Array }): SignedDeviceList {
  if (!bytesEqual(abytes(key.publicKey, 32, 'key.publicKey'), abytes(list.personaId, 32, 'personaId'))) {
    throw new InvalidDeviceList('the list names a different PersonaID than the signing key');
  }
  const payload = encodeDeviceListPayload(list);
  const signature = sodium.crypto_sign_detached(signingInput(payload), abytes(key.secretKey, 64, 'key.secretKey'));
  return { list: copyList(list), payload, signature };
}

/** True when the signature is valid under the list's PersonaID over the context string and payload. */
export function verifySignedList(signed: SignedDeviceList): boolean {
  try {
    return sodium.crypto_sign_verify_detached(signed.signature, signingInput(signed.payload), signed.list.personaId);
  } catch {
    // libsodium throws on malformed keys or signatures; for us that is simply "does not verify".
    return false;
  }
}

/** The payload followed by the signature: what the status-message blob carries. */
export function signedRecord(signed: SignedDeviceList): Uint8Array {
  const out = new Uint8Array(signed.payload.length + signed.signature.length);
  out.set(signed.payload, 0);
  out.set(signed.signature, signed.payload.length);
  return out;
}

/** BLAKE2b-256 of the payload: the content hash the table stores and compares. */
export function listHash(signed: SignedDeviceList): Uint8Array {
  return sodium.crypto_generichash(32, signed.payload, null);
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
}

/**
 * Builds the next list to sign: seq = max(prev.seq + 1, now in milliseconds), issuedAt = now. Any device holding the
 * persona key can call this with the newest list it has seen; see PROTOCOL.md, "Sequence numbers", for why this lets
 * the newest list win without false equivocation alarms.
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
  const list: DeviceList = {
    version: DEVICE_LIST_VERSION,
    personaId: Uint8Array.from(personaId),
    seq,
    issuedAt: Math.floor(options.now),
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
    seq: list.seq,
    issuedAt: list.issuedAt,
    ttl: list.ttl,
    devices: list.devices.map((d) => ({ publicKey: Uint8Array.from(d.publicKey), name: d.name })),
  };
}

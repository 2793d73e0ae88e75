// The group identity statement (docs/GROUPS.md), pure: which peer keys of one NGC group are which devices of a persona,
// signed by the persona's signer, sent as a group custom packet. Encode, sign, decode and verify; no state, no clock.
import { bytesEqual, bytesToHex, abytes } from '../util/bytes.js';
import { personaCrypto as crypto } from './sodium.js';
import { verifyCert, MAX_EPOCH, MAX_SEQ, MAX_U32, MAX_SEQ_LEAD_MS, SIGNATURE_BYTES, CERT_BYTES, type SignerCert, type SigningKeyPair } from './list.js';
import type { OwnSigner } from './own.js';

/** The 3 bytes every statement starts with ("tpg"); a group custom packet without them is not ours and is ignored. */
export const GROUP_CLAIM_MAGIC: Uint8Array = Uint8Array.of(0x74, 0x70, 0x67);
/** Format version of the statement (the byte after the magic). */
export const GROUP_CLAIM_VERSION = 1;
/** Context string prefixed to the payload before signing, so the signature can never be taken for another statement's. */
export const GROUP_CLAIM_CONTEXT = 'tox-persona/group-claim/v1\0';
/** GROUP_CLAIM_CONTEXT as bytes (27). */
export const GROUP_CLAIM_CONTEXT_BYTES: Uint8Array = new TextEncoder().encode(GROUP_CLAIM_CONTEXT);
/** Flag bit: a signer certificate (signer key + root signature) follows the entries. */
export const GROUP_FLAG_CERT = 0x01;
/** Header bytes: magic 3, version 1, flags 1, chatId 32, personaId 32, epoch 2, seq 6, issuedAt 4, ttl 4, count 1. */
export const GROUP_HEADER_BYTES = 3 + 1 + 1 + 32 + 32 + 2 + 6 + 4 + 4 + 1;
/** Bytes of one entry: the peer's group public key and the device's Tox public key. */
export const GROUP_ENTRY_BYTES = 64;
/** Most entries in one statement: 16 keeps the largest certified statement (1,270 bytes) under the 1,373-byte packet limit. */
export const MAX_GROUP_ENTRIES = 16;
/** Longest ttl a receiver accepts for a statement: 7 days (a statement is re-sent far more often than that). */
export const MAX_GROUP_TTL_SECONDS = 7 * 24 * 3600;
/** Largest statement: header, 16 entries, certificate, signature (1,270 bytes; NGC allows 1,373 per lossless custom packet). */
export const MAX_GROUP_CLAIM_BYTES = GROUP_HEADER_BYTES + MAX_GROUP_ENTRIES * GROUP_ENTRY_BYTES + CERT_BYTES + SIGNATURE_BYTES;

/** One binding: in this group, the peer with `peerKey` is the persona's device `deviceKey`. */
export interface GroupEntry {
  /** The peer's public key in this group (per group, what `tox_group_peer_get_public_key` returns). */
  readonly peerKey: Uint8Array;
  /** The device's Tox public key, as the persona's device list names it. */
  readonly deviceKey: Uint8Array;
}

/** What a statement says, before signing. */
export interface GroupClaim {
  /** The NGC group's 32-byte chat id. */
  readonly chatId: Uint8Array;
  /** The persona's PersonaID (root public key). */
  readonly personaId: Uint8Array;
  /** The signer's epoch (the root signs under any epoch). */
  readonly epoch: number;
  /** Orders statements of one signer: max(previous + 1, now in ms). */
  readonly seq: number;
  /** Unix seconds when signed. */
  readonly issuedAt: number;
  /** Seconds after issuedAt that the statement counts. */
  readonly ttl: number;
  /** 1..16 bindings, no peer key or device key twice. */
  readonly entries: readonly GroupEntry[];
}

/** A signed statement: the claim, its payload bytes, the signature and the optional certificate. */
export interface SignedGroupClaim {
  readonly claim: GroupClaim;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly cert: SignerCert | null;
}

/** Why a statement is refused; the receiver's rules (docs/GROUPS.md section 5) add the stateful ones. */
export type GroupRejectReason =
  | 'NOT_OURS'
  | 'UNSUPPORTED_VERSION'
  | 'TRUNCATED'
  | 'BAD_FLAGS'
  | 'BAD_FIELD'
  | 'TOO_MANY_ENTRIES'
  | 'DUPLICATE_PEER'
  | 'DUPLICATE_DEVICE'
  | 'PERSONA_IS_DEVICE'
  | 'BAD_CERT'
  | 'TRAILING_BYTES'
  | 'SIGNER_NOT_CERTIFIED'
  | 'BAD_SIGNATURE'
  | 'SEQ_AHEAD'
  | 'TTL_TOO_LONG';

/** A refused statement: its reason code and a human detail. */
export interface GroupRejection {
  ok: false;
  reason: GroupRejectReason;
  detail: string;
}

const refuse = (reason: GroupRejectReason, detail: string): GroupRejection => ({ ok: false, reason, detail });

/** Throws RangeError/TypeError when the claim breaks a rule a signer must never break (shape, bounds, duplicates). */
export function assertValidGroupClaim(c: GroupClaim): void {
  abytes(c.chatId, 32, 'chatId');
  abytes(c.personaId, 32, 'personaId');
  const int = (v: number, max: number, what: string, min = 0) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${v}`);
  };
  int(c.epoch, MAX_EPOCH, 'epoch');
  int(c.seq, MAX_SEQ, 'seq');
  int(c.issuedAt, MAX_U32, 'issuedAt');
  int(c.ttl, MAX_GROUP_TTL_SECONDS, 'ttl', 1);
  int(c.entries.length, MAX_GROUP_ENTRIES, 'entry count', 1);
  const peers = new Set<string>();
  const devices = new Set<string>();
  for (const e of c.entries) {
    const p = bytesToHex(abytes(e.peerKey, 32, 'peerKey'));
    const d = bytesToHex(abytes(e.deviceKey, 32, 'deviceKey'));
    if (peers.has(p)) throw new RangeError(`peer key ${p.slice(0, 8)}… twice`);
    if (devices.has(d)) throw new RangeError(`device key ${d.slice(0, 8)}… twice`);
    if (bytesEqual(e.deviceKey, c.personaId)) throw new RangeError('the PersonaID is not a device');
    peers.add(p);
    devices.add(d);
  }
}

function putU48(v: DataView, o: number, n: number): void {
  v.setUint16(o, Math.floor(n / 2 ** 32));
  v.setUint32(o + 2, n % 2 ** 32);
}

function getU48(v: DataView, o: number): number {
  return v.getUint16(o) * 2 ** 32 + v.getUint32(o + 2);
}

/** The payload bytes (docs/GROUPS.md section 3) of a claim, with the certificate when a signer (not the root) signs. */
export function encodeGroupClaimPayload(c: GroupClaim, cert: SignerCert | null = null): Uint8Array {
  assertValidGroupClaim(c);
  const out = new Uint8Array(GROUP_HEADER_BYTES + c.entries.length * GROUP_ENTRY_BYTES + (cert ? CERT_BYTES : 0));
  const v = new DataView(out.buffer);
  out.set(GROUP_CLAIM_MAGIC, 0);
  out[3] = GROUP_CLAIM_VERSION;
  out[4] = cert ? GROUP_FLAG_CERT : 0;
  out.set(c.chatId, 5);
  out.set(c.personaId, 37);
  v.setUint16(69, c.epoch);
  putU48(v, 71, c.seq);
  v.setUint32(77, c.issuedAt);
  v.setUint32(81, c.ttl);
  out[85] = c.entries.length;
  let o = GROUP_HEADER_BYTES;
  for (const e of c.entries) {
    out.set(e.peerKey, o);
    out.set(e.deviceKey, o + 32);
    o += GROUP_ENTRY_BYTES;
  }
  if (cert) {
    if (bytesEqual(cert.signerKey, c.personaId)) throw new RangeError('the root signs without a certificate');
    out.set(abytes(cert.signerKey, 32, 'cert.signerKey'), o);
    out.set(abytes(cert.signature, 64, 'cert.signature'), o + 32);
  }
  return out;
}

/** The bytes the signature covers: GROUP_CLAIM_CONTEXT || payload. */
export function groupClaimSigningInput(payload: Uint8Array): Uint8Array {
  const msg = new Uint8Array(GROUP_CLAIM_CONTEXT_BYTES.length + payload.length);
  msg.set(GROUP_CLAIM_CONTEXT_BYTES, 0);
  msg.set(payload, GROUP_CLAIM_CONTEXT_BYTES.length);
  return msg;
}

/**
 * Signs a claim with `key` (the root when `cert` is null, else the certified signer). Throws RangeError when the key is
 * not the one the claim says signs it.
 */
export function signGroupClaim(c: GroupClaim, key: SigningKeyPair, cert: SignerCert | null = null): SignedGroupClaim {
  const signer = cert ? cert.signerKey : c.personaId;
  if (!bytesEqual(abytes(key.publicKey, 32, 'key.publicKey'), signer)) throw new RangeError(cert ? 'the signing key is not the certified signer' : 'the signing key is not the PersonaID');
  const payload = encodeGroupClaimPayload(c, cert);
  const signature = crypto().sign(groupClaimSigningInput(payload), abytes(key.secretKey, 64, 'key.secretKey'));
  return { claim: c, payload, signature, cert };
}

/** Signs a claim with this device's OwnSigner (src/persona/own.ts): the epoch is the signer's. */
export function signGroupClaimWith(signer: OwnSigner, c: Omit<GroupClaim, 'epoch'>): SignedGroupClaim {
  return signGroupClaim({ ...c, epoch: signer.epoch }, signer.key, signer.cert);
}

/** The packet bytes: payload || signature. */
export function groupClaimPacket(s: SignedGroupClaim): Uint8Array {
  const out = new Uint8Array(s.payload.length + SIGNATURE_BYTES);
  out.set(s.payload, 0);
  out.set(s.signature, s.payload.length);
  return out;
}

/** True when a group custom packet starts with the statement magic (the cheap test before anything else). */
export function isGroupClaimPacket(data: Uint8Array): boolean {
  return data.length >= 3 && data[0] === GROUP_CLAIM_MAGIC[0] && data[1] === GROUP_CLAIM_MAGIC[1] && data[2] === GROUP_CLAIM_MAGIC[2];
}

/**
 * Decodes and verifies a statement (docs/GROUPS.md section 4, steps 1-10), in that order; the first failing check
 * names the reason. Never throws. Stateless: the chat id, freshness and the persona's list are the receiver's rules.
 */
export function decodeGroupClaim(data: Uint8Array): { ok: true; value: SignedGroupClaim } | GroupRejection {
  if (!(data instanceof Uint8Array)) return refuse('NOT_OURS', 'not bytes');
  if (!isGroupClaimPacket(data)) return refuse('NOT_OURS', 'no statement magic');
  if (data.length < 4) return refuse('TRUNCATED', 'ends before the version byte');
  if (data[3] !== GROUP_CLAIM_VERSION) return refuse('UNSUPPORTED_VERSION', `version ${data[3]}`);
  if (data.length < GROUP_HEADER_BYTES) return refuse('TRUNCATED', `${data.length} bytes, the header alone is ${GROUP_HEADER_BYTES}`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const flags = data[4]!;
  if ((flags & ~GROUP_FLAG_CERT) !== 0) return refuse('BAD_FLAGS', `flags 0x${flags.toString(16).padStart(2, '0')}`);
  const chatId = data.slice(5, 37);
  const personaId = data.slice(37, 69);
  const epoch = v.getUint16(69);
  const seq = getU48(v, 71);
  const issuedAt = v.getUint32(77);
  const ttl = v.getUint32(81);
  const count = data[85]!;
  if (ttl === 0 || count === 0) return refuse('BAD_FIELD', ttl === 0 ? 'ttl 0' : 'no entries');
  if (count > MAX_GROUP_ENTRIES) return refuse('TOO_MANY_ENTRIES', `${count} entries, at most ${MAX_GROUP_ENTRIES}`);
  const entries: GroupEntry[] = [];
  const peers = new Set<string>();
  const devices = new Set<string>();
  let o = GROUP_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (o + GROUP_ENTRY_BYTES > data.length) return refuse('TRUNCATED', `ends inside entry ${i}`);
    const peerKey = data.slice(o, o + 32);
    const deviceKey = data.slice(o + 32, o + 64);
    o += GROUP_ENTRY_BYTES;
    const p = bytesToHex(peerKey);
    const d = bytesToHex(deviceKey);
    if (bytesEqual(deviceKey, personaId)) return refuse('PERSONA_IS_DEVICE', `entry ${i} names the PersonaID as a device`);
    if (peers.has(p)) return refuse('DUPLICATE_PEER', `peer ${p.slice(0, 8)}… twice`);
    if (devices.has(d)) return refuse('DUPLICATE_DEVICE', `device ${d.slice(0, 8)}… twice`);
    peers.add(p);
    devices.add(d);
    entries.push({ peerKey, deviceKey });
  }
  let cert: SignerCert | null = null;
  if (flags & GROUP_FLAG_CERT) {
    if (o + CERT_BYTES > data.length) return refuse('TRUNCATED', 'ends inside the signer certificate');
    cert = { signerKey: data.slice(o, o + 32), signature: data.slice(o + 32, o + CERT_BYTES) };
    o += CERT_BYTES;
    if (bytesEqual(cert.signerKey, personaId)) return refuse('BAD_CERT', 'the certificate names the PersonaID itself as signer');
  }
  if (data.length < o + SIGNATURE_BYTES) return refuse('TRUNCATED', 'ends inside the signature');
  if (data.length > o + SIGNATURE_BYTES) return refuse('TRAILING_BYTES', `${data.length - o - SIGNATURE_BYTES} bytes after the signature`);
  const payload = data.slice(0, o);
  const signature = data.slice(o, o + SIGNATURE_BYTES);
  if (cert && !verifyCert(personaId, epoch, cert)) return refuse('SIGNER_NOT_CERTIFIED', `the certificate of signer ${bytesToHex(cert.signerKey).slice(0, 16)}… does not verify under this PersonaID and epoch ${epoch}`);
  if (!crypto().verify(signature, groupClaimSigningInput(payload), cert ? cert.signerKey : personaId)) {
    return refuse('BAD_SIGNATURE', cert ? 'the signature does not verify under the certified signer' : 'the signature does not verify under the PersonaID');
  }
  if (seq > issuedAt * 1000 + MAX_SEQ_LEAD_MS) return refuse('SEQ_AHEAD', `seq ${seq} runs more than ${MAX_SEQ_LEAD_MS / 1000}s ahead of issuedAt ${issuedAt}`);
  if (ttl > MAX_GROUP_TTL_SECONDS) return refuse('TTL_TOO_LONG', `ttl ${ttl} s is over ${MAX_GROUP_TTL_SECONDS} s`);
  return { ok: true, value: { claim: { chatId, personaId, epoch, seq, issuedAt, ttl, entries }, payload, signature, cert } };
}

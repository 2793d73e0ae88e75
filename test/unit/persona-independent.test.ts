// A second, independent decoder written from docs/PROTOCOL.md alone (node:crypto + node:zlib, nothing from src/persona) must agree with every vector.
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

interface List {
  version: number;
  personaId: string;
  epoch?: number;
  prev?: { seq: number; hash: string };
  seq: number;
  issuedAt: number;
  ttl: number;
  devices: { publicKey: string; name: string }[];
}
type Result = ({ ok: true; human: string } & List) | { ok: false; reason: string };

const CONTEXT_V1 = Buffer.from('tox-persona/device-list/v1\0', 'latin1');
const CONTEXT_V2 = Buffer.from('tox-persona/device-list/v2\0', 'latin1');
const CERT_CONTEXT = Buffer.from('tox-persona/signer-cert/v2\0', 'latin1');
const MARKER = '~tp1:';
const fail = (reason: string): Result => ({ ok: false, reason });

function ed25519Verify(pk: Buffer, msg: Buffer, sig: Buffer): boolean {
  try {
    // SPKI DER prefix for an Ed25519 public key (RFC 8410).
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]);
    return verify(null, msg, createPublicKey({ key: der, format: 'der', type: 'spki' }), sig);
  } catch {
    return false;
  }
}

/** Section 6 of PROTOCOL.md, step by step. */
function decode(input: Buffer): Result {
  if (input.length > 1007) return fail('TOO_LONG');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    return fail('INVALID_UTF8');
  }
  const at = text.lastIndexOf(MARKER);
  if (at < 0) return fail('NO_BLOB');
  const b64 = text.slice(at + MARKER.length);
  if (!/^[A-Za-z0-9_-]*$/.test(b64) || b64.length % 4 === 1) return fail('BAD_BASE64');
  const blob = Buffer.from(b64, 'base64url');
  if (blob.toString('base64url') !== b64) return fail('BAD_BASE64');
  if (blob.length === 0) return fail('TRUNCATED');
  let rec: Buffer;
  if (blob[0] === 1) rec = blob.subarray(1);
  else if (blob[0] === 2) {
    try {
      rec = inflateRawSync(blob.subarray(1), { maxOutputLength: 4096 });
    } catch (error) {
      return fail((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'INFLATE_TOO_LARGE' : 'INFLATE_FAILED');
    }
  } else return fail('BAD_ENVELOPE');
  // Section 6.6: the version byte picks the layout; an unknown one is only reported once a v1 header would fit.
  const version = rec[0];
  if (version !== 1 && version !== 2) return fail(rec.length < 49 ? 'TRUNCATED' : 'UNSUPPORTED_VERSION');
  const v2 = version === 2;
  const headerBytes = v2 ? 61 : 49;
  if (rec.length < headerBytes) return fail('TRUNCATED');
  const flags = rec[1]!;
  if (flags & (v2 ? 0xfc : 0xfe)) return fail('BAD_FLAGS');
  const personaId = rec.subarray(2, 34);
  let epoch = 0;
  let seq: number, issuedAt: number, ttl: number, count: number;
  let prev: { seq: number; hash: string } | undefined;
  if (v2) {
    epoch = rec.readUInt16BE(34);
    seq = rec.readUIntBE(36, 6);
    issuedAt = rec.readUInt32BE(42);
    ttl = rec.readUInt32BE(46);
    prev = { seq: rec.readUIntBE(50, 6), hash: rec.subarray(56, 60).toString('hex') };
    count = rec[60]!;
  } else {
    seq = rec.readUIntBE(34, 6);
    issuedAt = rec.readUInt32BE(40);
    ttl = rec.readUInt32BE(44);
    count = rec[48]!;
  }
  if (ttl === 0 || count === 0) return fail('BAD_FIELD');
  if (prev && !(prev.seq === 0 && prev.hash === '00000000') && prev.seq >= seq) return fail('BAD_CHAIN');
  const devices: { publicKey: string; name: string }[] = [];
  let o = headerBytes;
  let anyName = false;
  for (let i = 0; i < count; i++) {
    if (o + 32 > rec.length) return fail('TRUNCATED');
    const pk = rec.subarray(o, o + 32);
    o += 32;
    let name = '';
    if (flags & 1) {
      if (o + 1 > rec.length) return fail('TRUNCATED');
      const len = rec[o++]!;
      if (len > 32) return fail('BAD_NAME');
      if (o + len > rec.length) return fail('TRUNCATED');
      try {
        name = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(rec.subarray(o, o + len));
      } catch {
        return fail('INVALID_UTF8');
      }
      o += len;
      if (/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name)) return fail('BAD_NAME');
      if (len) anyName = true;
    }
    if (pk.equals(personaId)) return fail('PERSONA_IS_DEVICE');
    const hex = pk.toString('hex').toUpperCase();
    if (devices.some((d) => d.publicKey === hex)) return fail('DUPLICATE_DEVICE');
    devices.push({ publicKey: hex, name });
  }
  if (flags & 1 && !anyName) return fail('NON_CANONICAL');
  let signer: Buffer = personaId;
  let certSig: Buffer | undefined;
  if (flags & 2) {
    if (rec.length - o < 96) return fail('TRUNCATED');
    signer = rec.subarray(o, o + 32);
    certSig = rec.subarray(o + 32, o + 96);
    o += 96;
    if (signer.equals(personaId)) return fail('BAD_CERT');
  }
  if (rec.length - o < 64) return fail('TRUNCATED');
  if (rec.length - o > 64) return fail('TRAILING_BYTES');
  if (certSig) {
    const epochBytes = Buffer.alloc(2);
    epochBytes.writeUInt16BE(epoch);
    if (!ed25519Verify(personaId, Buffer.concat([CERT_CONTEXT, personaId, epochBytes, signer]), certSig)) return fail('SIGNER_NOT_CERTIFIED');
  }
  if (!ed25519Verify(signer, Buffer.concat([v2 ? CONTEXT_V2 : CONTEXT_V1, rec.subarray(0, o)]), rec.subarray(o))) return fail('BAD_SIGNATURE');
  // Section 6.8: the receiver rules that need no clock.
  if (seq > issuedAt * 1000 + 300_000) return fail('SEQ_AHEAD');
  if (ttl > 90 * 86_400) return fail('TTL_TOO_LONG');
  const list: List = { version, personaId: personaId.toString('hex').toUpperCase(), ...(v2 ? { epoch, prev } : {}), seq, issuedAt, ttl, devices };
  return { ok: true, human: text.slice(0, at), ...list };
}

const load = (f: string) => JSON.parse(readFileSync(new URL(`../vectors/${f}`, import.meta.url), 'utf8')).vectors;

describe('an independent decoder written from PROTOCOL.md agrees with the vectors', () => {
  for (const v of load('persona-valid.json')) {
    it(`valid ${v.name}`, () => {
      const r = decode(Buffer.from(v.statusMessage, 'utf8'));
      expect(r, `${v.name}`).toEqual({ ok: true, human: v.human, ...v.list });
    });
  }
  for (const v of load('persona-invalid.json')) {
    it(`invalid ${v.name}`, () => {
      const input = v.statusMessageHex !== undefined ? Buffer.from(v.statusMessageHex, 'hex') : Buffer.from(v.statusMessage, 'utf8');
      expect(decode(input), v.name).toEqual({ ok: false, reason: v.expectedReason });
    });
  }
});

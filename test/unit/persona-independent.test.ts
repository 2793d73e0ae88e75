// A second, independent decoder written from docs/PROTOCOL.md alone (node:crypto + node:zlib, nothing from src/persona) must agree with every vector.
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

type Result = { ok: true; human: string; personaId: string; seq: number; issuedAt: number; ttl: number; devices: { publicKey: string; name: string }[] } | { ok: false; reason: string };

const CONTEXT = Buffer.from('tox-persona/device-list/v1\0', 'latin1');
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
  if (rec.length < 49) return fail('TRUNCATED');
  if (rec[0] !== 1) return fail('UNSUPPORTED_VERSION');
  const flags = rec[1]!;
  if (flags & 0xfe) return fail('BAD_FLAGS');
  const personaId = rec.subarray(2, 34);
  const seq = rec.readUIntBE(34, 6);
  const issuedAt = rec.readUInt32BE(40);
  const ttl = rec.readUInt32BE(44);
  const count = rec[48]!;
  if (ttl === 0 || count === 0) return fail('BAD_FIELD');
  const devices: { publicKey: string; name: string }[] = [];
  let o = 49;
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
  if (rec.length - o < 64) return fail('TRUNCATED');
  if (rec.length - o > 64) return fail('TRAILING_BYTES');
  if (!ed25519Verify(personaId, Buffer.concat([CONTEXT, rec.subarray(0, o)]), rec.subarray(o))) return fail('BAD_SIGNATURE');
  return { ok: true, human: text.slice(0, at), personaId: personaId.toString('hex').toUpperCase(), seq, issuedAt, ttl, devices };
}

const load = (f: string) => JSON.parse(readFileSync(new URL(`../vectors/${f}`, import.meta.url), 'utf8')).vectors;

describe('an independent decoder written from PROTOCOL.md agrees with the vectors', () => {
  for (const v of load('persona-valid.json')) {
    it(`valid ${v.name}`, () => {
      const r = decode(Buffer.from(v.statusMessage, 'utf8'));
      expect(r, `${v.name}`).toEqual({ ok: true, human: v.human, personaId: v.list.personaId, seq: v.list.seq, issuedAt: v.list.issuedAt, ttl: v.list.ttl, devices: v.list.devices });
    });
  }
  for (const v of load('persona-invalid.json')) {
    it(`invalid ${v.name}`, () => {
      const input = v.statusMessageHex !== undefined ? Buffer.from(v.statusMessageHex, 'hex') : Buffer.from(v.statusMessage, 'utf8');
      expect(decode(input), v.name).toEqual({ ok: false, reason: v.expectedReason });
    });
  }
});

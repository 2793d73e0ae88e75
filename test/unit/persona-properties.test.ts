// Property tests (fast-check) for the status-message codec: round trip, the 1007-byte bound, and mutation safety.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeStatusMessage,
  nextDeviceList,
  encodeStatusMessage,
  MAX_NAME_BYTES,
  MAX_SEQ_LEAD_MS,
  MAX_TTL_SECONDS,
  GENESIS,
  certifySigner,
  personaKeyFromSeed,
  signDeviceList,
  StatusMessageTooLong,
  type DeviceList,
} from '../../src/persona/index.js';
import { bytesEqual } from '../../src/util/bytes.js';

const keys = [1, 2, 3].map((n) => personaKeyFromSeed(new Uint8Array(32).fill(n)));

const nameArb = fc
  .string({ unit: 'grapheme', maxLength: 12 })
  .map((s) => s.replace(/[\u0000-\u001f\u007f]/g, ''))
  .filter((s) => Buffer.byteLength(s) <= MAX_NAME_BYTES);

const listArb = fc
  .record({
    key: fc.integer({ min: 0, max: keys.length - 1 }),
    seq: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    issuedAt: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    ttl: fc.integer({ min: 1, max: MAX_TTL_SECONDS }),
    version: fc.constantFrom(1, 2, 2),
    epoch: fc.integer({ min: 0, max: 2 ** 16 - 1 }),
    certified: fc.boolean(),
    prevHash: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    devices: fc.uniqueArray(fc.record({ publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }), name: fc.oneof(fc.constant(''), nameArb) }), {
      minLength: 1,
      maxLength: 22,
      selector: (d) => Buffer.from(d.publicKey).toString('hex'),
    }),
    human: fc.oneof(fc.constant(''), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 700 })),
  })
  .filter(({ key, devices }) => devices.every((d) => !bytesEqual(d.publicKey, (keys[key] as { publicKey: Uint8Array }).publicKey)));

/** A list that passes every receiver rule: seq at most 300 s ahead of issuedAt, built from a lower seq; v1 or v2, root-signed or certified. */
function build(x: { key: number; seq: number; issuedAt: number; ttl: number; version: number; epoch: number; certified: boolean; prevHash: Uint8Array; devices: { publicKey: Uint8Array; name: string }[] }) {
  const key = keys[x.key] as (typeof keys)[number];
  const seq = Math.min(x.seq, x.issuedAt * 1000 + MAX_SEQ_LEAD_MS);
  if (x.version === 1) return signDeviceList({ version: 1, personaId: key.publicKey, seq, issuedAt: x.issuedAt, ttl: x.ttl, devices: x.devices }, key);
  const list: DeviceList = { version: 2, personaId: key.publicKey, epoch: x.epoch, seq, issuedAt: x.issuedAt, ttl: x.ttl, prev: seq > 0 ? { seq: Math.floor(seq / 2), hash: x.prevHash } : GENESIS, devices: x.devices };
  if (!x.certified) return signDeviceList(list, key);
  const signer = keys[(x.key + 1) % keys.length] as (typeof keys)[number];
  return signDeviceList(list, signer, certifySigner(key, x.epoch, signer.publicKey));
}

describe('persona codec properties', () => {
  it('decode(encode(x)) == x, and the message is at most 1007 bytes or the encoder refuses with the budget', () => {
    fc.assert(
      fc.property(listArb, (x) => {
        const signed = build(x);
        let text: string;
        try {
          text = encodeStatusMessage(signed, x.human);
        } catch (error) {
          expect(error).toBeInstanceOf(StatusMessageTooLong);
          const e = error as StatusMessageTooLong;
          expect(e.needed).toBeGreaterThan(1007);
          expect(e.budget).toBe(1007);
          expect(e.needed).toBe(Buffer.byteLength(x.human) + e.blobBytes);
          return;
        }
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1007);
        const d = decodeStatusMessage(text);
        expect(d.ok, d.ok ? '' : `${d.reason}: ${d.detail}`).toBe(true);
        if (!d.ok) return;
        expect(d.human).toBe(x.human);
        expect(d.signed.list).toEqual(signed.list);
        expect(d.signed.list.issuedAt).toBe(x.issuedAt);
        expect(d.signed.list.ttl).toBe(x.ttl);
        expect(d.signed.list.devices.map((v) => [Buffer.from(v.publicKey).toString('hex'), v.name])).toEqual(x.devices.map((v) => [Buffer.from(v.publicKey).toString('hex'), v.name]));
        expect(bytesEqual(d.signed.payload, signed.payload)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a random mutation of a valid message is rejected, or still verifies as the original list', () => {
    const mutation = fc.record({
      op: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'replace'),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(listArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (x, muts) => {
        const signed = build(x);
        let text: string;
        try {
          text = encodeStatusMessage(signed, x.human);
        } catch {
          return;
        }
        const bytes = Array.from(Buffer.from(text, 'utf8'));
        for (const m of muts) {
          const at = m.at % (bytes.length + 1);
          if (m.op === 'flip' && bytes.length) bytes[at % bytes.length]! ^= 1 << m.bit;
          else if (m.op === 'insert') bytes.splice(at, 0, m.byte);
          else if (m.op === 'delete') bytes.splice(at, 1);
          else if (m.op === 'truncate') bytes.length = at;
          else if (bytes.length) bytes[at % bytes.length] = m.byte;
        }
        const d = decodeStatusMessage(Uint8Array.from(bytes));
        if (d.ok) {
          expect(bytesEqual(d.signed.payload, signed.payload), 'a mutated message verified as a different list').toBe(true);
          expect(bytesEqual(d.signed.signature, signed.signature)).toBe(true);
        } else {
          expect(typeof d.reason).toBe('string');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('nextDeviceList: seq always grows past the previous list and never falls behind the clock', () => {
    const key = keys[0] as (typeof keys)[number];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 47 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 999 }), (prevRaw, nowS, ms) => {
        const now = nowS + ms / 1000;
        // A previous list at most 299 s ahead of our clock (what receivers accept from a signer whose clock runs ahead).
        const prevSeq = prevRaw % (nowS * 1000 + 299_000 + 1);
        const prev: DeviceList = { version: 1, personaId: key.publicKey, seq: prevSeq, issuedAt: 0, ttl: 60, devices: [{ publicKey: new Uint8Array(32).fill(1), name: '' }] };
        const next = nextDeviceList(prev, prev.devices, { now });
        expect(next.seq).toBeGreaterThan(prevSeq);
        expect(next.seq).toBeGreaterThanOrEqual(Math.floor(now * 1000));
        expect(next.issuedAt).toBe(nowS);
      }),
      { numRuns: 500 },
    );
  });
});

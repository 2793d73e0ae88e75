// The sibling-sync wire format: frames cut and put back together, bad and hostile packets dropped with a reason and
// bounded memory, core bodies round-trip and refuse every malformed shape without throwing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { encode as msgpackEncode } from '@msgpack/msgpack';
import {
  FRAME_HEADER_BYTES, MAX_CHUNK_BYTES, MAX_CHUNKS, MAX_ITEMS, MAX_MESSAGE_BYTES, MAX_PACKET_BYTES, MESSAGE_TYPE, Reassembler, SIBLING_PACKET_ID,
  decodeCore, decodeFrame, encodeCore, encodeFrames, encodeState, type StateMessage,
} from '../../src/companion/sibling-codec.js';

const key = () => randomBytes(32).toString('hex').toUpperCase();
const FROM = key();

function roundTrip(body: Uint8Array, type = 7): Uint8Array {
  const r = new Reassembler();
  const frames = encodeFrames(type, 42, body);
  let out: Uint8Array | undefined;
  frames.forEach((f, i) => {
    expect(f.length).toBeLessThanOrEqual(MAX_PACKET_BYTES);
    expect(f[0]).toBe(SIBLING_PACKET_ID);
    const res = r.push(FROM, f);
    if (i < frames.length - 1) expect(res.kind).toBe('partial');
    else if (res.kind === 'message') {
      expect(res.type).toBe(type);
      out = res.body;
    }
  });
  expect(r.bufferedBytes).toBe(0);
  return out!;
}

function state(partial: Partial<StateMessage> = {}): StateMessage {
  return { kind: 'state', full: true, own: randomBytes(300), registers: [], decisions: [], vouched: [], lists: [], held: [], ...partial };
}

describe('sibling frames', () => {
  it('cut a message into packets of at most 1373 bytes and put it back together, at every boundary size', () => {
    for (const n of [0, 1, MAX_CHUNK_BYTES - 1, MAX_CHUNK_BYTES, MAX_CHUNK_BYTES + 1, 3 * MAX_CHUNK_BYTES, MAX_MESSAGE_BYTES]) {
      const body = randomBytes(n);
      expect(Buffer.from(roundTrip(body)).equals(body), `a body of ${n} bytes came back different`).toBe(true);
      expect(encodeFrames(3, 1, body).length).toBe(Math.max(1, Math.ceil(n / MAX_CHUNK_BYTES)));
    }
  });

  it('refuse to send a message above the limit or of type 0 (typed errors)', () => {
    expect(() => encodeFrames(3, 1, new Uint8Array(MAX_MESSAGE_BYTES + 1))).toThrow(expect.objectContaining({ code: 'SIBLING_MESSAGE_TOO_LARGE' }));
    expect(() => encodeFrames(0, 1, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'SIBLING_BAD_TYPE' }));
  });

  it('drop every malformed header with its reason', () => {
    const good = encodeFrames(5, 9, randomBytes(2 * MAX_CHUNK_BYTES + 10));
    const with_ = (p: Uint8Array, at: number, v: number) => { const c = p.slice(); c[at] = v; return c; };
    const cases: Array<[string, Uint8Array, string]> = [
      ['another protocol', with_(good[0]!, 0, 0xa0), 'NOT_SIBLING_PACKET'],
      ['empty', new Uint8Array(0), 'NOT_SIBLING_PACKET'],
      ['frame version 2', with_(good[0]!, 1, 2), 'BAD_VERSION'],
      ['header cut short', good[0]!.subarray(0, FRAME_HEADER_BYTES - 1), 'TRUNCATED'],
      ['chunk count 0', with_(with_(good[0]!, 9, 0), 10, 0), 'BAD_COUNT'],
      ['chunk count above the limit', with_(with_(good[0]!, 9, 0xff), 10, 0xff), 'BAD_COUNT'],
      ['type 0', with_(good[0]!, 2, 0), 'BAD_COUNT'],
      ['index past the count', with_(good[0]!, 8, 7), 'BAD_INDEX'],
      ['a short chunk that is not the last', good[0]!.subarray(0, 100), 'BAD_LENGTH'],
      ['longer than a custom packet', new Uint8Array([...good[0]!, 1]), 'TOO_LONG'],
    ];
    for (const [what, p, reason] of cases) expect(decodeFrame(p), what).toEqual({ ok: false, reason });
  });

  it('drop a message whose chunks arrive out of order, and let a new message replace an unfinished one', () => {
    const r = new Reassembler();
    const a = encodeFrames(5, 1, randomBytes(3 * MAX_CHUNK_BYTES));
    expect(r.push(FROM, a[0]!).kind).toBe('partial');
    expect(r.push(FROM, a[2]!)).toEqual({ kind: 'dropped', reason: 'OUT_OF_ORDER' });
    expect(r.bufferedBytes).toBe(0);
    const b = encodeFrames(5, 2, randomBytes(2 * MAX_CHUNK_BYTES));
    expect(r.push(FROM, a[0]!).kind).toBe('partial');
    expect(r.push(FROM, b[0]!)).toEqual({ kind: 'dropped', reason: 'SUPERSEDED' });
    expect(r.push(FROM, b[1]!).kind).toBe('message');
  });

  it('a flood of unfinished maximal messages and garbage holds at most one message per sender', () => {
    const r = new Reassembler();
    const senders = Array.from({ length: 4 }, key);
    const big = encodeFrames(5, 7, new Uint8Array(MAX_MESSAGE_BYTES));
    for (let i = 0; i < 2000; i++) {
      const from = senders[i % senders.length]!;
      const frames = big;
      // Everything but the last chunk, then a fresh message: never completes.
      for (const f of frames.slice(0, 1 + (i % 5))) r.push(from, f);
      r.push(from, randomBytes(1 + (i % MAX_PACKET_BYTES)));
      expect(r.bufferedBytes).toBeLessThanOrEqual(senders.length * MAX_MESSAGE_BYTES);
    }
    expect(r.senders).toBeLessThanOrEqual(senders.length);
  });

  it('never throws on arbitrary packets (property)', () => {
    const r = new Reassembler();
    fc.assert(fc.property(fc.uint8Array({ maxLength: MAX_PACKET_BYTES + 20 }), fc.boolean(), (bytes, sibling) => {
      const p = sibling && bytes.length > 0 ? Uint8Array.from([SIBLING_PACKET_ID, 1, ...bytes.subarray(2)]) : bytes;
      const res = r.push(FROM, p);
      expect(['message', 'partial', 'dropped']).toContain(res.kind);
    }), { numRuns: 2000 });
    expect(MAX_CHUNKS * MAX_CHUNK_BYTES).toBeGreaterThanOrEqual(MAX_MESSAGE_BYTES);
  });
});

describe('core bodies', () => {
  it('HELLO and STATE round-trip', () => {
    const hello = { kind: 'hello' as const, own: randomBytes(200), digest: randomBytes(32) };
    const h = encodeCore(hello);
    expect(h.type).toBe(MESSAGE_TYPE.HELLO);
    expect(decodeCore(h.type, h.body)).toEqual({ ok: true, message: { ...hello, own: new Uint8Array(hello.own), digest: new Uint8Array(hello.digest) } });
    const s = state({
      registers: [{ key: key(), kind: 'auto', t: 1_800_000_000_123, by: key(), personas: [key()] }, { key: key(), kind: 'blocked', t: 5, by: key(), personas: [] }],
      decisions: [{ personaId: key(), version: randomBytes(32).toString('hex'), decision: 'reject', t: 9, by: key() }],
      vouched: [key()],
      lists: [{ record: new Uint8Array(randomBytes(400)), from: key(), confirmed: [key(), key()] }],
      held: [{ record: new Uint8Array(randomBytes(300)), from: key() }],
    });
    const e = encodeCore(s);
    const d = decodeCore(e.type, e.body);
    expect(d.ok).toBe(true);
    expect(d.ok && d.message).toEqual({ ...s, own: new Uint8Array(s.own) });
  });

  it('refuse malformed bodies with a reason, never by throwing', () => {
    const ok = (o: Record<string, unknown>) => msgpackEncode({ v: 1, own: new Uint8Array(10), full: true, ...o });
    const cases: Array<[string, number, Uint8Array, string]> = [
      ['unknown type', 9, ok({}), 'UNKNOWN_TYPE'],
      ['not msgpack', MESSAGE_TYPE.STATE, Uint8Array.from([0xc1]), 'BAD_MSGPACK'],
      ['truncated msgpack', MESSAGE_TYPE.STATE, ok({}).subarray(0, 5), 'BAD_MSGPACK'],
      ['an array, not a map', MESSAGE_TYPE.STATE, msgpackEncode([1, 2]), 'BAD_SHAPE'],
      ['version 2', MESSAGE_TYPE.STATE, ok({ v: 2 }), 'BAD_VERSION'],
      ['no own list', MESSAGE_TYPE.HELLO, msgpackEncode({ v: 1, digest: new Uint8Array(32) }), 'BAD_SHAPE'],
      ['short digest', MESSAGE_TYPE.HELLO, ok({ digest: new Uint8Array(31) }), 'BAD_SHAPE'],
      ['register with a 31-byte key', MESSAGE_TYPE.STATE, ok({ reg: [[new Uint8Array(31), 0, 1, new Uint8Array(32), []]] }), 'BAD_SHAPE'],
      ['register of kind 3', MESSAGE_TYPE.STATE, ok({ reg: [[new Uint8Array(32), 3, 1, new Uint8Array(32), []]] }), 'BAD_SHAPE'],
      ['negative stamp', MESSAGE_TYPE.STATE, ok({ reg: [[new Uint8Array(32), 0, -1, new Uint8Array(32), []]] }), 'BAD_SHAPE'],
      ['fractional stamp', MESSAGE_TYPE.STATE, ok({ dec: [[new Uint8Array(32), new Uint8Array(32), 1, 1.5, new Uint8Array(32)]] }), 'BAD_SHAPE'],
      ['decision 2', MESSAGE_TYPE.STATE, ok({ dec: [[new Uint8Array(32), new Uint8Array(32), 2, 1, new Uint8Array(32)]] }), 'BAD_SHAPE'],
      ['too many personas on a register', MESSAGE_TYPE.STATE, ok({ reg: [[new Uint8Array(32), 2, 1, new Uint8Array(32), Array.from({ length: 9 }, () => new Uint8Array(32))]] }), 'TOO_MANY'],
      ['too many held lists', MESSAGE_TYPE.STATE, ok({ held: Array.from({ length: MAX_ITEMS.held + 1 }, () => [new Uint8Array(1), new Uint8Array(32)]) }), 'TOO_MANY'],
      ['empty record', MESSAGE_TYPE.STATE, ok({ lists: [[new Uint8Array(0), new Uint8Array(32), []]] }), 'BAD_SHAPE'],
      ['a record above the limit', MESSAGE_TYPE.STATE, ok({ lists: [[new Uint8Array(2000), new Uint8Array(32), []]] }), 'BAD_MSGPACK'],
      ['full missing', MESSAGE_TYPE.STATE, msgpackEncode({ v: 1, own: new Uint8Array(10) }), 'BAD_SHAPE'],
    ];
    for (const [what, type, body, reason] of cases) expect(decodeCore(type, body), what).toEqual({ ok: false, reason });
  });

  it('never throw on arbitrary bodies (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom(1, 2), (bytes, type) => {
      expect(typeof decodeCore(type, bytes).ok).toBe('boolean');
    }), { numRuns: 3000 });
  });

  it('a STATE too big for one message is split into parts that each fit and together carry every item', () => {
    const lists = Array.from({ length: 900 }, () => ({ record: new Uint8Array(randomBytes(700)), from: key(), confirmed: [key()] }));
    const registers = Array.from({ length: 3000 }, () => ({ key: key(), kind: 'user' as const, t: 1, by: key(), personas: [] }));
    const parts = encodeState(state({ lists, registers }));
    expect(parts.length).toBeGreaterThan(1);
    const got = { lists: 0, registers: 0 };
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      const d = decodeCore(MESSAGE_TYPE.STATE, p);
      if (!d.ok || d.message.kind !== 'state') throw new Error('a part did not decode');
      got.lists += d.message.lists.length;
      got.registers += d.message.registers.length;
    }
    expect(got).toEqual({ lists: 900, registers: 3000 });
  });
});

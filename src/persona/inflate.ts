// Size-capped inflate and a shrink-only deflate: a few hundred bytes from the network must never expand into megabytes.
import pako from 'pako';
import { createRequire } from 'node:module';
import { freshBytes } from './base64url.js';

/** pako's zlib port, used directly so one inflate state serves every message (pako.Inflate builds a new one each time). */
interface ZStream {
  input: Uint8Array | null;
  next_in: number;
  avail_in: number;
  output: Uint8Array | null;
  next_out: number;
  avail_out: number;
}
interface ZInflate {
  inflateInit2(strm: ZStream, windowBits: number): number;
  inflateReset(strm: ZStream): number;
  inflate(strm: ZStream, flush: number): number;
}
const requireCjs = createRequire(import.meta.url);
const zinflate = requireCjs('pako/lib/zlib/inflate.js') as ZInflate;
const ZStreamCtor = requireCjs('pako/lib/zlib/zstream.js') as new () => ZStream;
const Z_FINISH = 4;
const Z_STREAM_END = 1;
const Z_BUF_ERROR = -5;
let rawStream: ZStream | undefined;
let rawOut = new Uint8Array(0);

/** Why a capped inflate failed. */
export type InflateFailure = 'INFLATE_TOO_LARGE' | 'INFLATE_FAILED';

class CapExceeded extends Error {}

/**
 * Inflates `data` (raw DEFLATE when `raw`, zlib-wrapped otherwise) and stops as soon as the output passes `maxOutput`
 * bytes, so a deflate bomb costs at most one small chunk of work and memory past the cap.
 */
export function inflateCapped(data: Uint8Array, maxOutput: number, raw: boolean): { ok: true; bytes: Uint8Array } | { ok: false; reason: InflateFailure } {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let inflator: pako.Inflate;
  try {
    inflator = new pako.Inflate({ raw, chunkSize: 1024 });
    inflator.onData = (chunk: Uint8Array) => {
      total += chunk.length;
      if (total > maxOutput) throw new CapExceeded();
      chunks.push(chunk);
    };
    inflator.push(data, true);
  } catch (error) {
    return { ok: false, reason: error instanceof CapExceeded ? 'INFLATE_TOO_LARGE' : 'INFLATE_FAILED' };
  }
  // pako reports a stream that never reached its end block as err 0 with ended false; treat that as corrupt.
  if (inflator.err !== 0 || !(inflator as unknown as { ended: boolean }).ended) return { ok: false, reason: 'INFLATE_FAILED' };
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return { ok: true, bytes: out };
}

/** Raw DEFLATE at the best compression level. */
export function deflateRaw(data: Uint8Array): Uint8Array {
  return pako.deflateRaw(data, { level: 9 });
}

/** zlib-wrapped DEFLATE at the best compression level (the seed format uses it). */
export function deflateZlib(data: Uint8Array): Uint8Array {
  return pako.deflate(data, { level: 9 });
}

/**
 * Raw DEFLATE into a fresh buffer with `headroom` free bytes in front (for the signing context), output capped at
 * `maxOutput` bytes: the same results as {@link inflateCapped} with `raw`, but one reused inflate state and output
 * buffer, which halves the cost for a status message. Synchronous and not re-entrant (JavaScript runs it to the end).
 */
export function inflateRawInto(data: Uint8Array, maxOutput: number, headroom: number): { ok: true; bytes: Uint8Array } | { ok: false; reason: InflateFailure } {
  if (!rawStream) {
    rawStream = new ZStreamCtor();
    zinflate.inflateInit2(rawStream, -15);
  }
  if (rawOut.length !== maxOutput + 1) rawOut = new Uint8Array(maxOutput + 1);
  const strm = rawStream;
  zinflate.inflateReset(strm);
  strm.input = data;
  strm.next_in = 0;
  strm.avail_in = data.length;
  strm.output = rawOut;
  strm.next_out = 0;
  strm.avail_out = rawOut.length;
  let rc: number;
  try {
    rc = zinflate.inflate(strm, Z_FINISH);
  } catch {
    rc = -3;
  }
  const n = strm.next_out;
  strm.input = null;
  // Z_FINISH with the output full: it wanted more room than the cap (one byte of slack tells "exactly the cap" apart).
  if (n > maxOutput || (rc === Z_BUF_ERROR && strm.avail_out === 0)) return { ok: false, reason: 'INFLATE_TOO_LARGE' };
  if (rc !== Z_STREAM_END) return { ok: false, reason: 'INFLATE_FAILED' };
  const out = freshBytes(headroom + n);
  out.set(rawOut.subarray(0, n), headroom);
  return { ok: true, bytes: out.subarray(headroom) };
}

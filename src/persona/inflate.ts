// Size-capped inflate and a shrink-only deflate: a few hundred bytes from the network must never expand into megabytes.
import pako from 'pako';

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

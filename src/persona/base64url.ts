// Strict, canonical base64url (RFC 4648 section 5, no padding): one spelling per byte string, so a blob can't be re-spelled.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Encodes bytes as unpadded base64url. */
export function base64urlEncode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Number of base64url characters (unpadded) for `n` bytes. */
export function base64urlLength(n: number): number {
  return Math.ceil((n * 4) / 3);
}

const ALPHABET_ONLY = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes unpadded base64url (with `headroom` unused bytes before the result in its buffer); returns undefined for any other character, a length of 4k+1, or non-zero unused trailing
 * bits. The alphabet check is one regular expression and the decoding Node's own (which alone would skip bad
 * characters), so a status message costs about a microsecond here instead of a JavaScript loop per character.
 */
export function base64urlDecodeStrict(text: string, start = 0, end = text.length, headroom = 0): Uint8Array | undefined {
  const n = end - start;
  if (n < 0 || n % 4 === 1) return undefined;
  const s = start === 0 && end === text.length ? text : text.slice(start, end);
  if (!ALPHABET_ONLY.test(s)) return undefined;
  const rest = n % 4;
  if (rest !== 0) {
    // The last character carries 4 (rest 2) or 2 (rest 3) unused bits; they must be zero for one spelling per blob.
    const last = sextet(s, n - 1);
    if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  }
  if (headroom > 0) {
    // `headroom` free bytes in front of the result, in the same buffer (the decoder puts the signing context there, so
    // the signature is verified over context || payload without copying the payload).
    const len = Math.floor((n * 3) / 4);
    const out = freshBytes(headroom + len);
    Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(s, headroom, len, 'base64url');
    return out.subarray(headroom);
  }
  const buf = Buffer.from(s, 'base64url');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function sextet(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? (DECODE[c] as number) : -1;
}

/** Requests up to this size are carved from a shared slab; larger ones get a buffer of their own. */
const SLAB_MAX_REQUEST = 2048;
/** Slab size: like Node's Buffer pool (8 KiB), so one kept view pins at most this much memory. */
const SLAB_BYTES = 8192;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * `n` zeroed bytes that nobody else has or will ever be given (a fresh region of a slab that is never reused, so no
 * foreign data shows through `.buffer`): allocating a typed array of more than 64 bytes costs V8 an off-heap backing
 * store each time, about a microsecond, which a status message decode pays once per message.
 */
export function freshBytes(n: number): Uint8Array {
  if (n > SLAB_MAX_REQUEST) return new Uint8Array(n);
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  // Keep every region 8-byte aligned, as fresh allocations are.
  slabUsed += (n + 7) & ~7;
  return out;
}

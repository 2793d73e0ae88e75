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

/** Decodes unpadded base64url; returns undefined for any other character, a length of 4k+1, or non-zero unused trailing bits. */
export function base64urlDecodeStrict(text: string, start = 0, end = text.length): Uint8Array | undefined {
  const n = end - start;
  if (n < 0 || n % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let o = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const a = sextet(text, i), b = sextet(text, i + 1), c = sextet(text, i + 2), d = sextet(text, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  const rest = end - i;
  if (rest === 2) {
    const a = sextet(text, i), b = sextet(text, i + 1);
    if ((a | b) < 0 || (b & 0x0f) !== 0) return undefined;
    out[o++] = (a << 2) | (b >>> 4);
  } else if (rest === 3) {
    const a = sextet(text, i), b = sextet(text, i + 1), c = sextet(text, i + 2);
    if ((a | b | c) < 0 || (c & 0x03) !== 0) return undefined;
    out[o++] = (a << 2) | (b >>> 4);
    out[o++] = ((b & 0x0f) << 4) | (c >>> 2);
  }
  return out;
}

function sextet(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? (DECODE[c] as number) : -1;
}

// Byte-string helpers shared by every layer: shape checks that return their input, hex and base64url.

/** Returns `value` when it is a Uint8Array of exactly `length` bytes (any length when omitted); throws TypeError/RangeError naming `what` otherwise. */
export function abytes(value: unknown, length: number | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${what}: expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** Parses a hex string (either case, no prefix) of exactly `length` bytes when given; throws TypeError/RangeError naming `what`. */
export function hexToBytes(hex: unknown, length: number | undefined, what: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError(`${what}: expected a hex string, got ${describe(hex)}`);
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`${what}: not a hex string (${hex.length} characters)`);
  }
  if (length !== undefined && hex.length !== length * 2) {
    throw new RangeError(`${what}: expected ${length * 2} hex characters, got ${hex.length}`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Formats bytes as hex; uppercase by default because that is how Tox IDs and keys are shown everywhere in the Tox world. */
export function bytesToHex(bytes: Uint8Array, upper = true): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return upper ? hex.toUpperCase() : hex;
}

/** Accepts either bytes of `length` or their hex form, and returns the bytes. */
export function bytesOrHex(value: unknown, length: number, what: string): Uint8Array {
  return typeof value === 'string' ? hexToBytes(value, length, what) : abytes(value, length, what);
}

/** Compares two byte strings for equality (not constant-time: for public data only). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

// Identity material of a profile: X25519 key derivation and generation, nospam, and the 38-byte Tox address.
// Node's built-in X25519 (OpenSSL) is used because it is synchronous; it clamps the scalar exactly as libsodium's
// crypto_scalarmult_base does, which is what libtoxcore uses to derive the public key on load (checked in tests).
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { ProfileError } from './errors.js';

/** An X25519 keypair as libtoxcore stores it: 32-byte public key, 32-byte secret key. */
export interface ToxKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function fromB64url(text: string | undefined, what: string): Uint8Array {
  const bytes = Uint8Array.from(Buffer.from(text ?? '', 'base64url'));
  if (bytes.length !== 32) throw new ProfileError('BAD_KEYPAIR', `${what}: X25519 export gave ${bytes.length} bytes`);
  return bytes;
}

/** Derives the X25519 public key of a 32-byte secret key, as libtoxcore does when it loads a profile. */
export function derivePublicKey(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new ProfileError('BAD_ARGUMENT', 'secret key: expected 32 bytes');
  }
  const x = createPublicKey(createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(secretKey), x: '' }, format: 'jwk' })).export({ format: 'jwk' }).x;
  return fromB64url(x, 'derivePublicKey');
}

/**
 * Generates a fresh X25519 keypair: 32 random bytes from the system CSPRNG as the secret key (any 32 bytes are a valid
 * X25519 scalar once clamped, which libtoxcore does on load) and its derived public key. Not generateKeyPairSync:
 * in Node 20 a GC during the JWK export of a freshly generated key can deadlock the process inside KeyGenJob's
 * destructor (seen here with gdb under load).
 */
export function generateKeyPair(): ToxKeyPair {
  const secretKey = Uint8Array.from(randomBytes(32));
  return { publicKey: derivePublicKey(secretKey), secretKey };
}

/** A fresh random nospam (any u32 is valid, including 0). */
export function generateNospam(): number {
  return randomBytes(4).readUInt32BE(0);
}

/** Builds the 38-byte Tox address (public key, nospam big-endian, 2-byte XOR checksum) that friends add. */
export function toxAddress(publicKey: Uint8Array, nospam: number): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new ProfileError('BAD_ARGUMENT', 'toxAddress: expected a 32-byte public key');
  const out = new Uint8Array(38);
  out.set(publicKey, 0);
  new DataView(out.buffer).setUint32(32, nospam >>> 0, false);
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < 36; i += 2) {
    c0 ^= out[i]!;
    c1 ^= out[i + 1]!;
  }
  out[36] = c0;
  out[37] = c1;
  return out;
}

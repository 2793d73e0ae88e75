// The crypto the persona layer uses (Ed25519 sign/verify, BLAKE2b), as one injectable interface; libsodium-wrappers by default.
import sodium from 'libsodium-wrappers';

// Top-level await: any module that imports the persona layer gets a ready libsodium, no init call to forget.
await sodium.ready;

/** The initialised libsodium-wrappers instance (keys, secretbox, random bytes). */
export { sodium };

/** The primitives the protocol needs; the pure layer calls only these, so a faster implementation can be injected. */
export interface PersonaCrypto {
  /** Which implementation this is, for logs and benches. */
  readonly name: string;
  /** Ed25519 detached verification with libsodium's rules; false (never a throw) for a malformed key or signature. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /** Ed25519 detached signature with a 64-byte libsodium secret key. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Unkeyed BLAKE2b with an output of `length` bytes (default 32). */
  hash(message: Uint8Array | string, length?: number): Uint8Array;
  /** argon2id13 (crypto_pwhash) when the implementation has it (the native libsodium); without it an encrypted key is refused (`PWHASH_UNAVAILABLE`). */
  pwhash?(length: number, passphrase: string, salt: Uint8Array, opslimit: number, memlimit: number): Uint8Array;
}

/** libsodium-wrappers (WebAssembly): works everywhere, the fallback when no native libsodium loads. */
export const wasmCrypto: PersonaCrypto = {
  name: 'libsodium-wrappers',
  verify(signature, message, publicKey) {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    try {
      return sodium.crypto_sign_verify_detached(signature, message, publicKey);
    } catch {
      // libsodium throws on malformed keys; for us that is simply "does not verify".
      return false;
    }
  },
  sign(message, secretKey) {
    return sodium.crypto_sign_detached(message, secretKey);
  },
  hash(message, length = 32) {
    return sodium.crypto_generichash(length, message, null);
  },
};

let current: PersonaCrypto = wasmCrypto;

/** The crypto implementation in use. */
export function personaCrypto(): PersonaCrypto {
  return current;
}

/** Injects the crypto implementation the persona layer uses from now on (a native one, or a stub in tests). */
export function setPersonaCrypto(impl: PersonaCrypto): void {
  current = impl;
  for (const fn of onSwap) fn();
}

const onSwap: Array<() => void> = [];

/** Registers a cache to clear when the crypto is swapped (a result cached under one implementation is not reused under another). */
export function onPersonaCryptoSwap(fn: () => void): void {
  onSwap.push(fn);
}

/** Resolves when libsodium is ready; it already is once this module has loaded, kept for callers that want to be explicit. */
export async function personaReady(): Promise<void> {
  await sodium.ready;
}

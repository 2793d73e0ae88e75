// The system's native libsodium through koffi (the library libtoxcore itself links): Ed25519, BLAKE2b and argon2id for the persona layer, about twice as fast as the WebAssembly build.
import koffi from 'koffi';
import { personaCrypto, setPersonaCrypto, type PersonaCrypto } from '../persona/sodium.js';

/** Library names tried in order: Debian 12 / Ubuntu (libsodium23), Debian 13+ (libsodium26), then the unversioned name. */
export const LIBSODIUM_NAMES = ['libsodium.so.23', 'libsodium.so.26', 'libsodium.so', 'libsodium.dylib'];

type Fn<A extends unknown[], R> = (...args: A) => R;

/** The C functions we call, names verbatim from sodium.h. */
interface SodiumRaw {
  sodium_init: Fn<[], number>;
  crypto_sign_verify_detached: Fn<[Uint8Array, Uint8Array, number, Uint8Array], number>;
  crypto_sign_detached: Fn<[Uint8Array, null, Uint8Array, number, Uint8Array], number>;
  crypto_generichash: Fn<[Uint8Array, number, Uint8Array, number, null, number], number>;
  crypto_pwhash: Fn<[Uint8Array, number, Uint8Array, number, Uint8Array, number, number, number], number>;
  crypto_pwhash_alg_argon2id13: Fn<[], number>;
  crypto_pwhash_saltbytes: Fn<[], number>;
}

/** A native libsodium: the PersonaCrypto primitives, argon2id included. */
export interface NativeSodium extends PersonaCrypto {
  /** The library file that was loaded. */
  readonly library: string;
  /** argon2id13 key derivation (crypto_pwhash); throws when libsodium refuses (out of memory, bad limits). */
  pwhash(length: number, passphrase: string, salt: Uint8Array, opslimit: number, memlimit: number): Uint8Array;
}

/**
 * Makes the persona layer use the native libsodium when one loads (else it keeps libsodium-wrappers); returns the
 * name of the implementation in use. Idempotent; TOX_PERSONA_CRYPTO=wasm keeps the WebAssembly build on purpose.
 */
export function useNativeCrypto(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOX_PERSONA_CRYPTO === 'wasm') return personaCrypto().name;
  const native = loadNativeSodium(env);
  if (native && personaCrypto() !== native) setPersonaCrypto(native);
  return personaCrypto().name;
}

const utf8 = new TextEncoder();
let loaded: NativeSodium | null | undefined;

/**
 * Loads the native libsodium once (TOX_PERSONA_LIBSODIUM names a file to try first); undefined when none loads, so
 * callers keep libsodium-wrappers. Never throws.
 */
export function loadNativeSodium(env: NodeJS.ProcessEnv = process.env): NativeSodium | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  const names = env.TOX_PERSONA_LIBSODIUM ? [env.TOX_PERSONA_LIBSODIUM, ...LIBSODIUM_NAMES] : LIBSODIUM_NAMES;
  for (const name of names) {
    try {
      loaded = bindNativeSodium(name);
      break;
    } catch {
      // not there, or not a libsodium: try the next name
    }
  }
  return loaded ?? undefined;
}

/** Binds one library file; throws when it does not load or lacks a function (exported for tests of the fallback). */
export function bindNativeSodium(name: string): NativeSodium {
  const lib = koffi.load(name);
  const raw: SodiumRaw = {
    sodium_init: lib.func('int sodium_init(void)') as SodiumRaw['sodium_init'],
    crypto_sign_verify_detached: lib.func('int crypto_sign_verify_detached(const uint8_t *sig, const uint8_t *m, unsigned long long mlen, const uint8_t *pk)') as SodiumRaw['crypto_sign_verify_detached'],
    crypto_sign_detached: lib.func('int crypto_sign_detached(_Out_ uint8_t *sig, _Out_ unsigned long long *siglen_p, const uint8_t *m, unsigned long long mlen, const uint8_t *sk)') as SodiumRaw['crypto_sign_detached'],
    crypto_generichash: lib.func('int crypto_generichash(_Out_ uint8_t *out, size_t outlen, const uint8_t *in, unsigned long long inlen, const uint8_t *key, size_t keylen)') as SodiumRaw['crypto_generichash'],
    crypto_pwhash: lib.func('int crypto_pwhash(_Out_ uint8_t *out, unsigned long long outlen, const uint8_t *passwd, unsigned long long passwdlen, const uint8_t *salt, unsigned long long opslimit, size_t memlimit, int alg)') as SodiumRaw['crypto_pwhash'],
    crypto_pwhash_alg_argon2id13: lib.func('int crypto_pwhash_alg_argon2id13(void)') as SodiumRaw['crypto_pwhash_alg_argon2id13'],
    crypto_pwhash_saltbytes: lib.func('size_t crypto_pwhash_saltbytes(void)') as SodiumRaw['crypto_pwhash_saltbytes'],
  };
  // 0 = initialised now, 1 = already (libtoxcore did it); -1 = failure.
  if (raw.sodium_init() < 0) throw new Error('sodium_init failed');
  const argon2id = raw.crypto_pwhash_alg_argon2id13();
  const saltBytes = raw.crypto_pwhash_saltbytes();
  return {
    name: `native libsodium (${name})`,
    library: name,
    verify(signature, message, publicKey) {
      // libsodium reads exactly 64 and 32 bytes behind these pointers: shorter buffers must never reach it.
      if (signature.length !== 64 || publicKey.length !== 32) return false;
      return raw.crypto_sign_verify_detached(signature, message, message.length, publicKey) === 0;
    },
    sign(message, secretKey) {
      if (secretKey.length !== 64) throw new RangeError('secretKey must be 64 bytes');
      const sig = new Uint8Array(64);
      if (raw.crypto_sign_detached(sig, null, message, message.length, secretKey) !== 0) throw new Error('crypto_sign_detached failed');
      return sig;
    },
    hash(message, length = 32) {
      if (!Number.isInteger(length) || length < 1 || length > 64) throw new RangeError('hash length must be 1..64');
      const input = typeof message === 'string' ? utf8.encode(message) : message;
      const out = new Uint8Array(length);
      if (raw.crypto_generichash(out, length, input, input.length, null, 0) !== 0) throw new Error('crypto_generichash failed');
      return out;
    },
    pwhash(length, passphrase, salt, opslimit, memlimit) {
      if (salt.length !== saltBytes) throw new RangeError(`salt must be ${saltBytes} bytes`);
      const pw = utf8.encode(passphrase);
      const out = new Uint8Array(length);
      const rc = raw.crypto_pwhash(out, length, pw, pw.length, salt, opslimit, memlimit, argon2id);
      pw.fill(0);
      if (rc !== 0) throw new Error('crypto_pwhash failed (out of memory?)');
      return out;
    },
  };
}

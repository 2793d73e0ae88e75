// The native libsodium (koffi) agrees with libsodium-wrappers byte for byte, refuses malformed input without reaching C, and the persona layer runs every vector through it.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { bindNativeSodium, loadNativeSodium, useNativeCrypto } from '../../src/crypto/native-sodium.js';
import { decodeStatusMessage, personaCrypto, setPersonaCrypto, wasmCrypto } from '../../src/persona/index.js';
import { loadPersonaKey, personaKeyFromSeed, savePersonaKey } from '../../src/persona/keys.js';
import { sodium } from '../../src/persona/sodium.js';
import { useTempDir } from '../support/tmp.js';

const native = loadNativeSodium();

describe('native libsodium through koffi', () => {
  afterAll(() => setPersonaCrypto(wasmCrypto));

  it('loads on this machine (libsodium.so.23 or .26, which libtoxcore links)', () => {
    expect(native, 'no native libsodium loaded; install libsodium23 or libsodium26').toBeDefined();
    expect(native!.name).toMatch(/^native libsodium \(libsodium/);
  });

  it('signs, verifies and hashes exactly as libsodium-wrappers', () => {
    const kp = sodium.crypto_sign_seed_keypair(sodium.crypto_generichash(32, 'native-test', null));
    for (const len of [0, 1, 700, 1100]) {
      const m = sodium.crypto_generichash(64, `m${len}`, null).slice(0, Math.min(64, len));
      const msg = new Uint8Array(len).map((_, i) => m[i % Math.max(1, m.length)] ?? i);
      const sig = native!.sign(msg, kp.privateKey);
      expect(Buffer.from(sig).equals(Buffer.from(wasmCrypto.sign(msg, kp.privateKey))), `signature of ${len} bytes`).toBe(true);
      expect(native!.verify(sig, msg, kp.publicKey)).toBe(true);
      expect(native!.verify(sig.map((b, i) => (i === 3 ? b ^ 1 : b)), msg, kp.publicKey)).toBe(false);
      for (const out of [4, 8, 32, 64]) expect(Buffer.from(native!.hash(msg, out)).toString('hex'), `BLAKE2b-${out * 8}`).toBe(Buffer.from(wasmCrypto.hash(msg, out)).toString('hex'));
    }
    expect(Buffer.from(native!.hash('abc')).toString('hex')).toBe(Buffer.from(wasmCrypto.hash('abc')).toString('hex'));
  });

  it('a short key or signature returns false (never read past a buffer); a bad point returns false', () => {
    const kp = sodium.crypto_sign_keypair();
    const sig = native!.sign(new Uint8Array(10), kp.privateKey);
    expect(native!.verify(sig.subarray(0, 63), new Uint8Array(10), kp.publicKey)).toBe(false);
    expect(native!.verify(sig, new Uint8Array(10), kp.publicKey.subarray(0, 31))).toBe(false);
    expect(native!.verify(sig, new Uint8Array(10), new Uint8Array(32).fill(0xff))).toBe(false);
    expect(() => native!.sign(new Uint8Array(1), new Uint8Array(32))).toThrow(RangeError);
  });

  it('argon2id gives the known answer (computed with libsodium-wrappers-sumo 0.8.4 before it was dropped)', () => {
    const salt = new Uint8Array(16).fill(7);
    const a = native!.pwhash(32, 'correct horse', salt, 2, 1 << 20);
    expect(Buffer.from(a).toString('hex')).toBe('402afea29c26fc536cf7fe3f89240de9b816838e2613ff1d9dca37c2758be89c');
  });

  it('a library that does not exist throws at bind; TOX_PERSONA_CRYPTO=wasm keeps libsodium-wrappers', () => {
    expect(() => bindNativeSodium('libdoes-not-exist.so.0')).toThrow();
    setPersonaCrypto(wasmCrypto);
    expect(useNativeCrypto({ TOX_PERSONA_CRYPTO: 'wasm' })).toBe('libsodium-wrappers');
    expect(useNativeCrypto({})).toBe(native!.name);
    expect(personaCrypto()).toBe(native);
  });

  it('every vector decodes to the same result through the native crypto', () => {
    setPersonaCrypto(native!);
    const load = (f: string) => JSON.parse(readFileSync(new URL(`../vectors/${f}`, import.meta.url), 'utf8')).vectors as Array<{ name: string; statusMessage?: string; statusMessageHex?: string; expectedReason?: string; signature?: string }>;
    for (const v of load('persona-valid.json')) {
      const d = decodeStatusMessage(v.statusMessage!);
      expect(d.ok && Buffer.from(d.signed.signature).toString('hex'), v.name).toBe(v.signature);
    }
    for (const v of load('persona-invalid.json')) {
      const d = decodeStatusMessage(v.statusMessageHex !== undefined ? Buffer.from(v.statusMessageHex, 'hex') : v.statusMessage!);
      expect(d.ok ? 'accepted' : d.reason, v.name).toBe(v.expectedReason);
    }
  });

  const tmp = useTempDir('crypto-native-');
  it('a key file encrypted with the native argon2id opens again; under the WebAssembly fallback (no argon2id) it is PWHASH_UNAVAILABLE', async () => {
    const key = personaKeyFromSeed(new Uint8Array(32).fill(9));
    const kdf = { opslimit: 1, memlimit: 1 << 20 };
    setPersonaCrypto(native!);
    await savePersonaKey(tmp('native.key'), key, { passphrase: 'pw', kdf });
    setPersonaCrypto(wasmCrypto);
    await expect(loadPersonaKey(tmp('native.key'), { passphrase: 'pw' })).rejects.toMatchObject({ code: 'PWHASH_UNAVAILABLE' });
    setPersonaCrypto(native!);
    expect((await loadPersonaKey(tmp('native.key'), { passphrase: 'pw' })).publicKey).toEqual(key.publicKey);
    await expect(loadPersonaKey(tmp('native.key'), { passphrase: 'wrong' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
  });
});

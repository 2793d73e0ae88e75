// Persona key files and export strings: round trips, 0600, typed errors, and no secret in any error.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPersonaKey, generatePersonaKey, importPersonaKey, loadPersonaKey, PersonaKeyError, savePersonaKey, type PersonaKeyPair } from '../../src/persona/index.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { useNativeCrypto } from '../../src/crypto/native-sodium.js';
import { personaCrypto, setPersonaCrypto, wasmCrypto } from '../../src/persona/sodium.js';

// Cheap argon2id costs keep the suite fast; the defaults are exercised once below.
const kdf = { opslimit: 1, memlimit: 8 * 1024 * 1024 };
let dir: string;
let key: PersonaKeyPair;

beforeAll(async () => {
  // argon2id comes only from the native libsodium (the WebAssembly fallback has none).
  useNativeCrypto();
  dir = await mkdtemp(join(tmpdir(), 'persona-keys-'));
  key = await generatePersonaKey();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    const secretHex = bytesToHex(key.secretKey.subarray(0, 32));
    expect(String((error as Error).message).toUpperCase()).not.toContain(secretHex);
    return error instanceof PersonaKeyError ? error.code : `untyped ${(error as Error).name}`;
  }
}

describe('persona key file', () => {
  it('a plain key file round-trips and is mode 0600', async () => {
    const p = join(dir, 'plain.key');
    await savePersonaKey(p, key);
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    const back = await loadPersonaKey(p);
    expect(bytesToHex(back.secretKey)).toBe(bytesToHex(key.secretKey));
    expect(await codeOf(savePersonaKey(p, key))).toBe('KEY_FILE_EXISTS');
  });
  it('an encrypted key file needs the right passphrase', async () => {
    const p = join(dir, 'enc.key');
    await savePersonaKey(p, key, { passphrase: 'correct horse', kdf });
    const text = await readFile(p, 'utf8');
    expect(text.toUpperCase()).not.toContain(bytesToHex(key.secretKey.subarray(0, 32)));
    expect(await codeOf(loadPersonaKey(p))).toBe('PASSPHRASE_REQUIRED');
    expect(await codeOf(loadPersonaKey(p, { passphrase: 'wrong' }))).toBe('WRONG_PASSPHRASE');
    expect(bytesToHex((await loadPersonaKey(p, { passphrase: 'correct horse' })).publicKey)).toBe(bytesToHex(key.publicKey));
  });
  it('default argon2id costs work too', async () => {
    const p = join(dir, 'default.key');
    await savePersonaKey(p, key, { passphrase: 'pw' });
    expect(JSON.parse(await readFile(p, 'utf8')).encrypted.memlimit).toBe(64 * 1024 * 1024);
    expect(bytesToHex((await loadPersonaKey(p, { passphrase: 'pw' })).publicKey)).toBe(bytesToHex(key.publicKey));
  });
  it('missing and corrupt files give typed errors', async () => {
    expect(await codeOf(loadPersonaKey(join(dir, 'nope.key')))).toBe('KEY_FILE_NOT_FOUND');
    const p = join(dir, 'corrupt.key');
    await writeFile(p, '{"format":"tox-persona-key"', { mode: 0o600 });
    expect(await codeOf(loadPersonaKey(p))).toBe('KEY_FILE_CORRUPT');
    await writeFile(p, JSON.stringify({ format: 'tox-persona-key', version: 1, publicKey: 'zz', seed: '00' }));
    expect(await codeOf(loadPersonaKey(p))).toBe('KEY_FILE_CORRUPT');
    // A seed that doesn't match the stored public key (someone edited one of them).
    const other = await generatePersonaKey();
    await writeFile(p, JSON.stringify({ format: 'tox-persona-key', version: 1, publicKey: bytesToHex(other.publicKey), seed: bytesToHex(key.secretKey.subarray(0, 32)) }));
    expect(await codeOf(loadPersonaKey(p))).toBe('KEY_FILE_CORRUPT');
    // A tampered KDF cost is refused before any work is done.
    const enc = JSON.parse(await readFile(join(dir, 'enc.key'), 'utf8'));
    enc.encrypted.memlimit = 2 ** 40;
    await writeFile(p, JSON.stringify(enc));
    expect(await codeOf(loadPersonaKey(p, { passphrase: 'correct horse' }))).toBe('KEY_FILE_CORRUPT');
  });
  it('a key file that others can read is refused, naming the fix', async () => {
    const p = join(dir, 'loose.key');
    await savePersonaKey(p, key);
    await chmod(p, 0o644);
    const error = await loadPersonaKey(p).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PersonaKeyError);
    expect((error as PersonaKeyError).code).toBe('KEY_FILE_PERMISSIONS');
    expect((error as PersonaKeyError).message).toContain('chmod 600');
  });
});

describe('persona key export', () => {
  it('plain export round-trips, survives line breaks, and detects a typo', async () => {
    const text = await exportPersonaKey(key);
    expect(text.startsWith('toxpersona-key-1.')).toBe(true);
    const wrapped = text.slice(0, 30) + '\n  ' + text.slice(30);
    expect(bytesToHex((await importPersonaKey(wrapped)).secretKey)).toBe(bytesToHex(key.secretKey));
    const typo = text.slice(0, 40) + (text[40] === 'A' ? 'B' : 'A') + text.slice(41);
    expect(await codeOf(importPersonaKey(typo))).toBe('KEY_TEXT_CORRUPT');
    expect(await codeOf(importPersonaKey(text.slice(0, -3)))).toBe('KEY_TEXT_CORRUPT');
    expect(await codeOf(importPersonaKey('hello'))).toBe('KEY_TEXT_CORRUPT');
  });
  it('encrypted export needs the passphrase', async () => {
    const text = await exportPersonaKey(key, 'pass phrase', kdf);
    expect(await codeOf(importPersonaKey(text))).toBe('PASSPHRASE_REQUIRED');
    expect(await codeOf(importPersonaKey(text, 'nope'))).toBe('WRONG_PASSPHRASE');
    expect(bytesToHex((await importPersonaKey(text, 'pass phrase')).publicKey)).toBe(bytesToHex(key.publicKey));
  });
});

describe('without a native libsodium', () => {
  it('an encrypted key is refused with PWHASH_UNAVAILABLE (the WebAssembly fallback has no argon2id); a plain key still works', async () => {
    const native = personaCrypto();
    setPersonaCrypto(wasmCrypto);
    try {
      const p = join(dir, 'wasm-encrypted.key');
      expect(await codeOf(savePersonaKey(p, key, { passphrase: 'pw', kdf }))).toBe('PWHASH_UNAVAILABLE');
      expect(await codeOf(exportPersonaKey(key, 'pw', kdf))).toBe('PWHASH_UNAVAILABLE');
      const plain = join(dir, 'wasm-plain.key');
      await savePersonaKey(plain, key);
      expect(bytesToHex((await loadPersonaKey(plain)).publicKey)).toBe(bytesToHex(key.publicKey));
    } finally {
      setPersonaCrypto(native);
    }
  });
});

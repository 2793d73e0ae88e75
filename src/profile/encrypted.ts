// Encrypted (toxencryptsave, "toxEsave") profiles: detect, encrypt and decrypt through libtoxcore's own tox_pass_* functions.
import { loadToxcore, Tox_Err_Decryption, Tox_Err_Encryption } from '../ffi/index.js';
import { hasEncryptedMagic } from './codec.js';
import { ProfileError } from './errors.js';

/** Bytes toxencryptsave adds: magic 8, salt 32, nonce 24, MAC 16. */
export const ENCRYPTION_EXTRA_LENGTH = 80;

/** A passphrase as text (encoded as UTF-8, as qTox and toxic do) or as raw bytes. */
export type Passphrase = string | Uint8Array;

function passphraseBytes(passphrase: Passphrase): Buffer {
  if (typeof passphrase === 'string') {
    if (passphrase.length === 0) throw new ProfileError('BAD_ARGUMENT', 'the passphrase is empty');
    return Buffer.from(passphrase, 'utf8');
  }
  if (!(passphrase instanceof Uint8Array) || passphrase.length === 0) throw new ProfileError('BAD_ARGUMENT', 'the passphrase must be a non-empty string or byte array');
  return Buffer.from(passphrase);
}

/** Whether `bytes` is an encrypted profile: the `toxEsave` magic and room for salt, nonce and MAC. */
export function isEncryptedProfile(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && hasEncryptedMagic(bytes) && bytes.length >= ENCRYPTION_EXTRA_LENGTH;
}

/** Encrypts plain savedata with `passphrase` (fresh random salt and nonce) through `tox_pass_encrypt`; throws {@link ProfileError} ENCRYPTION_FAILED. */
export function encryptProfile(plain: Uint8Array, passphrase: Passphrase): Uint8Array {
  if (!(plain instanceof Uint8Array) || plain.length === 0) throw new ProfileError('BAD_ARGUMENT', 'encryptProfile: expected non-empty bytes');
  const pass = passphraseBytes(passphrase);
  const ffi = loadToxcore();
  const out = Buffer.alloc(plain.length + ENCRYPTION_EXTRA_LENGTH);
  const err = [0];
  const ok = ffi.tox_pass_encrypt(plain, plain.length, pass, pass.length, out, err);
  pass.fill(0);
  if (!ok || err[0] !== Tox_Err_Encryption.TOX_ERR_ENCRYPTION_OK) {
    throw new ProfileError('ENCRYPTION_FAILED', `tox_pass_encrypt failed (error ${err[0]})`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Decrypts an encrypted profile through `tox_pass_decrypt`. Throws {@link ProfileError}: BAD_MAGIC (not `toxEsave`),
 * TRUNCATED (too short), BAD_PASSPHRASE (wrong passphrase or damaged data: the MAC cannot tell them apart).
 */
export function decryptProfile(encrypted: Uint8Array, passphrase: Passphrase): Uint8Array {
  if (!(encrypted instanceof Uint8Array)) throw new ProfileError('BAD_ARGUMENT', 'decryptProfile: expected bytes');
  if (!hasEncryptedMagic(encrypted)) throw new ProfileError('BAD_MAGIC', 'not an encrypted Tox profile: no toxEsave magic');
  if (encrypted.length <= ENCRYPTION_EXTRA_LENGTH) {
    throw new ProfileError('TRUNCATED', `the encrypted profile is ${encrypted.length} bytes, no longer than its ${ENCRYPTION_EXTRA_LENGTH}-byte envelope`);
  }
  const pass = passphraseBytes(passphrase);
  const ffi = loadToxcore();
  const out = Buffer.alloc(encrypted.length - ENCRYPTION_EXTRA_LENGTH);
  const err = [0];
  const ok = ffi.tox_pass_decrypt(encrypted, encrypted.length, pass, pass.length, out, err);
  pass.fill(0);
  if (ok && err[0] === Tox_Err_Decryption.TOX_ERR_DECRYPTION_OK) return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  out.fill(0);
  switch (err[0]) {
    case Tox_Err_Decryption.TOX_ERR_DECRYPTION_FAILED:
      throw new ProfileError('BAD_PASSPHRASE', 'the passphrase does not decrypt this profile (or the file is damaged)');
    case Tox_Err_Decryption.TOX_ERR_DECRYPTION_INVALID_LENGTH:
      throw new ProfileError('TRUNCATED', 'the encrypted profile is too short');
    case Tox_Err_Decryption.TOX_ERR_DECRYPTION_BAD_FORMAT:
      throw new ProfileError('BAD_MAGIC', 'not an encrypted Tox profile');
    default:
      throw new ProfileError('BAD_PASSPHRASE', `tox_pass_decrypt failed (error ${err[0]})`);
  }
}

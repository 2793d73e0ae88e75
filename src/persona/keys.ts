// The persona signing key: generation, the 0600 key file (optionally passphrase-encrypted) and a copy-pasteable export string.
import { readFile, stat } from 'node:fs/promises';
import { personaCrypto, sodium } from './sodium.js';
import { PersonaKeyError } from './errors.js';
import { base64urlDecodeStrict, base64urlEncode } from './base64url.js';
import { writeFileAtomic } from '../util/fs.js';
import { abytes, bytesEqual, bytesToHex, hexToBytes } from '../util/bytes.js';

/** A persona's Ed25519 keypair; the public key is the PersonaID. */
export interface PersonaKeyPair {
  /** The PersonaID (32 bytes). */
  readonly publicKey: Uint8Array;
  /** libsodium's 64-byte secret key (seed || public key). */
  readonly secretKey: Uint8Array;
}

/** Argon2id cost parameters stored next to an encrypted key. */
export interface KdfParams {
  /** crypto_pwhash opslimit. */
  opslimit: number;
  /** crypto_pwhash memlimit, bytes. */
  memlimit: number;
}

/** Options for saving or exporting a key. */
export interface KeyProtectOptions {
  /** Encrypt the key with this passphrase (argon2id + XSalsa20-Poly1305); plain when omitted or ''. */
  passphrase?: string;
  /** Argon2id costs; default libsodium's INTERACTIVE (ops 2, 64 MiB). */
  kdf?: KdfParams;
}

/** The argon2id costs used when none are given (libsodium's INTERACTIVE level). */
export const DEFAULT_KDF: KdfParams = { opslimit: 2, memlimit: 64 * 1024 * 1024 };
/** Prefix of the export string; the version lets a later format coexist. */
export const KEY_EXPORT_PREFIX = 'toxpersona-key-1.';
const FILE_FORMAT = 'tox-persona-key';
const SALT_BYTES = 16;
const NONCE_BYTES = 24;
const MAC_BYTES = 16;

/** Generates a fresh persona keypair. */
export async function generatePersonaKey(): Promise<PersonaKeyPair> {
  const kp = sodium.crypto_sign_keypair();
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** Rebuilds a keypair from its 32-byte seed (deterministic; used by test vectors). */
export function personaKeyFromSeed(seed: Uint8Array): PersonaKeyPair {
  const kp = sodium.crypto_sign_seed_keypair(abytes(seed, 32, 'seed'));
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

interface SealedSeed {
  kdf: KdfParams;
  salt: Uint8Array;
  nonce: Uint8Array;
  box: Uint8Array;
}

async function pwhash(passphrase: string, salt: Uint8Array, kdf: KdfParams): Promise<Uint8Array> {
  // argon2id comes from the injected crypto (the native libsodium). The libsodium-wrappers fallback has no
  // crypto_pwhash, and a second, 12 MB WebAssembly build only for it was dropped: without a native libsodium an
  // encrypted key is refused with a clear code (a plain key still works).
  const injected = personaCrypto();
  if (injected.pwhash) return injected.pwhash(32, passphrase, salt, kdf.opslimit, kdf.memlimit);
  throw new PersonaKeyError('PWHASH_UNAVAILABLE', `an encrypted persona key needs argon2id, which only the native libsodium provides, and the crypto in use (${injected.name}) has none; install libsodium (libsodium23 or libsodium26), or unset TOX_PERSONA_CRYPTO=wasm`);
}

async function seal(seed: Uint8Array, passphrase: string, kdf: KdfParams): Promise<SealedSeed> {
  const salt = sodium.randombytes_buf(SALT_BYTES);
  const nonce = sodium.randombytes_buf(NONCE_BYTES);
  const k = await pwhash(passphrase, salt, kdf);
  const box = sodium.crypto_secretbox_easy(seed, nonce, k);
  sodium.memzero(k);
  return { kdf, salt, nonce, box };
}

async function unseal(sealed: SealedSeed, passphrase: string): Promise<Uint8Array> {
  const k = await pwhash(passphrase, sealed.salt, sealed.kdf);
  try {
    return sodium.crypto_secretbox_open_easy(sealed.box, sealed.nonce, k);
  } catch {
    throw new PersonaKeyError('WRONG_PASSPHRASE', 'the passphrase does not open this persona key');
  } finally {
    sodium.memzero(k);
  }
}

function checkKdf(kdf: KdfParams): KdfParams {
  // Bounds keep a tampered file from asking for absurd work or memory before the MAC is even checked.
  if (!Number.isSafeInteger(kdf.opslimit) || kdf.opslimit < 1 || kdf.opslimit > 20) throw new RangeError('kdf.opslimit out of range 1..20');
  if (!Number.isSafeInteger(kdf.memlimit) || kdf.memlimit < 8192 || kdf.memlimit > 1024 * 1024 * 1024) throw new RangeError('kdf.memlimit out of range 8 KiB..1 GiB');
  return kdf;
}

/** The key file's text (JSON; the seed plain or sealed with the passphrase), for a caller that commits it together with other files. */
export async function personaKeyFileText(key: PersonaKeyPair, options: KeyProtectOptions = {}): Promise<string> {
  const seed = abytes(key.secretKey, 64, 'secretKey').slice(0, 32);
  let body: Record<string, unknown>;
  if (options.passphrase) {
    const s = await seal(seed, options.passphrase, checkKdf(options.kdf ?? DEFAULT_KDF));
    body = {
      format: FILE_FORMAT,
      version: 1,
      publicKey: bytesToHex(key.publicKey),
      encrypted: {
        kdf: 'argon2id13',
        opslimit: s.kdf.opslimit,
        memlimit: s.kdf.memlimit,
        salt: bytesToHex(s.salt),
        nonce: bytesToHex(s.nonce),
        box: bytesToHex(s.box),
      },
    };
  } else {
    body = { format: FILE_FORMAT, version: 1, publicKey: bytesToHex(key.publicKey), seed: bytesToHex(seed) };
  }
  sodium.memzero(seed);
  return JSON.stringify(body, null, 2) + '\n';
}

/** Writes the key file atomically with mode 0600; refuses to replace an existing file unless `overwrite` is set. */
export async function savePersonaKey(path: string, key: PersonaKeyPair, options: KeyProtectOptions & { overwrite?: boolean } = {}): Promise<void> {
  if (!options.overwrite) {
    const exists = await readFile(path).then(() => true, () => false);
    if (exists) throw new PersonaKeyError('KEY_FILE_EXISTS', `${path} already exists; refusing to replace a persona key`);
  }
  await writeFileAtomic(path, await personaKeyFileText(key, options), { mode: 0o600 });
}

/** Reads a key file; typed errors for a missing file, a corrupt file, a missing passphrase and a wrong one. */
export async function loadPersonaKey(path: string, options: { passphrase?: string } = {}): Promise<PersonaKeyPair> {
  let text: string;
  try {
    // Like ssh with its private keys: a key file others can read may already be copied, so refuse to use it.
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new PersonaKeyError('KEY_FILE_PERMISSIONS', `${path} is readable by others (mode ${mode.toString(8)}); run chmod 600 ${path}`);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new PersonaKeyError('KEY_FILE_NOT_FOUND', `no persona key at ${path}`);
    throw error;
  }
  const corrupt = (why: string): PersonaKeyError => new PersonaKeyError('KEY_FILE_CORRUPT', `${path}: ${why}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof body !== 'object' || body === null || body.format !== FILE_FORMAT || body.version !== 1) throw corrupt('not a version-1 tox-persona key file');
  let publicKey: Uint8Array;
  let seed: Uint8Array;
  try {
    publicKey = hexToBytes(body.publicKey, 32, 'publicKey');
    if (body.encrypted !== undefined) {
      const e = body.encrypted as Record<string, unknown>;
      if (typeof e !== 'object' || e === null || e.kdf !== 'argon2id13') throw new TypeError('unknown kdf');
      const sealed: SealedSeed = {
        kdf: checkKdf({ opslimit: Number(e.opslimit), memlimit: Number(e.memlimit) }),
        salt: hexToBytes(e.salt, SALT_BYTES, 'salt'),
        nonce: hexToBytes(e.nonce, NONCE_BYTES, 'nonce'),
        box: hexToBytes(e.box, 32 + MAC_BYTES, 'box'),
      };
      if (!options.passphrase) throw new PersonaKeyError('PASSPHRASE_REQUIRED', `${path} is encrypted; a passphrase is needed`);
      seed = await unseal(sealed, options.passphrase);
    } else {
      seed = hexToBytes(body.seed, 32, 'seed');
    }
  } catch (error) {
    if (error instanceof PersonaKeyError) throw error;
    // The cause names only the field that failed (hex helpers never echo their input), so no secret reaches the message.
    throw corrupt(`bad field (${error instanceof Error ? error.message : 'unknown'})`);
  }
  const kp = personaKeyFromSeed(seed);
  sodium.memzero(seed);
  if (!bytesEqual(kp.publicKey, publicKey)) throw corrupt('the stored public key does not match the secret key');
  return kp;
}

/**
 * Exports the key as one line of text for another device: `toxpersona-key-1.` + base64url of
 * (0x00 || seed) or (0x01 || opslimit u32 || memlimit u32 || salt 16 || nonce 24 || box 48), followed by a 4-byte checksum.
 */
export async function exportPersonaKey(key: PersonaKeyPair, passphrase?: string, kdf: KdfParams = DEFAULT_KDF): Promise<string> {
  const seed = abytes(key.secretKey, 64, 'secretKey').slice(0, 32);
  let body: Uint8Array;
  if (passphrase) {
    const s = await seal(seed, passphrase, checkKdf(kdf));
    body = new Uint8Array(1 + 8 + SALT_BYTES + NONCE_BYTES + s.box.length);
    const view = new DataView(body.buffer);
    body[0] = 1;
    view.setUint32(1, s.kdf.opslimit);
    view.setUint32(5, s.kdf.memlimit);
    body.set(s.salt, 9);
    body.set(s.nonce, 9 + SALT_BYTES);
    body.set(s.box, 9 + SALT_BYTES + NONCE_BYTES);
  } else {
    body = new Uint8Array(33);
    body[0] = 0;
    body.set(seed, 1);
  }
  sodium.memzero(seed);
  const sum = sodium.crypto_generichash(4, body, null);
  const all = new Uint8Array(body.length + 4);
  all.set(body, 0);
  all.set(sum, body.length);
  return KEY_EXPORT_PREFIX + base64urlEncode(all);
}

/** Imports a key exported by {@link exportPersonaKey}; surrounding whitespace is ignored, a typo gives KEY_TEXT_CORRUPT. */
export async function importPersonaKey(text: string, passphrase?: string): Promise<PersonaKeyPair> {
  const t = typeof text === 'string' ? text.replace(/\s+/g, '') : '';
  if (!t.startsWith(KEY_EXPORT_PREFIX)) throw new PersonaKeyError('KEY_TEXT_CORRUPT', `an exported persona key starts with ${KEY_EXPORT_PREFIX}`);
  const all = base64urlDecodeStrict(t, KEY_EXPORT_PREFIX.length);
  if (!all || all.length < 5) throw new PersonaKeyError('KEY_TEXT_CORRUPT', 'the exported key is not valid base64url');
  const body = all.subarray(0, all.length - 4);
  if (!bytesEqual(sodium.crypto_generichash(4, body, null), all.subarray(all.length - 4))) {
    throw new PersonaKeyError('KEY_TEXT_CORRUPT', 'checksum mismatch: the exported key was not copied completely');
  }
  let seed: Uint8Array;
  if (body[0] === 0 && body.length === 33) {
    seed = body.slice(1);
  } else if (body[0] === 1 && body.length === 1 + 8 + SALT_BYTES + NONCE_BYTES + 32 + MAC_BYTES) {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let kdf: KdfParams;
    try {
      kdf = checkKdf({ opslimit: view.getUint32(1), memlimit: view.getUint32(5) });
    } catch {
      throw new PersonaKeyError('KEY_TEXT_CORRUPT', 'the exported key has out-of-range KDF costs');
    }
    if (!passphrase) throw new PersonaKeyError('PASSPHRASE_REQUIRED', 'this exported key is encrypted; a passphrase is needed');
    seed = await unseal(
      {
        kdf,
        salt: body.slice(9, 9 + SALT_BYTES),
        nonce: body.slice(9 + SALT_BYTES, 9 + SALT_BYTES + NONCE_BYTES),
        box: body.slice(9 + SALT_BYTES + NONCE_BYTES),
      },
      passphrase,
    );
  } else {
    throw new PersonaKeyError('KEY_TEXT_CORRUPT', 'unknown exported key layout');
  }
  const kp = personaKeyFromSeed(seed);
  sodium.memzero(seed);
  return kp;
}

// This device's keys in its data directory: the root (persona.key, optional), the certified signer (signer.key +
// signer.cert) and a pending signer request; loading them, and the file contents a commit writes when they change.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { dataPath, DataDirError, FILES } from './datadir.js';
import * as P from './persona-port.js';
import { ToxPersonaError } from '../util/errors.js';
import { bytesEqual, bytesToHex, hexToBytes } from '../util/bytes.js';
import { certifySigner, verifyCert, MAX_EPOCH, type SignerCert } from '../persona/list.js';
import { generatePersonaKey, loadPersonaKey, personaKeyFileText, type PersonaKeyPair } from '../persona/keys.js';
import { decodeRecoveryKey, isRecoveryKeyText } from '../persona/recovery.js';
import { importPersonaKey } from '../persona/keys.js';
import type { CommitFile } from '../util/fs.js';

/** A refused key operation. Codes: `NO_ROOT`, `NO_SIGNER`, `WRONG_ROOT`, `SIGNER_PENDING`, `NOT_FOR_THIS_DEVICE`, `RECOVERY_KEY_REQUIRED`, `EPOCH_EXHAUSTED`. */
export class KeyOpError extends ToxPersonaError {}

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9A-F]{${n}}$`));
const CertFileSchema = z.object({
  format: z.literal('tox-persona-signer-cert'),
  version: z.literal(1),
  personaId: Hex(64),
  epoch: z.number().int().min(0).max(MAX_EPOCH),
  signerKey: Hex(64),
  signature: Hex(128),
});

/** signer.cert's text: the root's certificate of this device's signer for `epoch` (public data; written 0600 like every file). */
export function signerCertText(personaId: Uint8Array, epoch: number, cert: SignerCert): string {
  return `${JSON.stringify({ format: 'tox-persona-signer-cert', version: 1, personaId: bytesToHex(personaId), epoch, signerKey: bytesToHex(cert.signerKey), signature: bytesToHex(cert.signature) }, null, 2)}\n`;
}

/** Reads signer.cert; `BAD_FILE` when it is damaged or its signature is not the root's. */
function loadSignerCert(path: string): { personaId: Uint8Array; epoch: number; cert: SignerCert } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new DataDirError('BAD_FILE', `${path}: not JSON`);
  }
  const r = CertFileSchema.safeParse(raw);
  if (!r.success) throw new DataDirError('BAD_FILE', `${path}: not a signer certificate (${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'})`);
  const personaId = hexToBytes(r.data.personaId, 32, 'personaId');
  const cert = { signerKey: hexToBytes(r.data.signerKey, 32, 'signerKey'), signature: hexToBytes(r.data.signature, 64, 'signature') };
  if (!verifyCert(personaId, r.data.epoch, cert)) throw new DataDirError('BAD_FILE', `${path}: the certificate does not verify under its PersonaID`);
  return { personaId, epoch: r.data.epoch, cert };
}

/** The keys of a data directory, and a signer key that waits for its certificate (`pending`). */
export interface LoadedKeys {
  keys: P.OwnKeys;
  /** A signer key made by `persona request` that has no certificate yet. */
  pending: PersonaKeyPair | null;
}

/**
 * Loads the root (persona.key, when present) and the signer (signer.key with signer.cert). Typed errors: the key
 * files' own (`KEY_FILE_*`, `PASSPHRASE_REQUIRED`, `WRONG_PASSPHRASE`), `BAD_FILE` for a certificate that does not
 * belong to the key or the root, `NOT_INITIALIZED` when there is neither root nor certified signer.
 */
export async function loadOwnKeys(dir: string, passphrase = process.env.TOX_PERSONA_KEY_PASSPHRASE): Promise<LoadedKeys> {
  await P.ready();
  const opts = passphrase ? { passphrase } : {};
  const root = existsSync(dataPath(dir, 'personaKey')) ? await loadPersonaKey(dataPath(dir, 'personaKey'), opts) : null;
  const signerPair = existsSync(dataPath(dir, 'signerKey')) ? await loadPersonaKey(dataPath(dir, 'signerKey'), opts) : null;
  const certPath = dataPath(dir, 'signerCert');
  const c = existsSync(certPath) ? loadSignerCert(certPath) : null;
  if (c && !signerPair) throw new DataDirError('BAD_FILE', `${certPath} exists but ${FILES.signerKey} is missing`);
  if (c && signerPair && !bytesEqual(c.cert.signerKey, signerPair.publicKey)) throw new DataDirError('BAD_FILE', `${certPath} certifies another key than ${FILES.signerKey}`);
  if (c && root && !bytesEqual(c.personaId, root.publicKey)) throw new DataDirError('BAD_FILE', `${certPath} was made by another root than ${FILES.personaKey}`);
  const personaId = root?.publicKey ?? c?.personaId;
  if (!personaId) throw new DataDirError('NOT_INITIALIZED', `${dir} has neither a persona root key nor a certified signer${signerPair ? ' (a signer request waits for its certificate: persona join)' : ''}`);
  const signer: P.OwnSigner | null = c && signerPair ? { key: signerPair, cert: c.cert, epoch: c.epoch } : null;
  return { keys: { personaId, root, signer }, pending: signerPair && !c ? signerPair : null };
}

/** A new signer key for this device, certified by `root` for `epoch`, and the two files that hold it. */
export async function certifyNewSigner(root: PersonaKeyPair, epoch: number, passphrase = process.env.TOX_PERSONA_KEY_PASSPHRASE): Promise<{ signer: P.OwnSigner; files: CommitFile[] }> {
  if (epoch > MAX_EPOCH) throw new KeyOpError('EPOCH_EXHAUSTED', `the persona used all ${MAX_EPOCH} epochs`);
  const key = await generatePersonaKey();
  const cert = certifySigner(root, epoch, key.publicKey);
  return {
    signer: { key, cert, epoch },
    files: [
      { name: FILES.signerKey, data: await personaKeyFileText(key, passphrase ? { passphrase } : {}) },
      { name: FILES.signerCert, data: signerCertText(root.publicKey, epoch, cert) },
    ],
  };
}

/** persona.key's text for the root. */
export async function rootKeyFile(root: PersonaKeyPair, passphrase = process.env.TOX_PERSONA_KEY_PASSPHRASE): Promise<CommitFile> {
  return { name: FILES.personaKey, data: await personaKeyFileText(root, passphrase ? { passphrase } : {}) };
}

/**
 * The root for one operation: the one in this data directory, else the recovery key (or an export string) given as
 * `recovery`, which must be this persona's (`WRONG_ROOT`). Neither: `RECOVERY_KEY_REQUIRED`.
 */
export async function rootFor(keys: P.OwnKeys, recovery: string | undefined, passphrase?: string): Promise<PersonaKeyPair> {
  if (recovery !== undefined && recovery.trim() !== '') {
    const t = recovery.trim();
    const root = isRecoveryKeyText(t) ? decodeRecoveryKey(t) : await importPersonaKey(t, passphrase);
    if (!bytesEqual(root.publicKey, keys.personaId)) throw new KeyOpError('WRONG_ROOT', `that recovery key belongs to persona ${bytesToHex(root.publicKey).slice(0, 8)}…, not to this one (${bytesToHex(keys.personaId).slice(0, 8)}…)`);
    return root;
  }
  if (keys.root) return keys.root;
  throw new KeyOpError('RECOVERY_KEY_REQUIRED', 'the root key is not on this device: give the recovery key (--recovery-key -, then type or paste it)');
}

// The root/signer operations of a running (or offline-opened) companion: certify another device's signer, rotate to a
// new epoch after a loss, renew this device's signer, remove and restore the root. Each commits its key files together
// with the list it signs, before anything is published (docs/KEYS.md).
import { unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { Companion } from './companion.js';
import { CompanionError } from './reducer.js';
import * as P from './persona-port.js';
import { certifyNewSigner, rootFor, rootKeyFile, KeyOpError } from './signer.js';
import { dataPath } from './datadir.js';
import { fsyncDir } from '../util/fs.js';
import { bytesEqual, bytesToHex } from '../util/bytes.js';
import { certifySigner, signedRecord, MAX_EPOCH } from '../persona/list.js';
import { signOwnChange } from '../persona/own.js';
import { decodeRecoveryKey, decodeSignerRequest, encodeRecoveryKey, encodeSignerGrant, isRecoveryKeyText } from '../persona/recovery.js';

/** What `persona keys` and `status` show about this device's keys. */
export interface KeysView {
  personaId: string;
  /** The root key is on this device. */
  root: boolean;
  /** This device's signer: its key and epoch; null when the root signs for itself. */
  signer: { publicKey: string; epoch: number } | null;
  /** The epoch of our newest list. */
  epoch: number;
  /** Our signer's epoch is below the persona's: another device rotated; this device signs only with the root (if here) until a signer is certified again. */
  signerRevoked: boolean;
}

/** The keys view of a companion. */
export function keysView(c: Companion): KeysView {
  const k = c.keys;
  const epoch = c.ownList.list.epoch ?? 0;
  return {
    personaId: bytesToHex(k.personaId),
    root: k.root !== null,
    signer: k.signer ? { publicKey: bytesToHex(k.signer.key.publicKey), epoch: k.signer.epoch } : null,
    epoch,
    signerRevoked: k.signer !== null && k.signer.epoch < epoch,
  };
}

/** The persona's current epoch as this device knows it. */
function currentEpoch(c: Companion): number {
  return Math.max(c.ownList.list.epoch ?? 0, c.keys.signer?.epoch ?? 0);
}

/**
 * The root certifies another device's signer (from its `persona request` text) for the current epoch and adds that
 * device to our list (re-signed, saved, published). Returns the certificate text the device installs with `persona
 * join`. Needs the root here or as `recovery`.
 */
export async function certifyRequest(c: Companion, requestText: string, recovery?: string): Promise<{ certificate: string; devices: P.DeviceView[]; epoch: number; device: string }> {
  const req = decodeSignerRequest(requestText);
  const root = await rootFor(c.keys, recovery);
  const device = bytesToHex(req.device);
  if (bytesEqual(req.signerKey, c.keys.personaId)) throw new KeyOpError('BAD_ARGUMENT', 'the request names the PersonaID as signer');
  const epoch = currentEpoch(c);
  const cert = certifySigner(root, epoch, req.signerKey);
  const devices = P.devicesOf(c.ownList.list);
  // The device may be listed already (enrolled, or added by hand): then only its certificate is new.
  if (!devices.some((d) => d.publicKey === device)) c.deviceAdd(device, req.name);
  await c.flush();
  const list = c.ownList;
  return { certificate: encodeSignerGrant({ epoch, cert, list }, signedRecord(list)), devices: P.devicesOf(list.list), epoch, device };
}

/**
 * After a loss: the root moves the persona to the next epoch, certifies a new signer for this device, drops the
 * `drop` devices (key, prefix or name) and publishes the new list. Every signer of an older epoch is revoked for every
 * friend that sees it; devices that stay must be certified again (`persona certify` / `persona signer renew`).
 */
export async function rotate(c: Companion, options: { recovery?: string; drop?: readonly string[] }): Promise<{ epoch: number; devices: P.DeviceView[]; dropped: string[]; signer: string }> {
  const root = await rootFor(c.keys, options.recovery);
  const epoch = currentEpoch(c) + 1;
  if (epoch > MAX_EPOCH) throw new KeyOpError('EPOCH_EXHAUSTED', `the persona used all ${MAX_EPOCH} epochs`);
  const devices = P.devicesOf(c.ownList.list);
  const dropped = new Set<string>();
  for (const ref of options.drop ?? []) dropped.add(resolveDevice(devices, ref));
  if (dropped.has(c.node.publicKey)) throw new CompanionError('OWN_DEVICE', 'the device that rotates cannot drop itself');
  const keep = devices.filter((d) => !dropped.has(d.publicKey));
  const { signer, files } = await certifyNewSigner(root, epoch);
  const keys: P.OwnKeys = { personaId: c.keys.personaId, root: c.keys.root, signer };
  const next = signOwnChange(c.ownList, keep.map((d) => ({ publicKey: Buffer.from(d.publicKey, 'hex'), name: d.name })), signer, keys.personaId, c.clock(), c.config.ttlSeconds);
  c.installKeys(keys, files);
  c.adoptSigned(next, `rotated to epoch ${epoch}`);
  await c.flush();
  return { epoch, devices: P.devicesOf(next.list), dropped: [...dropped], signer: bytesToHex(signer.key.publicKey) };
}

/**
 * A new signer for this device at the current epoch, certified by the root (here or `recovery`), and our list
 * refreshed under it: after a rotation on another device revoked ours, or to stop signing with the root.
 */
export async function renewSigner(c: Companion, recovery?: string): Promise<{ epoch: number; signer: string }> {
  const root = await rootFor(c.keys, recovery);
  const epoch = currentEpoch(c);
  const { signer, files } = await certifyNewSigner(root, epoch);
  c.installKeys({ personaId: c.keys.personaId, root: c.keys.root, signer }, files);
  c.adoptSigned(P.signRefresh(c.ownList.list, { personaId: c.keys.personaId, root: null, signer }, c.clock(), c.config.ttlSeconds), `new signer at epoch ${epoch}`);
  await c.flush();
  return { epoch, signer: bytesToHex(signer.key.publicKey) };
}

/**
 * Removes the root from this device. Refused (`RECOVERY_KEY_REQUIRED`) unless `recovery` is the root's recovery key
 * (proof that a correct copy exists off this device) or `force`. Without a signer, one is certified for this device
 * first and committed before the root file goes.
 */
export async function removeRoot(c: Companion, options: { recovery?: string; force?: boolean }): Promise<{ removed: boolean; signer: string; epoch: number }> {
  const root = c.keys.root;
  if (!root) throw new KeyOpError('NO_ROOT', 'the root key is not on this device (already removed)');
  if (!options.force) {
    if (!options.recovery) throw new KeyOpError('RECOVERY_KEY_REQUIRED', 'type the recovery key back (--recovery-key -) to show that you have a correct copy, or use --force');
    const given = isRecoveryKeyText(options.recovery) ? decodeRecoveryKey(options.recovery) : undefined;
    if (!given) throw new KeyOpError('RECOVERY_KEY_REQUIRED', 'that is not a recovery key (TPR1-...); show it with "persona recovery-key"');
    if (!bytesEqual(given.publicKey, root.publicKey)) throw new KeyOpError('WRONG_ROOT', 'that recovery key belongs to another persona; the root stays');
  }
  if (!c.keys.signer || c.keys.signer.epoch < currentEpoch(c)) await renewSigner(c);
  await c.flush();
  // The signer is durable; only now does the root leave. A crash in between leaves both, which is safe.
  const path = dataPath(c.config.dir, 'personaKey');
  if (existsSync(path)) await unlink(path);
  await fsyncDir(c.config.dir);
  c.installKeys({ personaId: c.keys.personaId, root: null, signer: c.keys.signer }, []);
  return { removed: true, signer: bytesToHex(c.keys.signer!.key.publicKey), epoch: c.keys.signer!.epoch };
}

/** Puts the root back on this device from its recovery key (or an export string): persona.key, committed. */
export async function restoreRoot(c: Companion, recovery: string): Promise<{ personaId: string }> {
  const root = await rootFor({ ...c.keys, root: null }, recovery);
  c.installKeys({ personaId: c.keys.personaId, root, signer: c.keys.signer }, [await rootKeyFile(root)]);
  await c.flush();
  return { personaId: bytesToHex(root.publicKey) };
}

/** The recovery key of a root keypair (printable, with checksum). */
export function recoveryKeyOf(root: { publicKey: Uint8Array; secretKey: Uint8Array }): string {
  return encodeRecoveryKey(root);
}

function resolveDevice(devices: readonly P.DeviceView[], ref: string): string {
  const up = ref.trim().toUpperCase();
  const hits = devices.filter((d) => d.publicKey === up || (up.length >= 8 && d.publicKey.startsWith(up)) || d.name === ref);
  if (hits.length !== 1) throw new CompanionError(hits.length === 0 ? 'UNKNOWN_DEVICE' : 'AMBIGUOUS', hits.length === 0 ? `no device "${ref}" in the list` : `"${ref}" matches ${hits.length} devices`);
  return hits[0]!.publicKey;
}

// The signer side of the protocol, pure: build our next list from the newest one we know (chained), refresh it at the same seq, and judge lists of our own persona that other devices publish.
import { InvalidDeviceList } from './errors.js';
import {
  DEVICE_LIST_VERSION,
  GENESIS,
  chainRef,
  MAX_SEQ_LEAD_MS,
  nextDeviceList,
  policyFailure,
  sameVersion,
  signDeviceList,
  verifySignedList,
  type Device,
  type SignedDeviceList,
  type SignerCert,
  type SigningKeyPair,
} from './list.js';
import { bytesEqual, bytesToHex } from '../util/bytes.js';
import { ToxPersonaError } from '../util/errors.js';

/** Who signs this device's lists: a certified signer (`cert` set, epoch = the certificate's) or the root itself (`cert` null). */
export interface OwnSigner {
  /** The signing keypair: the signer's, or the root's when `cert` is null. */
  readonly key: SigningKeyPair;
  /** The root's certificate of `key`, or null when `key` is the root. */
  readonly cert: SignerCert | null;
  /** The epoch `cert` was made for (for the root: the lowest epoch it signs under). */
  readonly epoch: number;
}

/** Our signer can't sign: its epoch was revoked by a newer one (`SIGNER_REVOKED`), or the newest list is ahead of our clock (`SEQ_AHEAD_OF_CLOCK`). */
export class OwnSignerError extends ToxPersonaError {}

/** The newest list we know, as far as signing needs it (a SignedDeviceList will do). */
export type NewestList = Pick<SignedDeviceList, 'list'>;

function signingEpoch(newest: NewestList | undefined, signer: OwnSigner): number {
  const newestEpoch = newest?.list.epoch ?? 0;
  if (signer.cert === null) return Math.max(newestEpoch, signer.epoch);
  if (signer.epoch < newestEpoch) {
    throw new OwnSignerError('SIGNER_REVOKED', `this device's signer is certified for epoch ${signer.epoch}, revoked by epoch ${newestEpoch}; certify it again from the machine with the recovery key`);
  }
  return signer.epoch;
}

/**
 * A new version: `devices` signed from `newest` (the newest list of our persona we know), chained to it, with
 * seq = max(newest.seq + 1, now in ms). A signer never builds from anything but the newest list it knows.
 */
export function signOwnChange(newest: NewestList | undefined, devices: readonly Device[], signer: OwnSigner, personaId: Uint8Array, now: number, ttl: number): SignedDeviceList {
  const epoch = signingEpoch(newest, signer);
  let list;
  try {
    list = nextDeviceList(newest?.list, devices, { now, ttl, personaId, epoch, version: DEVICE_LIST_VERSION });
  } catch (error) {
    if (error instanceof InvalidDeviceList && error.message.startsWith('SEQ_AHEAD_OF_CLOCK')) throw new OwnSignerError('SEQ_AHEAD_OF_CLOCK', error.message);
    throw error;
  }
  return signDeviceList(list, signer.key, signer.cert);
}

/**
 * A refresh: the same version as `newest` (same seq, chain reference and devices) re-signed with a new issuedAt and
 * ttl, under our epoch. Never a new version, so a stale device's refresh can never outrank a newer list.
 */
export function signOwnRefresh(newest: NewestList, signer: OwnSigner, now: number, ttl: number): SignedDeviceList {
  const epoch = signingEpoch(newest, signer);
  const issuedAt = Math.floor(now);
  if (newest.list.seq > issuedAt * 1000 + MAX_SEQ_LEAD_MS) {
    throw new OwnSignerError('SEQ_AHEAD_OF_CLOCK', `our list has seq ${newest.list.seq}, more than ${MAX_SEQ_LEAD_MS / 1000}s ahead of this clock; check the clock`);
  }
  const l = newest.list;
  return signDeviceList(
    { version: DEVICE_LIST_VERSION, personaId: l.personaId, epoch, seq: l.seq, issuedAt, ttl, prev: l.prev ?? GENESIS, devices: l.devices },
    signer.key,
    signer.cert,
  );
}

/** What to do with a list of our own persona that another device published. */
export type OwnListJudgement =
  /** Not newer than ours, or not for us: keep ours, nothing to say. */
  | { adopt: false; alarm?: undefined }
  /** Newer and built from ours (or a later list): take it as our newest list. */
  | { adopt: true; alarm?: { code: 'SIGNER_REVOKED'; detail: string } }
  /** Something is wrong: keep ours and tell the user. */
  | { adopt: false; alarm: { code: 'SELF_DROPPED' | 'FORK' | 'REVOKED_SIGNER'; detail: string } };

/**
 * Judges `incoming`, a verified list of our persona that device `from` published, against `current`, our newest list.
 * Adopted only when it is newer (a higher epoch, or the same epoch with a higher seq built from our list or a later
 * one), names `from` (consent), names this device (a list that drops us is never adopted silently), passes the
 * receiver rules, and is not dated in the future. `signerEpoch` is our signer's epoch: a higher epoch revokes us.
 */
export function judgeOwnList(
  current: SignedDeviceList,
  incoming: SignedDeviceList,
  options: { thisDevice: Uint8Array; from: Uint8Array; now: number; maxClockSkew: number; signerEpoch: number | null },
): OwnListJudgement {
  const l = incoming.list;
  const c = current.list;
  if (!bytesEqual(l.personaId, c.personaId) || !verifySignedList(incoming) || policyFailure(l)) return { adopt: false };
  if (l.issuedAt > options.now + options.maxClockSkew) return { adopt: false };
  if (!l.devices.some((d) => bytesEqual(d.publicKey, options.from))) return { adopt: false };
  const epoch = l.epoch ?? 0;
  const ourEpoch = c.epoch ?? 0;
  if (epoch < ourEpoch) {
    return { adopt: false, alarm: { code: 'REVOKED_SIGNER', detail: `device ${bytesToHex(options.from)} publishes a list of our persona under revoked epoch ${epoch}` } };
  }
  if (epoch === ourEpoch) {
    if (l.seq < c.seq || sameVersion(l, c)) return { adopt: false };
    if (l.seq === c.seq) return { adopt: false, alarm: { code: 'FORK', detail: `device ${bytesToHex(options.from)} publishes another list of our persona with our seq ${c.seq}` } };
    const prev = l.prev;
    const fromOurs = prev !== undefined && (prev.seq > c.seq || (prev.seq === c.seq && bytesEqual(prev.hash, chainRef(c).hash)));
    if (c.version === 1 && prev === undefined) {
      // Two version-1 lists: no chain to check (the old rules).
    } else if (!fromOurs) {
      return { adopt: false, alarm: { code: 'FORK', detail: `device ${bytesToHex(options.from)} publishes seq ${l.seq} of our persona built from seq ${prev?.seq ?? 'none'}, not from our seq ${c.seq}` } };
    }
  }
  if (!l.devices.some((d) => bytesEqual(d.publicKey, options.thisDevice))) {
    return { adopt: false, alarm: { code: 'SELF_DROPPED', detail: `device ${bytesToHex(options.from)} publishes seq ${l.seq} of our persona without this device; not adopted (if that is on purpose, stop this companion; if not, rotate with the recovery key)` } };
  }
  if (options.signerEpoch !== null && epoch > options.signerEpoch) {
    return { adopt: true, alarm: { code: 'SIGNER_REVOKED', detail: `our persona moved to epoch ${epoch}; this device's signer (epoch ${options.signerEpoch}) is revoked and can't re-sign until the root certifies it again` } };
  }
  return { adopt: true };
}

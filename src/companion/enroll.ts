// `device enroll` across a crash: the new device's profile is written outside the data directory, so it cannot be in the
// same commit as the list that names it. A write-ahead intent closes the gap (as a WAL does): the intent is committed
// first (with the request's planned outcome), then the profile file is created, then the list and the final outcome are
// committed together. At every start, an intent left by a crash is resolved before any request is served: profile file
// complete (its SHA-256 matches) → the enrollment is finished (the intended list adopted, the sibling befriended, the
// outcome kept for a retry); otherwise → it is dropped (nothing was applied, a retry runs it anew).
import { createHash } from 'node:crypto';
import { unlink, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeNewFile } from '../profile/rekey.js';
import * as P from './persona-port.js';
import { verifySignedList } from '../persona/index.js';

/** What a crash between committing an enroll intent and committing its list needs to finish or drop the enrollment. */
export interface EnrollIntent {
  /** Absolute path of the new device's profile. */
  out: string;
  /** Temp file the profile is written to before it is linked to `out` (removed when the intent is resolved). */
  tmp: string;
  /** SHA-256 (hex) of the complete profile: `out` with other content is not ours. */
  sha256: string;
  /** The signed list naming the new device (exactly the one in the new profile's status message), as devices.json holds it. */
  list: unknown;
  /** Our list the intended one extends (devices.json form): the enrollment is finished only on top of exactly this one. */
  base: unknown;
  /** The new device's public key, 64 uppercase hex. */
  publicKey: string;
}

/** SHA-256 of bytes, hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The temp path the profile of request `id` is written to, next to `out` (hidden, named after the request). */
export function enrollTempPath(out: string, id: string): string {
  return join(dirname(out), `.${basename(out)}.${id}.enroll.tmp`);
}

/**
 * Creates `out` with `data`, complete or not at all: an exclusive 0600 temp file (fsync'd) is linked to `out` and
 * removed, then the directory is fsync'd. `OUTPUT_EXISTS` when `out` exists; `WRITE_FAILED` for any other error.
 */
export async function createProfileFile(out: string, tmp: string, data: Uint8Array): Promise<void> {
  await writeNewFile(out, data, tmp);
}

/** How a crashed enrollment was resolved at start. */
export type IntentResolution =
  /** The profile file is complete: adopt `signed` and befriend `publicKey`, keep the outcome. */
  | { finish: true; signed: P.SignedDeviceList; publicKey: string }
  /** Nothing of it counts: drop the outcome (a retry enrolls anew). `why` is for the log. */
  | { finish: false; why: string };

/** True when `own` is still exactly the list an intent extends (nothing changed our list since the intent). */
export function isIntentBase(intent: EnrollIntent, own: P.SignedDeviceList): boolean {
  return JSON.stringify(P.ownListToJson(own)) === JSON.stringify(intent.base);
}

/**
 * Decides what to do with an intent a crash left behind, given our current list; removes its temp file (it may hold the
 * new device's secret key). Finishing needs `out` with exactly the intended bytes and our list still the intended
 * list's predecessor; the intended list is adopted as it is (the profile's status message carries it), never re-signed.
 */
export async function resolveEnrollIntent(intent: EnrollIntent, own: P.SignedDeviceList): Promise<IntentResolution> {
  await unlink(intent.tmp).catch(() => undefined);
  let bytes: Buffer;
  try {
    bytes = await readFile(intent.out);
  } catch {
    return { finish: false, why: 'the new profile was never written' };
  }
  if (sha256Hex(bytes) !== intent.sha256) return { finish: false, why: 'the file at the output path is not the profile this enrollment wrote' };
  let signed: P.SignedDeviceList;
  try {
    signed = P.ownListFromJson(intent.list, 'enroll intent');
  } catch {
    return { finish: false, why: 'the intended list is damaged' };
  }
  if (P.listPersonaIdHex(signed.list) !== P.listPersonaIdHex(own.list) || !verifySignedList(signed)) return { finish: false, why: 'the intended list is not a valid list of our persona' };
  // A save between adopting the list and recording the final outcome may have made the list durable already.
  if (JSON.stringify(P.ownListToJson(own)) === JSON.stringify(P.ownListToJson(signed))) return { finish: true, signed, publicKey: intent.publicKey };
  if (!isIntentBase(intent, own)) return { finish: false, why: `our list (seq ${own.list.seq}) is not the one the enrollment extended` };
  return { finish: true, signed, publicKey: intent.publicKey };
}

// The companion's helpers over the persona layer that do more than rename (own-list signing with hex device keys, key
// files, own-list judging, devices.json, table views). Plain persona functions are imported from src/persona directly.
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { ToxPersonaError } from '../util/errors.js';
import { signedRecord, parseSignedRecord, type DeviceList, type SignedDeviceList } from '../persona/list.js';
import { signOwnChange, signOwnRefresh, judgeOwnList, type OwnSigner, type OwnListJudgement } from '../persona/own.js';
import { decodeStatusMessage, statusMessageBudget } from '../persona/codec.js';
import { generatePersonaKey, savePersonaKey, loadPersonaKey as loadKeyFile, exportPersonaKey, importPersonaKey, type PersonaKeyPair } from '../persona/keys.js';
import { personaReady } from '../persona/sodium.js';
import { useNativeCrypto } from '../crypto/native-sodium.js';
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS, type PersonaTable, type PendingUpdate } from '../persona/table.js';

export type { DeviceList, SignedDeviceList, OwnSigner };

/** A device as the companion shows it: hex key and name. */
export interface DeviceView {
  publicKey: string;
  name: string;
}

/** Converts a signed list's devices to hex views (first = active). */
export function devicesOf(list: DeviceList): DeviceView[] {
  return list.devices.map((d) => ({ publicKey: bytesToHex(d.publicKey), name: d.name }));
}

/**
 * The keys this device signs with: the PersonaID, the root keypair when the device holds it, and the certified signer
 * when it has one. The signer signs whenever there is one; without one the root signs for itself (a data directory
 * from before signers, which keeps working unchanged: PROTOCOL.md section 10).
 */
export interface OwnKeys {
  /** The PersonaID (the root's public key). */
  readonly personaId: Uint8Array;
  /** The root keypair, or null when the root was removed from this device (it lives in the recovery key). */
  readonly root: PersonaKeyPair | null;
  /** This device's certified signer, or null. */
  readonly signer: OwnSigner | null;
}

/** What signs: a bare root keypair (tests, older callers), a loaded persona key, or this device's keys. */
export type SigningKeys = { publicKey: Uint8Array; secretKey: Uint8Array } | PersonaKey | OwnKeys;

/** The keys as OwnKeys (a bare keypair or a PersonaKey is a root without a signer). */
export function ownKeysOf(k: SigningKeys): OwnKeys {
  if ('personaId' in k) return k;
  const pair = 'pair' in k ? k.pair : k;
  return { personaId: pair.publicKey, root: pair, signer: null };
}

/**
 * Who signs our lists: the certified signer, else the root for itself; `NO_SIGNER` when this device has neither. A
 * signer revoked by a newer epoch (`newestEpoch`) gives way to the root when the root is here.
 */
export function ownSigner(k: SigningKeys, newestEpoch = 0): OwnSigner {
  const o = ownKeysOf(k);
  if (o.signer && (o.signer.epoch >= newestEpoch || !o.root)) return o.signer;
  if (o.root) return { key: o.root, cert: null, epoch: 0 };
  throw new ToxPersonaError('NO_SIGNER', 'this device holds neither a signer nor the root key, so it cannot sign; install a signer (persona join) or restore the root (persona recover)');
}

/** Signs a new version with the given devices, chained to `prev` (the newest list of our persona we know), or a first list. */
export function signNext(prev: DeviceList | undefined, devices: readonly DeviceView[], key: SigningKeys, now: number, ttl: number): SignedDeviceList {
  const keys = ownKeysOf(key);
  return signOwnChange(
    prev ? { list: prev } : undefined,
    devices.map((d) => ({ publicKey: hexToBytes(d.publicKey, 32, 'device public key'), name: d.name })),
    ownSigner(keys, prev?.epoch ?? 0),
    keys.personaId,
    now,
    ttl,
  );
}

/** Re-signs `current` as the same version (same seq, chain and devices) with a new issuedAt and ttl: a refresh, never a new version. */
export function signRefresh(current: DeviceList, key: SigningKeys, now: number, ttl: number): SignedDeviceList {
  return signOwnRefresh({ list: current }, ownSigner(key, current.epoch ?? 0), now, ttl);
}

/** Judges a status message of our own persona from device `from` (hex) against our list; see judgeOwnList. Not a list of ours → no adoption. */
export function judgeOwnStatus(
  current: SignedDeviceList,
  text: string | Uint8Array,
  o: { thisDevice: string; from: string; now: number; signerEpoch?: number | null },
): OwnListJudgement & { signed?: SignedDeviceList } {
  const r = decodeStatusMessage(typeof text === 'string' ? text : text);
  if (!r.ok) return { adopt: false };
  const j = judgeOwnList(current, r.signed, {
    thisDevice: hexToBytes(o.thisDevice, 32, 'thisDevice'),
    from: hexToBytes(o.from, 32, 'from'),
    now: o.now,
    maxClockSkew: DEFAULT_MAX_CLOCK_SKEW_SECONDS,
    signerEpoch: o.signerEpoch ?? null,
  });
  return { ...j, signed: r.signed };
}

/** Serialises our own signed list for devices.json. */
export function ownListToJson(signed: SignedDeviceList): { record: string } {
  return { record: Buffer.from(signedRecord(signed)).toString('base64') };
}

/** Reads our own signed list back from devices.json; throws `BAD_FILE` when it does not parse. */
export function ownListFromJson(value: unknown, where: string): SignedDeviceList {
  const rec = (value as { record?: unknown } | null)?.record;
  if (typeof rec !== 'string') throw new ToxPersonaError('BAD_FILE', `${where}: missing "record"`);
  const parsed = parseSignedRecord(Uint8Array.from(Buffer.from(rec, 'base64')));
  if (!parsed.ok) throw new ToxPersonaError('BAD_FILE', `${where}: own device list does not parse (${parsed.reason}: ${parsed.detail})`);
  return parsed.value;
}

/** The persona key as the companion holds it. */
export interface PersonaKey {
  pair: PersonaKeyPair;
}

/** Waits for libsodium and injects the native one when it loads (argon2id for encrypted keys comes only from it). */
export async function ready(): Promise<void> {
  useNativeCrypto();
  await personaReady();
}

/** The PersonaID of a key (or of this device's keys), 64 uppercase hex. */
export function personaIdHex(key: PersonaKey | OwnKeys): string {
  return bytesToHex('personaId' in key ? key.personaId : key.pair.publicKey);
}

/** The PersonaID a list belongs to, 64 uppercase hex. */
export function listPersonaIdHex(list: DeviceList): string {
  return bytesToHex(list.personaId);
}

/** Generates a new persona key. */
export async function newPersonaKey(): Promise<PersonaKey> {
  await ready();
  return { pair: await generatePersonaKey() };
}

/** Writes the key file (0600); refuses to replace one unless `overwrite`. */
export async function writePersonaKey(path: string, key: PersonaKey, options: { passphrase?: string; overwrite?: boolean } = {}): Promise<void> {
  await ready();
  await savePersonaKey(path, key.pair, options);
}

/** Reads the key file (`passphrase` when it is encrypted, from `$TOX_PERSONA_KEY_PASSPHRASE` by default). */
export async function loadPersonaKey(path: string, passphrase = process.env.TOX_PERSONA_KEY_PASSPHRASE): Promise<PersonaKey> {
  await ready();
  return { pair: await loadKeyFile(path, passphrase ? { passphrase } : {}) };
}

/** The copy-pasteable export string of a key (encrypted when a passphrase is given). */
export async function exportKey(key: PersonaKey, passphrase?: string): Promise<string> {
  await ready();
  return exportPersonaKey(key.pair, passphrase);
}

/** Parses an export string. */
export async function importKey(text: string, passphrase?: string): Promise<PersonaKey> {
  await ready();
  return { pair: await importPersonaKey(text.trim(), passphrase) };
}

/** Bytes left for human text next to this list (less the space that separates it from the marker). */
export function humanBudget(signed: SignedDeviceList): number {
  return Math.max(0, statusMessageBudget(signed).humanBytes - 1);
}

/** What `verify` reports about one status message. */
export type VerifyView =
  | { ok: true; personaId: string; human: string; seq: number; issuedAt: number; ttl: number; expiresAt: number; stale: boolean; devices: DeviceView[]; envelope: string }
  | { ok: false; reason: string; detail: string };

/**
 * Decodes and verifies a status message in isolation (signature, format, freshness of issuedAt vs `now`). A list
 * issued more than DEFAULT_MAX_CLOCK_SKEW_SECONDS after `now` is `FUTURE_DATED`, as the table refuses it.
 */
export function verifyStatus(text: string, now: number): VerifyView {
  const r = decodeStatusMessage(text);
  if (!r.ok) return { ok: false, reason: r.reason, detail: r.detail };
  const l = r.signed.list;
  if (l.issuedAt > now + DEFAULT_MAX_CLOCK_SKEW_SECONDS) {
    return { ok: false, reason: 'FUTURE_DATED', detail: `issuedAt ${l.issuedAt} is more than ${DEFAULT_MAX_CLOCK_SKEW_SECONDS}s after now (${Math.floor(now)})` };
  }
  return {
    ok: true,
    personaId: bytesToHex(l.personaId),
    human: r.human,
    seq: l.seq,
    issuedAt: l.issuedAt,
    ttl: l.ttl,
    expiresAt: l.issuedAt + l.ttl,
    stale: now > l.issuedAt + l.ttl,
    devices: devicesOf(l),
    envelope: r.envelope,
  };
}

/** Decodes and verifies a status message carrying a list (our own persona's, for `persona import --list`). */
export function decodeOwnList(text: string | Uint8Array): { ok: true; signed: SignedDeviceList } | { ok: false; reason: string; detail: string } {
  const r = decodeStatusMessage(typeof text === 'string' ? text.trim() : text);
  return r.ok ? { ok: true, signed: r.signed } : { ok: false, reason: r.reason, detail: r.detail };
}

// ---------------------------------------------------------------- the table

/** A persona entry as `personas` shows it. */
export interface PersonaView {
  personaId: string;
  state: string;
  seq: number | null;
  /** The epoch of the applied list (null for a persona not in the table yet). */
  epoch?: number | null;
  /** The last list that came under a revoked epoch (a stolen or stale signer), kept for the user. */
  lastRevoked?: { at: number; epoch: number; signer: string; from: string } | null;
  issuedAt: number | null;
  ttl: number | null;
  lastSeen: number | null;
  from: string | null;
  devices: Array<{ publicKey: string; name: string; active: boolean; confirmed: boolean; addedByUs: boolean; toxName?: string }>;
  /** Updates waiting for approve/reject (manual policy, or held back by a pinning rule). */
  pending?: Array<{ id: string; seq: number; from: string; reason: string; receivedAt: number }>;
}

/** Pending updates of a persona (by PersonaID or 8+ hex prefix) or the one with this pending id; a prefix naming several personas throws `AMBIGUOUS`. */
export function pendingFor(table: PersonaTable, ref: string): PendingUpdate[] {
  const up = ref.trim().toUpperCase();
  const low = ref.trim().toLowerCase();
  const byId = table.pending.filter((p) => p.id === low);
  if (byId.length > 0) return byId;
  const exact = table.pending.filter((p) => p.personaId === up);
  if (exact.length > 0) return exact;
  const hits = up.length >= 8 ? table.pending.filter((p) => p.personaId.startsWith(up)) : [];
  const personas = new Set(hits.map((p) => p.personaId));
  // approve/reject act on every hit: a prefix that reaches two personas must not decide for both.
  if (personas.size > 1) throw new ToxPersonaError('AMBIGUOUS', `"${ref}" matches pending updates of ${personas.size} personas; give more of the PersonaID`);
  return hits;
}

/** The table as views, verified personas first. */
export function tableView(table: PersonaTable): PersonaView[] {
  const order: Record<string, number> = { verified: 0, stale: 1, conflict: 2, provisional: 3 };
  return Object.values(table.personas)
    .map((e) => {
      const pending = table.pending.filter((p) => p.personaId === e.personaId).map((p) => ({ id: p.id, seq: p.seq, from: p.from, reason: p.reason, receivedAt: p.receivedAt }));
      const v: PersonaView = {
        personaId: e.personaId,
        state: e.state,
        seq: e.seq,
        epoch: e.epoch,
        lastRevoked: e.lastRevoked ? { at: e.lastRevoked.at, epoch: e.lastRevoked.epoch, signer: e.lastRevoked.signer, from: e.lastRevoked.from } : null,
        issuedAt: e.issuedAt,
        ttl: e.ttl,
        lastSeen: e.lastSeen,
        from: e.from,
        devices: e.devices.map((d, i) => ({ publicKey: d.publicKey, name: d.name, active: i === 0, confirmed: d.confirmed, addedByUs: d.addedByUs })),
      };
      if (pending.length) v.pending = pending;
      return v;
    })
    .concat(
      // Pending updates for personas not in the table yet (first list under the manual policy).
      [...new Set(table.pending.map((p) => p.personaId))]
        .filter((id) => !table.personas[id])
        .map((id) => ({
          personaId: id, state: 'new', seq: null, issuedAt: null, ttl: null, lastSeen: null, from: null, devices: [],
          pending: table.pending.filter((p) => p.personaId === id).map((p) => ({ id: p.id, seq: p.seq, from: p.from, reason: p.reason, receivedAt: p.receivedAt })),
        })),
    )
    .sort((a, b) => (order[a.state] ?? 9) - (order[b.state] ?? 9) || a.personaId.localeCompare(b.personaId));
}

/** Persona counts by state (for metrics and status). */
export function countByState(table: PersonaTable): Record<string, number> {
  const out: Record<string, number> = { provisional: 0, verified: 0, stale: 0, conflict: 0 };
  for (const e of Object.values(table.personas)) out[e.state] = (out[e.state] ?? 0) + 1;
  return out;
}

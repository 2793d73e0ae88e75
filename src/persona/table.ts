// The PersonaID table and its pure update rules: consent, confirmation, epochs (revocation), chains (forks), rollback, equivocation, freshness, pinning.
import { personaCrypto } from './sodium.js';
import { base64urlDecodeStrict, base64urlEncode } from './base64url.js';
import { decodeStatusMessage } from './codec.js';
import { CHAIN_HASH_BYTES, listHash, parseSignedRecord, sameDevices, signedRecord, signerOf, verifySignedList, versionHash, type RejectReason, type SignedDeviceList } from './list.js';
import { bytesOrHex, bytesToHex } from '../util/bytes.js';
import { PendingNotFound } from './errors.js';

/** Version of the table's JSON schema; the store refuses any other. */
export const TABLE_SCHEMA_VERSION = 2;
/** How far in the future issuedAt may be before a list is refused (clock skew allowance), seconds. */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 300;
/** Most pending updates kept per persona (the highest seqs win), so a misbehaving persona can't grow the table without bound. */
export const MAX_PENDING_PER_PERSONA = 8;
/** Most pending updates kept per sending device (the most recently received win): one friend can't fill the table with lists of personas it makes up. */
export const MAX_PENDING_PER_SENDER = 8;
/** Most pending updates kept in all (the most recently received win). */
export const MAX_PENDING_TOTAL = 256;
/**
 * Most pieces of equivocation evidence kept per persona. One proves the key equivocated; more add nothing, and a
 * persona key holder could otherwise sign lists without end and grow the table (and raise an alarm) for each.
 */
export const MAX_EVIDENCE_PER_PERSONA = 2;

/** Lifecycle state of a persona entry. */
export type PersonaState = 'provisional' | 'verified' | 'stale' | 'conflict';

/** One device of a persona as the table knows it. Keys are uppercase hex throughout the table. */
export interface TableDevice {
  /** Tox public key, 64 uppercase hex characters. */
  publicKey: string;
  /** Name from the signed list ('' for none). */
  name: string;
  /** True once this device published the persona's list over its own connection. */
  confirmed: boolean;
  /** True when our companion added it as a friend automatically (so it may remove it again). */
  addedByUs: boolean;
}

/** What the table keeps per persona. */
export interface PersonaEntry {
  /** PersonaID (uppercase hex); for a provisional entry, the friend's own Tox public key. */
  personaId: string;
  /** provisional, verified, stale or conflict. */
  state: PersonaState;
  /** Devices in list order, active first. */
  devices: TableDevice[];
  /** Sequence number of the applied list, null while provisional. */
  seq: number | null;
  /** BLAKE2b-256 of the applied payload, hex, null while provisional. */
  contentHash: string | null;
  /** issuedAt of the applied list, Unix seconds. */
  issuedAt: number | null;
  /** ttl of the applied list, seconds. */
  ttl: number | null;
  /** When a list of this persona was last received, Unix seconds. */
  lastSeen: number | null;
  /** Which device we last received the list from (hex). */
  from: string | null;
  /** The applied signed record (payload || signature), base64url, so it can be re-verified and shown as evidence. */
  record: string | null;
  /** Signer epoch of the applied list (0 for version 1); lists under a lower epoch are revoked. Null while provisional. */
  epoch: number | null;
  /** Version hash of the applied list (hex): what stays the same across refreshes and what chain references name. */
  version: string | null;
  /** The key that signed the applied list (hex): a certified signer, or the PersonaID itself. */
  signer: string | null;
  /** The last list under a revoked (lower) epoch that arrived, for `personas` and to raise its alarm once. */
  lastRevoked: RevokedSighting | null;
}

/** A list signed under a revoked epoch, as last seen. */
export interface RevokedSighting {
  /** When it arrived, Unix seconds. */
  at: number;
  /** Its epoch (below the entry's). */
  epoch: number;
  /** Its signer (hex). */
  signer: string;
  /** The device it came from. */
  from: string;
  /** Content hash of its payload (hex), so a re-send does not raise the alarm again. */
  hash: string;
}

/** What the table knows about a Tox friend of ours. */
export interface FriendRecord {
  /** True when our companion added this friend because a persona list named it. */
  addedByUs: boolean;
}

/** Why an update waits for the user. */
export type PendingReason = 'MANUAL_POLICY' | 'PERSONA_CHANGED' | 'DOUBLE_CLAIM' | 'CONFLICT_STATE' | 'FORK';

/** A verified, newer list held back for the user to approve or reject. */
export interface PendingUpdate {
  /** Stable id (hex) derived from the record and the sender. */
  id: string;
  /** The persona the list belongs to. */
  personaId: string;
  /** The device that sent it. */
  from: string;
  /** Its sequence number. */
  seq: number;
  /** Its signer epoch. */
  epoch: number;
  /** The signed record, base64url. */
  record: string;
  /** When it was received, Unix seconds. */
  receivedAt: number;
  /** Why it is waiting. */
  reason: PendingReason;
}

/** Two different lists signed with the same sequence number: proof that the persona key equivocated. */
export interface EquivocationEvidence {
  /** The persona. */
  personaId: string;
  /** The shared sequence number. */
  seq: number;
  /** Both signed records, base64url: the one we had, then the one that conflicts. */
  records: [string, string];
  /** The devices each arrived from. */
  froms: [string | null, string];
  /** When we noticed, Unix seconds. */
  detectedAt: number;
}

/** The whole PersonaID table: plain JSON data, safe to serialise. */
export interface PersonaTable {
  /** Schema version, always TABLE_SCHEMA_VERSION. */
  schema: number;
  /** Entries keyed by PersonaID hex (provisional entries by the friend's Tox public key). */
  personas: Record<string, PersonaEntry>;
  /** Device → PersonaID it confirmed first; a second claim raises an alarm. */
  pins: Record<string, string>;
  /** Our Tox friends as the companion reported them. */
  friends: Record<string, FriendRecord>;
  /** Updates waiting for the user. */
  pending: PendingUpdate[];
  /** Equivocation evidence, kept until the user clears it. */
  evidence: EquivocationEvidence[];
}

/** Alarm codes; see PROTOCOL.md, "Alarms". */
// SELF_DROPPED and SIGNER_REVOKED are raised by the signer side (judgeOwnList), the others by the table.
export type AlarmCode = 'ROLLBACK' | 'EQUIVOCATION' | 'DOUBLE_CLAIM' | 'PERSONA_CHANGED' | 'REVOKED_SIGNER' | 'FORK' | 'SELF_DROPPED' | 'SIGNER_REVOKED';

/** Something the companion must do after an update; keys are uppercase hex. */
export type Action =
  | { type: 'addDevice'; personaId: string; publicKey: string; name: string }
  | { type: 'removeDevice'; personaId: string; publicKey: string }
  | { type: 'setActive'; personaId: string; publicKey: string }
  | { type: 'alarm'; code: AlarmCode; personaId: string; detail: string; devices: string[] };

/** What happened to one status message. */
export type Outcome =
  /** A newer list was applied. */
  | { kind: 'applied'; personaId: string; stale: boolean }
  /** The list is the one we have (possibly re-signed later, which refreshes it). */
  | { kind: 'unchanged'; personaId: string; refreshed: boolean }
  /** Held for the user. */
  | { kind: 'pending'; personaId: string; pendingId: string; reason: PendingReason }
  /** Valid, but not applied. */
  | { kind: 'ignored'; personaId: string; reason: 'NOT_A_MEMBER' | 'ROLLBACK' | 'EQUIVOCATION' | 'CONFLICT_STATE' | 'EPOCH_REVOKED' }
  /** A plain status message with no persona blob. */
  | { kind: 'none' }
  /** The blob or list is invalid. */
  | { kind: 'rejected'; reason: RejectReason | 'FUTURE_DATED' | 'UNKNOWN_PREV'; detail: string };

/** The result of a table update: the new table, what to do, and what happened. */
export interface ApplyResult {
  /** The new table (the input is never modified). */
  table: PersonaTable;
  /** Actions for the companion, in order. */
  actions: Action[];
  /** What happened. */
  outcome: Outcome;
}

/** Key given as bytes or hex. */
export type KeyInput = Uint8Array | string;

/** Input to {@link applyStatusMessage}. */
export interface StatusMessageInput {
  /** The friend (device) whose status message this is. */
  from: KeyInput;
  /** The status message as received. */
  text: string | Uint8Array;
  /** Current time, Unix seconds. */
  now: number;
  /** 'auto' applies verified newer lists; 'manual' holds them as pending. */
  policy: 'auto' | 'manual';
  /** Our own device keys: never added or removed as friends. */
  selfDevices?: readonly KeyInput[];
  /** Allowed clock skew for issuedAt, seconds (default 300). */
  maxClockSkew?: number;
}

/** A fresh, empty table. */
export function emptyTable(): PersonaTable {
  return { schema: TABLE_SCHEMA_VERSION, personas: {}, pins: {}, friends: {}, pending: [], evidence: [] };
}

/**
 * Copy-on-write: a new table whose containers are copies but whose entries, friend records, pending updates and
 * evidence are shared with `table`. Update functions replace an entry instead of writing into it ({@link own}), so the
 * input table is never modified and an update costs O(table size) pointer copies, not a deep copy.
 */
function shallowCopy(table: PersonaTable): PersonaTable {
  return {
    schema: table.schema,
    personas: { ...table.personas },
    pins: { ...table.pins },
    friends: { ...table.friends },
    pending: [...table.pending],
    evidence: [...table.evidence],
  };
}

/**
 * How an update treats the table it is given. `copy` (the default) leaves it untouched and returns a copy-on-write
 * result. `inPlace` writes into it and returns it: for a caller that owns a large table and keeps only the newest
 * version (the companion), since copying the containers of a 1,000-entry table costs more than the update itself.
 * Both run the same rules.
 */
export type UpdateMode = 'copy' | 'inPlace';

function begin(table: PersonaTable, mode: UpdateMode): PersonaTable {
  return mode === 'inPlace' ? table : shallowCopy(table);
}

/** Returns entry `id` ready for writing: in copy mode, replaced by a private copy once per update. */
function own(ctx: Ctx, id: string): PersonaEntry {
  const e = ctx.t.personas[id] as PersonaEntry;
  if (ctx.inPlace || ctx.owned.has(e)) return e;
  const copy: PersonaEntry = { ...e, devices: e.devices.map((d) => ({ ...d })) };
  ctx.owned.add(copy);
  ctx.t.personas[id] = copy;
  return copy;
}

/** Sets `addedByUs` of device `pk` in every entry that lists it, replacing those entries (not writing into them). */
function setAddedByUs(t: PersonaTable, pk: string, addedByUs: boolean): void {
  for (const [id, e] of Object.entries(t.personas)) {
    if (!e.devices.some((d) => d.publicKey === pk && d.addedByUs !== addedByUs)) continue;
    t.personas[id] = { ...e, devices: e.devices.map((d) => (d.publicKey === pk ? { ...d, addedByUs } : d)) };
  }
}

function newCtx(table: PersonaTable, now: number, selfDevices: readonly KeyInput[] | undefined, mode: UpdateMode): Ctx {
  return {
    t: begin(table, mode),
    actions: [],
    now,
    self: new Set((selfDevices ?? []).map((k) => hex(k, 'selfDevices'))),
    owned: new WeakSet(),
    inPlace: mode === 'inPlace',
  };
}

function hex(key: KeyInput, what: string): string {
  return bytesToHex(bytesOrHex(key, 32, what));
}

function provisionalEntry(pk: string, addedByUs: boolean): PersonaEntry {
  return {
    personaId: pk,
    state: 'provisional',
    devices: [{ publicKey: pk, name: '', confirmed: true, addedByUs }],
    seq: null,
    contentHash: null,
    issuedAt: null,
    ttl: null,
    lastSeen: null,
    from: null,
    record: null,
    epoch: null,
    version: null,
    signer: null,
    lastRevoked: null,
  };
}

/** Records a Tox friend; one with no persona yet gets a provisional entry whose PersonaID is its own key. */
export function observeFriend(table: PersonaTable, devicePk: KeyInput, mode: UpdateMode = 'copy'): PersonaTable {
  const t = begin(table, mode);
  const pk = hex(devicePk, 'devicePk');
  t.friends[pk] ??= { addedByUs: false };
  if (!t.pins[pk] && !t.personas[pk]) t.personas[pk] = provisionalEntry(pk, t.friends[pk].addedByUs);
  return t;
}

/** Records that the companion added this device as a friend because of an addDevice action (so it may remove it later). */
export function markAdded(table: PersonaTable, devicePk: KeyInput, mode: UpdateMode = 'copy'): PersonaTable {
  const t = begin(table, mode);
  const pk = hex(devicePk, 'devicePk');
  t.friends[pk] = { addedByUs: true };
  setAddedByUs(t, pk, true);
  return t;
}

/** Drops a friend that was deleted on the Tox side: its provisional entry goes; persona memberships and pins stay. */
export function forgetFriend(table: PersonaTable, devicePk: KeyInput, mode: UpdateMode = 'copy'): PersonaTable {
  const t = begin(table, mode);
  const pk = hex(devicePk, 'devicePk');
  delete t.friends[pk];
  if (t.personas[pk]?.state === 'provisional') delete t.personas[pk];
  setAddedByUs(t, pk, false);
  return t;
}

/** The entry a device belongs to: the persona it confirmed, else its provisional entry. */
export function personaOfDevice(table: PersonaTable, devicePk: KeyInput): PersonaEntry | undefined {
  const pk = hex(devicePk, 'devicePk');
  const pinned = table.pins[pk];
  return pinned ? table.personas[pinned] : table.personas[pk];
}

/** Marks verified entries whose list passed its time-to-live as stale (they keep their mapping but trigger no adds). */
export function refreshStaleness(table: PersonaTable, now: number, mode: UpdateMode = 'copy'): { table: PersonaTable; changed: string[] } {
  const t = begin(table, mode);
  const changed: string[] = [];
  for (const [id, e] of Object.entries(t.personas)) {
    if (e.state === 'verified' && isExpired(e.issuedAt, e.ttl, now)) {
      t.personas[id] = { ...e, state: 'stale' };
      changed.push(e.personaId);
    }
  }
  return { table: t, changed };
}

function isExpired(issuedAt: number | null, ttl: number | null, now: number): boolean {
  return issuedAt !== null && ttl !== null && now > issuedAt + ttl;
}

interface Ctx {
  t: PersonaTable;
  actions: Action[];
  now: number;
  self: Set<string>;
  /** Entries already copied by {@link own} during this update (safe to write). */
  owned: WeakSet<PersonaEntry>;
  /** The update writes into the table it was given ({@link UpdateMode}). */
  inPlace: boolean;
}

/**
 * The pure core: decodes and verifies a friend's status message and applies PROTOCOL.md's rules to the table.
 * Never throws for bad input text; throws TypeError/RangeError only for malformed arguments (a `from` that is not a key).
 */
export function applyStatusMessage(table: PersonaTable, input: StatusMessageInput, mode: UpdateMode = 'copy'): ApplyResult {
  const from = hex(input.from, 'from');
  const ctx = newCtx(table, input.now, input.selfDevices, mode);
  const decoded = decodeStatusMessage(input.text);
  if (!decoded.ok) {
    return { table: ctx.t, actions: [], outcome: decoded.reason === 'NO_BLOB' ? { kind: 'none' } : { kind: 'rejected', reason: decoded.reason, detail: decoded.detail } };
  }
  const outcome = applyVerified(ctx, decoded.signed, from, input.policy, input.maxClockSkew ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS);
  return { table: ctx.t, actions: ctx.actions, outcome };
}

function applyVerified(ctx: Ctx, signed: SignedDeviceList, from: string, policy: 'auto' | 'manual', skew: number): Outcome {
  const { t, now } = ctx;
  const L = signed.list;
  const P = bytesToHex(L.personaId);
  if (L.issuedAt > now + skew) return { kind: 'rejected', reason: 'FUTURE_DATED', detail: `issuedAt ${L.issuedAt} is more than ${skew}s after now (${now})` };
  const devs = L.devices.map((d) => bytesToHex(d.publicKey));
  // Consent: only a member's own status message can speak for the persona; a copy elsewhere is a hint at most.
  if (!devs.includes(from)) return { kind: 'ignored', personaId: P, reason: 'NOT_A_MEMBER' };
  // A friend entry under the PersonaID's bytes (a key someone listed as a device, or a friend of an enrolled profile)
  // cannot be a real Tox node of that persona; the persona's verified list replaces it instead of being refused, so no
  // friend entry can freeze a persona.
  if (t.personas[P]?.state === 'provisional') delete t.personas[P];
  const entry = t.personas[P];
  const hash = bytesToHex(listHash(signed), false);
  const record = base64urlEncode(signedRecord(signed));
  const version = bytesToHex(versionHash(L), false);
  const epoch = L.epoch ?? 0;

  let same = false;
  let refreshed = false;
  let overEpoch = false;
  if (entry && entry.seq !== null) {
    const held = heldOf(entry);
    if (epoch < held.epoch) {
      // The root certified a newer epoch: every signer of this one is revoked, whatever seq it signs.
      if (entry.lastRevoked?.hash !== hash) {
        own(ctx, P).lastRevoked = { at: now, epoch, signer: bytesToHex(signerOf(signed)), from, hash };
        alarm(ctx, 'REVOKED_SIGNER', P, `device ${from} sent a list signed under epoch ${epoch}, revoked by epoch ${held.epoch}`, [from]);
      }
      return { kind: 'ignored', personaId: P, reason: 'EPOCH_REVOKED' };
    }
    if (L.seq === entry.seq && version === held.version) {
      // The same version re-signed (a refresh, another signer, or the root's new epoch): never a new version.
      same = true;
      refreshed = epoch > held.epoch || L.issuedAt > (entry.issuedAt ?? 0) || (L.issuedAt === entry.issuedAt && L.ttl > (entry.ttl ?? 0));
    } else if (epoch > held.epoch) {
      // A higher epoch is the root speaking: it wins over any seq and any chain of the revoked epoch.
      overEpoch = true;
    } else if (L.seq < entry.seq) {
      // A device that was dropped and replays an old list is suspicious; a member that is merely behind is not.
      if (!entry.devices.some((d) => d.publicKey === from)) {
        alarm(ctx, 'ROLLBACK', P, `device ${from} sent seq ${L.seq}, below the stored ${entry.seq}, and is not in the current list`, [from]);
      }
      return { kind: 'ignored', personaId: P, reason: 'ROLLBACK' };
    } else if (L.seq === entry.seq) {
      if (!t.evidence.some((e) => e.personaId === P && e.seq === L.seq && e.records.includes(record)) && evidenceRoom(t, P)) {
        t.evidence.push({ personaId: P, seq: L.seq, records: [entry.record ?? '', record], froms: [entry.from, from], detectedAt: now });
        alarm(ctx, 'EQUIVOCATION', P, `two different lists signed with seq ${L.seq}; both kept as evidence`, [from]);
      }
      own(ctx, P).state = 'conflict';
      return { kind: 'ignored', personaId: P, reason: 'EQUIVOCATION' };
    } else {
      const chain = chainCheck(held, entry.seq, signed);
      if (chain === 'unknown') {
        return { kind: 'rejected', reason: 'UNKNOWN_PREV', detail: `built from seq ${L.prev?.seq} (the seq we hold) but from a list we never saw` };
      }
      if (chain === 'fork') {
        if (!isHeld(ctx, record, from)) {
          alarm(ctx, 'FORK', P, `device ${from} sent seq ${L.seq} built from seq ${L.prev?.seq ?? 'none (version 1)'}, not from the list we hold (seq ${entry.seq}); held for the user`, [from]);
        }
        return hold(ctx, signed, record, from, 'FORK');
      }
    }
  }

  // Pinning: a friend that already confirmed another persona doesn't switch silently.
  const fromPin = t.pins[from];
  if (fromPin && fromPin !== P) {
    // Alarms that come with holding a list are raised once, when it is first held, not at every re-send (reconnects).
    if (!isHeld(ctx, record, from)) alarm(ctx, 'PERSONA_CHANGED', P, `device ${from} belongs to persona ${fromPin} and now publishes persona ${P}`, [from]);
    return hold(ctx, signed, record, from, 'PERSONA_CHANGED');
  }

  if (same && entry) {
    const entry = own(ctx, P);
    entry.lastSeen = now;
    entry.from = from;
    if (entry.state === 'conflict') return { kind: 'ignored', personaId: P, reason: 'CONFLICT_STATE' };
    if (refreshed) {
      entry.issuedAt = L.issuedAt;
      entry.ttl = L.ttl;
      entry.contentHash = hash;
      entry.record = record;
      entry.epoch = epoch;
      entry.signer = bytesToHex(signerOf(signed));
      dropPendingUpTo(ctx, P, epoch, L.seq);
    }
    confirm(ctx, P, from);
    entry.state = isExpired(entry.issuedAt, entry.ttl, now) ? 'stale' : 'verified';
    if (entry.state === 'verified') addMissing(ctx, entry);
    return { kind: 'unchanged', personaId: P, refreshed };
  }

  // After equivocation only the user decides, unless the root resolves it with a new epoch.
  if (entry?.state === 'conflict' && !overEpoch) return hold(ctx, signed, record, from, 'CONFLICT_STATE');
  const claimed = devs.filter((d) => d !== from && t.pins[d] !== undefined && t.pins[d] !== P);
  if (claimed.length > 0) {
    if (!isHeld(ctx, record, from)) alarm(ctx, 'DOUBLE_CLAIM', P, `persona ${P} lists ${claimed.length} device(s) that confirmed another persona first`, claimed);
    return hold(ctx, signed, record, from, 'DOUBLE_CLAIM');
  }
  if (policy === 'manual') return hold(ctx, signed, record, from, 'MANUAL_POLICY');
  // A device newly listed here that another persona also lists, unconfirmed by both: worth telling the user, but
  // not blocking, since no one has a pin yet and the device's own confirmation will decide.
  const contested = devs.filter(
    (d) => d !== from && !t.pins[d] && !entry?.devices.some((x) => x.publicKey === d) &&
      Object.values(t.personas).some((e) => e.personaId !== P && e.state !== 'provisional' && e.devices.some((x) => x.publicKey === d)),
  );
  if (contested.length > 0) {
    alarm(ctx, 'DOUBLE_CLAIM', P, `persona ${P} lists ${contested.length} unconfirmed device(s) that another persona lists too; applied, the device's own confirmation decides`, contested);
  }
  return applyNewer(ctx, signed, from, hash, record);
}

/** True while persona P has fewer than MAX_EVIDENCE_PER_PERSONA pieces of evidence (beyond that: no more evidence, no more alarms). */
function evidenceRoom(t: PersonaTable, P: string): boolean {
  let n = 0;
  for (const e of t.evidence) if (e.personaId === P && ++n >= MAX_EVIDENCE_PER_PERSONA) return false;
  return true;
}

/** What the receiver holds of a persona: epoch, version hash and format of the applied list. */
interface Held {
  epoch: number;
  version: string | null;
  format: number;
}

function heldOf(entry: PersonaEntry): Held {
  const format = entry.record ? (base64urlDecodeStrict(entry.record.slice(0, 4))?.[0] ?? 1) : 1;
  return { epoch: entry.epoch ?? 0, version: entry.version, format };
}

/**
 * Whether a newer list of the same epoch was built from what we hold: 'ok' when its chain reference names our list
 * or a later one (we missed lists in between), 'fork' when it was built from an older one (a stale signer), and
 * 'unknown' when it names our seq but another list. Version-1 lists carry no reference: between two of them there is
 * no chain (the old rules), but one arriving after a version-2 list was not built from it.
 */
function chainCheck(held: Held, heldSeq: number, signed: SignedDeviceList): 'ok' | 'fork' | 'unknown' {
  const prev = signed.list.prev;
  if (!prev) return held.format === 1 ? 'ok' : 'fork';
  if (prev.seq > heldSeq) return 'ok';
  if (prev.seq < heldSeq) return 'fork';
  return held.version !== null && bytesToHex(prev.hash, false) === held.version.slice(0, 2 * CHAIN_HASH_BYTES) ? 'ok' : 'unknown';
}

/** Drops the pending lists of P that a list of (epoch, seq) supersedes. */
function dropPendingUpTo(ctx: Ctx, P: string, epoch: number, seq: number): void {
  ctx.t.pending = ctx.t.pending.filter((p) => !(p.personaId === P && (p.epoch < epoch || (p.epoch === epoch && p.seq <= seq))));
}

/** Decodes a stored base64url record and re-verifies it; undefined when it is not a valid signed list. */
export function decodeRecord(record: string): SignedDeviceList | undefined {
  const bytes = base64urlDecodeStrict(record);
  if (!bytes) return undefined;
  const parsed = parseSignedRecord(bytes);
  if (!parsed.ok || !verifySignedList(parsed.value)) return undefined;
  return parsed.value;
}

function alarm(ctx: Ctx, code: AlarmCode, personaId: string, detail: string, devices: string[]): void {
  ctx.actions.push({ type: 'alarm', code, personaId, detail, devices });
}

/** The id of a held list: the same list from the same sender is held once. */
function holdId(record: string, from: string): string {
  return bytesToHex(personaCrypto().hash(record + '|' + from, 8), false);
}

function isHeld(ctx: Ctx, record: string, from: string): boolean {
  const id = holdId(record, from);
  return ctx.t.pending.some((p) => p.id === id);
}

/** Keeps at most `max` of the pending updates that `pick` selects, preferring those `better` sorts first. */
function capPending(ctx: Ctx, pick: (p: PendingUpdate) => boolean, max: number, better: (a: PendingUpdate, b: PendingUpdate) => number): void {
  const chosen = ctx.t.pending.filter(pick);
  if (chosen.length <= max) return;
  const drop = new Set(chosen.sort(better).slice(max));
  ctx.t.pending = ctx.t.pending.filter((p) => !drop.has(p));
}

const newestSeqFirst = (a: PendingUpdate, b: PendingUpdate): number => b.seq - a.seq;
const latestReceivedFirst = (a: PendingUpdate, b: PendingUpdate): number => b.receivedAt - a.receivedAt || b.seq - a.seq;

function hold(ctx: Ctx, signed: SignedDeviceList, record: string, from: string, reason: PendingReason): Outcome {
  const P = bytesToHex(signed.list.personaId);
  const id = holdId(record, from);
  const at = ctx.t.pending.findIndex((p) => p.id === id);
  if (at >= 0) {
    ctx.t.pending[at] = { ...(ctx.t.pending[at] as PendingUpdate), receivedAt: ctx.now };
  } else {
    // Two held lists can equivocate too (nothing applied yet under the manual policy): same alarm and evidence rule.
    for (const other of ctx.t.pending) {
      if (other.personaId !== P || other.seq !== signed.list.seq || other.record === record) continue;
      const o = decodeRecord(other.record);
      if (!o || (o.list.epoch ?? 0) !== (signed.list.epoch ?? 0) || sameDevices(o.list, signed.list)) continue;
      if (!ctx.t.evidence.some((e) => e.personaId === P && e.seq === other.seq && e.records.includes(other.record) && e.records.includes(record)) && evidenceRoom(ctx.t, P)) {
        ctx.t.evidence.push({ personaId: P, seq: other.seq, records: [other.record, record], froms: [other.from, from], detectedAt: ctx.now });
        alarm(ctx, 'EQUIVOCATION', P, `two different held lists signed with seq ${other.seq}; both kept as evidence`, [from]);
      }
      break;
    }
    ctx.t.pending.push({ id, personaId: P, from, seq: signed.list.seq, epoch: signed.list.epoch ?? 0, record, receivedAt: ctx.now, reason });
    capPending(ctx, (p) => p.personaId === P, MAX_PENDING_PER_PERSONA, newestSeqFirst);
    capPending(ctx, (p) => p.from === from, MAX_PENDING_PER_SENDER, latestReceivedFirst);
    capPending(ctx, () => true, MAX_PENDING_TOTAL, latestReceivedFirst);
  }
  return { kind: 'pending', personaId: P, pendingId: id, reason };
}

/** Marks `device` confirmed in persona P: pins it and merges its provisional entry. */
function confirm(ctx: Ctx, P: string, device: string): void {
  const { t } = ctx;
  if (!t.personas[P]?.devices.some((x) => x.publicKey === device)) return;
  const previous = t.pins[device];
  if (previous && previous !== P && t.personas[previous]?.devices.some((x) => x.publicKey === device)) {
    // Only reached from an approved update: the user moved the device, so the old persona loses it.
    own(ctx, previous).devices.find((x) => x.publicKey === device)!.confirmed = false;
  }
  own(ctx, P).devices.find((x) => x.publicKey === device)!.confirmed = true;
  t.pins[device] = P;
  if (t.personas[device]?.state === 'provisional') delete t.personas[device];
}

function addMissing(ctx: Ctx, entry: PersonaEntry): void {
  for (const d of entry.devices) {
    if (ctx.t.friends[d.publicKey] || ctx.self.has(d.publicKey)) continue;
    const pin = ctx.t.pins[d.publicKey];
    if (pin && pin !== entry.personaId) continue;
    ctx.actions.push({ type: 'addDevice', personaId: entry.personaId, publicKey: d.publicKey, name: d.name });
  }
}

function applyNewer(ctx: Ctx, signed: SignedDeviceList, from: string, hash: string, record: string): Outcome {
  const { t, now } = ctx;
  const L = signed.list;
  const P = bytesToHex(L.personaId);
  const old = t.personas[P];
  const oldDevices = old?.devices ?? [];
  const devices: TableDevice[] = L.devices.map((d) => {
    const pk = bytesToHex(d.publicKey);
    const before = oldDevices.find((x) => x.publicKey === pk);
    return { publicKey: pk, name: d.name, confirmed: pk === from || (before?.confirmed ?? false), addedByUs: t.friends[pk]?.addedByUs ?? false };
  });
  const stale = isExpired(L.issuedAt, L.ttl, now);
  const entry: PersonaEntry = {
    personaId: P,
    state: stale ? 'stale' : 'verified',
    devices,
    seq: L.seq,
    contentHash: hash,
    issuedAt: L.issuedAt,
    ttl: L.ttl,
    lastSeen: now,
    from,
    record,
    epoch: L.epoch ?? 0,
    version: bytesToHex(versionHash(L), false),
    signer: bytesToHex(signerOf(signed)),
    lastRevoked: old?.lastRevoked ?? null,
  };
  t.personas[P] = entry;
  ctx.owned.add(entry);
  for (const d of devices) if (d.confirmed) confirm(ctx, P, d.publicKey);
  for (const od of oldDevices) {
    if (devices.some((d) => d.publicKey === od.publicKey)) continue;
    if (t.pins[od.publicKey] === P) delete t.pins[od.publicKey];
    if (ctx.self.has(od.publicKey)) continue;
    const friend = t.friends[od.publicKey];
    if (friend?.addedByUs) {
      ctx.actions.push({ type: 'removeDevice', personaId: P, publicKey: od.publicKey });
      delete t.friends[od.publicKey];
    } else if (friend && !t.pins[od.publicKey] && !t.personas[od.publicKey]) {
      // A friend we had before the persona dropped it stays our friend, on its own again.
      t.personas[od.publicKey] = provisionalEntry(od.publicKey, false);
    }
  }
  if (!stale) addMissing(ctx, entry);
  const active = devices[0] as TableDevice;
  if (old?.devices[0]?.publicKey !== active.publicKey) ctx.actions.push({ type: 'setActive', personaId: P, publicKey: active.publicKey });
  dropPendingUpTo(ctx, P, L.epoch ?? 0, L.seq);
  return { kind: 'applied', personaId: P, stale };
}

/** Applies a pending update the user approved, overriding pins and a conflict state; a list older than the stored one is refused; an unknown id throws PendingNotFound. */
export function approvePending(
  table: PersonaTable,
  id: string,
  now: number,
  options: { selfDevices?: readonly KeyInput[] } = {},
  mode: UpdateMode = 'copy',
): ApplyResult {
  const ctx = newCtx(table, now, options.selfDevices, mode);
  const p = ctx.t.pending.find((x) => x.id === id);
  if (!p) throw new PendingNotFound(id);
  ctx.t.pending = ctx.t.pending.filter((x) => x.id !== id);
  const signed = decodeRecord(p.record);
  if (!signed) return { table: ctx.t, actions: [], outcome: { kind: 'rejected', reason: 'BAD_SIGNATURE', detail: 'the pending record no longer verifies' } };
  const entry = ctx.t.personas[p.personaId];
  const epoch = signed.list.epoch ?? 0;
  if (entry && entry.seq !== null && epoch < (entry.epoch ?? 0)) {
    return { table: ctx.t, actions: [], outcome: { kind: 'ignored', personaId: p.personaId, reason: 'EPOCH_REVOKED' } };
  }
  if (entry && entry.seq !== null && epoch === (entry.epoch ?? 0) && signed.list.seq < entry.seq) {
    return { table: ctx.t, actions: [], outcome: { kind: 'ignored', personaId: p.personaId, reason: 'ROLLBACK' } };
  }
  const outcome = applyNewer(ctx, signed, p.from, bytesToHex(listHash(signed), false), p.record);
  return { table: ctx.t, actions: ctx.actions, outcome };
}

/** Drops a pending update the user rejected; an unknown id throws PendingNotFound. */
export function rejectPending(table: PersonaTable, id: string, mode: UpdateMode = 'copy'): PersonaTable {
  const t = begin(table, mode);
  if (!t.pending.some((x) => x.id === id)) throw new PendingNotFound(id);
  t.pending = t.pending.filter((x) => x.id !== id);
  return t;
}

// The companion's decisions as one pure function, reduce(state, event) → (state, effects): which friends to add and delete and
// why, what to publish, save, alarm and log. The daemon (companion.ts) only feeds events in and performs the effects.
import { ToxPersonaError } from '../util/errors.js';
import * as P from './persona-port.js';
import { buildStatusMessage, emptyTable } from '../persona/index.js';
import { queueRequest, MAX_PENDING_REQUESTS, type PendingRequest } from './requests.js';
import { recordAlarm, recordRejection, MAX_ALARMS_PER_FRIEND, MAX_REJECTIONS_PER_FRIEND, type AlarmRecord, type RejectionRecord } from './records.js';
import {
  applyStatusMessage, approvePending, forgetFriend, observeFriend, refreshStaleness, rejectPending,
  type Action, type Outcome, type PersonaTable,
} from '../persona/table.js';
import { applyDecisions, deltaOf, emptySiblingState, helloOf, isSibling, receiveSibling, reconcileSiblings, recordDecision, siblingTimer, stamp, type SiblingSyncState } from './sibling-sync.js';
import type { CoreMessage } from './sibling-codec.js';

/** A refused companion operation. Codes: `UNKNOWN_DEVICE`, `DEVICE_EXISTS`, `LAST_DEVICE`, `OWN_DEVICE`, `UNKNOWN_PERSONA`, `NO_PENDING`, `UNKNOWN_REQUEST`, `UNKNOWN_FRIEND`, `BAD_ARGUMENT`, `NOT_RUNNING`, `APPROVE_REFUSED`, `AMBIGUOUS`, `OUTPUT_EXISTS`, `UNKNOWN_OPERATION`. */
export class CompanionError extends ToxPersonaError {}

export { MAX_PENDING_REQUESTS, MAX_ALARMS_PER_FRIEND, MAX_REJECTIONS_PER_FRIEND, type PendingRequest, type AlarmRecord, type RejectionRecord };
/** Most devices of one persona added automatically and not yet confirmed (a list can name up to 18 strangers). */
export const MAX_UNCONFIRMED_PER_PERSONA = 4;
/** Most unconfirmed devices added automatically because of lists one friend sent. */
export const MAX_UNCONFIRMED_PER_INTRODUCER = 4;
/** A device added automatically that has not confirmed its persona this long after is deleted again, seconds (3 days). */
export const UNCONFIRMED_TIMEOUT_SECONDS = 3 * 24 * 3600;
/** Keys deleted because they never confirmed, remembered so the same lists do not add them again (oldest forgotten first). */
export const MAX_EXPIRED_KEPT = 256;
/** Personas recorded per automatically added friend (on whose behalf it was added). */
export const MAX_PERSONAS_PER_FRIEND = 8;
/** Saves of changes that matter little (lastSeen, a repeated request) wait for the periodic timer; others are saved at once. */
export type Dirty = 'none' | 'soft' | 'hard';

/** Why a key is our friend. A friend is deleted automatically only when no reason is left. */
export interface FriendProvenance {
  /** The user added it (`friend add`), or it was a friend before provenance was recorded. */
  user: boolean;
  /** Accepted from its friend request (by `accept` or by the `acceptRequests` policy). */
  accepted: boolean;
  /** Personas on whose behalf the companion added it (they list it). */
  personas: string[];
  /** The friend whose list made the companion add it, for the per-introducer budget; null when not added automatically. */
  introducer: string | null;
  /** When the companion added it automatically, Unix seconds; null otherwise. */
  autoAddedAt: number | null;
}

/** One automatic add, kept for UNCONFIRMED_TIMEOUT_SECONDS: the budgets count these, so adding and deleting in turn cannot exceed them. */
export interface AutoAdd {
  publicKey: string;
  personaId: string;
  /** The friend whose list proposed it; null when the user vouched. */
  introducer: string | null;
  /** Unix seconds. */
  at: number;
}

/** Everything the companion decides on: persisted parts (own list, table, friends, blocks, vouches, requests) and bounded memory. */
export interface CompanionState {
  /** Our own signed list. */
  own: P.SignedDeviceList;
  /** The PersonaID table (the protocol's pure rules live in src/persona/table.ts). */
  table: PersonaTable;
  /** Every current Tox friend with why it is one. */
  friends: Record<string, FriendProvenance>;
  /** Keys the user removed: never added again automatically (a `friend add` or `accept` lifts it). */
  blocked: string[];
  /** Keys deleted because they never confirmed (bounded, oldest first). */
  expired: string[];
  /** Personas the user vouched for: their lists may add devices although no friend of the user's own confirmed them. */
  vouched: string[];
  /** Recent automatic adds (bounded by the budgets), whether the friend is still there or not. */
  autoAdds: AutoAdd[];
  /** Friend requests waiting for the user, in bounded buckets (requests.ts). */
  requests: PendingRequest[];
  /** Friend requests dropped because their bucket was full, in all. */
  requestsDropped: number;
  /** Alarms for `status`, at most MAX_ALARMS_PER_FRIEND per sender (records.ts); saved by the periodic save. */
  alarms: AlarmRecord[];
  /** Recent rejected/ignored lists per friend; saved by the periodic save. */
  rejections: Record<string, RejectionRecord[]>;
  /** The last status message seen per friend, so an identical re-delivery is dropped before decoding (not persisted). */
  lastStatus: Record<string, string>;
  /** Unsaved changes that wait for the periodic save. */
  softDirty: boolean;
  /** Sibling sync: stamped registers, decisions, dropped own devices (sibling-sync.ts). */
  sibling: SiblingSyncState;
}

/** What the reducer needs besides the state: settings, our keys (signing is pure, deterministic Ed25519). */
export interface ReducerEnv {
  policy: 'auto' | 'manual';
  acceptRequests: 'none' | 'personas' | 'all';
  ttlSeconds: number;
  statusText: string;
  /** This device's Tox public key. */
  selfKey: string;
  /** The keys that sign our list: this device's certified signer, else the root (P.OwnKeys; a bare root PersonaKey in tests). */
  key: P.PersonaKey | P.OwnKeys;
  /** Overrides of the budgets and timeout (tests). */
  limits?: Partial<{ perPersona: number; perIntroducer: number; unconfirmedTimeout: number }>;
}

/** A user command (CLI or admin endpoint). */
export type Command =
  | { cmd: 'start' }
  | { cmd: 'friendAdd'; address: string; message: string }
  | { cmd: 'friendRemove'; ref: string }
  | { cmd: 'accept'; ref: string }
  | { cmd: 'decline'; ref: string }
  | { cmd: 'approve'; ref: string }
  | { cmd: 'reject'; ref: string }
  | { cmd: 'vouch'; ref: string }
  | { cmd: 'deviceAdd'; publicKey: string; name: string; active: boolean }
  | { cmd: 'deviceRemove'; ref: string }
  | { cmd: 'deviceActivate'; ref: string }
  /** Adopt a list the shell signed and made durable elsewhere first (device enroll writes the new profile with it). */
  | { cmd: 'adoptOwn'; signed: P.SignedDeviceList; why: string }
  /** Befriend a device of our own list without a request (device enroll: the new profile already has us as a friend). */
  | { cmd: 'siblingAdd'; publicKey: string };

/** Everything that can happen to the companion. `now` is Unix seconds. */
export type CompanionEvent =
  | { type: 'statusMessage'; from: string; text: string | Uint8Array; now: number }
  /** A friend exists now: the result of an addFriend effect, or one found at start (`existing`). */
  | { type: 'friendAdded'; publicKey: string; ok: true; existing?: boolean; now: number }
  | { type: 'friendAdded'; publicKey: string; ok: false; code: string; now: number }
  | { type: 'friendDeleted'; publicKey: string; ok: boolean; now: number }
  | { type: 'friendRequest'; publicKey: string; message: string; now: number }
  | { type: 'connection'; publicKey: string | null; connection: 'none' | 'tcp' | 'udp'; now: number }
  | { type: 'command'; command: Command; now: number }
  /** A sibling-sync message from a friend (sibling-sync.ts decides whether it speaks for anything). */
  | { type: 'sibling'; from: string; message: CoreMessage; now: number }
  | { type: 'timer'; now: number };

/** What the shell must do, in order. */
export type Effect =
  /** Add a friend: without a request (both sides add each other) when `address` is absent, else a request to that Tox ID. */
  | { type: 'addFriend'; publicKey: string; address?: string; message?: string; personaId?: string }
  | { type: 'deleteFriend'; publicKey: string; personaId?: string }
  /** Set our status message; a save before it in the same batch must be durable first. */
  | { type: 'publish'; statusMessage: string; seq: number; why: string }
  | { type: 'save'; why: string }
  | { type: 'alarm'; alarm: AlarmRecord }
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; msg: string; fields: Record<string, unknown> }
  /** Send a sibling-sync message to one sibling, or (`to` null) to every online sibling but `except`. */
  | { type: 'sibling'; to: string | null; except?: string; message: CoreMessage };

/** The result of one event. */
export interface Reduction {
  state: CompanionState;
  effects: Effect[];
  /** What happened to a status message (statusMessage events, and approve). */
  outcome?: Outcome | { kind: 'duplicate' };
  /** A command's answer. */
  result?: unknown;
  /** A command refused after the state changed (APPROVE_REFUSED consumes the pending entry): the shell applies the state, then throws. */
  error?: CompanionError;
}

/** A state with nothing in it but our list and a table (tests, a fresh directory). */
export function initialState(own: P.SignedDeviceList, table: PersonaTable = emptyTable()): CompanionState {
  return { own, table, friends: {}, blocked: [], expired: [], vouched: [], autoAdds: [], requests: [], requestsDropped: 0, alarms: [], rejections: {}, lastStatus: {}, softDirty: false, sibling: emptySiblingState() };
}

/** Provenance for a friend found without a record (older data directories, a profile copied to an enrolled device): kept as the user's. */
export function userProvenance(): FriendProvenance {
  return { user: true, accepted: false, personas: [], introducer: null, autoAddedAt: null };
}

/** The one write path of the companion: applies `event` to `state` and says what to do. Throws CompanionError for a refused command (state unchanged). */
export function reduce(state: CompanionState, event: CompanionEvent, env: ReducerEnv): Reduction {
  const r = new Run(state, env, event.now);
  switch (event.type) {
    case 'statusMessage':
      return r.statusMessage(event.from, event.text);
    case 'friendAdded':
      return event.ok ? r.friendAdded(event.publicKey, event.existing === true) : r.friendAddFailed(event.publicKey, event.code);
    case 'friendDeleted':
      return r.friendDeleted(event.publicKey, event.ok);
    case 'friendRequest':
      return r.friendRequest(event.publicKey, event.message);
    case 'sibling':
      r.origin = event.from;
      receiveSibling(r, event.from, event.message);
      return r.done();
    case 'connection':
      // A sibling that comes online hears our digest (and answers with its state when ours differs).
      if (event.publicKey !== null && event.connection !== 'none' && isSibling(state, env, event.publicKey)) r.effects.push({ type: 'sibling', to: event.publicKey, message: helloOf(state) });
      r.log('info', event.publicKey === null ? (event.connection === 'none' ? 'DHT disconnected' : 'DHT connected') : event.connection === 'none' ? 'friend offline' : 'friend online', { friend: event.publicKey, connection: event.connection });
      return r.done();
    case 'timer':
      return r.timer();
    case 'command':
      return r.command(event.command);
  }
}

/** One reduction in progress: a private copy of the state's containers and the effects so far. */
class Run {
  s: CompanionState;
  readonly effects: Effect[] = [];
  dirty: Dirty = 'none';
  saveWhy = '';
  /** The sibling whose message this run handles: it is not sent its own news back. */
  origin: string | undefined;

  constructor(readonly before: CompanionState, readonly env: ReducerEnv, readonly now: number) {
    this.s = { ...before };
  }

  done(extra: Partial<Reduction> = {}): Reduction {
    // Our list changed: siblings it adds are befriended, those it drops deleted; siblings hear what changed.
    if (this.s.own !== this.before.own) reconcileSiblings(this, this.before.own);
    const delta = this.s.own.list.devices.length > 1 || this.before.own.list.devices.length > 1 ? deltaOf(this.before, this.s) : undefined;
    if (delta) this.effects.push({ type: 'sibling', to: null, ...(this.origin ? { except: this.origin } : {}), message: delta });
    if (this.dirty === 'hard') {
      // Saved before whatever it decided becomes visible: a save effect goes first.
      this.effects.unshift({ type: 'save', why: this.saveWhy });
      this.s.softDirty = false;
    } else if (this.dirty === 'soft' && !this.s.softDirty) {
      this.s.softDirty = true;
    }
    return { state: this.s, effects: this.effects, ...extra };
  }

  touch(level: Dirty, why: string): void {
    if (level === 'hard' && this.dirty !== 'hard') {
      this.dirty = 'hard';
      this.saveWhy = why;
    } else if (level === 'soft' && this.dirty === 'none') {
      this.dirty = 'soft';
    }
  }

  log(level: 'debug' | 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
    this.effects.push({ type: 'log', level, msg, fields });
  }

  get limits(): { perPersona: number; perIntroducer: number; unconfirmedTimeout: number } {
    return { perPersona: MAX_UNCONFIRMED_PER_PERSONA, perIntroducer: MAX_UNCONFIRMED_PER_INTRODUCER, unconfirmedTimeout: UNCONFIRMED_TIMEOUT_SECONDS, ...this.env.limits };
  }

  selfDevices(): string[] {
    return P.devicesOf(this.s.own.list).map((d) => d.publicKey);
  }

  isOurs(pk: string): boolean {
    return pk === this.env.selfKey || this.selfDevices().includes(pk);
  }

  setFriend(pk: string, f: FriendProvenance | undefined): void {
    this.s.friends = { ...this.s.friends };
    if (f) this.s.friends[pk] = f;
    else delete this.s.friends[pk];
  }

  // ------------------------------------------------------------ friends' status messages

  statusMessage(from: string, text: string | Uint8Array): Reduction {
    const seenAs = typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
    // Re-deliveries (every reconnect, a friend resending in a loop) cost nothing: dropped before decoding.
    if (this.s.lastStatus[from] === seenAs) return this.done({ outcome: { kind: 'duplicate' } });
    if (!this.s.friends[from]) {
      // The node only delivers status messages of friends; one we hold no record of was a friend before records existed.
      this.setFriend(from, userProvenance());
      this.touch('hard', 'friend recorded');
    }
    if (!this.s.table.friends[from]) this.s.table = observeFriend(this.s.table, from);
    const before = this.s.table;
    const r = applyStatusMessage(before, { from, text, now: this.now, policy: this.env.policy, selfDevices: this.selfDevices() });
    this.s.table = r.table;
    const o = r.outcome;
    // A list issued in the future may be fine later: only outcomes that do not depend on the clock are remembered.
    if (!(o.kind === 'rejected' && o.reason === 'FUTURE_DATED')) this.s.lastStatus = { ...this.s.lastStatus, [from]: seenAs };
    this.touch(tableChange(before, r.table, from, o), 'table update');
    if (o.kind === 'rejected' || o.kind === 'ignored') this.rejection(from, o);
    if (o.kind === 'pending') applyDecisions(this, o.pendingId);
    if ('personaId' in o && o.personaId === P.personaIdHex(this.env.key)) this.adoptOwn(from, text);
    this.log(o.kind === 'applied' || o.kind === 'pending' ? 'info' : 'debug', 'friend status message processed', {
      from, outcome: o.kind, ...('reason' in o ? { reason: o.reason } : {}), ...('personaId' in o ? { persona: o.personaId } : {}),
    });
    this.actions(r.actions, from);
    if (o.kind === 'applied' || o.kind === 'unchanged') {
      this.reconcilePersona(o.personaId);
      // A key we befriended only because a list named it turns out to be a PersonaID: it was never a device.
      const f = this.s.friends[o.personaId];
      if (f && !f.user && !f.accepted) {
        this.log('warn', 'deleting a friend whose key is a PersonaID', { persona: o.personaId });
        this.effects.push({ type: 'deleteFriend', publicKey: o.personaId });
      }
    }
    return this.done({ outcome: o });
  }

  rejection(from: string, o: Extract<Outcome, { kind: 'rejected' | 'ignored' }>): void {
    const rec: RejectionRecord = { at: iso(this.now), reason: o.reason, ...('personaId' in o ? { personaId: o.personaId } : {}), ...('detail' in o ? { detail: o.detail } : {}) };
    const r = recordRejection(this.s.rejections, from, rec);
    this.s.rejections = r.rejections;
    // Kept for `status` across restarts, by the periodic save: a flood of refused lists causes no save of its own.
    if (r.changed) this.touch('soft', 'rejection recorded');
  }

  /**
   * Another device of our persona published a list of it: adopt it when it is newer and built from ours (only from a
   * device it names); a list that forks from ours, drops this device or comes under a revoked epoch is not adopted and
   * raises an alarm (PROTOCOL.md, judgeOwnList).
   */
  adoptOwn(from: string, text: string | Uint8Array): void {
    const j = P.judgeOwnStatus(this.s.own, text, { thisDevice: this.env.selfKey, from, now: this.now, signerEpoch: P.ownKeysOf(this.env.key).signer?.epoch ?? null });
    if (j.alarm) this.alarm({ at: iso(this.now), personaId: P.personaIdHex(this.env.key), reason: j.alarm.code, detail: j.alarm.detail, from });
    if (!j.adopt || !j.signed) return;
    const l = j.signed.list;
    let status: string;
    try {
      status = buildStatusMessage(j.signed, this.env.statusText);
    } catch {
      return; // does not fit next to our human text; keep ours
    }
    this.s.own = j.signed;
    this.log('info', 'adopted a newer list of our own persona from another of its devices', { from, seq: l.seq, devices: l.devices.length });
    this.touch('hard', 'adopted own list');
    this.effects.push({ type: 'publish', statusMessage: status, seq: l.seq, why: 'adopted' });
  }

  actions(actions: readonly Action[], from?: string): void {
    for (const a of actions) {
      if (a.type === 'addDevice') this.autoAdd(a.personaId, a.publicKey, from);
      else if (a.type === 'alarm') this.alarm({ at: iso(this.now), personaId: a.personaId, reason: a.code, detail: a.detail, ...(from ? { from } : {}) });
      else if (a.type === 'setActive') this.log('info', 'active device', { persona: a.personaId, device: this.activeDevice(a.personaId) });
      // removeDevice: deletions are decided from provenance in reconcilePersona, not from the table's flag.
    }
  }

  alarm(rec: AlarmRecord): void {
    this.s.alarms = recordAlarm(this.s.alarms, rec, (pk) => !!this.s.friends[pk]);
    this.touch('soft', 'alarm recorded');
    this.effects.push({ type: 'alarm', alarm: rec });
  }

  activeDevice(personaId: string): string | undefined {
    return activeDevice(this.s.table, personaId);
  }

  /** True when the user stands behind persona P: vouched for it, or a device of it the user added or accepted confirmed it. */
  vouched(P: string): boolean {
    if (this.s.vouched.includes(P)) return true;
    const e = this.s.table.personas[P];
    return !!e && e.devices.some((d) => d.confirmed && this.s.table.pins[d.publicKey] === P && (this.s.friends[d.publicKey]?.user || this.s.friends[d.publicKey]?.accepted));
  }

  isPersonaId(pk: string): boolean {
    const e = this.s.table.personas[pk];
    return pk === P.personaIdHex(this.env.key) || (!!e && e.state !== 'provisional') || this.s.table.pending.some((p) => p.personaId === pk);
  }

  /** A device a verified list names that is not our friend: added only within the rules. */
  autoAdd(personaId: string, pk: string, from: string | undefined): void {
    const why = this.refuseAdd(personaId, pk, from);
    if (why) {
      this.log('debug', 'device not added', { persona: personaId, device: pk, why });
      return;
    }
    this.setFriend(pk, { user: false, accepted: false, personas: [personaId], introducer: from ?? null, autoAddedAt: this.now });
    stamp(this, pk, 'auto', [personaId]);
    this.s.autoAdds = [...this.s.autoAdds, { publicKey: pk, personaId, introducer: from ?? null, at: this.now }];
    this.touch('hard', 'device added');
    this.log('info', 'adding a device of a verified persona', { persona: personaId, device: pk, introducer: from });
    this.effects.push({ type: 'addFriend', publicKey: pk, personaId });
  }

  refuseAdd(personaId: string, pk: string, from: string | undefined): string | undefined {
    if (this.s.friends[pk]) return 'already a friend';
    if (this.isOurs(pk)) return 'one of ours';
    if (this.isPersonaId(pk)) return 'a PersonaID, not a device key';
    if (this.s.blocked.includes(pk)) return 'the user removed it';
    if (this.s.expired.includes(pk)) return 'it never confirmed when added before';
    if (!this.vouched(personaId)) return 'persona not vouched for (no device the user added or accepted confirmed it)';
    // Counted over recent adds, deleted ones included: a list that drops and names strangers in turn gains nothing.
    const recent = this.s.autoAdds.filter((a) => this.now - a.at < this.limits.unconfirmedTimeout && !this.s.table.pins[a.publicKey]);
    if (recent.some((a) => a.publicKey === pk)) return 'added recently and dropped again before it confirmed';
    const perPersona = recent.filter((a) => a.personaId === personaId).length;
    const perIntroducer = from ? recent.filter((a) => a.introducer === from).length : 0;
    if (perPersona >= this.limits.perPersona) return `budget: ${perPersona} unconfirmed devices of this persona already added`;
    if (perIntroducer >= this.limits.perIntroducer) return `budget: ${perIntroducer} unconfirmed devices from this friend's lists already added`;
    return undefined;
  }

  /**
   * After persona P's list changed: friends we added for P that P still lists keep P as a reason, those it dropped lose
   * it; a friend with no reason left is deleted, unless the user added or accepted it, it is pinned to another persona,
   * or it is one of ours.
   */
  reconcilePersona(P: string): void {
    const entry = this.s.table.personas[P];
    const listed = new Set(entry?.devices.map((d) => d.publicKey) ?? []);
    for (const [pk, f] of Object.entries(this.s.friends)) {
      if (f.autoAddedAt === null) continue;
      const has = f.personas.includes(P);
      if (listed.has(pk) && !has && f.personas.length < MAX_PERSONAS_PER_FRIEND) {
        this.setFriend(pk, { ...f, personas: [...f.personas, P] });
        this.touch('hard', 'provenance');
      } else if (!listed.has(pk) && has) {
        const rest = f.personas.filter((x) => x !== P);
        this.setFriend(pk, { ...f, personas: rest });
        this.touch('hard', 'provenance');
        this.maybeDelete(pk, P);
      }
    }
  }

  maybeDelete(pk: string, personaId: string): void {
    const f = this.s.friends[pk];
    if (!f || f.user || f.accepted || f.personas.length > 0 || this.isOurs(pk)) return;
    const pin = this.s.table.pins[pk];
    if (pin && pin !== personaId) return;
    this.log('info', 'deleting a device no persona lists any more', { persona: personaId, device: pk });
    this.effects.push({ type: 'deleteFriend', publicKey: pk, personaId });
  }

  // ------------------------------------------------------------ results of effects, requests, timers

  friendAdded(pk: string, existing: boolean): Reduction {
    if (!this.s.friends[pk]) {
      this.setFriend(pk, userProvenance());
      this.touch('hard', 'friend recorded');
    }
    if (!this.s.table.friends[pk]) {
      this.s.table = observeFriend(this.s.table, pk);
      this.touch(existing ? 'soft' : 'hard', 'friend observed');
    }
    return this.done();
  }

  friendAddFailed(pk: string, code: string): Reduction {
    const f = this.s.friends[pk];
    if (f && f.autoAddedAt !== null && !f.user && !f.accepted) {
      this.setFriend(pk, undefined);
      this.touch('hard', 'add failed');
    }
    this.log('warn', 'could not add friend', { device: pk, code });
    return this.done();
  }

  friendDeleted(pk: string, ok: boolean): Reduction {
    if (!ok) {
      this.log('warn', 'could not delete friend', { device: pk });
      return this.done();
    }
    this.setFriend(pk, undefined);
    this.s.table = forgetFriend(this.s.table, pk);
    this.s.lastStatus = omit(this.s.lastStatus, pk);
    this.s.rejections = omit(this.s.rejections, pk);
    this.touch('hard', 'friend deleted');
    return this.done();
  }

  /** A confirmed device of a verified persona: what `acceptRequests: personas` accepts. */
  isConfirmedDevice(pk: string): boolean {
    const pin = this.s.table.pins[pk];
    const e = pin ? this.s.table.personas[pin] : undefined;
    return !!e && (e.state === 'verified' || e.state === 'stale') && e.devices.some((d) => d.publicKey === pk && d.confirmed);
  }

  friendRequest(pk: string, message: string): Reduction {
    const policy = this.env.acceptRequests;
    const known = this.isConfirmedDevice(pk);
    if (!this.s.blocked.includes(pk) && (policy === 'all' || (policy === 'personas' && known))) {
      this.setFriend(pk, { ...(this.s.friends[pk] ?? userProvenance()), user: this.s.friends[pk]?.user ?? false, accepted: true });
      this.s.requests = this.s.requests.filter((r) => r.publicKey !== pk);
      stamp(this, pk, 'user');
      this.touch('hard', 'request accepted');
      this.log('info', 'friend request accepted by policy', { from: pk, policy, known });
      this.effects.push({ type: 'addFriend', publicKey: pk });
      return this.done();
    }
    const persona = this.requestPersona(pk);
    const q = queueRequest(this.s.requests, { publicKey: pk, message, receivedAt: iso(this.now), ...(persona ? { persona } : {}) });
    this.s.requests = q.requests;
    if (q.stored === 'repeat') {
      // A repeat (clients resend until accepted) refreshes the entry but waits for the periodic save.
      this.touch('soft', 'repeated request');
      this.log('debug', 'repeated friend request', { from: pk });
    } else if (q.stored === 'dropped') {
      // Counted and saved with the next save; a flood logs a warning at 1, 2, 4, 8, ... drops, not one per request.
      this.s.requestsDropped += 1;
      this.touch('soft', 'request dropped');
      const n = this.s.requestsDropped;
      this.log((n & (n - 1)) === 0 ? 'warn' : 'debug', 'friend request dropped: its bucket of the queue is full (older requests are kept)', { from: pk, bucket: q.bucket, max: q.max, droppedInAll: n });
    } else {
      this.touch('hard', 'request stored');
      this.log('info', 'friend request waiting for accept/decline', { from: pk, policy, bucket: q.bucket });
    }
    return this.done();
  }

  /**
   * The persona a request's key speaks for, which decides its bucket in the queue: the persona it is pinned to (it
   * confirmed it), else a verified persona the user stands behind that lists it; none for a stranger.
   */
  requestPersona(pk: string): string | undefined {
    const pin = this.s.table.pins[pk];
    if (pin) return pin;
    for (const e of Object.values(this.s.table.personas)) {
      if ((e.state === 'verified' || e.state === 'stale') && e.devices.some((d) => d.publicKey === pk) && this.vouched(e.personaId)) return e.personaId;
    }
    return undefined;
  }

  timer(): Reduction {
    const st = refreshStaleness(this.s.table, this.now);
    if (st.changed.length > 0) {
      this.s.table = st.table;
      this.touch('hard', 'stale');
      this.log('info', 'lists past their time-to-live are stale now', { personas: st.changed });
    }
    const live = this.s.autoAdds.filter((a) => this.now - a.at < this.limits.unconfirmedTimeout);
    if (live.length !== this.s.autoAdds.length) {
      this.s.autoAdds = live;
      this.touch('soft', 'budget window');
    }
    // Devices added automatically that never confirmed go again, and the same lists do not bring them back.
    for (const [pk, f] of Object.entries(this.s.friends)) {
      if (f.autoAddedAt === null || f.user || f.accepted || this.s.table.pins[pk] || this.isOurs(pk)) continue;
      if (this.now - f.autoAddedAt < this.limits.unconfirmedTimeout) continue;
      this.s.expired = [...this.s.expired.filter((k) => k !== pk), pk].slice(-MAX_EXPIRED_KEPT);
      this.setFriend(pk, { ...f, personas: [] });
      this.touch('hard', 'unconfirmed expired');
      this.log('info', 'deleting a device that never confirmed its persona', { device: pk, addedAt: f.autoAddedAt });
      this.effects.push({ type: 'deleteFriend', publicKey: pk });
    }
    const l = this.s.own.list;
    if (this.now >= l.issuedAt + l.ttl / 2) this.refreshOwn('ttl refresh');
    siblingTimer(this);
    if (this.s.softDirty && this.dirty !== 'hard') this.touch('hard', 'periodic');
    return this.done();
  }

  // ------------------------------------------------------------ our own list

  /** Signs a new version of our list with `devices`, chained to our newest list, and publishes it; throws StatusMessageTooLong before anything changes when it does not fit. */
  resign(devices: P.DeviceView[], why: string): void {
    this.publishOwn(signing(() => P.signNext(this.s.own.list, devices, this.env.key, this.now, this.env.ttlSeconds)), why);
  }

  /** Re-signs our list as the same version (same seq, new issuedAt): a refresh never outranks a newer list a sibling made. */
  refreshOwn(why: string): void {
    let next: P.SignedDeviceList;
    try {
      next = signing(() => P.signRefresh(this.s.own.list, this.env.key, this.now, this.env.ttlSeconds));
    } catch (err) {
      // A revoked signer (our persona rotated without us) or a clock far behind: keep publishing what we have, say why.
      this.log('warn', 'cannot refresh our list', { code: (err as ToxPersonaError).code, err: (err as Error).message });
      return;
    }
    this.publishOwn(next, why);
  }

  publishOwn(next: P.SignedDeviceList, why: string): void {
    const status = buildStatusMessage(next, this.env.statusText);
    this.s.own = next;
    this.touch('hard', why);
    this.log('info', 'published device list', { why, seq: next.list.seq, devices: next.list.devices.length });
    this.effects.push({ type: 'publish', statusMessage: status, seq: next.list.seq, why });
  }

  resolveOwnDevice(ref: string): string {
    const devices = P.devicesOf(this.s.own.list);
    const up = ref.trim().toUpperCase();
    const hits = devices.filter((d) => d.publicKey === up || (up.length >= 8 && d.publicKey.startsWith(up)) || d.name === ref);
    if (hits.length !== 1) throw new CompanionError(hits.length === 0 ? 'UNKNOWN_DEVICE' : 'AMBIGUOUS', hits.length === 0 ? `no device "${ref}" in the list` : `"${ref}" matches ${hits.length} devices`);
    return hits[0]!.publicKey;
  }

  // ------------------------------------------------------------ commands

  command(c: Command): Reduction {
    switch (c.cmd) {
      case 'start': {
        const l = this.s.own.list;
        if (this.now - l.issuedAt > l.ttl / 2 || l.ttl !== this.env.ttlSeconds) this.refreshOwn('refresh');
        else this.effects.push({ type: 'publish', statusMessage: buildStatusMessage(this.s.own, this.env.statusText), seq: l.seq, why: 'start' });
        return this.done();
      }
      case 'deviceAdd': {
        const pk = normKey(c.publicKey);
        const devices = P.devicesOf(this.s.own.list);
        if (devices.some((d) => d.publicKey === pk)) throw new CompanionError('DEVICE_EXISTS', `device ${short(pk)} is already in the list`);
        const entry = { publicKey: pk, name: c.name };
        this.resign(c.active ? [entry, ...devices] : [...devices, entry], 'device added');
        return this.done({ result: P.devicesOf(this.s.own.list) });
      }
      case 'deviceRemove': {
        const pk = this.resolveOwnDevice(c.ref);
        if (pk === this.env.selfKey) throw new CompanionError('OWN_DEVICE', 'this device cannot remove itself from the list');
        const devices = P.devicesOf(this.s.own.list).filter((d) => d.publicKey !== pk);
        if (devices.length === 0) throw new CompanionError('LAST_DEVICE', 'a list needs at least one device');
        this.resign(devices, 'device removed');
        return this.done({ result: P.devicesOf(this.s.own.list) });
      }
      case 'deviceActivate': {
        const pk = this.resolveOwnDevice(c.ref);
        const devices = P.devicesOf(this.s.own.list);
        this.resign([devices.find((x) => x.publicKey === pk)!, ...devices.filter((x) => x.publicKey !== pk)], 'device activated');
        return this.done({ result: P.devicesOf(this.s.own.list) });
      }
      case 'adoptOwn': {
        const status = buildStatusMessage(c.signed, this.env.statusText);
        this.s.own = c.signed;
        this.touch('hard', c.why);
        this.effects.push({ type: 'publish', statusMessage: status, seq: c.signed.list.seq, why: c.why });
        return this.done({ result: P.devicesOf(c.signed.list) });
      }
      case 'siblingAdd': {
        const pk = normKey(c.publicKey);
        if (pk === this.env.selfKey || !P.devicesOf(this.s.own.list).some((d) => d.publicKey === pk)) {
          throw new CompanionError('UNKNOWN_DEVICE', `device ${short(pk)} is not another device of our list`);
        }
        // The user enrolled it: a user's friend, so no rule of the automatic adds removes it later.
        this.setFriend(pk, { ...(this.s.friends[pk] ?? userProvenance()), user: true });
        this.s.blocked = this.s.blocked.filter((k) => k !== pk);
        this.s.expired = this.s.expired.filter((k) => k !== pk);
        this.touch('hard', 'sibling added');
        this.effects.push({ type: 'addFriend', publicKey: pk });
        return this.done({ result: { publicKey: pk } });
      }
      case 'friendAdd': {
        const addr = c.address.trim().toUpperCase();
        if (!/^[0-9A-F]{76}$/.test(addr)) throw new CompanionError('BAD_ARGUMENT', 'a Tox ID is 76 hex characters');
        const pk = addr.slice(0, 64);
        this.setFriend(pk, { ...(this.s.friends[pk] ?? userProvenance()), user: true });
        this.s.blocked = this.s.blocked.filter((k) => k !== pk);
        this.s.expired = this.s.expired.filter((k) => k !== pk);
        stamp(this, pk, 'user');
        this.touch('hard', 'friend added');
        this.effects.push({ type: 'addFriend', publicKey: pk, address: addr, message: c.message || 'tox-persona' });
        return this.done({ result: { publicKey: pk } });
      }
      case 'friendRemove': {
        const pk = pickOne(Object.keys(this.s.friends), c.ref, 'UNKNOWN_FRIEND', 'friend');
        // The user's removal is final for automatic adds: the block list keeps it out until the user adds it again.
        if (!this.s.blocked.includes(pk)) this.s.blocked = [...this.s.blocked, pk];
        if (!this.isOurs(pk)) stamp(this, pk, 'blocked');
        this.touch('hard', 'friend removed');
        this.effects.push({ type: 'deleteFriend', publicKey: pk });
        return this.done({ result: { publicKey: pk } });
      }
      case 'accept': {
        const pk = pickOne(this.s.requests.map((r) => r.publicKey), c.ref, 'UNKNOWN_REQUEST', 'pending friend request');
        const req = this.s.requests.find((r) => r.publicKey === pk)!;
        this.s.requests = this.s.requests.filter((r) => r.publicKey !== pk);
        this.s.blocked = this.s.blocked.filter((k) => k !== pk);
        const had = this.s.friends[pk];
        this.setFriend(pk, { ...(had ?? userProvenance()), user: had?.user ?? false, accepted: true });
        stamp(this, pk, 'user');
        this.touch('hard', 'request accepted');
        if (!had) this.effects.push({ type: 'addFriend', publicKey: pk });
        return this.done({ result: req });
      }
      case 'decline': {
        const pk = pickOne(this.s.requests.map((r) => r.publicKey), c.ref, 'UNKNOWN_REQUEST', 'pending friend request');
        const req = this.s.requests.find((r) => r.publicKey === pk)!;
        this.s.requests = this.s.requests.filter((r) => r.publicKey !== pk);
        this.touch('hard', 'request declined');
        return this.done({ result: req });
      }
      case 'approve':
        return this.approve(c.ref);
      case 'reject': {
        const pend = P.pendingFor(this.s.table, c.ref);
        if (pend.length === 0) throw new CompanionError('NO_PENDING', `no pending update for "${c.ref}"`);
        for (const p of pend) {
          recordDecision(this, p.personaId, p.record, 'reject');
          this.s.table = rejectPending(this.s.table, p.id);
        }
        this.touch('hard', 'rejected');
        this.log('info', 'pending update rejected', { persona: pend[0]!.personaId, count: pend.length });
        return this.done({ result: pend[0]!.personaId });
      }
      case 'vouch': {
        const id = pickOne([...new Set([...Object.values(this.s.table.personas).filter((e) => e.state !== 'provisional').map((e) => e.personaId), ...this.s.table.pending.map((p) => p.personaId)])], c.ref, 'UNKNOWN_PERSONA', 'persona');
        if (!this.s.vouched.includes(id)) this.s.vouched = [...this.s.vouched, id];
        this.touch('hard', 'vouched');
        const e = this.s.table.personas[id];
        if (e && e.state === 'verified') for (const d of e.devices) if (!this.s.friends[d.publicKey]) this.autoAdd(id, d.publicKey, undefined);
        return this.done({ result: id });
      }
    }
  }

  approve(ref: string): Reduction {
    const pend = P.pendingFor(this.s.table, ref).sort((x, y) => y.seq - x.seq);
    if (pend.length === 0) throw new CompanionError('NO_PENDING', `no pending update for "${ref}"`);
    const personaId = pend[0]!.personaId;
    recordDecision(this, personaId, pend[0]!.record, 'approve');
    const r = approvePending(this.s.table, pend[0]!.id, this.now, { selfDevices: this.selfDevices() });
    this.s.table = r.table;
    // Approving is vouching: the user looked at this persona's list.
    if (!this.s.vouched.includes(personaId)) this.s.vouched = [...this.s.vouched, personaId];
    // The pending entry is consumed either way, so the table is saved before a refusal is reported.
    this.touch('hard', 'approved');
    this.actions(r.actions);
    const o = r.outcome;
    if (o.kind !== 'applied') {
      const why = o.kind === 'rejected' || o.kind === 'ignored' ? o.reason : o.kind;
      const detail = o.kind === 'rejected' ? `: ${o.detail}` : '';
      this.log('warn', 'pending update refused on approval', { persona: personaId, outcome: o.kind, reason: why });
      return this.done({ outcome: o, error: new CompanionError('APPROVE_REFUSED', `the pending update of ${short(personaId)} was refused (${why}${detail}); it is dropped and nothing changed`) });
    }
    this.reconcilePersona(personaId);
    this.log('info', 'pending update approved', { persona: personaId });
    return this.done({ outcome: o, result: personaId });
  }
}

/**
 * How much a table update matters for saving: `hard` when the persona's list, state, pins, pending updates or evidence
 * changed; `soft` when only bookkeeping (lastSeen) moved; `none` when nothing did (an ignored replay, a rejected blob).
 */
function tableChange(before: PersonaTable, after: PersonaTable, from: string, o: Outcome): Dirty {
  if (before === after) return 'none';
  if (o.kind === 'none' || o.kind === 'rejected') return Object.keys(before.personas).length === Object.keys(after.personas).length ? 'none' : 'hard';
  if (before.evidence.length !== after.evidence.length || before.pins[from] !== after.pins[from]) return 'hard';
  if (Object.keys(before.pins).length !== Object.keys(after.pins).length || Object.keys(before.personas).length !== Object.keys(after.personas).length) return 'hard';
  if (before.pending.length !== after.pending.length || before.pending.some((p, i) => p.id !== after.pending[i]?.id)) return 'hard';
  if (!('personaId' in o)) return 'none';
  const a = before.personas[o.personaId];
  const b = after.personas[o.personaId];
  // Updates copy containers but replace only what they change, so identity says what changed.
  if (a === b) return before.pending.every((p, i) => p === after.pending[i]) ? 'none' : 'soft';
  if (!a || !b || a.state !== b.state || a.seq !== b.seq || a.contentHash !== b.contentHash || a.issuedAt !== b.issuedAt) return 'hard';
  if (a.devices.some((d, i) => d.confirmed !== b.devices[i]?.confirmed)) return 'hard';
  return 'soft';
}

/** The active device of a persona: the first one that confirmed it (a listed, unconfirmed key speaks for no one). */
export function activeDevice(table: PersonaTable, personaId: string): string | undefined {
  const e = table.personas[personaId];
  return e?.devices.find((d) => d.confirmed && table.pins[d.publicKey] === personaId)?.publicKey;
}

/** The one key in `keys` that `ref` names (full key or a prefix of 8+ hex); none is `code`, several is `AMBIGUOUS`. */
export function pickOne(keys: readonly string[], ref: string, code: string, what: string): string {
  const up = ref.trim().toUpperCase();
  if (keys.includes(up)) return up;
  const hits = up.length >= 8 ? keys.filter((k) => k.startsWith(up)) : [];
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) throw new CompanionError('AMBIGUOUS', `"${ref}" matches ${hits.length} of them (${what}); give more of the key`);
  throw new CompanionError(code, `no ${what} "${ref}"`);
}

/** A public key from 64 hex or a 76-hex Tox ID (its first 32 bytes), uppercase; anything else is BAD_ARGUMENT. */
export function normKey(text: string): string {
  const t = text.trim().toUpperCase();
  const pk = /^[0-9A-F]{76}$/.test(t) ? t.slice(0, 64) : t;
  if (!/^[0-9A-F]{64}$/.test(pk)) throw new CompanionError('BAD_ARGUMENT', `not a Tox public key (64 hex) or Tox ID (76 hex): "${text}"`);
  return pk;
}

/** Runs a signing step; the signer's refusals (SIGNER_REVOKED, SEQ_AHEAD_OF_CLOCK, NO_SIGNER) become CompanionErrors with the same code. */
function signing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ToxPersonaError && (err.code === 'SIGNER_REVOKED' || err.code === 'SEQ_AHEAD_OF_CLOCK' || err.code === 'NO_SIGNER')) throw new CompanionError(err.code, err.message);
    throw err;
  }
}

function omit<T>(rec: Record<string, T>, key: string): Record<string, T> {
  if (!(key in rec)) return rec;
  const out = { ...rec };
  delete out[key];
  return out;
}

function iso(now: number): string {
  return new Date(now * 1000).toISOString();
}

function short(pk: string): string {
  return `${pk.slice(0, 8)}…`;
}

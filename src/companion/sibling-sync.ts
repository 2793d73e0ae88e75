// Sibling sync, the rules (docs/SIBLING-SYNC.md): what the devices of one persona tell each other and what a device
// takes from what a sibling says. Pure functions over the reducer's run (reducer.ts calls them): events in, effects out.
// A sibling is a device our own current signed list names; it speaks only for what that membership allows, and every
// list it relays is judged by the protocol's rules, never taken on its word.
import { createHash } from 'node:crypto';
import * as P from './persona-port.js';
import { base64urlDecodeStrict, base64urlEncode } from '../persona/base64url.js';
import { parseSignedRecord, signedRecord, versionHash } from '../persona/list.js';
import { applyStatusMessage, approvePending, rejectPending, type Action, type Outcome } from '../persona/table.js';
import { bytesToHex } from '../util/bytes.js';
import { MAX_ITEMS, type CoreMessage, type HelloMessage, type StateMessage, type SyncDecision, type SyncRegister } from './sibling-codec.js';
import type { AlarmRecord, CompanionState, Effect, FriendProvenance, ReducerEnv } from './reducer.js';

/** Registers kept (blocked ones are never dropped for room; the oldest others go first). */
export const MAX_REGISTERS = 4096;
/** Decisions kept (the oldest go first). */
export const MAX_DECISIONS = 256;
/** Dropped own devices remembered until they are no longer friends. */
export const MAX_DROPPED = 256;
/** A stamp more than this far after our clock is refused (ms): no sibling can make an item win for ever. */
export const MAX_STAMP_LEAD_MS = 300_000;

/** What sibling sync persists besides the existing state: stamped registers, decisions, and dropped own devices. */
export interface SiblingSyncState {
  /** The last stamped word per friend key (blocked / user / auto). */
  registers: Record<string, Omit<SyncRegister, 'key'>>;
  /** The user's approve/reject decisions of held lists, by persona and version. */
  decisions: SyncDecision[];
  /** Devices our own list dropped: deleted as friends here until they are gone. */
  dropped: string[];
}

/** An empty sibling-sync state (a fresh or older data directory). */
export function emptySiblingState(): SiblingSyncState {
  return { registers: {}, decisions: [], dropped: [] };
}

/** The reducer run as the rules need it (implemented by reducer.ts's Run). */
export interface SiblingRun {
  s: CompanionState;
  readonly env: ReducerEnv;
  readonly now: number;
  readonly effects: Effect[];
  touch(level: 'none' | 'soft' | 'hard', why: string): void;
  log(level: 'debug' | 'info' | 'warn', msg: string, fields: Record<string, unknown>): void;
  alarm(rec: AlarmRecord): void;
  actions(actions: readonly Action[], from?: string): void;
  autoAdd(personaId: string, pk: string, from: string | undefined): void;
  reconcilePersona(personaId: string): void;
  setFriend(pk: string, f: FriendProvenance | undefined): void;
  isOurs(pk: string): boolean;
  selfDevices(): string[];
  adoptOwn(from: string, text: string | Uint8Array): void;
}

/** True when `pk` is another device of our own current signed list. */
export function isSibling(s: CompanionState, env: ReducerEnv, pk: string): boolean {
  return pk !== env.selfKey && s.own.list.devices.some((d) => bytesToHex(d.publicKey) === pk);
}

/** The status message carrying a bare signed record (raw envelope), so it goes through the same decoder as any status message. */
export function statusOfRecord(record: Uint8Array): string {
  const blob = new Uint8Array(record.length + 1);
  blob[0] = 0x01;
  blob.set(record, 1);
  return `~tp1:${base64urlEncode(blob)}`;
}

const stampMs = (now: number) => Math.round(now * 1000);
const newer = (a: { t: number; by: string }, b: { t: number; by: string }) => a.t > b.t || (a.t === b.t && a.by > b.by);

// ------------------------------------------------------------------------------------------------ local changes

/** Records the user's (or the machinery's) word about friend key `key`, stamped now by this device. */
export function stamp(run: SiblingRun, key: string, kind: SyncRegister['kind'], personas: string[] = []): void {
  const cur = run.s.sibling.registers[key];
  // The machinery's word never replaces the user's.
  if (kind === 'auto' && cur && cur.kind !== 'auto') return;
  setRegister(run, key, { kind, t: Math.max(stampMs(run.now), (cur?.t ?? 0) + 1), by: run.env.selfKey, personas: personas.slice(0, MAX_ITEMS.personasPerRegister) });
  if (kind === 'user') run.s.sibling = { ...run.s.sibling, dropped: run.s.sibling.dropped.filter((k) => k !== key) };
}

function setRegister(run: SiblingRun, key: string, reg: Omit<SyncRegister, 'key'>): void {
  let registers = { ...run.s.sibling.registers, [key]: reg };
  const keys = Object.keys(registers);
  if (keys.length > MAX_REGISTERS) {
    const victims = keys.filter((k) => registers[k]!.kind !== 'blocked').sort((a, b) => registers[a]!.t - registers[b]!.t).slice(0, keys.length - MAX_REGISTERS);
    registers = { ...registers };
    for (const k of victims) delete registers[k];
  }
  run.s.sibling = { ...run.s.sibling, registers };
}

/** The version hash (lowercase hex) of a stored base64url record, or undefined when it does not parse. */
function versionOfRecord(record: string): string | undefined {
  const bytes = base64urlDecodeStrict(record);
  const parsed = bytes ? parseSignedRecord(bytes) : undefined;
  return parsed?.ok ? bytesToHex(versionHash(parsed.value.list), false) : undefined;
}

/** Records the user's decision about a held list (its record, base64url), stamped now by this device. */
export function recordDecision(run: SiblingRun, personaId: string, record: string, decision: SyncDecision['decision']): void {
  const version = versionOfRecord(record);
  if (!version) return;
  putDecision(run, { personaId, version, decision, t: stampMs(run.now), by: run.env.selfKey });
}

function putDecision(run: SiblingRun, d: SyncDecision): boolean {
  const cur = run.s.sibling.decisions.find((x) => x.personaId === d.personaId && x.version === d.version);
  if (cur && !newer(d, cur)) return false;
  const rest = run.s.sibling.decisions.filter((x) => x !== cur);
  run.s.sibling = { ...run.s.sibling, decisions: [...rest, d].sort((a, b) => a.t - b.t).slice(-MAX_DECISIONS) };
  return true;
}

/** Applies known decisions to held lists (all of them, or the one with `pendingId`): a list rejected on one sibling stays rejected here. */
export function applyDecisions(run: SiblingRun, pendingId?: string): void {
  for (const p of [...run.s.table.pending]) {
    if (pendingId !== undefined && p.id !== pendingId) continue;
    const d = run.s.sibling.decisions.find((x) => x.personaId === p.personaId && x.version === versionOfRecord(p.record));
    if (!d || !run.s.table.pending.some((x) => x.id === p.id)) continue;
    if (d.decision === 'reject') {
      run.s.table = rejectPending(run.s.table, p.id);
      run.log('info', 'held list rejected by a decision made on a sibling', { persona: p.personaId, by: d.by });
    } else {
      const r = approvePending(run.s.table, p.id, run.now, { selfDevices: run.selfDevices() });
      run.s.table = r.table;
      if (!run.s.vouched.includes(p.personaId)) run.s.vouched = [...run.s.vouched, p.personaId];
      run.actions(r.actions);
      if (r.outcome.kind === 'applied') run.reconcilePersona(p.personaId);
      run.log('info', 'held list approved by a decision made on a sibling', { persona: p.personaId, by: d.by, outcome: r.outcome.kind });
    }
    run.touch('hard', 'sibling decision');
  }
}

/**
 * After our own list changed: befriend every device it names (no request: they add us too), and delete every device
 * it dropped, whoever added it (a stolen device removed from the persona must stop being a friend of the others).
 */
export function reconcileSiblings(run: SiblingRun, before: P.SignedDeviceList): void {
  const now = P.devicesOf(run.s.own.list).map((d) => d.publicKey);
  const was = P.devicesOf(before.list).map((d) => d.publicKey);
  for (const pk of now) {
    if (pk === run.env.selfKey) continue;
    if (run.s.sibling.dropped.includes(pk)) run.s.sibling = { ...run.s.sibling, dropped: run.s.sibling.dropped.filter((k) => k !== pk) };
    if (run.s.friends[pk]) continue;
    run.setFriend(pk, { user: true, accepted: false, personas: [], introducer: null, autoAddedAt: null });
    run.s.blocked = run.s.blocked.filter((k) => k !== pk);
    run.touch('hard', 'sibling befriended');
    run.log('info', 'befriending a device of our own list', { device: pk });
    run.effects.push({ type: 'addFriend', publicKey: pk });
  }
  for (const pk of was) {
    if (pk === run.env.selfKey || now.includes(pk)) continue;
    run.s.sibling = { ...run.s.sibling, dropped: [...run.s.sibling.dropped.filter((k) => k !== pk), pk].slice(-MAX_DROPPED) };
    run.touch('hard', 'sibling dropped');
    if (run.s.friends[pk]) {
      run.log('info', 'deleting a device our own list dropped', { device: pk });
      run.effects.push({ type: 'deleteFriend', publicKey: pk });
    }
  }
}

/** The periodic part: dropped own devices still friends are deleted again (a crash may have lost the delete); HELLO to every sibling. */
export function siblingTimer(run: SiblingRun): void {
  const keep: string[] = [];
  for (const pk of run.s.sibling.dropped) {
    if (!run.s.friends[pk]) continue;
    keep.push(pk);
    if (!isSibling(run.s, run.env, pk)) run.effects.push({ type: 'deleteFriend', publicKey: pk });
  }
  if (keep.length !== run.s.sibling.dropped.length) {
    run.s.sibling = { ...run.s.sibling, dropped: keep };
    run.touch('soft', 'dropped devices gone');
  }
  if (run.s.own.list.devices.length > 1) run.effects.push({ type: 'sibling', to: null, message: helloOf(run.s) });
}

// ------------------------------------------------------------------------------------------------ what we send

function recordBytes(record: string | null): Uint8Array | undefined {
  return record ? base64urlDecodeStrict(record) : undefined;
}

/** The lines the digest covers, in canonical order (held lists are left out: policies differ between devices). */
export function digestLines(s: CompanionState): string[] {
  // Our own list by version, not by bytes: each device refreshes the same version by itself at its own time.
  const out = [`own ${s.own.list.epoch ?? 0} ${s.own.list.seq} ${bytesToHex(versionHash(s.own.list), false)}`];
  for (const k of Object.keys(s.sibling.registers).sort()) {
    const r = s.sibling.registers[k]!;
    out.push(`reg ${k} ${r.kind} ${r.t} ${r.by} ${[...r.personas].sort().join(',')}`);
  }
  for (const d of s.sibling.decisions) out.push(`dec ${d.personaId} ${d.version} ${d.decision} ${d.t} ${d.by}`);
  for (const v of s.vouched) out.push(`vouch ${v}`);
  const own = bytesToHex(s.own.list.personaId);
  for (const [id, e] of Object.entries(s.table.personas)) {
    if (e.state === 'provisional' || id === own || !e.contentHash) continue;
    out.push(`list ${id} ${e.contentHash}`);
  }
  return out.sort();
}

/** A digest of the replicated state: equal digests mean there is nothing to exchange. */
export function digestOf(s: CompanionState): Uint8Array {
  return new Uint8Array(createHash('sha256').update(digestLines(s).join('\n')).digest());
}

/** HELLO: our list and digest. */
export function helloOf(s: CompanionState): HelloMessage {
  return { kind: 'hello', own: signedRecord(s.own), digest: digestOf(s) };
}

function listItem(s: CompanionState, id: string): StateMessage['lists'][number] | undefined {
  const e = s.table.personas[id];
  if (!e || e.state === 'provisional' || id === bytesToHex(s.own.list.personaId)) return undefined;
  const record = recordBytes(e.record);
  if (!record || !e.from) return undefined;
  return { record, from: e.from, confirmed: e.devices.filter((d) => d.confirmed && s.table.pins[d.publicKey] === id).map((d) => d.publicKey) };
}

/** Our whole replicated state as one STATE (the channel splits it when it is too big for one message). */
export function fullStateOf(s: CompanionState): StateMessage {
  return {
    kind: 'state',
    full: true,
    own: signedRecord(s.own),
    registers: Object.entries(s.sibling.registers).map(([key, r]) => ({ key, ...r })),
    decisions: [...s.sibling.decisions],
    vouched: [...s.vouched],
    lists: Object.keys(s.table.personas).map((id) => listItem(s, id)).filter((x) => x !== undefined),
    held: s.table.pending.map((p) => ({ record: recordBytes(p.record), from: p.from })).filter((h): h is { record: Uint8Array; from: string } => h.record !== undefined),
  };
}

/** What changed between two states that siblings should hear about, as a delta STATE; undefined when nothing did. */
export function deltaOf(before: CompanionState, after: CompanionState): StateMessage | undefined {
  const m: StateMessage = { kind: 'state', full: false, own: signedRecord(after.own), registers: [], decisions: [], vouched: [], lists: [], held: [] };
  let changed = before.own !== after.own;
  if (before.sibling.registers !== after.sibling.registers) {
    for (const [key, r] of Object.entries(after.sibling.registers)) if (before.sibling.registers[key] !== r) m.registers.push({ key, ...r });
  }
  if (before.sibling.decisions !== after.sibling.decisions) m.decisions = after.sibling.decisions.filter((d) => !before.sibling.decisions.includes(d));
  if (before.vouched !== after.vouched) m.vouched = after.vouched.filter((v) => !before.vouched.includes(v));
  if (before.table.personas !== after.table.personas) {
    for (const [id, e] of Object.entries(after.table.personas)) {
      const b = before.table.personas[id];
      if (b === e) continue;
      const confirmed = (x: typeof e | undefined) => x?.devices.filter((d) => d.confirmed).map((d) => d.publicKey).join(',');
      if (b && b.record === e.record && confirmed(b) === confirmed(e)) continue;
      const item = listItem(after, id);
      if (item) m.lists.push(item);
    }
  }
  if (before.table.pending !== after.table.pending) {
    const had = new Set(before.table.pending.map((p) => p.id));
    for (const p of after.table.pending) {
      const record = had.has(p.id) ? undefined : recordBytes(p.record);
      if (record) m.held.push({ record, from: p.from });
    }
  }
  changed ||= m.registers.length + m.decisions.length + m.vouched.length + m.lists.length + m.held.length > 0;
  return changed ? m : undefined;
}

// ------------------------------------------------------------------------------------------------ what we take

/**
 * A core message from friend `from`. The own list it carries is judged first, like a status message of ours from that
 * device (adopted only when newer, built from ours and naming the sender); then, unless `from` is a sibling under our
 * (possibly just updated) list, nothing else of it is read.
 */
export function receiveSibling(run: SiblingRun, from: string, m: CoreMessage): void {
  if (!isSibling(run.s, run.env, from)) {
    run.log('debug', 'sibling message from a friend that is not a device of our list: ignored', { from, kind: m.kind });
    return;
  }
  run.adoptOwn(from, statusOfRecord(m.own));
  if (!isSibling(run.s, run.env, from)) return;
  if (m.kind === 'hello') {
    const mine = digestOf(run.s);
    if (Buffer.compare(Buffer.from(mine), Buffer.from(m.digest)) !== 0) run.effects.push({ type: 'sibling', to: from, message: fullStateOf(run.s) });
    return;
  }
  const maxT = stampMs(run.now) + MAX_STAMP_LEAD_MS;
  for (const l of m.lists) takeList(run, from, l.record, l.from, l.confirmed);
  for (const h of m.held) takeList(run, from, h.record, h.from, []);
  for (const r of m.registers) if (r.t <= maxT) takeRegister(run, from, r);
  let decided = false;
  for (const d of m.decisions) if (d.t <= maxT && putDecision(run, d)) decided = true;
  if (decided) {
    run.touch('hard', 'sibling decisions');
    applyDecisions(run);
  }
  for (const v of m.vouched) takeVouch(run, from, v);
}

/** A list a sibling holds for a persona: fed through the table as a status message from the device it came from. */
function takeList(run: SiblingRun, sibling: string, record: Uint8Array, from: string, confirmed: string[]): void {
  const parsed = parseSignedRecord(record);
  if (!parsed.ok) return;
  const L = parsed.value.list;
  const id = bytesToHex(L.personaId);
  if (id === bytesToHex(run.s.own.list.personaId) || run.isOurs(from)) return;
  const e = run.s.table.personas[id];
  const b64 = base64urlEncode(record);
  // Older than what we hold: not worth a signature check, and no alarm blames a device for a sibling's late copy.
  if (e && e.seq !== null && e.state !== 'provisional') {
    const ep = L.epoch ?? 0;
    if (ep < (e.epoch ?? 0) || (ep === (e.epoch ?? 0) && L.seq < e.seq)) return;
  }
  if (run.s.table.pending.some((p) => p.record === b64)) return;
  const text = statusOfRecord(record);
  const feed = (device: string): Outcome | undefined => {
    const pin = run.s.table.pins[device];
    if (pin && pin !== id) return undefined;
    const r = applyStatusMessage(run.s.table, { from: device, text, now: run.now, policy: run.env.policy, selfDevices: run.selfDevices() });
    if (r.table !== run.s.table) run.s.table = r.table;
    run.actions(r.actions, sibling);
    return r.outcome;
  };
  const before = run.s.table;
  const o = e?.record === b64 ? { kind: 'unchanged' as const } : feed(from);
  const entry = () => run.s.table.personas[id];
  for (const c of confirmed) {
    if (c === from || run.isOurs(c)) continue;
    const d = entry()?.devices.find((x) => x.publicKey === c);
    if (!d || d.confirmed || entry()?.record !== b64) continue;
    feed(c);
  }
  if (run.s.table !== before) {
    run.touch('hard', 'sibling list');
    if (o?.kind === 'pending') applyDecisions(run, o.pendingId);
    if (entry() && entry()!.state !== 'provisional') run.reconcilePersona(id);
    run.log('info', 'took a list from a sibling', { sibling, persona: id, outcome: o?.kind ?? 'confirmations' });
  }
}

/**
 * A sibling's register for one friend key. Last writer wins by (t, device), except: a sibling never lifts a block here
 * (an unblock holds only where the user makes it), the machinery's word never replaces the user's, and keys of our own
 * list are governed by the signed list alone.
 */
function takeRegister(run: SiblingRun, sibling: string, r: SyncRegister): void {
  if (run.isOurs(r.key) || r.key === bytesToHex(run.s.own.list.personaId)) return;
  const cur = run.s.sibling.registers[r.key];
  if (cur && !newer(r, cur)) return;
  const blockedHere = run.s.blocked.includes(r.key);
  if (r.kind !== 'blocked' && blockedHere) return;
  if (r.kind === 'auto' && cur && cur.kind !== 'auto') return;
  setRegister(run, r.key, { kind: r.kind, t: r.t, by: r.by, personas: r.personas });
  run.touch('hard', 'sibling register');
  const f = run.s.friends[r.key];
  if (r.kind === 'blocked') {
    if (!blockedHere) run.s.blocked = [...run.s.blocked, r.key];
    run.s.requests = run.s.requests.filter((q) => q.publicKey !== r.key);
    if (f) {
      run.log('info', 'deleting a friend the user removed on a sibling', { friend: r.key, sibling });
      run.effects.push({ type: 'deleteFriend', publicKey: r.key });
    }
  } else if (r.kind === 'user') {
    run.s.expired = run.s.expired.filter((k) => k !== r.key);
    if (f && !f.user) run.setFriend(r.key, { ...f, user: true });
  } else if (f && !cur && f.user && !f.accepted && f.autoAddedAt === null && f.personas.length === 0) {
    // A friend we hold only as the user's because it came with a copied profile (device enroll): the sibling that
    // added it says the persona machinery did, so the persona that drops it takes it away here too.
    run.setFriend(r.key, { user: false, accepted: false, personas: r.personas, introducer: null, autoAddedAt: Math.floor(r.t / 1000) });
    for (const id of r.personas) {
      const e = run.s.table.personas[id];
      if (e && e.state !== 'provisional') run.reconcilePersona(id);
    }
  }
}

function takeVouch(run: SiblingRun, sibling: string, id: string): void {
  if (run.s.vouched.includes(id) || run.s.vouched.length >= MAX_ITEMS.vouched) return;
  run.s.vouched = [...run.s.vouched, id];
  run.touch('hard', 'sibling vouch');
  run.log('info', 'vouched for a persona on a sibling\'s word', { persona: id, sibling });
  const e = run.s.table.personas[id];
  if (e && e.state === 'verified') for (const d of e.devices) if (!run.s.friends[d.publicKey]) run.autoAdd(id, d.publicKey, sibling);
}

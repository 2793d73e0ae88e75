// The receiver side of group identity statements (docs/GROUPS.md section 5), pure: one group's statements by peer, the
// rules that accept or refuse a statement from a peer, the bounded alarms, and the view of peers grouped by persona.
import { bytesToHex } from '../util/bytes.js';
import { personaCrypto as crypto } from './sodium.js';
import { decodeGroupClaim, isGroupClaimPacket, GROUP_HEADER_BYTES, type GroupRejectReason } from './group-claim.js';
import { MAX_SEQ_LEAD_MS } from './list.js';

/** Clock-skew allowance: a statement dated more than this many seconds ahead of the receiver's clock is refused. */
export const GROUP_MAX_CLOCK_SKEW_SECONDS = MAX_SEQ_LEAD_MS / 1000;
/** Signature verifications one peer may cause per window; further statements in that window are dropped unverified. */
export const GROUP_VERIFY_BUDGET = 16;
/** The window of {@link GROUP_VERIFY_BUDGET}, in seconds. */
export const GROUP_VERIFY_WINDOW_SECONDS = 60;
/** Alarms kept per group (oldest dropped first); the same alarm from the same peer is kept once. */
export const MAX_GROUP_ALARMS = 32;
/** Peers whose statement a group keeps at most (NGC's default peer limit is 100); beyond it new peers are not held. */
export const MAX_GROUP_CLAIMS = 512;

/** What the receiver knows of a persona from its table: the epoch and devices of the verified list it holds. */
export interface KnownPersona {
  /** The epoch of the list held (statements under a lower epoch are revoked). */
  readonly epoch: number;
  /** The listed devices' Tox public keys, 64 uppercase hex. */
  readonly devices: readonly string[];
}

/** The table seen through a PersonaID (uppercase hex): its list if we hold one, else undefined (an unknown persona). */
export type PersonaLookup = (personaId: string) => KnownPersona | undefined;

/** A statement accepted from the peer it names. Keys are uppercase hex. */
export interface HeldClaim {
  readonly personaId: string;
  /** The device the sender claims to be. */
  readonly deviceKey: string;
  readonly epoch: number;
  readonly seq: number;
  readonly issuedAt: number;
  readonly ttl: number;
  /** Every binding in the statement (the sender's own and those it vouches for). */
  readonly entries: ReadonlyArray<{ readonly peerKey: string; readonly deviceKey: string }>;
  /** BLAKE2b-128 of the packet: an identical re-send is dropped before any verification. */
  readonly digest: string;
  readonly receivedAt: number;
}

/** Group alarm codes: a peer claiming a persona that does not list it, a revoked signer, or two claims of one peer or device. */
export type GroupAlarmCode = 'IMPOSTOR' | 'REVOKED_SIGNER' | 'DOUBLE_CLAIM';

/** An alarm about one peer of one group. */
export interface GroupAlarm {
  readonly code: GroupAlarmCode;
  /** The refusal reason behind it (NOT_LISTED, NOT_A_MEMBER, BAD_SIGNATURE, WRONG_GROUP, ...). */
  readonly reason: string;
  readonly peerKey: string;
  /** The persona claimed (when the packet names one). */
  readonly personaId: string | null;
  readonly detail: string;
  readonly at: number;
}

/** One group's receiver state. Never mutated: every update returns a new object. */
export interface GroupViewState {
  /** The group's chat id, 64 uppercase hex. */
  readonly chatId: string;
  /** The accepted statement of each peer, by its group peer key. */
  readonly claims: Readonly<Record<string, HeldClaim>>;
  readonly alarms: readonly GroupAlarm[];
  /** Verifications per peer in the current window. */
  readonly budget: Readonly<Record<string, { readonly windowStart: number; readonly count: number }>>;
}

/** Reasons the receiver adds to the decoder's: wrong group, freshness, consent, the persona's list, double claims, replays. */
export type GroupStateReason = 'WRONG_GROUP' | 'FUTURE_DATED' | 'EXPIRED' | 'NOT_A_MEMBER' | 'NOT_LISTED' | 'EPOCH_REVOKED' | 'DOUBLE_CLAIM' | 'STALE' | 'RATE_LIMITED';

/** What happened to one packet. */
export type GroupOutcome =
  | { kind: 'accepted'; personaId: string; deviceKey: string; known: boolean }
  | { kind: 'unchanged'; reason: 'DUPLICATE' | 'STALE' }
  | { kind: 'rejected'; reason: GroupRejectReason | GroupStateReason; detail: string }
  | { kind: 'ignored'; reason: 'NOT_OURS' };

/** The result of {@link applyGroupPacket}: the new state, the outcome, and the alarm raised (only when new). */
export interface GroupUpdate {
  state: GroupViewState;
  outcome: GroupOutcome;
  alarm?: GroupAlarm;
}

/** An empty state for the group with this chat id (hex). */
export function emptyGroupView(chatId: string): GroupViewState {
  return { chatId: chatId.toUpperCase(), claims: {}, alarms: [], budget: {} };
}

/** Decoder reasons that mean someone forged a persona's statement (the header names the persona): an impostor. */
const FORGERY: ReadonlySet<string> = new Set(['BAD_SIGNATURE', 'SIGNER_NOT_CERTIFIED']);

function withAlarm(state: GroupViewState, a: GroupAlarm): { state: GroupViewState; alarm?: GroupAlarm } {
  if (state.alarms.some((x) => x.code === a.code && x.reason === a.reason && x.peerKey === a.peerKey && x.personaId === a.personaId)) return { state };
  const alarms = [...state.alarms, a];
  if (alarms.length > MAX_GROUP_ALARMS) alarms.splice(0, alarms.length - MAX_GROUP_ALARMS);
  return { state: { ...state, alarms }, alarm: a };
}

/**
 * Applies one group custom packet from the peer with group key `from` (hex), following docs/GROUPS.md section 5 in
 * order. A packet that is not a statement is ignored; a refused one changes nothing but the verification budget and,
 * for an impostor, a revoked signer or a double claim, the alarms. Work per packet is bounded: one hash, and at most
 * one signature check while the peer's budget lasts.
 */
export function applyGroupPacket(state: GroupViewState, input: { from: string; data: Uint8Array; now: number; lookup: PersonaLookup }): GroupUpdate {
  const { data, now, lookup } = input;
  const from = input.from.toUpperCase();
  if (!isGroupClaimPacket(data)) return { state, outcome: { kind: 'ignored', reason: 'NOT_OURS' } };
  const digest = bytesToHex(crypto().hash(data, 16));
  const held = state.claims[from];
  if (held && held.digest === digest) return { state, outcome: { kind: 'unchanged', reason: 'DUPLICATE' } };

  const b = state.budget[from];
  const inWindow = b !== undefined && now - b.windowStart < GROUP_VERIFY_WINDOW_SECONDS;
  if (inWindow && b.count >= GROUP_VERIFY_BUDGET) {
    return { state, outcome: { kind: 'rejected', reason: 'RATE_LIMITED', detail: `more than ${GROUP_VERIFY_BUDGET} statements in ${GROUP_VERIFY_WINDOW_SECONDS} s` } };
  }
  let s: GroupViewState = { ...state, budget: { ...state.budget, [from]: inWindow ? { windowStart: b.windowStart, count: b.count + 1 } : { windowStart: now, count: 1 } } };
  const refuse = (reason: GroupRejectReason | GroupStateReason, detail: string, alarm?: { code: GroupAlarmCode; personaId: string | null }): GroupUpdate => {
    if (!alarm) return { state: s, outcome: { kind: 'rejected', reason, detail } };
    const r = withAlarm(s, { code: alarm.code, reason, peerKey: from, personaId: alarm.personaId, detail, at: now });
    return { state: r.state, outcome: { kind: 'rejected', reason, detail }, ...(r.alarm ? { alarm: r.alarm } : {}) };
  };

  const d = decodeGroupClaim(data);
  if (!d.ok) {
    const named = data.length >= GROUP_HEADER_BYTES ? bytesToHex(data.subarray(37, 69)) : null;
    return refuse(d.reason, d.detail, FORGERY.has(d.reason) ? { code: 'IMPOSTOR', personaId: named } : undefined);
  }
  const c = d.value.claim;
  const personaId = bytesToHex(c.personaId);
  const chatId = bytesToHex(c.chatId);
  if (chatId !== s.chatId) return refuse('WRONG_GROUP', `a statement for group ${chatId.slice(0, 8)}… replayed here`, { code: 'IMPOSTOR', personaId });
  if (c.issuedAt > now + GROUP_MAX_CLOCK_SKEW_SECONDS) return refuse('FUTURE_DATED', `issued at ${c.issuedAt}, more than ${GROUP_MAX_CLOCK_SKEW_SECONDS} s ahead of our clock`);
  if (now > c.issuedAt + c.ttl) return refuse('EXPIRED', `expired at ${c.issuedAt + c.ttl}`);
  const entries = c.entries.map((e) => ({ peerKey: bytesToHex(e.peerKey), deviceKey: bytesToHex(e.deviceKey) }));
  const mine = entries.find((e) => e.peerKey === from);
  if (!mine) return refuse('NOT_A_MEMBER', `peer ${from.slice(0, 8)}… sent persona ${personaId.slice(0, 8)}…'s statement, which does not name it`, { code: 'IMPOSTOR', personaId });
  const known = lookup(personaId);
  if (known) {
    if (c.epoch < known.epoch) return refuse('EPOCH_REVOKED', `signed under epoch ${c.epoch}, revoked by epoch ${known.epoch}`, { code: 'REVOKED_SIGNER', personaId });
    if (!known.devices.includes(mine.deviceKey)) {
      return refuse('NOT_LISTED', `peer ${from.slice(0, 8)}… claims to be device ${mine.deviceKey.slice(0, 8)}… of persona ${personaId.slice(0, 8)}…, whose list does not name it`, { code: 'IMPOSTOR', personaId });
    }
  }
  if (held) {
    if (held.personaId !== personaId) {
      return refuse('DOUBLE_CLAIM', `peer ${from.slice(0, 8)}… confirmed persona ${held.personaId.slice(0, 8)}… before and now claims ${personaId.slice(0, 8)}…`, { code: 'DOUBLE_CLAIM', personaId });
    }
    if (c.epoch < held.epoch || (c.epoch === held.epoch && c.seq <= held.seq)) return { state: s, outcome: { kind: 'unchanged', reason: 'STALE' } };
  }
  for (const [peer, h] of Object.entries(s.claims)) {
    if (peer !== from && h.personaId === personaId && h.deviceKey === mine.deviceKey) {
      return refuse('DOUBLE_CLAIM', `peers ${peer.slice(0, 8)}… and ${from.slice(0, 8)}… both claim device ${mine.deviceKey.slice(0, 8)}… of persona ${personaId.slice(0, 8)}…`, { code: 'DOUBLE_CLAIM', personaId });
    }
  }
  if (!held && Object.keys(s.claims).length >= MAX_GROUP_CLAIMS) return refuse('RATE_LIMITED', `already ${MAX_GROUP_CLAIMS} peers' statements held in this group`);
  const claim: HeldClaim = { personaId, deviceKey: mine.deviceKey, epoch: c.epoch, seq: c.seq, issuedAt: c.issuedAt, ttl: c.ttl, entries, digest, receivedAt: now };
  s = { ...s, claims: { ...s.claims, [from]: claim } };
  return { state: s, outcome: { kind: 'accepted', personaId, deviceKey: mine.deviceKey, known: known !== undefined } };
}

/** Forgets a peer that left the group: its statement and budget (so state stays bounded by the peers present). */
export function removeGroupPeer(state: GroupViewState, peerKey: string): GroupViewState {
  const k = peerKey.toUpperCase();
  if (!(k in state.claims) && !(k in state.budget)) return state;
  const { [k]: _c, ...claims } = state.claims;
  const { [k]: _b, ...budget } = state.budget;
  return { ...state, claims, budget };
}

/** One peer as the group view shows it under a persona. */
export interface GroupPeerView {
  peerKey: string;
  deviceKey: string;
  /** True when the peer sent the statement itself; false when only a confirmed device of the persona vouches for it. */
  confirmed: boolean;
}

/** A persona in a group: its peers (one per device). */
export interface GroupPersonaView {
  personaId: string;
  /** True when we hold the persona's verified list and checked each device against it; false for a persona we do not know. */
  known: boolean;
  peers: GroupPeerView[];
}

/** The view of one group: peers grouped by persona, the other peers, and the alarms. */
export interface GroupView {
  chatId: string;
  personas: GroupPersonaView[];
  /** Present peers no persona accounts for (ordinary clients, strangers, refused claims). */
  others: string[];
  alarms: GroupAlarm[];
}

/**
 * Groups the `present` peers (group keys, hex) by persona, re-checking every held statement against the table now (a
 * device the persona has since dropped, a revoked epoch or an expired statement no longer counts). A peer counts as
 * confirmed only through its own statement; a vouched peer is one a confirmed device's statement names, which has no
 * statement of its own and which no other persona vouches for first.
 */
export function groupView(state: GroupViewState, present: readonly string[], now: number, lookup: PersonaLookup): GroupView {
  const here = new Set(present.map((p) => p.toUpperCase()));
  const counts = (h: HeldClaim): boolean => {
    if (now > h.issuedAt + h.ttl) return false;
    const k = lookup(h.personaId);
    return !k || (h.epoch >= k.epoch && k.devices.includes(h.deviceKey));
  };
  const personas = new Map<string, GroupPersonaView>();
  const placed = new Set<string>();
  const claimed = new Set(Object.keys(state.claims).filter((p) => here.has(p)));
  for (const peer of [...claimed].sort()) {
    const h = state.claims[peer]!;
    if (!counts(h)) continue;
    let p = personas.get(h.personaId);
    if (!p) personas.set(h.personaId, (p = { personaId: h.personaId, known: lookup(h.personaId) !== undefined, peers: [] }));
    p.peers.push({ peerKey: peer, deviceKey: h.deviceKey, confirmed: true });
    placed.add(peer);
  }
  for (const p of [...personas.values()].sort((a, b) => a.personaId.localeCompare(b.personaId))) {
    const k = lookup(p.personaId);
    const devices = new Set(p.peers.map((x) => x.deviceKey));
    for (const confirmed of [...p.peers]) {
      for (const e of state.claims[confirmed.peerKey]!.entries) {
        if (placed.has(e.peerKey) || claimed.has(e.peerKey) || !here.has(e.peerKey) || devices.has(e.deviceKey)) continue;
        if (k && !k.devices.includes(e.deviceKey)) continue;
        p.peers.push({ peerKey: e.peerKey, deviceKey: e.deviceKey, confirmed: false });
        placed.add(e.peerKey);
        devices.add(e.deviceKey);
      }
    }
  }
  return {
    chatId: state.chatId,
    personas: [...personas.values()],
    others: [...here].filter((p) => !placed.has(p)).sort(),
    alarms: [...state.alarms],
  };
}

// The companion in NGC groups (docs/GROUPS.md): publishes this device's signed group identity statement, verifies the
// statements of the other peers against the table (pure rules in src/persona/group-view.ts), keeps each group's view,
// raises alarms, and invites the persona's other devices into the groups it is in. libtoxcore without NGC: none of it.
import { EventEmitter } from 'node:events';
import type { Logger } from './log.js';
import { ToxNodePort } from './node-adapter.js';
import type { NodePort } from './node-port.js';
import type { ToxNode, GroupInviteEvent, GroupPacketEvent, GroupPeerExitEvent, GroupPeerJoinEvent, GroupSelfJoinEvent, GroupJoinFailEvent, FriendConnectionEvent } from '../tox/node.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { ToxPersonaError } from '../util/errors.js';
import { groupClaimPacket, signGroupClaimWith, MAX_GROUP_ENTRIES } from '../persona/group-claim.js';
import { applyGroupPacket, emptyGroupView, groupView, removeGroupPeer, type GroupAlarm, type GroupOutcome, type GroupView, type GroupViewState, type KnownPersona, type PersonaLookup } from '../persona/group-view.js';
import type { OwnSigner } from '../persona/own.js';
import type { PersonaTable } from '../persona/table.js';
import type { DeviceList } from '../persona/list.js';
import { registerSiblingMessage, sendToSiblings, type SiblingChannel, type SiblingMessageCodec } from './sibling-channel.js';

/** A refusal of a group operation: `GROUPS_UNAVAILABLE` (libtoxcore without NGC), `GROUPS_NEED_DAEMON`, `UNKNOWN_GROUP`, `BAD_ARGUMENT`. */
export class GroupsError extends ToxPersonaError {}

/** Seconds a statement counts (receivers refuse more than 7 days); it is re-signed at half of it. */
export const GROUP_STATEMENT_TTL_SECONDS = 24 * 3600;
/** After a peer joins, our statement is sent again at these delays (ms): its direct connection may not be up at once. */
export const GROUP_RESEND_DELAYS_MS: readonly number[] = [250, 1_000, 4_000, 12_000];
/** Every group's statement is sent again this often (ms), for peers that missed the others. */
export const GROUP_RESEND_EVERY_MS = 5 * 60_000;
/** How often one sibling is invited into one group at most, when it does not join. */
export const INVITE_ATTEMPTS = 3;
/** Time between two invites of one sibling into one group (and the period of the check). */
export const INVITE_RETRY_MS = 20_000;
/**
 * A join through a sibling's invite that has not completed after this long (ms) is given up (left, not as the user's
 * leave): libtoxcore ignores every further invite into a group it holds (Messenger.c group_not_added), and a join whose
 * handshake was lost stays pending for good (seen on 0.2.20 under load), so only leaving lets the sibling's next invite in.
 */
export const INVITE_JOIN_TIMEOUT_MS = 15_000;
/** Most group invites from non-siblings kept for `groups` (oldest out): a hostile friend can't grow the list. */
export const MAX_FOREIGN_INVITES = 16;
/** Most groups remembered as left here by the user (the oldest is forgotten first). */
export const MAX_GROUPS_LEFT = 256;

/** Sibling-channel message type (an extension, docs/SIBLING-SYNC.md): "my peer keys in the groups I am in". */
export const GROUP_KEYS_MESSAGE = 16;
/** Most (chat id, peer key) pairs in one GROUP_KEYS message. */
export const MAX_GROUP_KEYS = 64;

/** A GROUP_KEYS body: version 1, count (u8), then count × (chatId 32 || peerKey 32), uppercase hex in memory. */
export const groupKeysCodec: SiblingMessageCodec<Array<{ chatId: string; peerKey: string }>> = {
  encode(pairs) {
    const n = Math.min(pairs.length, MAX_GROUP_KEYS);
    const out = new Uint8Array(2 + 64 * n);
    out[0] = 1;
    out[1] = n;
    for (let i = 0; i < n; i++) {
      out.set(hexToBytes(pairs[i]!.chatId, 32, 'chatId'), 2 + 64 * i);
      out.set(hexToBytes(pairs[i]!.peerKey, 32, 'peerKey'), 2 + 64 * i + 32);
    }
    return out;
  },
  decode(body) {
    if (body.length < 2 || body[0] !== 1 || body[1]! > MAX_GROUP_KEYS || body.length !== 2 + 64 * body[1]!) return undefined;
    const pairs = [];
    for (let i = 0; i < body[1]!; i++) pairs.push({ chatId: bytesToHex(body.subarray(2 + 64 * i, 2 + 64 * i + 32)), peerKey: bytesToHex(body.subarray(2 + 64 * i + 32, 2 + 64 * (i + 1))) });
    return pairs;
  },
};

/** What the group module needs from the companion. */
export interface GroupHost {
  readonly node: NodePort;
  readonly log: Logger;
  /** Our PersonaID, 64 uppercase hex. */
  readonly personaId: string;
  /** This device's Tox public key, 64 uppercase hex. */
  readonly thisDevice: string;
  /** Our own current signed list (siblings are its other devices). */
  ownList(): DeviceList;
  /** The persona table (friends' verified lists). */
  table(): PersonaTable;
  /** What signs for this device; null when this device holds no signer (then it publishes nothing). */
  signer(): OwnSigner | null;
  /** The name we join groups under. */
  selfName(): string;
  /** Clock, Unix seconds. */
  now(): number;
  /** The sibling channel (typed messages between our devices), for GROUP_KEYS; absent in tests without one. */
  readonly siblings?: SiblingChannel;
  /** Marks the companion's state (profile.tox, which holds the groups) dirty so it is saved; absent in tests. */
  requestSave?(why: string): void;
  /**
   * Chat ids of the groups the user left on this device, oldest first (saved in friends.json with the next save): a
   * sibling's invite into one is not accepted, so a sibling that forgot (it restarted) cannot put this device back.
   */
  readonly groupsLeft?: Set<string>;
}

/** One group this companion is in. */
interface GroupRecord {
  number: number;
  chatId: string;
  /** Our own peer key in this group; empty until the join completed. */
  selfKey: string;
  joined: boolean;
  /** Present peers: peer number → peer key. */
  peers: Map<number, string>;
  state: GroupViewState;
  /** Our last statement: its packet, seq, when signed, and the entries it carried (to re-sign only on change). */
  statement: { packet: Uint8Array; seq: number; issuedAt: number; entries: string } | null;
  /** Siblings (device keys) invited into this group by this companion: when last, and how often (at most {@link INVITE_ATTEMPTS}). */
  invited: Map<string, { at: number; count: number }>;
  /** Siblings that were in this group and left by themselves: never invited back. */
  leftBySelf: Set<string>;
  /** Peers the user says are siblings running an ordinary client (peer key → device key): our statement vouches for them. */
  vouched: Map<string, string>;
  /** Peers our siblings told us over the sibling channel are theirs (peer key → sibling device key). */
  siblingPeers: Map<string, string>;
  /** Digest of the last statement of ours we relayed from this peer (a companion without a signer relays its siblings'). */
  relayed: string;
  timers: NodeJS.Timeout[];
  /** While a join through a sibling's invite is pending: gives it up after {@link INVITE_JOIN_TIMEOUT_MS}. */
  joinTimer?: NodeJS.Timeout | undefined;
}

/** `groups` output for one group. */
export interface GroupListing extends GroupView {
  group: number;
  joined: boolean;
  selfPeerKey: string | null;
  peerCount: number;
  invited: string[];
  leftBySelf: string[];
  /** Peer keys our siblings told us over the sibling channel (GROUP_KEYS). */
  siblingPeers: Array<{ peerKey: string; deviceKey: string }>;
}

/** Events for tests and the bench: a group's view may have changed; an alarm; a sibling was invited. */
export interface CompanionGroupEvents {
  changed: [{ chatId: string }];
  alarm: [GroupAlarm & { chatId: string }];
  invited: [{ chatId: string; device: string }];
  packet: [{ chatId: string; from: string; outcome: GroupOutcome }];
}

/** The companion's group features over one ToxNode. Startable: `start()` and `stop()` are idempotent. */
export class CompanionGroups extends EventEmitter<CompanionGroupEvents> {
  private readonly host: GroupHost;
  private readonly tox: ToxNode | undefined;
  private readonly groups = new Map<number, GroupRecord>();
  private readonly foreignInvites: Array<{ friend: string; groupName: string; at: number }> = [];
  private readonly unsubscribe: Array<() => void> = [];
  private running = false;
  private lastSeq = 0;
  /** What each sibling last told us over the sibling channel: chat id → (sibling device → its peer key). */
  private readonly siblingTold = new Map<string, Map<string, string>>();
  private resendTimer: NodeJS.Timeout | undefined;
  private inviteTimer: NodeJS.Timeout | undefined;

  constructor(host: GroupHost) {
    super();
    this.host = host;
    this.tox = host.node instanceof ToxNodePort ? host.node.tox : undefined;
  }

  /** Whether the loaded libtoxcore has NGC groups (and the node is a real one). */
  get available(): boolean {
    return this.tox !== undefined && this.tox.groupsAvailable;
  }

  /** Starts listening to group events; without NGC it says once, in the log, that the companion runs without groups. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (!this.available) {
      this.host.log.info({ libtoxcore: this.host.node.libtoxcoreVersion, code: 'GROUPS_UNAVAILABLE' }, 'NGC groups need libtoxcore 0.2.19 or newer: running without group features');
      return;
    }
    const t = this.tox!;
    const on = (event: string, fn: (e: never) => void) => {
      const g = (e: never) => this.guard(event, () => fn(e));
      t.on(event as never, g as never);
      this.unsubscribe.push(() => t.off(event as never, g as never));
    };
    on('groupSelfJoin', (e: GroupSelfJoinEvent) => this.onSelfJoin(e.group));
    on('groupJoinFail', (e: GroupJoinFailEvent) => this.host.log.warn({ group: e.group, reason: e.reason }, 'joining a group failed'));
    on('groupPeerJoin', (e: GroupPeerJoinEvent) => this.onPeerJoin(e.group, e.peer));
    on('groupPeerExit', (e: GroupPeerExitEvent) => this.onPeerExit(e));
    on('groupCustomPacket', (e: GroupPacketEvent) => this.onPacket(e));
    on('groupInvite', (e: GroupInviteEvent) => this.onInvite(e));
    on('friendConnection', (e: FriendConnectionEvent) => {
      if (e.status === 'none') return;
      this.inviteSiblings();
      const friend = bytesToHex(t.friendPublicKey(e.friend));
      if (this.siblings().includes(friend)) this.tellSiblings(friend);
    });
    if (this.host.siblings) registerSiblingMessage(this.host.siblings, GROUP_KEYS_MESSAGE, groupKeysCodec, (from, pairs) => this.guard('groupKeys', () => this.onSiblingKeys(from, pairs)));
    this.resendTimer = setInterval(() => this.guard('resend', () => {
      for (const g of this.groups.values()) this.publish(g);
    }), GROUP_RESEND_EVERY_MS);
    this.resendTimer.unref();
    this.inviteTimer = setInterval(() => this.guard('invite', () => this.inviteSiblings()), INVITE_RETRY_MS);
    this.inviteTimer.unref();
    // Groups libtoxcore loaded from profile.tox (groupsPersistence): we are still in them after a restart.
    for (const n of t.groupNumbers()) this.guard('loadedGroup', () => this.onSelfJoin(n));
  }

  /** Stops listening and every timer; the node itself (and its groups) belongs to the companion. */
  stop(): void {
    this.running = false;
    for (const f of this.unsubscribe.splice(0)) f();
    if (this.resendTimer) clearInterval(this.resendTimer);
    this.resendTimer = undefined;
    if (this.inviteTimer) clearInterval(this.inviteTimer);
    this.inviteTimer = undefined;
    for (const g of this.groups.values()) {
      for (const t of g.timers.splice(0)) clearTimeout(t);
      clearTimeout(g.joinTimer);
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.host.log.error({ event: what, err: (err as Error).message, code: (err as ToxPersonaError).code }, 'group event handler failed');
    }
  }

  private requireAvailable(): ToxNode {
    if (!this.available) {
      throw new GroupsError('GROUPS_UNAVAILABLE', `NGC groups need libtoxcore 0.2.19 or newer; this companion runs on ${this.host.node.libtoxcoreVersion} and has no group features`);
    }
    if (!this.running) throw new GroupsError('GROUPS_NEED_DAEMON', 'groups live in the running companion: start "tox-persona run" and ask it');
    return this.tox!;
  }

  // ------------------------------------------------------------------ operations

  /** Creates a group (we are its founder; private unless `public`, which anyone may join by chat id); we are in it at once. */
  create(name: string, privacy: 'private' | 'public' = 'private'): GroupListing {
    const t = this.requireAvailable();
    if (typeof name !== 'string' || name.length === 0) throw new GroupsError('BAD_ARGUMENT', 'a group name is required');
    if (privacy !== 'private' && privacy !== 'public') throw new GroupsError('BAD_ARGUMENT', 'privacy: "private" or "public"');
    const n = t.groupNew(name, this.host.selfName(), privacy);
    const g = this.record(n);
    this.onSelfJoin(n);
    return this.listing(g);
  }

  /** Joins a public group by chat id (64 hex); the join completes later (`groups` shows joined: false until then). */
  join(chatId: string, password?: string): GroupListing {
    const t = this.requireAvailable();
    const id = hexToBytes(chatId.trim(), 32, 'chat id');
    // The user joins again: their earlier leave no longer stands against a sibling's invite (the way back into a
    // private group, which cannot be joined by chat id), even when this join does not complete.
    if (this.host.groupsLeft?.delete(bytesToHex(id))) this.host.requestSave?.('group joined again');
    const existing = this.byChatId(bytesToHex(id));
    if (existing) return this.listing(existing);
    const n = t.groupJoin(id, this.host.selfName(), password || undefined);
    const g = this.record(n, bytesToHex(id));
    return this.listing(g);
  }

  /** Leaves a group (chat id, a unique prefix of 8+ hex, or its number). */
  leave(ref: string, partMessage?: string): { chatId: string } {
    const t = this.requireAvailable();
    const g = this.find(ref);
    t.groupLeave(g.number, partMessage);
    for (const timer of g.timers.splice(0)) clearTimeout(timer);
    clearTimeout(g.joinTimer);
    this.groups.delete(g.number);
    const left = this.host.groupsLeft;
    if (left) {
      left.delete(g.chatId);
      left.add(g.chatId);
      for (const old of left) {
        if (left.size <= MAX_GROUPS_LEFT) break;
        left.delete(old);
      }
    }
    this.host.requestSave?.('group left');
    this.tellSiblings();
    this.emit('changed', { chatId: g.chatId });
    return { chatId: g.chatId };
  }

  /**
   * The user's word that `peer` (a present peer's key, or 8+ hex of it) is our sibling `device` (key or unique prefix of
   * one in our list) running an ordinary client, which cannot send a statement itself: our statement names it from now
   * on, so companions show it under our persona as vouched, not confirmed (docs/GROUPS.md section 7).
   */
  vouch(ref: string, peerRef: string, deviceRef: string): GroupListing {
    this.requireAvailable();
    const g = this.find(ref);
    const pick = (r: string, keys: string[], what: string): string => {
      const k = String(r ?? '').trim().toUpperCase();
      if (!/^[0-9A-F]{8,64}$/.test(k)) throw new GroupsError('BAD_ARGUMENT', `${what}: 8 to 64 hex`);
      const hits = keys.filter((x) => x.startsWith(k));
      if (hits.length > 1) throw new GroupsError('AMBIGUOUS', `${k} matches ${hits.length} ${what}s`);
      if (hits.length === 0) throw new GroupsError(what === 'peer' ? 'UNKNOWN_PEER' : 'UNKNOWN_DEVICE', what === 'peer' ? `no peer ${k} in group ${g.chatId.slice(0, 8)}…` : `device ${k} is not another device of our list`);
      return hits[0]!;
    };
    const peer = pick(peerRef, [...g.peers.values()], 'peer');
    const device = pick(deviceRef, this.siblings(), 'device');
    g.vouched.set(peer, device);
    this.publish(g);
    this.emit('changed', { chatId: g.chatId });
    return this.listing(g);
  }

  /** Every group we are in, each with its peers grouped by persona and its alarms. */
  list(): { groups: GroupListing[]; invites: Array<{ friend: string; groupName: string; at: number }>; left: string[] } {
    this.requireAvailable();
    return { groups: [...this.groups.values()].map((g) => this.listing(g)), invites: [...this.foreignInvites], left: [...(this.host.groupsLeft ?? [])] };
  }

  /** One group's view (by chat id), or undefined when we are not in it. Cheap enough for tests and benches to poll. */
  view(chatId: string): GroupListing | undefined {
    const g = this.byChatId(chatId.toUpperCase());
    return g ? this.listing(g) : undefined;
  }

  private find(ref: string): GroupRecord {
    const r = String(ref ?? '').trim().toUpperCase();
    if (/^\d+$/.test(r) && r.length < 8) {
      const g = this.groups.get(Number(r));
      if (g) return g;
    } else if (/^[0-9A-F]{8,64}$/.test(r)) {
      const hits = [...this.groups.values()].filter((g) => g.chatId.startsWith(r));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new GroupsError('AMBIGUOUS', `${r} matches ${hits.length} groups`);
    } else {
      throw new GroupsError('BAD_ARGUMENT', 'a group is named by its chat id (or 8+ hex of it) or its number');
    }
    throw new GroupsError('UNKNOWN_GROUP', `not in a group ${r}`);
  }

  private byChatId(chatId: string): GroupRecord | undefined {
    for (const g of this.groups.values()) if (g.chatId === chatId) return g;
    return undefined;
  }

  private record(n: number, chatId = ''): GroupRecord {
    let g = this.groups.get(n);
    if (!g) {
      const id = chatId || bytesToHex(this.tox!.groupChatId(n));
      g = { number: n, chatId: id, selfKey: '', joined: false, peers: new Map(), state: emptyGroupView(id), statement: null, invited: new Map(), leftBySelf: new Set(), vouched: new Map(), siblingPeers: new Map(), relayed: '', timers: [] };
      const told = this.siblingTold.get(id);
      if (told) for (const [device, peer] of told) g.siblingPeers.set(peer, device);
      this.groups.set(n, g);
    }
    return g;
  }

  // ------------------------------------------------------------------ events

  private onSelfJoin(n: number): void {
    const g = this.record(n);
    g.chatId = bytesToHex(this.tox!.groupChatId(n));
    if (g.state.chatId !== g.chatId) g.state = emptyGroupView(g.chatId);
    g.selfKey = bytesToHex(this.tox!.groupSelfPublicKey(n));
    g.joined = true;
    clearTimeout(g.joinTimer);
    this.host.log.info({ group: n, chatId: g.chatId, peerKey: g.selfKey }, 'in group');
    // The profile now holds the group (with groupsPersistence): save it, so a restart finds us in it.
    this.host.requestSave?.('group joined');
    this.publish(g);
    this.scheduleResends(g);
    this.inviteSiblings(g);
    this.tellSiblings();
    this.emit('changed', { chatId: g.chatId });
  }

  private onPeerJoin(n: number, peer: number): void {
    const g = this.record(n);
    const key = bytesToHex(this.tox!.groupPeerPublicKey(n, peer));
    g.peers.set(peer, key);
    this.scheduleResends(g);
    this.emit('changed', { chatId: g.chatId });
  }

  private onPeerExit(e: GroupPeerExitEvent): void {
    const g = this.groups.get(e.group);
    if (!g) return;
    const key = g.peers.get(e.peer);
    if (key === undefined) return;
    g.peers.delete(e.peer);
    const vouchedDevice = g.vouched.get(key);
    if (vouchedDevice !== undefined && e.exitType === 'QUIT') g.leftBySelf.add(vouchedDevice);
    g.vouched.delete(key);
    // A sibling that quit by itself is the user's decision for that device: never invite it back into this group.
    const held = g.state.claims[key];
    if (held && held.personaId === this.host.personaId && e.exitType === 'QUIT') g.leftBySelf.add(held.deviceKey);
    g.state = removeGroupPeer(g.state, key);
    this.republishIfChanged(g);
    this.emit('changed', { chatId: g.chatId });
  }

  private onPacket(e: GroupPacketEvent): void {
    const g = this.groups.get(e.group);
    if (!g) return;
    let from = g.peers.get(e.peer);
    if (from === undefined) {
      from = bytesToHex(this.tox!.groupPeerPublicKey(e.group, e.peer));
      g.peers.set(e.peer, from);
    }
    this.applyTo(g, from, e.data);
  }

  private applyTo(g: GroupRecord, from: string, data: Uint8Array): void {
    const r = applyGroupPacket(g.state, { from, data, now: this.host.now(), lookup: this.lookup() });
    g.state = r.state;
    if (r.alarm) {
      this.host.log.warn({ chatId: g.chatId, code: r.alarm.code, reason: r.alarm.reason, peer: r.alarm.peerKey, persona: r.alarm.personaId, detail: r.alarm.detail }, 'GROUP ALARM');
      this.emit('alarm', { ...r.alarm, chatId: g.chatId });
    }
    if (r.outcome.kind !== 'ignored') this.emit('packet', { chatId: g.chatId, from, outcome: r.outcome });
    if (r.outcome.kind === 'accepted' && from !== g.selfKey && !this.host.signer() && r.outcome.personaId === this.host.personaId && g.selfKey && g.state.claims[from]!.entries.some((e) => e.peerKey === g.selfKey && e.deviceKey === this.host.thisDevice)) {
      // No signer here: a sibling's statement that names our peer, sent again from our peer, is our confirmation.
      const digest = g.state.claims[from]!.digest;
      if (g.relayed !== digest) {
        g.relayed = digest;
        try {
          this.tox!.groupSendCustomPacket(g.number, data, true);
        } catch (err) {
          this.host.log.debug({ chatId: g.chatId, code: (err as ToxPersonaError).code }, 'sibling statement not relayed');
        }
      }
    }
    if (r.outcome.kind === 'accepted') {
      // A sibling confirmed itself here: it is in the group (no invite needed), and our statement now names it too.
      this.republishIfChanged(g);
      this.emit('changed', { chatId: g.chatId });
    }
  }

  private onInvite(e: GroupInviteEvent): void {
    const friend = bytesToHex(this.tox!.friendPublicKey(e.friend));
    const sibling = this.siblings().includes(friend);
    if (!sibling) {
      this.foreignInvites.push({ friend, groupName: e.groupName, at: Math.floor(this.host.now()) });
      if (this.foreignInvites.length > MAX_FOREIGN_INVITES) this.foreignInvites.splice(0, this.foreignInvites.length - MAX_FOREIGN_INVITES);
      this.host.log.info({ friend, groupName: e.groupName }, 'group invite from a friend that is not one of our devices: not accepted');
      return;
    }
    // The invite data starts with the group's chat id (libtoxcore 0.2.19+, gc_accept_invite).
    const chatId = e.inviteData.length >= 32 ? bytesToHex(e.inviteData.subarray(0, 32)) : '';
    if (this.host.groupsLeft?.has(chatId)) {
      this.host.log.info({ friend, chatId, groupName: e.groupName }, 'a sibling invited us into a group the user left here: not accepted (groups join takes it back)');
      return;
    }
    const t = this.tox!;
    let n: number;
    try {
      n = t.groupInviteAccept(e.friend, e.inviteData, this.host.selfName());
    } catch (err) {
      // libtoxcore (gc_accept_invite) keeps the group it made when sending the accept fails (FAIL_SEND: the sibling
      // went offline meanwhile); held, it would take no further invite (group_not_added), so it goes at once.
      const made = chatId ? t.groupNumberOfChatId(chatId) : undefined;
      if (made !== undefined && !this.groups.has(made)) {
        t.groupLeave(made);
        this.host.log.warn({ friend, chatId, code: (err as ToxPersonaError).code }, 'accepting a sibling\'s group invite failed: dropped the half-made group, so that the next invite is taken');
        return;
      }
      throw err;
    }
    const g = this.record(n, chatId);
    this.host.log.info({ friend, groupName: e.groupName, group: n }, 'joining a group our sibling invited us to');
    clearTimeout(g.joinTimer);
    g.joinTimer = setTimeout(() => this.guard('inviteJoinTimeout', () => {
      if (g.joined || this.groups.get(n) !== g || !this.running) return;
      this.host.log.warn({ chatId, group: n, afterMs: INVITE_JOIN_TIMEOUT_MS }, 'a join through a sibling\'s invite did not complete: leaving it, so that the next invite is taken');
      this.groups.delete(n);
      t.groupLeave(n);
    }), INVITE_JOIN_TIMEOUT_MS);
    g.joinTimer.unref();
  }

  /** Tells our siblings (or one) our peer key in every group we are in: GROUP_KEYS over the sibling channel. */
  private tellSiblings(to?: string): void {
    if (!this.host.siblings) return;
    const pairs = [...this.groups.values()].filter((g) => g.joined && g.selfKey).map((g) => ({ chatId: g.chatId, peerKey: g.selfKey }));
    try {
      sendToSiblings(this.host.siblings, GROUP_KEYS_MESSAGE, pairs, to);
    } catch (err) {
      this.host.log.debug({ code: (err as ToxPersonaError).code }, 'group keys not sent to siblings');
    }
  }

  /** A sibling (authenticated by its Tox connection) says which peer key is its own in each group: our statement names it. */
  private onSiblingKeys(from: string, pairs: Array<{ chatId: string; peerKey: string }>): void {
    for (const told of this.siblingTold.values()) told.delete(from);
    for (const p of pairs) {
      let told = this.siblingTold.get(p.chatId);
      if (!told) this.siblingTold.set(p.chatId, (told = new Map()));
      told.set(from, p.peerKey);
    }
    for (const [chat, told] of this.siblingTold) if (told.size === 0) this.siblingTold.delete(chat);
    for (const g of this.groups.values()) {
      for (const [peer, device] of g.siblingPeers) if (device === from) g.siblingPeers.delete(peer);
      const peer = this.siblingTold.get(g.chatId)?.get(from);
      if (peer) g.siblingPeers.set(peer, from);
      this.republishIfChanged(g);
    }
  }

  // ------------------------------------------------------------------ publishing and invites

  /** The persona lookup for the receiver rules: our own list for our persona, else the table's verified or stale list. */
  private lookup(): PersonaLookup {
    const own = this.host.ownList();
    const table = this.host.table();
    return (id: string): KnownPersona | undefined => {
      if (id === this.host.personaId) return { epoch: own.epoch ?? 0, devices: own.devices.map((d) => bytesToHex(d.publicKey)) };
      const e = table.personas[id];
      if (!e || (e.state !== 'verified' && e.state !== 'stale') || e.epoch === null) return undefined;
      return { epoch: e.epoch, devices: e.devices.map((d) => d.publicKey) };
    };
  }

  private siblings(): string[] {
    return this.host.ownList().devices.map((d) => bytesToHex(d.publicKey)).filter((k) => k !== this.host.thisDevice);
  }

  /** The bindings our statement carries: ours first, then siblings that confirmed themselves in this group. */
  private entries(g: GroupRecord): Array<{ peerKey: string; deviceKey: string }> {
    const listed = new Set(this.siblings());
    const out = [{ peerKey: g.selfKey, deviceKey: this.host.thisDevice }];
    for (const [peer, h] of Object.entries(g.state.claims)) {
      if (out.length >= MAX_GROUP_ENTRIES) break;
      if (peer !== g.selfKey && h.personaId === this.host.personaId && listed.has(h.deviceKey) && !out.some((e) => e.deviceKey === h.deviceKey)) out.push({ peerKey: peer, deviceKey: h.deviceKey });
    }
    const present = new Set(g.peers.values());
    for (const [peer, device] of [...g.siblingPeers, ...g.vouched]) {
      if (out.length >= MAX_GROUP_ENTRIES) break;
      if (present.has(peer) && listed.has(device) && !(peer in g.state.claims) && !out.some((e) => e.deviceKey === device || e.peerKey === peer)) out.push({ peerKey: peer, deviceKey: device });
    }
    return out;
  }

  private republishIfChanged(g: GroupRecord): void {
    if (g.joined && g.statement && JSON.stringify(this.entries(g)) !== g.statement.entries) this.publish(g);
  }

  /** Signs (when the content changed or half the ttl passed) and sends our statement to the group. */
  private publish(g: GroupRecord): void {
    if (!g.joined || !g.selfKey) return;
    const signer = this.host.signer();
    if (!signer) return;
    const now = this.host.now();
    const entries = this.entries(g);
    const key = JSON.stringify(entries);
    if (!g.statement || g.statement.entries !== key || now > g.statement.issuedAt + GROUP_STATEMENT_TTL_SECONDS / 2) {
      const seq = Math.max(this.lastSeq + 1, Math.floor(now * 1000));
      this.lastSeq = seq;
      const signed = signGroupClaimWith(signer, {
        chatId: hexToBytes(g.chatId, 32, 'chatId'), personaId: hexToBytes(this.host.personaId, 32, 'personaId'), seq, issuedAt: Math.floor(now), ttl: GROUP_STATEMENT_TTL_SECONDS,
        entries: entries.map((e) => ({ peerKey: hexToBytes(e.peerKey, 32, 'peerKey'), deviceKey: hexToBytes(e.deviceKey, 32, 'deviceKey') })),
      });
      g.statement = { packet: groupClaimPacket(signed), seq, issuedAt: Math.floor(now), entries: key };
      // Our own statement goes through the same rules, so `groups` shows this device under our persona too.
      this.applyTo(g, g.selfKey, g.statement.packet);
    }
    try {
      this.tox!.groupSendCustomPacket(g.number, g.statement.packet, true);
    } catch (err) {
      // Alone in the group (no peer to send to) is not a failure worth a warning.
      this.host.log.debug({ chatId: g.chatId, code: (err as ToxPersonaError).code }, 'group statement not sent');
    }
  }

  private scheduleResends(g: GroupRecord): void {
    for (const t of g.timers.splice(0)) clearTimeout(t);
    for (const ms of GROUP_RESEND_DELAYS_MS) {
      const t = setTimeout(() => this.guard('resend', () => this.publish(g)), ms);
      t.unref();
      g.timers.push(t);
    }
  }

  /** Sibling device keys present in a group: confirmed by their own statement, or named by a sibling's. */
  private siblingsIn(g: GroupRecord): Set<string> {
    const present = new Set(g.peers.values());
    const inGroup = new Set<string>();
    for (const [peer, h] of Object.entries(g.state.claims)) {
      if (h.personaId !== this.host.personaId || (!present.has(peer) && peer !== g.selfKey)) continue;
      for (const e of h.entries) if (present.has(e.peerKey) || e.peerKey === g.selfKey) inGroup.add(e.deviceKey);
    }
    for (const [peer, device] of g.siblingPeers) if (present.has(peer)) inGroup.add(device);
    return inGroup;
  }

  /** Invites every online sibling friend that is not in the group, was not invited before and did not leave by itself. */
  inviteSiblings(only?: GroupRecord): void {
    if (!this.running || !this.available) return;
    const t = this.tox!;
    for (const g of only ? [only] : this.groups.values()) {
      if (!g.joined) continue;
      const here = this.siblingsIn(g);
      for (const device of this.siblings()) {
        if (here.has(device) || g.leftBySelf.has(device)) continue;
        // An invite sent the moment a friend connects is sometimes never seen by it: one that did not join is asked
        // again, a few times, spaced out (a sibling that joined and left by itself is in leftBySelf and never asked).
        const prior = g.invited.get(device);
        const now = Date.now();
        if (prior && (prior.count >= INVITE_ATTEMPTS || now - prior.at < INVITE_RETRY_MS)) continue;
        const friend = t.friendByPublicKey(device);
        if (friend === undefined || t.friendConnectionStatus(friend) === 'none') continue;
        try {
          t.groupInviteFriend(g.number, friend);
          g.invited.set(device, { at: now, count: (prior?.count ?? 0) + 1 });
          this.host.log.info({ chatId: g.chatId, device, attempt: (prior?.count ?? 0) + 1 }, 'invited a sibling into the group');
          if (!prior) this.emit('invited', { chatId: g.chatId, device });
        } catch (err) {
          this.host.log.warn({ chatId: g.chatId, device, code: (err as ToxPersonaError).code }, 'could not invite a sibling into the group');
        }
      }
    }
  }

  private listing(g: GroupRecord): GroupListing {
    const present = [...g.peers.values(), ...(g.selfKey ? [g.selfKey] : [])];
    return {
      group: g.number, joined: g.joined, selfPeerKey: g.selfKey || null, peerCount: g.peers.size,
      ...groupView(g.state, present, this.host.now(), this.lookup()),
      invited: [...g.invited.keys()], leftBySelf: [...g.leftBySelf],
      siblingPeers: [...g.siblingPeers].map(([peerKey, deviceKey]) => ({ peerKey, deviceKey })),
    };
  }
}

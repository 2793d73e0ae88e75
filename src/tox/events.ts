// How toxcore's events reach ToxNode on every libtoxcore version: registered C callbacks that only copy their arguments
// into a per-instance queue, which ToxNode dispatches after tox_iterate has returned.
//
// Why callbacks: 0.2.18's tox_events API has per-type getters that 0.2.19 replaced, and Debian's 0.2.22 exports no
// tox_events_* at all; tox_callback_* exist on every version. The guarantees of the events API are kept: a callback
// never throws into C (it catches everything and queues the error instead), and no listener runs while C is on the
// stack. bench/tox-events.ts measures what this costs against tox_events_iterate on 0.2.18.
import {
  enumNames,
  isAvailable,
  readBytes,
  registerCallback,
  Tox_Connection,
  Tox_Message_Type,
  Tox_User_Status,
  type CallbackName,
  type FunctionName,
  type Ptr,
  type ToxcoreCallbacks,
  type ToxFfi,
} from '../ffi/index.js';

/** A friend's index in this node's friend list (toxcore's `uint32_t friend_number`). */
export type FriendNumber = number;
/** A group's index in this node's group list (toxcore's `Tox_Group_Number`, 0.2.19+). */
export type GroupNumber = number;
/** A peer's index within one group (toxcore's `Tox_Group_Peer_Number`); only valid while the peer is in the group. */
export type GroupPeerNumber = number;
/** How we (or a friend) are connected: not at all, through a TCP relay, or directly over UDP. */
export type ConnectionStatus = 'none' | 'tcp' | 'udp';
/** The user-visible presence of a node. */
export type UserStatus = 'none' | 'away' | 'busy';
/** Plain chat message or `/me` action. */
export type MessageType = 'normal' | 'action';

/** Payload of `selfConnection`: our own link to the network changed. */
export interface SelfConnectionEvent {
  status: ConnectionStatus;
}
/** Payload of `friendRequest`: someone sent us a friend request. */
export interface FriendRequestEvent {
  publicKey: Uint8Array;
  /** The request text, decoded as UTF-8 (invalid sequences replaced). */
  message: string;
  /** The request text as sent. */
  bytes: Uint8Array;
}
/** Payload of `friendConnection`: a friend came online, went offline, or changed transport. */
export interface FriendConnectionEvent {
  friend: FriendNumber;
  status: ConnectionStatus;
}
/** Payload of `friendName`. */
export interface FriendNameEvent {
  friend: FriendNumber;
  name: string;
  bytes: Uint8Array;
}
/** Payload of `friendStatusMessage`; fires for every status-message packet, including an unchanged one at reconnect. */
export interface FriendStatusMessageEvent {
  friend: FriendNumber;
  /** Decoded as UTF-8 (invalid sequences replaced). */
  message: string;
  /** The status message as sent (what the persona layer verifies). */
  bytes: Uint8Array;
}
/** Payload of `friendStatus`. */
export interface FriendStatusEvent {
  friend: FriendNumber;
  status: UserStatus;
}
/** Payload of `friendMessage`. */
export interface FriendMessageEvent {
  friend: FriendNumber;
  type: MessageType;
  message: string;
  bytes: Uint8Array;
}
/** Payload of `friendLosslessPacket` and `friendLossyPacket`; `data[0]` is the packet id. */
export interface FriendPacketEvent {
  friend: FriendNumber;
  data: Uint8Array;
}
/** Payload of `friendTyping`. */
export interface FriendTypingEvent {
  friend: FriendNumber;
  typing: boolean;
}
/** Payload of `friendReadReceipt`: the friend received our message `messageId`. */
export interface FriendReadReceiptEvent {
  friend: FriendNumber;
  messageId: number;
}
/** Payload of `groupInvite`: a friend invites us to a group; pass `inviteData` to `groupInviteAccept`. */
export interface GroupInviteEvent {
  friend: FriendNumber;
  inviteData: Uint8Array;
  groupName: string;
}
/** Payload of `groupPeerJoin`: a peer joined one of our groups. */
export interface GroupPeerJoinEvent {
  group: GroupNumber;
  peer: GroupPeerNumber;
}
/** Payload of `groupPeerExit`: a peer left (or was kicked, or the group was left); `exitType` is the `Tox_Group_Exit_Type` short name. */
export interface GroupPeerExitEvent {
  group: GroupNumber;
  peer: GroupPeerNumber;
  exitType: string;
  name: string;
  partMessage: string;
}
/** Payload of `groupSelfJoin`: we joined a group (the join completed). */
export interface GroupSelfJoinEvent {
  group: GroupNumber;
}
/** Payload of `groupJoinFail`: joining failed; `reason` is the `Tox_Group_Join_Fail` short name (`PEER_LIMIT`, `INVALID_PASSWORD`, ...). */
export interface GroupJoinFailEvent {
  group: GroupNumber;
  reason: string;
}
/** Payload of `groupMessage` and `groupPrivateMessage`. */
export interface GroupMessageEvent {
  group: GroupNumber;
  peer: GroupPeerNumber;
  type: MessageType;
  message: string;
  bytes: Uint8Array;
  messageId: number;
}
/** Payload of `groupCustomPacket` and `groupCustomPrivatePacket`. */
export interface GroupPacketEvent {
  group: GroupNumber;
  peer: GroupPeerNumber;
  data: Uint8Array;
}
/** Payload of `groupPeerName`. */
export interface GroupPeerNameEvent {
  group: GroupNumber;
  peer: GroupPeerNumber;
  name: string;
}
/** Payload of `groupTopic`. */
export interface GroupTopicEvent {
  group: GroupNumber;
  peer: GroupPeerNumber;
  topic: string;
}
/** Payload of `groupModeration`; `type` is the `Tox_Group_Mod_Event` short name (`KICK`, `OBSERVER`, ...). */
export interface GroupModerationEvent {
  group: GroupNumber;
  sourcePeer: GroupPeerNumber;
  targetPeer: GroupPeerNumber;
  type: string;
}

/** The events that come from toxcore, by name; the group events only fire on libtoxcore 0.2.19+. */
export interface ToxcoreEvents {
  selfConnection: [SelfConnectionEvent];
  friendRequest: [FriendRequestEvent];
  friendConnection: [FriendConnectionEvent];
  friendName: [FriendNameEvent];
  friendStatusMessage: [FriendStatusMessageEvent];
  friendStatus: [FriendStatusEvent];
  friendMessage: [FriendMessageEvent];
  friendLosslessPacket: [FriendPacketEvent];
  friendLossyPacket: [FriendPacketEvent];
  friendTyping: [FriendTypingEvent];
  friendReadReceipt: [FriendReadReceiptEvent];
  groupInvite: [GroupInviteEvent];
  groupPeerJoin: [GroupPeerJoinEvent];
  groupPeerExit: [GroupPeerExitEvent];
  groupSelfJoin: [GroupSelfJoinEvent];
  groupJoinFail: [GroupJoinFailEvent];
  groupMessage: [GroupMessageEvent];
  groupPrivateMessage: [GroupMessageEvent];
  groupCustomPacket: [GroupPacketEvent];
  groupCustomPrivatePacket: [GroupPacketEvent];
  groupPeerName: [GroupPeerNameEvent];
  groupTopic: [GroupTopicEvent];
  groupModeration: [GroupModerationEvent];
}

/** One queued event: its name and payload, or an error a callback caught (dispatched as the node's `error` event). */
export type QueuedEvent = { [K in keyof ToxcoreEvents]: [K, ToxcoreEvents[K][0]] }[keyof ToxcoreEvents] | ['error', Error];

/** ToxNode names of the `Tox_Connection` values. */
export const CONNECTION: Readonly<Record<number, ConnectionStatus>> = {
  [Tox_Connection.TOX_CONNECTION_NONE]: 'none',
  [Tox_Connection.TOX_CONNECTION_TCP]: 'tcp',
  [Tox_Connection.TOX_CONNECTION_UDP]: 'udp',
};
/** ToxNode names of the `Tox_User_Status` values. */
export const USER_STATUS: Readonly<Record<number, UserStatus>> = {
  [Tox_User_Status.TOX_USER_STATUS_NONE]: 'none',
  [Tox_User_Status.TOX_USER_STATUS_AWAY]: 'away',
  [Tox_User_Status.TOX_USER_STATUS_BUSY]: 'busy',
};
const utf8 = new TextDecoder('utf-8');
const text = (p: Ptr<'uint8_t'> | null, len: number): string => utf8.decode(readBytes(p, len));
const conn = (c: number): ConnectionStatus => CONNECTION[c] ?? 'none';
const msgType = (t: number): MessageType => (t === Tox_Message_Type.TOX_MESSAGE_TYPE_ACTION ? 'action' : 'normal');

/** The queue of each live instance, by its Tox pointer (the first argument of every callback). */
const queues = new Map<bigint, QueuedEvent[]>();

/**
 * Wraps a payload builder as a C callback: look up the instance's queue, build, push. Never throws: whatever goes
 * wrong (a bad pointer, an allocation failure) is queued as an error for the node to report after C returned.
 */
function capture<A extends unknown[]>(build: (...args: A) => QueuedEvent): (tox: Ptr<'Tox'>, ...args: A) => void {
  return (tox, ...args) => {
    try {
      const queue = queues.get(tox);
      if (queue === undefined) return;
      try {
        queue.push(build(...args));
      } catch (err) {
        queue.push(['error', err instanceof Error ? err : new Error(String(err))]);
      }
    } catch {
      // Nothing may unwind into toxcore; an event we could not even queue is lost, as toxcore would drop it too.
    }
  };
}

type Setter = FunctionName & `tox_callback_${string}`;
type Handler<N extends CallbackName> = ToxcoreCallbacks[N];

type U8 = Ptr<'uint8_t'> | null;

/** The C callback of each event: typedef, setter and the capture that builds its payload. */
function handlers(): Array<{ cb: CallbackName; set: Setter; fn: (...a: never[]) => void }> {
  const h = <N extends CallbackName>(cb: N, set: Setter, fn: Handler<N>) => ({ cb, set, fn: fn as (...a: never[]) => void });
  const name = (e: Record<number, string>, v: number): string => e[v] ?? `UNKNOWN_${v}`;
  return [
    h('tox_self_connection_status_cb', 'tox_callback_self_connection_status', capture((status: number) => ['selfConnection', { status: conn(status) }])),
    h('tox_friend_request_cb', 'tox_callback_friend_request', capture((pk: U8, msg: U8, len: number) => {
      const bytes = readBytes(msg, len);
      return ['friendRequest', { publicKey: readBytes(pk, 32), message: utf8.decode(bytes), bytes }];
    })),
    h('tox_friend_connection_status_cb', 'tox_callback_friend_connection_status', capture((friend: number, status: number) => [
      'friendConnection',
      { friend, status: conn(status) },
    ])),
    h('tox_friend_name_cb', 'tox_callback_friend_name', capture((friend: number, p: U8, len: number) => {
      const bytes = readBytes(p, len);
      return ['friendName', { friend, name: utf8.decode(bytes), bytes }];
    })),
    h('tox_friend_status_message_cb', 'tox_callback_friend_status_message', capture((friend: number, p: U8, len: number) => {
      const bytes = readBytes(p, len);
      return ['friendStatusMessage', { friend, message: utf8.decode(bytes), bytes }];
    })),
    h('tox_friend_status_cb', 'tox_callback_friend_status', capture((friend: number, status: number) => [
      'friendStatus',
      { friend, status: USER_STATUS[status] ?? 'none' },
    ])),
    h('tox_friend_typing_cb', 'tox_callback_friend_typing', capture((friend: number, typing: boolean) => ['friendTyping', { friend, typing }])),
    h('tox_friend_message_cb', 'tox_callback_friend_message', capture((friend: number, type: number, p: U8, len: number) => {
      const bytes = readBytes(p, len);
      return ['friendMessage', { friend, type: msgType(type), message: utf8.decode(bytes), bytes }];
    })),
    h('tox_friend_read_receipt_cb', 'tox_callback_friend_read_receipt', capture((friend: number, messageId: number) => [
      'friendReadReceipt',
      { friend, messageId },
    ])),
    h('tox_friend_lossless_packet_cb', 'tox_callback_friend_lossless_packet', capture((friend: number, p: U8, len: number) => [
      'friendLosslessPacket',
      { friend, data: readBytes(p, len) },
    ])),
    h('tox_friend_lossy_packet_cb', 'tox_callback_friend_lossy_packet', capture((friend: number, p: U8, len: number) => [
      'friendLossyPacket',
      { friend, data: readBytes(p, len) },
    ])),
    // NGC (0.2.19+): installed only where the setters exist.
    h('tox_group_invite_cb', 'tox_callback_group_invite', capture((friend: number, d: U8, dl: number, n: U8, nl: number) => [
      'groupInvite',
      { friend, inviteData: readBytes(d, dl), groupName: text(n, nl) },
    ])),
    h('tox_group_peer_join_cb', 'tox_callback_group_peer_join', capture((group: number, peer: number) => ['groupPeerJoin', { group, peer }])),
    h('tox_group_peer_exit_cb', 'tox_callback_group_peer_exit', capture((group: number, peer: number, exit: number, n: U8, nl: number, m: U8, ml: number) => [
      'groupPeerExit',
      { group, peer, exitType: name(enumNames.Tox_Group_Exit_Type.short, exit), name: text(n, nl), partMessage: text(m, ml) },
    ])),
    h('tox_group_self_join_cb', 'tox_callback_group_self_join', capture((group: number) => ['groupSelfJoin', { group }])),
    h('tox_group_join_fail_cb', 'tox_callback_group_join_fail', capture((group: number, fail: number) => [
      'groupJoinFail',
      { group, reason: name(enumNames.Tox_Group_Join_Fail.short, fail) },
    ])),
    h('tox_group_message_cb', 'tox_callback_group_message', capture((group: number, peer: number, type: number, p: U8, len: number, messageId: number) => {
      const bytes = readBytes(p, len);
      return ['groupMessage', { group, peer, type: msgType(type), message: utf8.decode(bytes), bytes, messageId }];
    })),
    h('tox_group_private_message_cb', 'tox_callback_group_private_message', capture((group: number, peer: number, type: number, p: U8, len: number, messageId: number) => {
      const bytes = readBytes(p, len);
      return ['groupPrivateMessage', { group, peer, type: msgType(type), message: utf8.decode(bytes), bytes, messageId }];
    })),
    h('tox_group_custom_packet_cb', 'tox_callback_group_custom_packet', capture((group: number, peer: number, p: U8, len: number) => [
      'groupCustomPacket',
      { group, peer, data: readBytes(p, len) },
    ])),
    h('tox_group_custom_private_packet_cb', 'tox_callback_group_custom_private_packet', capture((group: number, peer: number, p: U8, len: number) => [
      'groupCustomPrivatePacket',
      { group, peer, data: readBytes(p, len) },
    ])),
    h('tox_group_peer_name_cb', 'tox_callback_group_peer_name', capture((group: number, peer: number, p: U8, len: number) => [
      'groupPeerName',
      { group, peer, name: text(p, len) },
    ])),
    h('tox_group_topic_cb', 'tox_callback_group_topic', capture((group: number, peer: number, p: U8, len: number) => [
      'groupTopic',
      { group, peer, topic: text(p, len) },
    ])),
    h('tox_group_moderation_cb', 'tox_callback_group_moderation', capture((group: number, sourcePeer: number, targetPeer: number, type: number) => [
      'groupModeration',
      { group, sourcePeer, targetPeer, type: name(enumNames.Tox_Group_Mod_Event.short, type) },
    ])),
  ];
}

/** Registered once per process and binding (koffi allows 8192 registrations; these are about two dozen, shared by every node). */
const registered = new WeakMap<ToxFfi, Array<{ set: Setter; ptr: Ptr<CallbackName> }>>();

/**
 * Installs the event callbacks on a new instance and returns its queue. Callbacks fire only inside tox_iterate (and
 * the calls toxcore documents as firing them); the caller drains the queue after C returned.
 */
export function attachEvents(ffi: ToxFfi, tox: Ptr<'Tox'>): QueuedEvent[] {
  let regs = registered.get(ffi);
  if (regs === undefined) {
    regs = handlers()
      .filter((x) => isAvailable(x.set, ffi))
      .map((x) => ({ set: x.set, ptr: registerCallback(x.cb, x.fn as never, ffi) }));
    registered.set(ffi, regs);
  }
  const queue: QueuedEvent[] = [];
  queues.set(tox, queue);
  for (const r of regs) (ffi[r.set] as (t: Ptr<'Tox'>, cb: Ptr<CallbackName>) => void)(tox, r.ptr);
  return queue;
}

/** Forgets an instance's queue; call after tox_kill (no callback can fire for it any more). */
export function detachEvents(tox: Ptr<'Tox'>): void {
  queues.delete(tox);
}

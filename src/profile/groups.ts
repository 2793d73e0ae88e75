// A read-only view of the GROUPS section (type 7, libtoxcore 0.2.19+: NGC group chats), decoded from its MessagePack as
// group_pack.c (gc_load_unpack_group) reads it. The section itself stays bytes in a parsed profile.
import { decodeMulti } from '@msgpack/msgpack';
import { ProfileError } from './errors.js';

/** libtoxcore's MAX_GC_GROUP_NAME_SIZE. */
export const MAX_GROUP_NAME_SIZE = 48;
/** libtoxcore's MAX_GC_PASSWORD_SIZE. */
export const MAX_GROUP_PASSWORD_SIZE = 32;
/** libtoxcore's MAX_GC_TOPIC_SIZE. */
export const MAX_GROUP_TOPIC_SIZE = 512;
/** libtoxcore's MAX_GC_NICK_SIZE. */
export const MAX_GROUP_NICK_SIZE = 128;
/** libtoxcore's MOD_MAX_NUM_MODERATORS (((49900 / 32) / 16) + 3); more are cut to this many on load. */
export const MAX_GROUP_MODERATORS = 100;

/** Group privacy: 0 public (found by chat ID through the DHT), 1 private (joined by a friend's invite). */
export type GroupPrivacy = 'public' | 'private' | `unknown(${number})`;
/** Own role in a group, as libtoxcore's Group_Role. */
export type GroupRole = 'founder' | 'moderator' | 'user' | 'observer' | `unknown(${number})`;

/** The topic and the signature over it. */
export interface SavedGroupTopic {
  version: number;
  checksum: number;
  topic: Uint8Array;
  /** Signature public key of the peer who set the topic (32). */
  setterSigKey: Uint8Array;
  /** That peer's signature (64). */
  signature: Uint8Array;
}

/**
 * One saved NGC group: the group's shared state, and this device's identity in it. An "extended" key is libtoxcore's
 * encryption key followed by its signature key: public 32 + 32 bytes, secret 32 + 64 bytes.
 */
export interface SavedGroup {
  /** Whether the user left the group's connections off (tox_group_disconnect); such a group does not reconnect on load. */
  manuallyDisconnected: boolean;
  privacy: GroupPrivacy;
  maxPeers: number;
  /** Version of the shared state (name, privacy, password, limits), raised by the founder at each change. */
  sharedStateVersion: number;
  /** 0 topic unlocked, otherwise the shared-state version that locked it. */
  topicLock: number;
  /** 0 all may speak, 1 moderators, 2 founder only. */
  voiceState: number;
  /** Founder's signature over the shared state (64). */
  sharedStateSignature: Uint8Array;
  /** The founder's extended public key (64). */
  founderPublicKey: Uint8Array;
  name: Uint8Array;
  /** The group's join password (empty when none); shared by every member, shown only with secrets. */
  password: Uint8Array;
  /** SHA-256 of the moderator list (32). */
  modListHash: Uint8Array;
  topic: SavedGroupTopic;
  /** Moderators' signature public keys (32 each). */
  moderators: Uint8Array[];
  /** The group's extended public key (64); its signature half is the chat ID (`tox_group_get_chat_id`). */
  chatPublicKey: Uint8Array;
  /** The group's extended secret key (96): all zeros unless this device founded the group. */
  chatSecretKey: Uint8Array;
  /** This device's extended public key in the group (64); its encryption half is `tox_group_self_get_public_key`. */
  selfPublicKey: Uint8Array;
  /** This device's extended secret key in the group (96): the per-group identity two devices must never share. */
  selfSecretKey: Uint8Array;
  selfNick: Uint8Array;
  selfRole: GroupRole;
  /** Own user status in the group: 0 none, 1 away, 2 busy. */
  selfStatus: number;
  /** Packed peers to reconnect to (libtoxcore's own packed format), kept as bytes. */
  savedPeers: Uint8Array;
}

/** The chat ID of a saved group: the signature half of its extended public key (what `tox_group_get_chat_id` gives). */
export function groupChatId(group: SavedGroup): Uint8Array {
  return group.chatPublicKey.slice(32, 64);
}

/** This device's public key in a saved group (what `tox_group_self_get_public_key` gives): the encryption half. */
export function groupSelfPublicKey(group: SavedGroup): Uint8Array {
  return group.selfPublicKey.slice(0, 32);
}

/** Whether this device founded the group: only the founder holds the group's secret key. */
export function isGroupFounder(group: SavedGroup): boolean {
  return group.chatSecretKey.some((b) => b !== 0);
}

const ROLES = ['founder', 'moderator', 'user', 'observer'] as const;

/** Reads MessagePack values in order, each checked against the shape libtoxcore's unpacker expects. */
class Reader {
  private at = 0;
  constructor(
    private readonly items: readonly unknown[],
    private readonly where: string,
  ) {}

  private fail(what: string): never {
    throw new ProfileError('BAD_SECTION', `${this.where}: ${what}`);
  }
  private next(what: string): unknown {
    if (this.at >= this.items.length) this.fail(`${what} is missing`);
    return this.items[this.at++];
  }
  array(size: number, what: string): Reader {
    const v = this.next(what);
    if (!Array.isArray(v) || v.length !== size) this.fail(`${what} is not an array of ${size}`);
    return new Reader(v as unknown[], `${this.where}, ${what}`);
  }
  uint(max: number, what: string): number {
    const v = this.next(what);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) this.fail(`${what} is not an unsigned integer up to ${max}`);
    return v;
  }
  bool(what: string): boolean {
    const v = this.next(what);
    if (typeof v !== 'boolean') this.fail(`${what} is not a boolean`);
    return v;
  }
  bin(what: string, size: { exactly?: number; max?: number }): Uint8Array {
    const v = this.next(what);
    if (!(v instanceof Uint8Array)) this.fail(`${what} is not binary data`);
    if (size.exactly !== undefined && v.length !== size.exactly) this.fail(`${what} is ${v.length} bytes, not ${size.exactly}`);
    if (size.max !== undefined && v.length > size.max) this.fail(`${what} is ${v.length} bytes, more than ${size.max}`);
    return v.slice();
  }
  /** libtoxcore writes nil for an empty list and does not check what it reads there. */
  skip(what: string): void {
    this.next(what);
  }
}

function decodeGroup(r: Reader): SavedGroup {
  const values = r.array(8, 'state values');
  const manuallyDisconnected = values.bool('manually disconnected');
  values.uint(0xffff, 'group name length'); // replaced by the name's own length, as libtoxcore does
  const privacy = values.uint(0xff, 'privacy state');
  const maxPeers = values.uint(0xffff, 'peer limit');
  values.uint(0xffff, 'password length');
  const sharedStateVersion = values.uint(0xffffffff, 'shared state version');
  const topicLock = values.uint(0xffffffff, 'topic lock');
  const voiceState = values.uint(0xff, 'voice state');

  const bin = r.array(5, 'state');
  const sharedStateSignature = bin.bin('shared state signature', { exactly: 64 });
  const founderPublicKey = bin.bin('founder key', { exactly: 64 });
  const name = bin.bin('group name', { max: MAX_GROUP_NAME_SIZE });
  const password = bin.bin('password', { max: MAX_GROUP_PASSWORD_SIZE });
  const modListHash = bin.bin('moderator list hash', { exactly: 32 });

  const t = r.array(6, 'topic');
  const topicVersion = t.uint(0xffffffff, 'topic version');
  t.uint(0xffff, 'topic length');
  const checksum = t.uint(0xffff, 'topic checksum');
  const topic = t.bin('topic', { max: MAX_GROUP_TOPIC_SIZE });
  const setterSigKey = t.bin('topic setter key', { exactly: 32 });
  const signature = t.bin('topic signature', { exactly: 64 });

  const mods = r.array(2, 'moderator list');
  const modCount = mods.uint(0xffff, 'moderator count');
  const moderators: Uint8Array[] = [];
  if (modCount === 0) {
    mods.skip('moderator list');
  } else {
    const kept = Math.min(modCount, MAX_GROUP_MODERATORS);
    const list = mods.bin('moderator list', { exactly: kept * 32 });
    for (let i = 0; i < kept; i++) moderators.push(list.slice(i * 32, i * 32 + 32));
  }

  const keys = r.array(4, 'keys');
  const chatPublicKey = keys.bin('group public key', { exactly: 64 });
  const chatSecretKey = keys.bin('group secret key', { exactly: 96 });
  const selfPublicKey = keys.bin('own public key', { exactly: 64 });
  const selfSecretKey = keys.bin('own secret key', { exactly: 96 });

  const self = r.array(4, 'own info');
  const nickLength = Math.min(self.uint(0xffff, 'nick length'), MAX_GROUP_NICK_SIZE);
  const role = self.uint(0xff, 'role');
  const selfStatus = self.uint(0xff, 'user status');
  const selfNick = self.bin('nick', { exactly: nickLength });

  const peers = r.array(2, 'saved peers');
  const peersSize = peers.uint(0xffff, 'saved peers size');
  let savedPeers: Uint8Array = new Uint8Array(0);
  if (peersSize === 0) peers.skip('saved peers');
  else savedPeers = peers.bin('saved peers', { exactly: peersSize });

  return {
    manuallyDisconnected,
    privacy: privacy === 0 ? 'public' : privacy === 1 ? 'private' : `unknown(${privacy})`,
    maxPeers,
    sharedStateVersion,
    topicLock,
    voiceState,
    sharedStateSignature,
    founderPublicKey,
    name,
    password,
    modListHash,
    topic: { version: topicVersion, checksum, topic, setterSigKey, signature },
    moderators,
    chatPublicKey,
    chatSecretKey,
    selfPublicKey,
    selfSecretKey,
    selfNick,
    selfRole: ROLES[role] ?? `unknown(${role})`,
    selfStatus,
    savedPeers,
  };
}

/**
 * Decodes the GROUPS section: a MessagePack array with one 7-element array per group (libtoxcore 0.2.19 to 0.2.23 use
 * the same layout). Throws {@link ProfileError} BAD_SECTION when any group does not have the shape libtoxcore reads.
 * We are stricter than libtoxcore here: it refuses the profile only when the outer array is unreadable and otherwise
 * stops loading groups at the first bad one; we refuse the section, so nothing is silently lost. Bytes after the array
 * are ignored, as libtoxcore ignores them. We check value ranges, not which MessagePack integer width encodes them.
 */
export function decodeGroups(data: Uint8Array, where = 'GROUPS'): SavedGroup[] {
  let top: unknown;
  try {
    // Bounds from the section size: no array or binary value can hold more elements than there are bytes.
    const first = decodeMulti(data, { maxArrayLength: data.length, maxBinLength: data.length, maxStrLength: data.length, maxMapLength: data.length, maxExtLength: data.length }).next();
    if (first.done) throw new Error('the section is empty');
    top = first.value;
  } catch (cause) {
    throw new ProfileError('BAD_SECTION', `${where}: not readable MessagePack (${(cause as Error).message})`, { cause });
  }
  if (!Array.isArray(top)) throw new ProfileError('BAD_SECTION', `${where}: does not start with an array of groups`);
  return top.map((g, i) => decodeGroup(new Reader([g], `${where}, group ${i}`).array(7, 'group')));
}

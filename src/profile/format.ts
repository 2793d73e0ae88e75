// The typed shape of a Tox savedata file (0.2.18 to 0.2.23): header and section constants, and one interface per section type.

/** u32 at offset 4 of a plain savedata file (little-endian), after a u32 zero. */
export const SAVEDATA_COOKIE_GLOBAL = 0x15ed1b1f;
/** High half of every top-level section header's second u32. */
export const SECTION_COOKIE = 0x01ce;
/** First u32 of the DHT section. */
export const DHT_COOKIE_GLOBAL = 0x0159000d;
/** High half of every DHT subsection header's second u32. */
export const DHT_SUBSECTION_COOKIE = 0x11ce;
/** DHT subsection type holding packed nodes. */
export const DHT_SUBSECTION_NODES = 4;
/** Size of one saved friend record in the FRIENDS section. */
export const FRIEND_RECORD_SIZE = 2216;
/** Bytes of the NOSPAMKEYS section: nospam, public key, secret key. */
export const NOSPAMKEYS_SIZE = 68;
/** libtoxcore's MAX_NAME_LENGTH. */
export const MAX_NAME_LENGTH = 128;
/** libtoxcore's MAX_STATUSMESSAGE_LENGTH (TOX_MAX_STATUS_MESSAGE_LENGTH). */
export const MAX_STATUS_MESSAGE_LENGTH = 1007;
/** Room for a friend request message in a saved friend record. */
export const SAVED_FRIEND_REQUEST_SIZE = 1024;
/** libtoxcore saves at most this many TCP relays and this many onion path nodes. */
export const MAX_SAVED_NODES = 8;

/** Section type numbers (GROUPS from 0.2.19; the others since 0.2.18 or earlier). */
export const SectionType = {
  NOSPAMKEYS: 1,
  DHT: 2,
  FRIENDS: 3,
  NAME: 4,
  STATUSMESSAGE: 5,
  STATUS: 6,
  GROUPS: 7,
  TCP_RELAY: 10,
  PATH_NODE: 11,
  CONFERENCES: 20,
  END: 255,
} as const;

/** Family byte of a packed node: 2 IPv4 UDP, 10 IPv6 UDP, 130 IPv4 TCP, 138 IPv6 TCP. */
export type NodeFamily = 2 | 10 | 130 | 138;

/** One packed node (DHT node, TCP relay or onion path node) as libtoxcore packs it. */
export interface PackedNode {
  /** Family byte; says both the address family and UDP vs TCP. */
  family: NodeFamily;
  /** Raw address: 4 bytes for IPv4, 16 for IPv6. */
  ip: Uint8Array;
  /** Port number (stored big-endian). */
  port: number;
  /** The node's 32-byte DHT (or relay) public key. */
  publicKey: Uint8Array;
}

/** NOSPAMKEYS: the profile's identity. */
export interface NospamKeysSection {
  kind: 'nospamKeys';
  /** The nospam as `tox_self_get_nospam` reports it (the 4 address bytes read big-endian). */
  nospam: number;
  /** X25519 public key (32 bytes). */
  publicKey: Uint8Array;
  /** X25519 secret key (32 bytes). */
  secretKey: Uint8Array;
}

/** One DHT subsection: typed when it is a nodes subsection, raw otherwise. */
export type DhtSubsection =
  | { type: typeof DHT_SUBSECTION_NODES; nodes: PackedNode[] }
  | { type: number; data: Uint8Array };

/** DHT: the DHT nodes this profile knew when saved (the DHT keypair itself is never saved). */
export interface DhtSection {
  kind: 'dht';
  subsections: DhtSubsection[];
  /** Bytes after the last whole subsection (libtoxcore's size estimate can leave zeros here); written back as they are. */
  trailing: Uint8Array;
}

/** Saved friend status: 1 added (request not sent yet), 2 request sent, 3 confirmed (online is saved as 3). */
export type FriendStatus = number;

/** One 2216-byte saved friend record (libtoxcore's Saved_Friend), every field. */
export interface SavedFriend {
  /** 1 added, 2 request sent, 3 confirmed; 0 records are skipped by libtoxcore. */
  status: FriendStatus;
  /** The friend's long-term public key (32 bytes). */
  publicKey: Uint8Array;
  /** Friend request message we send (status 1-2 only; up to 1024 bytes). */
  requestMessage: Uint8Array;
  /** The friend's name (up to 128 bytes). */
  name: Uint8Array;
  /** The friend's last status message (up to 1007 bytes). */
  statusMessage: Uint8Array;
  /** The friend's user status: 0 none, 1 away, 2 busy. */
  userStatus: number;
  /** The nospam of the friend's address, as the 4 address bytes (status 1-2 only, to resend the request). */
  requestNospam: Uint8Array;
  /** Unix time the friend was last seen (u64, stored big-endian). */
  lastSeen: bigint;
}

/** FRIENDS: the friend list, in saved order. */
export interface FriendsSection {
  kind: 'friends';
  friends: SavedFriend[];
}

/** NAME: our own name, raw bytes (UTF-8 by convention; libtoxcore does not check). */
export interface NameSection {
  kind: 'name';
  name: Uint8Array;
}

/** STATUSMESSAGE: our own status message, raw bytes. */
export interface StatusMessageSection {
  kind: 'statusMessage';
  statusMessage: Uint8Array;
}

/** STATUS: our own user status byte (0 none, 1 away, 2 busy). */
export interface StatusSection {
  kind: 'status';
  userStatus: number;
}

/** TCP_RELAY: TCP relays to reconnect to at start. */
export interface TcpRelaySection {
  kind: 'tcpRelays';
  nodes: PackedNode[];
}

/** PATH_NODE: onion path nodes to reuse at start. */
export interface PathNodeSection {
  kind: 'pathNodes';
  nodes: PackedNode[];
}

/** CONFERENCES: old-style group chats, kept as bytes. */
export interface ConferencesSection {
  kind: 'conferences';
  data: Uint8Array;
}

/**
 * GROUPS (0.2.19+): NGC group chats, kept as bytes (checked on parse; {@link decodeGroups} gives a read-only view).
 * libtoxcore writes it only with `experimental_groups_persistence` on, and loads it only then too.
 */
export interface GroupsSection {
  kind: 'groups';
  data: Uint8Array;
}

/** A section type this parser does not know (from a newer libtoxcore, or damage), kept byte for byte. */
export interface UnknownSection {
  kind: 'unknown';
  /** The section type number. */
  type: number;
  data: Uint8Array;
}

/** END: marks the end of the sections (length 0). */
export interface EndSection {
  kind: 'end';
}

/** Any section of a profile. */
export type ProfileSection =
  | NospamKeysSection
  | DhtSection
  | FriendsSection
  | NameSection
  | StatusMessageSection
  | StatusSection
  | TcpRelaySection
  | PathNodeSection
  | ConferencesSection
  | GroupsSection
  | UnknownSection
  | EndSection;

/** A parsed plain profile: its sections in file order, and whatever followed END that was not zero padding. */
export interface Profile {
  sections: ProfileSection[];
  /** Non-zero bytes after END (up to the last non-zero byte); empty for anything libtoxcore wrote. */
  trailing: Uint8Array;
}

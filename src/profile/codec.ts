// Parser and writer of plain (unencrypted) Tox savedata (0.2.18 to 0.2.23): bytes <-> typed sections, byte-exact for what libtoxcore writes.
import { bytesEqual } from '../util/bytes.js';
import { ProfileError } from './errors.js';
import { decodeConferences } from './conferences.js';
import { decodeGroups } from './groups.js';
import { derivePublicKey } from './keys.js';
import { packNodes, unpackNodes } from './nodes.js';
import {
  DHT_COOKIE_GLOBAL,
  DHT_SUBSECTION_COOKIE,
  DHT_SUBSECTION_NODES,
  FRIEND_RECORD_SIZE,
  MAX_NAME_LENGTH,
  MAX_STATUS_MESSAGE_LENGTH,
  NOSPAMKEYS_SIZE,
  SAVED_FRIEND_REQUEST_SIZE,
  SAVEDATA_COOKIE_GLOBAL,
  SECTION_COOKIE,
  SectionType,
  type DhtSection,
  type DhtSubsection,
  type SavedFriend,
  type Profile,
  type ProfileSection,
} from './format.js';

/** The 8-byte magic that starts an encrypted (toxencryptsave) profile. */
export const ENCRYPTED_MAGIC = new TextEncoder().encode('toxEsave');

/** Options for {@link parseProfile}. */
export interface ParseProfileOptions {
  /** Check that the saved public key is the one derived from the saved secret key (default true), as libtoxcore does on load. */
  checkKeyPair?: boolean;
}

// Offsets inside a 2216-byte friend record (see Messenger.c friend_save: natural C struct layout with its padding).
const F_STATUS = 0;
const F_PK = 1;
const F_INFO = 33;
const F_INFO_SIZE = 1058; // after 1 padding byte
const F_NAME = 1060;
const F_NAME_LEN = 1188;
const F_STATUSMSG = 1190;
const F_STATUSMSG_LEN = 2198; // after 1 padding byte
const F_USERSTATUS = 2200;
const F_NOSPAM = 2204; // after 3 padding bytes
const F_LAST_SEEN = 2208;

function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
function u16be(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
function u16le(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

/** Whether `bytes` starts with the toxencryptsave magic (`toxEsave`). */
export function hasEncryptedMagic(bytes: Uint8Array): boolean {
  return bytes.length >= ENCRYPTED_MAGIC.length && bytesEqual(bytes.subarray(0, ENCRYPTED_MAGIC.length), ENCRYPTED_MAGIC);
}

/**
 * Parses plain savedata into typed sections. Stops at END (or at the exact end of the data, as libtoxcore does);
 * zero padding after END is dropped. Throws {@link ProfileError} (BAD_MAGIC, ENCRYPTED, TRUNCATED, SECTION_OVERFLOW,
 * BAD_SECTION, BAD_KEYPAIR) on anything malformed; never anything else for a Uint8Array input.
 */
export function parseProfile(bytes: Uint8Array, options: ParseProfileOptions = {}): Profile {
  if (!(bytes instanceof Uint8Array)) throw new ProfileError('BAD_ARGUMENT', 'parseProfile: expected a Uint8Array');
  if (hasEncryptedMagic(bytes)) {
    throw new ProfileError('ENCRYPTED', 'the profile is encrypted (toxEsave); a passphrase is needed');
  }
  if (bytes.length < 8) {
    if (bytes.every((b, i) => b === HEADER[i])) throw new ProfileError('TRUNCATED', `the profile is ${bytes.length} bytes, shorter than its 8-byte header`);
    throw new ProfileError('BAD_MAGIC', 'not a Tox profile: the header is wrong');
  }
  if (u32le(bytes, 0) !== 0 || u32le(bytes, 4) !== SAVEDATA_COOKIE_GLOBAL) {
    throw new ProfileError('BAD_MAGIC', 'not a Tox profile: the 8-byte header is not 00000000 1f1bed15');
  }
  const sections: ProfileSection[] = [];
  let at = 8;
  let ended = false;
  const state: ParseState = { ownPublicKey: undefined };
  while (at < bytes.length) {
    if (bytes.length - at < 8) {
      throw new ProfileError('TRUNCATED', `section header at offset ${at} is cut short (${bytes.length - at} of 8 bytes)`);
    }
    const length = u32le(bytes, at);
    const type = u16le(bytes, at + 4);
    const cookie = u16le(bytes, at + 6);
    if (cookie !== SECTION_COOKIE) {
      throw new ProfileError('BAD_SECTION', `section at offset ${at}: cookie 0x${cookie.toString(16)} is not 0x01ce`);
    }
    const start = at + 8;
    if (length > bytes.length - start) {
      throw new ProfileError('SECTION_OVERFLOW', `section type ${type} at offset ${at} claims ${length} bytes, only ${bytes.length - start} left`);
    }
    const data = bytes.subarray(start, start + length);
    sections.push(parseSection(type, data, at, options, state));
    at = start + length;
    if (type === SectionType.END) {
      ended = true;
      break;
    }
  }
  let end = bytes.length;
  if (ended) while (end > at && bytes[end - 1] === 0) end--;
  return { sections, trailing: bytes.slice(at, end) };
}

const HEADER = Uint8Array.from([0, 0, 0, 0, 0x1f, 0x1b, 0xed, 0x15]);

/** What a later section's checks need from earlier ones, in file order (libtoxcore loads sections in order). */
interface ParseState {
  /** The key libtoxcore holds at this point: the last NOSPAMKEYS so far, else a random one (undefined). */
  ownPublicKey: Uint8Array | undefined;
}

function parseSection(type: number, data: Uint8Array, offset: number, options: ParseProfileOptions, state: ParseState): ProfileSection {
  switch (type) {
    case SectionType.NOSPAMKEYS: {
      if (data.length !== NOSPAMKEYS_SIZE) {
        throw new ProfileError('BAD_SECTION', `NOSPAMKEYS at offset ${offset} is ${data.length} bytes, not ${NOSPAMKEYS_SIZE}`);
      }
      // Stored as the little-endian u32 of libtoxcore's internal value; tox_self_get_nospam byte-swaps it, so it is the big-endian read.
      const nospam = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
      const publicKey = data.slice(4, 36);
      const secretKey = data.slice(36, 68);
      if (options.checkKeyPair !== false && !bytesEqual(derivePublicKey(secretKey), publicKey)) {
        throw new ProfileError('BAD_KEYPAIR', `NOSPAMKEYS at offset ${offset}: the public key is not the one derived from the secret key; libtoxcore would refuse this profile`);
      }
      state.ownPublicKey = publicKey;
      return { kind: 'nospamKeys', nospam, publicKey, secretKey };
    }
    case SectionType.DHT:
      return parseDht(data, offset);
    case SectionType.FRIENDS: {
      if (data.length % FRIEND_RECORD_SIZE !== 0) {
        throw new ProfileError('BAD_SECTION', `FRIENDS at offset ${offset} is ${data.length} bytes, not a multiple of ${FRIEND_RECORD_SIZE}`);
      }
      const friends: SavedFriend[] = [];
      for (let i = 0; i < data.length; i += FRIEND_RECORD_SIZE) friends.push(parseFriend(data.subarray(i, i + FRIEND_RECORD_SIZE), friends.length, offset));
      return { kind: 'friends', friends };
    }
    case SectionType.NAME:
      return { kind: 'name', name: data.slice() };
    case SectionType.STATUSMESSAGE:
      return { kind: 'statusMessage', statusMessage: data.slice() };
    case SectionType.STATUS:
      if (data.length !== 1) throw new ProfileError('BAD_SECTION', `STATUS at offset ${offset} is ${data.length} bytes, not 1`);
      return { kind: 'status', userStatus: data[0]! };
    case SectionType.TCP_RELAY:
      return { kind: 'tcpRelays', nodes: unpackNodes(data, `TCP_RELAY at offset ${offset}`) };
    case SectionType.PATH_NODE:
      return { kind: 'pathNodes', nodes: unpackNodes(data, `PATH_NODE at offset ${offset}`) };
    case SectionType.CONFERENCES:
      decodeConferences(data, state.ownPublicKey, `CONFERENCES at offset ${offset}`); // refuse what libtoxcore refuses
      return { kind: 'conferences', data: data.slice() };
    case SectionType.GROUPS:
      decodeGroups(data, `GROUPS at offset ${offset}`); // refuse a group libtoxcore could not load, rather than lose it later
      return { kind: 'groups', data: data.slice() };
    case SectionType.END:
      if (data.length !== 0) throw new ProfileError('BAD_SECTION', `END at offset ${offset} has length ${data.length}, not 0`);
      return { kind: 'end' };
    default:
      return { kind: 'unknown', type, data: data.slice() };
  }
}

function parseDht(data: Uint8Array, offset: number): DhtSection {
  if (data.length < 4) throw new ProfileError('TRUNCATED', `DHT at offset ${offset} is ${data.length} bytes, shorter than its cookie`);
  if (u32le(data, 0) !== DHT_COOKIE_GLOBAL) {
    throw new ProfileError('BAD_SECTION', `DHT at offset ${offset}: cookie 0x${u32le(data, 0).toString(16)} is not 0x159000d`);
  }
  const subsections: DhtSubsection[] = [];
  let at = 4;
  // libtoxcore's size estimate can exceed what it packs, leaving zeros; a zero header ends the subsections like it ends its loader.
  while (data.length - at >= 8 && u16le(data, at + 6) === DHT_SUBSECTION_COOKIE) {
    const length = u32le(data, at);
    const type = u16le(data, at + 4);
    const start = at + 8;
    if (length > data.length - start) {
      throw new ProfileError('SECTION_OVERFLOW', `DHT subsection type ${type} at offset ${offset + 8 + at} claims ${length} bytes, only ${data.length - start} left`);
    }
    const body = data.subarray(start, start + length);
    subsections.push(type === DHT_SUBSECTION_NODES ? { type, nodes: unpackNodes(body, `DHT nodes at offset ${offset + 8 + start}`) } : { type, data: body.slice() });
    at = start + length;
  }
  return { kind: 'dht', subsections, trailing: data.slice(at) };
}

/**
 * The original bytes of each parsed friend record, next to its canonical encoding at parse time. A record written by
 * something other than libtoxcore may carry bytes outside the typed fields (padding, text past a length); writing an
 * unchanged record gives those bytes back, while a changed record is written canonically, so no stale text survives.
 */
const originalRecords = new WeakMap<SavedFriend, { raw: Uint8Array; canonical: Uint8Array }>();

function parseFriend(r: Uint8Array, index: number, offset: number): SavedFriend {
  const friend = decodeFriend(r, index, offset);
  const canonical = encodeFriend(friend, index);
  if (!bytesEqual(canonical, r)) originalRecords.set(friend, { raw: r.slice(), canonical });
  return friend;
}

/** Encodes a friend for writeProfile: the original bytes when the record is unchanged since parsing, else canonical. */
function writeFriend(friend: SavedFriend, index: number): Uint8Array {
  const encoded = encodeFriend(friend, index);
  const original = originalRecords.get(friend);
  return original && bytesEqual(original.canonical, encoded) ? original.raw : encoded;
}

function decodeFriend(r: Uint8Array, index: number, offset: number): SavedFriend {
  const infoSize = u16be(r, F_INFO_SIZE);
  const nameLength = u16be(r, F_NAME_LEN);
  const statusLength = u16be(r, F_STATUSMSG_LEN);
  const where = `FRIENDS at offset ${offset}, friend ${index}`;
  if (infoSize > SAVED_FRIEND_REQUEST_SIZE) throw new ProfileError('BAD_SECTION', `${where}: request length ${infoSize} > ${SAVED_FRIEND_REQUEST_SIZE}`);
  if (nameLength > MAX_NAME_LENGTH) throw new ProfileError('BAD_SECTION', `${where}: name length ${nameLength} > ${MAX_NAME_LENGTH}`);
  if (statusLength > MAX_STATUS_MESSAGE_LENGTH) throw new ProfileError('BAD_SECTION', `${where}: status message length ${statusLength} > ${MAX_STATUS_MESSAGE_LENGTH}`);
  let lastSeen = 0n;
  for (let i = 0; i < 8; i++) lastSeen = (lastSeen << 8n) | BigInt(r[F_LAST_SEEN + i]!);
  return {
    status: r[F_STATUS]!,
    publicKey: r.slice(F_PK, F_PK + 32),
    requestMessage: r.slice(F_INFO, F_INFO + infoSize),
    name: r.slice(F_NAME, F_NAME + nameLength),
    statusMessage: r.slice(F_STATUSMSG, F_STATUSMSG + statusLength),
    userStatus: r[F_USERSTATUS]!,
    requestNospam: r.slice(F_NOSPAM, F_NOSPAM + 4),
    lastSeen,
  };
}

/** Encodes one friend record in libtoxcore's layout (zero padding, zeros past each length). */
export function encodeFriend(friend: SavedFriend, index = 0): Uint8Array {
  const where = `friend ${index}`;
  const r = new Uint8Array(FRIEND_RECORD_SIZE);
  const need = (ok: boolean, code: 'BAD_ARGUMENT' | 'TOO_LONG', what: string): void => {
    if (!ok) throw new ProfileError(code, `${where}: ${what}`);
  };
  need(Number.isInteger(friend.status) && friend.status >= 0 && friend.status <= 255, 'BAD_ARGUMENT', 'status must be a byte');
  need(friend.publicKey instanceof Uint8Array && friend.publicKey.length === 32, 'BAD_ARGUMENT', 'public key must be 32 bytes');
  need(friend.requestMessage instanceof Uint8Array, 'BAD_ARGUMENT', 'request message must be bytes');
  need(friend.requestMessage.length <= SAVED_FRIEND_REQUEST_SIZE, 'TOO_LONG', `request message is over ${SAVED_FRIEND_REQUEST_SIZE} bytes`);
  need(friend.name instanceof Uint8Array, 'BAD_ARGUMENT', 'name must be bytes');
  need(friend.name.length <= MAX_NAME_LENGTH, 'TOO_LONG', `name is over ${MAX_NAME_LENGTH} bytes`);
  need(friend.statusMessage instanceof Uint8Array, 'BAD_ARGUMENT', 'status message must be bytes');
  need(friend.statusMessage.length <= MAX_STATUS_MESSAGE_LENGTH, 'TOO_LONG', `status message is over ${MAX_STATUS_MESSAGE_LENGTH} bytes`);
  need(Number.isInteger(friend.userStatus) && friend.userStatus >= 0 && friend.userStatus <= 255, 'BAD_ARGUMENT', 'user status must be a byte');
  need(friend.requestNospam instanceof Uint8Array && friend.requestNospam.length === 4, 'BAD_ARGUMENT', 'request nospam must be 4 bytes');
  need(typeof friend.lastSeen === 'bigint' && friend.lastSeen >= 0n && friend.lastSeen < 1n << 64n, 'BAD_ARGUMENT', 'last seen must be a u64 bigint');
  r[F_STATUS] = friend.status;
  r.set(friend.publicKey, F_PK);
  r.set(friend.requestMessage, F_INFO);
  r[F_INFO_SIZE] = friend.requestMessage.length >> 8;
  r[F_INFO_SIZE + 1] = friend.requestMessage.length & 0xff;
  r.set(friend.name, F_NAME);
  r[F_NAME_LEN] = friend.name.length >> 8;
  r[F_NAME_LEN + 1] = friend.name.length & 0xff;
  r.set(friend.statusMessage, F_STATUSMSG);
  r[F_STATUSMSG_LEN] = friend.statusMessage.length >> 8;
  r[F_STATUSMSG_LEN + 1] = friend.statusMessage.length & 0xff;
  r[F_USERSTATUS] = friend.userStatus;
  r.set(friend.requestNospam, F_NOSPAM);
  let v = friend.lastSeen;
  for (let i = 7; i >= 0; i--) {
    r[F_LAST_SEEN + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return r;
}

function sectionBody(section: ProfileSection, index: number): [type: number, body: Uint8Array] {
  const where = `section ${index} (${section.kind})`;
  switch (section.kind) {
    case 'nospamKeys': {
      if (!(section.publicKey instanceof Uint8Array) || section.publicKey.length !== 32 || !(section.secretKey instanceof Uint8Array) || section.secretKey.length !== 32) {
        throw new ProfileError('BAD_ARGUMENT', `${where}: keys must be 32 bytes each`);
      }
      if (!Number.isInteger(section.nospam) || section.nospam < 0 || section.nospam > 0xffffffff) throw new ProfileError('BAD_ARGUMENT', `${where}: nospam must be a u32`);
      const body = new Uint8Array(NOSPAMKEYS_SIZE);
      new DataView(body.buffer).setUint32(0, section.nospam, false);
      body.set(section.publicKey, 4);
      body.set(section.secretKey, 36);
      return [SectionType.NOSPAMKEYS, body];
    }
    case 'dht': {
      const parts: Uint8Array[] = [u32leBytes(DHT_COOKIE_GLOBAL)];
      for (const sub of section.subsections) {
        const body = 'nodes' in sub ? packNodes(sub.nodes, `${where} nodes`) : sub.data;
        parts.push(u32leBytes(body.length), u16leBytes(sub.type), u16leBytes(DHT_SUBSECTION_COOKIE), body);
      }
      parts.push(section.trailing);
      return [SectionType.DHT, concat(parts)];
    }
    case 'friends':
      return [SectionType.FRIENDS, concat(section.friends.map((f, i) => writeFriend(f, i)))];
    case 'name':
      return [SectionType.NAME, section.name];
    case 'statusMessage':
      return [SectionType.STATUSMESSAGE, section.statusMessage];
    case 'status':
      if (!Number.isInteger(section.userStatus) || section.userStatus < 0 || section.userStatus > 255) throw new ProfileError('BAD_ARGUMENT', `${where}: user status must be a byte`);
      return [SectionType.STATUS, Uint8Array.of(section.userStatus)];
    case 'tcpRelays':
      return [SectionType.TCP_RELAY, packNodes(section.nodes, where)];
    case 'pathNodes':
      return [SectionType.PATH_NODE, packNodes(section.nodes, where)];
    case 'conferences':
      return [SectionType.CONFERENCES, section.data];
    case 'groups':
      return [SectionType.GROUPS, section.data];
    case 'unknown':
      if (!Number.isInteger(section.type) || section.type < 0 || section.type > 0xffff) throw new ProfileError('BAD_ARGUMENT', `${where}: type must be a u16`);
      return [section.type, section.data];
    case 'end':
      return [SectionType.END, new Uint8Array(0)];
    default:
      throw new ProfileError('BAD_ARGUMENT', `section ${index}: unknown kind ${String((section as { kind?: unknown }).kind)}`);
  }
}

/**
 * Writes a profile back to plain savedata: header, each section in order, then any non-zero trailer. For a parsed,
 * unchanged profile this gives back the input bytes exactly, less the zero padding after END. Throws
 * {@link ProfileError} BAD_ARGUMENT/TOO_LONG on fields of the wrong shape.
 */
export function writeProfile(profile: Profile): Uint8Array {
  const parts: Uint8Array[] = [HEADER];
  profile.sections.forEach((section, i) => {
    const [type, body] = sectionBody(section, i);
    if (!(body instanceof Uint8Array)) throw new ProfileError('BAD_ARGUMENT', `section ${i} (${section.kind}): data must be bytes`);
    parts.push(u32leBytes(body.length), u16leBytes(type), u16leBytes(SECTION_COOKIE), body);
  });
  parts.push(profile.trailing ?? new Uint8Array(0));
  return concat(parts);
}

function u32leBytes(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}
function u16leBytes(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff);
}
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

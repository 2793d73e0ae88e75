// A JSON-able, secret-free (unless asked) summary of a parsed profile, and its human-readable rendering for the CLI.
import { bytesToHex } from '../util/bytes.js';
import type { SavedFriend, PackedNode, Profile } from './format.js';
import type { SavedGroup } from './groups.js';
import { formatNodeIp, isTcpFamily } from './nodes.js';
import { toxAddress } from './keys.js';
import { decodeConferences } from './conferences.js';
import { decodeGroups, groupChatId, groupSelfPublicKey, isGroupFounder, type GroupPrivacy, type GroupRole } from './groups.js';

/** Options for {@link inspectProfile}. */
export interface InspectOptions {
  /** Include the secret key (hex). Off by default: summaries end up in terminals and logs. */
  showSecrets?: boolean;
}

/** One packed node, as text. */
export interface NodeSummary {
  transport: 'udp' | 'tcp';
  host: string;
  port: number;
  publicKey: string;
}

/** One friend, as text. */
export interface FriendSummary {
  publicKey: string;
  /** 'added' (1), 'request-sent' (2), 'confirmed' (3+), or 'none' (0, ignored by libtoxcore). */
  status: 'none' | 'added' | 'request-sent' | 'confirmed';
  name: string;
  statusMessage: string;
  userStatus: UserStatusName;
  /** Unix seconds, or null when never seen. */
  lastSeen: number | null;
  /** The request message waiting to be (re)sent, for status 1-2. */
  requestMessage?: string;
  /** The friend's full address (for status 1-2, where the request needs it). */
  requestAddress?: string;
}

/** One saved NGC group (0.2.19+), as text; secrets only with `showSecrets`. */
export interface GroupSummary {
  /** The group's chat ID (64 hex), what others join a public group with. */
  chatId: string;
  name: string;
  privacy: GroupPrivacy;
  topic: string;
  /** This device's public key in the group (64 hex), `tox_group_self_get_public_key`: its per-group identity. */
  selfPublicKey: string;
  nick: string;
  role: GroupRole;
  /** Whether this device founded the group (it holds the group's secret key). */
  founder: boolean;
  /** Whether the user had disconnected from it (it does not reconnect on load). */
  disconnected: boolean;
  hasPassword: boolean;
  peerLimit: number;
  moderators: number;
  /** Bytes of saved peers to reconnect through. */
  savedPeersBytes: number;
  /** With `showSecrets`: this device's extended secret key in the group (192 hex: encryption 32 + signature 64 bytes). */
  selfSecretKey?: string;
  /** With `showSecrets` and only for the founder: the group's extended secret key (192 hex). */
  chatSecretKey?: string;
  /** With `showSecrets`: the group's join password. */
  password?: string;
}

/** A section this version does not know, kept byte for byte. */
export interface UnknownSectionSummary {
  type: number;
  bytes: number;
}

/** libtoxcore's user status names. */
export type UserStatusName = 'none' | 'away' | 'busy' | `unknown(${number})`;

/** Everything a profile holds, secret key only on request. */
export interface ProfileSummary {
  /** Own public key (64 hex), or null when the profile has no NOSPAMKEYS section. */
  publicKey: string | null;
  /** Own Tox address (76 hex) that others add. */
  address: string | null;
  /** Own nospam as 8 hex digits. */
  nospam: string | null;
  /** Own secret key (64 hex), present only with `showSecrets`. */
  secretKey?: string;
  name: string;
  statusMessage: string;
  userStatus: UserStatusName;
  friends: FriendSummary[];
  dhtNodes: NodeSummary[];
  tcpRelays: NodeSummary[];
  pathNodes: NodeSummary[];
  /** Size of the CONFERENCES section in bytes (0 when absent). */
  conferencesBytes: number;
  /** Saved conferences: id (hex), title, our peer number, and how many peers were saved with it. */
  conferences: { id: string; title: string; peerNumber: number; frozenPeers: number }[];
  /** Saved NGC groups (GROUPS section, libtoxcore 0.2.19+ with `experimental_groups_persistence`). */
  groups: GroupSummary[];
  /** Sections of a type this version does not know (e.g. from a libtoxcore newer than 0.2.23): kept as they are. */
  unknownSections: UnknownSectionSummary[];
  /** Sections in file order with their type numbers and sizes. */
  sections: { kind: string; type?: number; bytes?: number }[];
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

function userStatusName(value: number): UserStatusName {
  return value === 0 ? 'none' : value === 1 ? 'away' : value === 2 ? 'busy' : `unknown(${value})`;
}

function nodeSummary(node: PackedNode): NodeSummary {
  return { transport: isTcpFamily(node.family) ? 'tcp' : 'udp', host: formatNodeIp(node.ip), port: node.port, publicKey: bytesToHex(node.publicKey) };
}

function friendSummary(f: SavedFriend): FriendSummary {
  const status = f.status === 0 ? 'none' : f.status === 1 ? 'added' : f.status === 2 ? 'request-sent' : 'confirmed';
  const out: FriendSummary = {
    publicKey: bytesToHex(f.publicKey),
    status,
    name: text(f.name),
    statusMessage: text(f.statusMessage),
    userStatus: userStatusName(f.userStatus),
    lastSeen: f.lastSeen === 0n ? null : Number(f.lastSeen),
  };
  if (f.status === 1 || f.status === 2) {
    out.requestMessage = text(f.requestMessage);
    out.requestAddress = bytesToHex(toxAddress(f.publicKey, new DataView(f.requestNospam.buffer, f.requestNospam.byteOffset, 4).getUint32(0, false)));
  }
  return out;
}

function groupSummary(g: SavedGroup, showSecrets: boolean): GroupSummary {
  const founder = isGroupFounder(g);
  const out: GroupSummary = {
    chatId: bytesToHex(groupChatId(g)),
    name: text(g.name),
    privacy: g.privacy,
    topic: text(g.topic.topic),
    selfPublicKey: bytesToHex(groupSelfPublicKey(g)),
    nick: text(g.selfNick),
    role: g.selfRole,
    founder,
    disconnected: g.manuallyDisconnected,
    hasPassword: g.password.length > 0,
    peerLimit: g.maxPeers,
    moderators: g.moderators.length,
    savedPeersBytes: g.savedPeers.length,
  };
  if (showSecrets) {
    out.selfSecretKey = bytesToHex(g.selfSecretKey);
    if (founder) out.chatSecretKey = bytesToHex(g.chatSecretKey);
    out.password = text(g.password);
  }
  return out;
}

/** Summarises a parsed profile as plain JSON-able data; the secret key appears only with `showSecrets: true`. */
export function inspectProfile(profile: Profile, options: InspectOptions = {}): ProfileSummary {
  const summary: ProfileSummary = {
    publicKey: null,
    address: null,
    nospam: null,
    name: '',
    statusMessage: '',
    userStatus: 'none',
    friends: [],
    dhtNodes: [],
    tcpRelays: [],
    pathNodes: [],
    conferencesBytes: 0,
    conferences: [],
    groups: [],
    unknownSections: [],
    sections: [],
  };
  let ownKey: Uint8Array | undefined;
  for (const s of profile.sections) {
    switch (s.kind) {
      case 'nospamKeys':
        ownKey = s.publicKey;
        summary.publicKey = bytesToHex(s.publicKey);
        summary.address = bytesToHex(toxAddress(s.publicKey, s.nospam));
        summary.nospam = s.nospam.toString(16).toUpperCase().padStart(8, '0');
        if (options.showSecrets === true) summary.secretKey = bytesToHex(s.secretKey);
        summary.sections.push({ kind: s.kind, type: 1, bytes: 68 });
        break;
      case 'dht':
        for (const sub of s.subsections) if ('nodes' in sub) summary.dhtNodes.push(...sub.nodes.map(nodeSummary));
        summary.sections.push({ kind: s.kind, type: 2 });
        break;
      case 'friends':
        summary.friends.push(...s.friends.map(friendSummary));
        summary.sections.push({ kind: s.kind, type: 3, bytes: s.friends.length * 2216 });
        break;
      case 'name':
        summary.name = text(s.name);
        summary.sections.push({ kind: s.kind, type: 4, bytes: s.name.length });
        break;
      case 'statusMessage':
        summary.statusMessage = text(s.statusMessage);
        summary.sections.push({ kind: s.kind, type: 5, bytes: s.statusMessage.length });
        break;
      case 'status':
        summary.userStatus = userStatusName(s.userStatus);
        summary.sections.push({ kind: s.kind, type: 6, bytes: 1 });
        break;
      case 'tcpRelays':
        summary.tcpRelays.push(...s.nodes.map(nodeSummary));
        summary.sections.push({ kind: s.kind, type: 10 });
        break;
      case 'pathNodes':
        summary.pathNodes.push(...s.nodes.map(nodeSummary));
        summary.sections.push({ kind: s.kind, type: 11 });
        break;
      case 'conferences':
        summary.conferencesBytes += s.data.length;
        for (const c of decodeConferences(s.data, ownKey)) {
          summary.conferences.push({ id: bytesToHex(c.id), title: text(c.title), peerNumber: c.peerNumber, frozenPeers: c.frozenPeers.length });
        }
        summary.sections.push({ kind: s.kind, type: 20, bytes: s.data.length });
        break;
      case 'groups':
        for (const g of decodeGroups(s.data)) summary.groups.push(groupSummary(g, options.showSecrets === true));
        summary.sections.push({ kind: s.kind, type: 7, bytes: s.data.length });
        break;
      case 'unknown':
        summary.unknownSections.push({ type: s.type, bytes: s.data.length });
        summary.sections.push({ kind: s.kind, type: s.type, bytes: s.data.length });
        break;
      case 'end':
        summary.sections.push({ kind: s.kind, type: 255, bytes: 0 });
        break;
    }
  }
  return summary;
}

/**
 * Quotes text from the profile (our name, friends' names and status messages: chosen by other people) for a terminal:
 * JSON escapes C0 controls, and we also escape DEL, C1 controls (0x9b is a CSI on some terminals) and bidi overrides.
 */
export function quoteForTerminal(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function nodeLine(n: NodeSummary): string {
  const host = n.host.includes(':') ? `[${n.host}]` : n.host;
  return `    ${n.transport} ${host}:${n.port} ${n.publicKey}`;
}

/** Renders a {@link ProfileSummary} as readable text (what `profile inspect` prints without --json). */
export function formatProfileSummary(summary: ProfileSummary, options: { encrypted?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`Tox ID:          ${summary.address ?? '(no keys)'}`);
  lines.push(`Public key:      ${summary.publicKey ?? '(no keys)'}`);
  lines.push(`Nospam:          ${summary.nospam ?? '-'}`);
  if (summary.secretKey !== undefined) lines.push(`Secret key:      ${summary.secretKey}`);
  if (options.encrypted !== undefined) lines.push(`Encrypted:       ${options.encrypted ? 'yes' : 'no'}`);
  lines.push(`Name:            ${quoteForTerminal(summary.name)}`);
  lines.push(`Status message:  ${quoteForTerminal(summary.statusMessage)}`);
  lines.push(`User status:     ${summary.userStatus}`);
  lines.push(`Friends:         ${summary.friends.length}`);
  for (const f of summary.friends) {
    const seen = f.lastSeen === null ? 'never seen' : `last seen ${new Date(f.lastSeen * 1000).toISOString()}`;
    lines.push(`    ${f.publicKey} ${f.status} ${quoteForTerminal(f.name)} ${f.userStatus}, ${seen}`);
    if (f.statusMessage) lines.push(`        status message: ${quoteForTerminal(f.statusMessage)}`);
    if (f.requestAddress) lines.push(`        request to ${f.requestAddress}: ${quoteForTerminal(f.requestMessage ?? '')}`);
  }
  lines.push(`DHT nodes:       ${summary.dhtNodes.length}`);
  for (const n of summary.dhtNodes) lines.push(nodeLine(n));
  lines.push(`TCP relays:      ${summary.tcpRelays.length}`);
  for (const n of summary.tcpRelays) lines.push(nodeLine(n));
  lines.push(`Path nodes:      ${summary.pathNodes.length}`);
  for (const n of summary.pathNodes) lines.push(nodeLine(n));
  lines.push(`Conferences:     ${summary.conferences.length}`);
  for (const c of summary.conferences) lines.push(`    ${c.id} ${quoteForTerminal(c.title)} (${c.frozenPeers} saved peers)`);
  lines.push(`Groups (NGC):    ${summary.groups.length}`);
  for (const g of summary.groups) {
    const flags = [g.privacy, g.role, ...(g.founder ? ['founder key'] : []), ...(g.hasPassword ? ['password'] : []), ...(g.disconnected ? ['disconnected'] : [])];
    lines.push(`    ${g.chatId} ${quoteForTerminal(g.name)} (${flags.join(', ')})`);
    lines.push(`        self key ${g.selfPublicKey}, nick ${quoteForTerminal(g.nick)}, topic ${quoteForTerminal(g.topic)}`);
    if (g.selfSecretKey !== undefined) lines.push(`        self secret key ${g.selfSecretKey}`);
    if (g.chatSecretKey !== undefined) lines.push(`        group secret key ${g.chatSecretKey}`);
    if (g.password !== undefined && g.password !== '') lines.push(`        password ${quoteForTerminal(g.password)}`);
  }
  if (summary.unknownSections.length > 0) {
    lines.push(`Unknown sections: ${summary.unknownSections.map((u) => `type ${u.type} (${u.bytes} bytes)`).join(', ')}: not understood by this version, kept byte for byte (a rekey drops them)`);
  }
  lines.push(`Sections:        ${summary.sections.map((s) => `${s.kind}(${s.type ?? '?'})`).join(' ')}`);
  return lines.join('\n');
}

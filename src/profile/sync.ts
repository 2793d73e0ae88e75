// `profile sync`, pure part: bring an ordinary client's parsed profile up to date with what a companion knows (friends' verified devices, the own signed list).
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { ProfileError } from './errors.js';
import { MAX_STATUS_MESSAGE_LENGTH, type Profile, type SavedFriend } from './format.js';
import { findSection, withSection } from './sections.js';
import { separateHumanText } from '../persona/codec.js';

export { separateHumanText };

/** The marker that starts the signed blob in a status message (docs/PROTOCOL.md section 5). */
const MARKER = '~tp1:';

/** What the companion tells `profile sync` (the `syncSource` operation): its own list and its table, keys as 64 uppercase hex. */
export interface SyncSource {
  /** The companion's PersonaID. */
  personaId: string;
  /** The persona's own devices, from its current signed list. */
  ownDevices: Array<{ publicKey: string; name: string }>;
  /** The signed blob alone, marker included (`~tp1:...`). */
  blob: string;
  /** Unix time the signed list stops being fresh. */
  expiresAt: number;
  /** Friends' personas in the companion's table. */
  personas: Array<{ personaId: string; state: string; devices: Array<{ publicKey: string; name: string; confirmed: boolean }> }>;
  /** Keys the user removed on the companion: never added automatically. */
  blocked: string[];
}

/**
 * The sidecar record, kept next to the client's profile: which friends profile sync added (so it removes only those),
 * adds written but not yet confirmed in the profile (a crash between the two writes), and keys the user removed in the
 * client after sync had added them (never re-added).
 */
export interface SyncRecord {
  version: 1;
  /** The client profile's own public key: a record of another profile is not used. */
  profile: string;
  /** Friend key -> the PersonaID it was added for. */
  added: Record<string, string>;
  /** Keys about to be added by a sync that has not finished writing. */
  pending: Record<string, string>;
  /** Keys profile sync added and the user then removed in the client. */
  declined: string[];
}

/** One friend added or removed by a sync. */
export interface SyncChange {
  publicKey: string;
  personaId: string;
  name: string;
}

/** What {@link planProfileSync} decided. */
export interface SyncPlan {
  /** The client's profile after the sync (every untouched section is the parsed one, so it is written back byte for byte). */
  profile: Profile;
  added: SyncChange[];
  removed: SyncChange[];
  /** Keys found removed by the user in the client since sync added them (from now on never re-added). */
  declined: string[];
  status: { before: string; after: string; changed: boolean };
  /** The record to write before the profile (this sync's adds as pending). */
  recordBefore: SyncRecord;
  /** The record to write after the profile. */
  recordAfter: SyncRecord;
  /** Whether the profile changed at all. */
  changed: boolean;
}

/** An empty record for the profile with public key `profile`. */
export function emptySyncRecord(profile: string): SyncRecord {
  return { version: 1, profile, added: {}, pending: {}, declined: [] };
}

/** Human text and blob (`~tp1:...`) joined as a status message, with {@link separateHumanText}. */
export function joinStatusMessage(human: string, blob: string): string {
  return separateHumanText(human) + blob;
}

/** The human text of a status message: everything before the last marker, less the one space {@link joinStatusMessage} adds. */
export function humanTextOf(status: string): string {
  const at = status.lastIndexOf(MARKER);
  if (at < 0) return status;
  const human = status.slice(0, at);
  return human.endsWith(' ') ? human.slice(0, -1) : human;
}

const HEX64 = /^[0-9A-F]{64}$/;

function friendRecord(publicKey: string, name: string): SavedFriend {
  const nameBytes = new TextEncoder().encode(name).slice(0, 128);
  return {
    status: 3, // confirmed: libtoxcore adds it without a request, as tox_friend_add_norequest would
    publicKey: hexToBytes(publicKey, 32, 'device public key'),
    requestMessage: new Uint8Array(0),
    name: nameBytes,
    statusMessage: new Uint8Array(0),
    userStatus: 0,
    requestNospam: new Uint8Array(4),
    lastSeen: 0n,
  };
}

/**
 * Plans a sync of a client profile against `source`: adds the confirmed devices of verified personas (and, when the
 * client is itself one of the persona's devices, its siblings) that are not friends yet; removes only friends that
 * sync added earlier and whose persona no longer lists them (or that the user blocked on the companion); puts the
 * current signed list in the status message after the client's own human text. Throws {@link ProfileError} TOO_LONG
 * when human text and blob pass 1007 bytes, BAD_SECTION when the profile has no keys or a status message that is not UTF-8.
 */
export function planProfileSync(profile: Profile, source: SyncSource, previous: SyncRecord | undefined): SyncPlan {
  const keys = findSection(profile, 'nospamKeys');
  if (!keys) throw new ProfileError('BAD_SECTION', 'the profile has no NOSPAMKEYS section: it is not a client profile');
  const self = bytesToHex(keys.publicKey);
  const record = previous && previous.profile === self ? previous : emptySyncRecord(self);

  const friendsSection = findSection(profile, 'friends');
  const friends = friendsSection ? friendsSection.friends.filter((f) => f.status !== 0) : [];
  const friendKeys = new Set(friends.map((f) => bytesToHex(f.publicKey)));

  // Reconcile the record with the profile as it is now.
  const added: Record<string, string> = {};
  const declined = new Set(record.declined);
  const newlyDeclined: string[] = [];
  for (const [k, p] of Object.entries(record.pending)) if (friendKeys.has(k)) added[k] = p; // the last sync wrote it
  for (const [k, p] of Object.entries(record.added)) {
    if (friendKeys.has(k)) added[k] = p;
    else if (!declined.has(k)) {
      declined.add(k); // the user removed it in the client: that decision stands
      newlyDeclined.push(k);
    }
  }

  const blocked = new Set(source.blocked.map((k) => k.toUpperCase()));
  const wanted = new Map<string, { personaId: string; name: string }>();
  const listed = new Set<string>();
  for (const p of source.personas) {
    for (const d of p.devices) listed.add(d.publicKey);
    if (p.state !== 'verified') continue; // stale, conflicting or provisional personas get no automatic adds
    for (const d of p.devices) if (d.confirmed) wanted.set(d.publicKey, { personaId: p.personaId, name: d.name });
  }
  if (source.ownDevices.some((d) => d.publicKey === self)) {
    for (const d of source.ownDevices) {
      listed.add(d.publicKey);
      wanted.set(d.publicKey, { personaId: source.personaId, name: d.name });
    }
  }

  const addList: SyncChange[] = [];
  for (const [k, v] of wanted) {
    if (k === self || friendKeys.has(k) || blocked.has(k) || declined.has(k) || !HEX64.test(k)) continue;
    addList.push({ publicKey: k, personaId: v.personaId, name: v.name });
  }
  const removeList: SyncChange[] = [];
  for (const [k, p] of Object.entries(added)) {
    if (listed.has(k) && !blocked.has(k)) continue;
    const f = friends.find((x) => bytesToHex(x.publicKey) === k)!;
    removeList.push({ publicKey: k, personaId: p, name: new TextDecoder().decode(f.name) });
  }

  const before = findSection(profile, 'statusMessage')?.statusMessage ?? new Uint8Array(0);
  let beforeText: string;
  try {
    beforeText = new TextDecoder('utf-8', { fatal: true }).decode(before);
  } catch {
    throw new ProfileError('BAD_SECTION', 'the client\'s status message is not UTF-8; set a text status in the client first');
  }
  const afterText = joinStatusMessage(humanTextOf(beforeText), source.blob);
  const afterBytes = new TextEncoder().encode(afterText);
  if (afterBytes.length > MAX_STATUS_MESSAGE_LENGTH) {
    const blobBytes = new TextEncoder().encode(source.blob).length;
    throw new ProfileError(
      'TOO_LONG',
      `the client's status text and the signed list need ${afterBytes.length} bytes; the limit is ${MAX_STATUS_MESSAGE_LENGTH} and the list alone takes ${blobBytes}: shorten the client's status text`,
    );
  }
  const statusChanged = afterText !== beforeText;

  let sections = profile.sections;
  if (addList.length > 0 || removeList.length > 0) {
    const gone = new Set(removeList.map((r) => r.publicKey));
    const next = [...(friendsSection?.friends ?? []).filter((f) => !gone.has(bytesToHex(f.publicKey))), ...addList.map((a) => friendRecord(a.publicKey, a.name))];
    sections = withSection(sections, { kind: 'friends', friends: next });
  }
  if (statusChanged) sections = withSection(sections, { kind: 'statusMessage', statusMessage: afterBytes });

  // Removals leave the record before the profile is written: a crash in between then leaves a friend nobody removes,
  // never a record that claims a friend the user may add by hand later.
  const kept = { ...added };
  for (const r of removeList) delete kept[r.publicKey];
  const finalAdded = { ...kept };
  for (const a of addList) finalAdded[a.publicKey] = a.personaId;
  const pending = Object.fromEntries(addList.map((a) => [a.publicKey, a.personaId]));
  const declinedList = [...declined].sort();
  return {
    profile: { sections, trailing: profile.trailing },
    added: addList,
    removed: removeList,
    declined: newlyDeclined,
    status: { before: beforeText, after: afterText, changed: statusChanged },
    recordBefore: { version: 1, profile: self, added: kept, pending, declined: declinedList },
    recordAfter: { version: 1, profile: self, added: finalAdded, pending: {}, declined: declinedList },
    changed: statusChanged || addList.length > 0 || removeList.length > 0,
  };
}

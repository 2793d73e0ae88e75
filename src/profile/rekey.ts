// Rekeying: turn an existing profile into a second device's profile with its own keypair and nospam and the same friends.
import { randomBytes } from 'node:crypto';
import { link, lstat, readFile, realpath, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../util/fs.js';
import { bytesEqual, bytesToHex } from '../util/bytes.js';
import { hasEncryptedMagic, parseProfile, writeProfile } from './codec.js';
import { decryptProfile, encryptProfile, type Passphrase } from './encrypted.js';
import { ProfileError } from './errors.js';
import { DHT_SUBSECTION_NODES, MAX_NAME_LENGTH, MAX_STATUS_MESSAGE_LENGTH, type SavedFriend, type Profile, type ProfileSection } from './format.js';
import { derivePublicKey, generateKeyPair, generateNospam, toxAddress, type ToxKeyPair } from './keys.js';
import { findSection, withSection } from './sections.js';
import { decodeGroups, groupChatId } from './groups.js';

/** Options for {@link rekeyProfile}. */
export interface RekeyOptions {
  /** New own name (text is UTF-8 encoded); at most 128 bytes. Unset keeps the old name. */
  name?: string | Uint8Array;
  /** New own status message; at most 1007 bytes. Unset keeps the old one. */
  statusMessage?: string | Uint8Array;
  /** Keep DHT nodes, TCP relays and onion path nodes (default false: a new device finds its own). */
  keepRelays?: boolean;
  /**
   * Keep conferences (default false): their saved peer number is a per-chat identity two devices must not share.
   * NGC groups (GROUPS, 0.2.19+) are always dropped, whatever this says: see docs/PROFILE.md "Groups and rekey".
   */
  keepGroupChats?: boolean;
  /**
   * Also add the rekeyed profile's own (old) public key as a confirmed friend of the new profile (default false), so the
   * two devices connect to each other once the old one adds the new key too.
   */
  addOriginalAsFriend?: boolean;
  /** Use this keypair instead of generating one (it must be a valid X25519 pair). */
  keyPair?: ToxKeyPair;
  /** Use this nospam instead of a random one. */
  nospam?: number;
  /** Passphrase of an encrypted input given as bytes (ignored for a parsed profile). */
  passphrase?: Passphrase;
  /** Encrypt the output with this passphrase; an encrypted input is re-encrypted with `passphrase` when this is unset. */
  newPassphrase?: Passphrase;
}

/** What {@link rekeyProfile} produced. */
export interface RekeyResult {
  /** The new profile, parsed. */
  profile: Profile;
  /** The savedata to write: encrypted when the input was or when `newPassphrase` was given. */
  bytes: Uint8Array;
  /** Whether `bytes` is encrypted. */
  encrypted: boolean;
  /** The new device's public key (32 bytes). */
  publicKey: Uint8Array;
  /** The new nospam, as `tox_self_get_nospam` will report it. */
  nospam: number;
  /** The new 38-byte Tox address. */
  address: Uint8Array;
  /** The public key of the profile that was rekeyed (undefined when it had no NOSPAMKEYS section). */
  previousPublicKey: Uint8Array | undefined;
  /** Number of friends carried over, all now confirmed. */
  friendCount: number;
  /** NGC groups the old profile was in, not carried over: the new device joins them itself (invite, or chat ID for a public group). */
  droppedGroups: { chatId: string; name: string }[];
  /** Sections of a type this version does not know, not carried over (they may hold per-device state too). */
  droppedUnknownSections: { type: number; bytes: number }[];
}

function textBytes(value: string | Uint8Array, what: string, max: number): Uint8Array {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  if (!(bytes instanceof Uint8Array)) throw new ProfileError('BAD_ARGUMENT', `${what} must be a string or bytes`);
  if (bytes.length > max) throw new ProfileError('TOO_LONG', `${what} is ${bytes.length} bytes; libtoxcore accepts at most ${max}`);
  return Uint8Array.from(bytes);
}

/** A friend as a confirmed friend: libtoxcore adds status >= 3 records without a request, and saves no request data for them. */
function asConfirmed(friend: SavedFriend): SavedFriend {
  return {
    status: 3,
    publicKey: Uint8Array.from(friend.publicKey),
    requestMessage: new Uint8Array(0),
    name: Uint8Array.from(friend.name),
    statusMessage: Uint8Array.from(friend.statusMessage),
    userStatus: friend.userStatus,
    requestNospam: new Uint8Array(4),
    lastSeen: friend.lastSeen,
  };
}

/**
 * Rekeys a profile (plain or encrypted bytes, or a parsed profile): fresh X25519 keypair and nospam, every friend kept
 * as a confirmed friend, DHT nodes / TCP relays / path nodes cleared unless `keepRelays`, conferences dropped unless
 * `keepGroupChats`, NGC groups and unknown sections always dropped (each group's saved keypair is the old device's
 * identity in it), optional new name and status message. Throws {@link ProfileError}.
 */
export function rekeyProfile(input: Uint8Array | Profile, options: RekeyOptions = {}): RekeyResult {
  let source: Profile;
  let inputEncrypted = false;
  if (input instanceof Uint8Array) {
    if (hasEncryptedMagic(input)) {
      if (options.passphrase === undefined) throw new ProfileError('ENCRYPTED', 'the profile is encrypted (toxEsave); a passphrase is needed');
      inputEncrypted = true;
      source = parseProfile(decryptProfile(input, options.passphrase));
    } else {
      source = parseProfile(input);
    }
  } else if (input && Array.isArray((input as Profile).sections)) {
    source = input;
  } else {
    throw new ProfileError('BAD_ARGUMENT', 'rekeyProfile: expected savedata bytes or a parsed profile');
  }
  const name = options.name === undefined ? undefined : textBytes(options.name, 'name', MAX_NAME_LENGTH);
  const statusMessage = options.statusMessage === undefined ? undefined : textBytes(options.statusMessage, 'status message', MAX_STATUS_MESSAGE_LENGTH);

  const keyPair = options.keyPair ?? generateKeyPair();
  if (options.keyPair) {
    if (!(keyPair.secretKey instanceof Uint8Array) || keyPair.secretKey.length !== 32 || !(keyPair.publicKey instanceof Uint8Array)) {
      throw new ProfileError('BAD_ARGUMENT', 'keyPair: expected 32-byte publicKey and secretKey');
    }
    if (!bytesEqual(derivePublicKey(keyPair.secretKey), keyPair.publicKey)) throw new ProfileError('BAD_KEYPAIR', 'keyPair: the public key does not belong to the secret key');
  }
  const nospam = options.nospam ?? generateNospam();
  if (!Number.isInteger(nospam) || nospam < 0 || nospam > 0xffffffff) throw new ProfileError('BAD_ARGUMENT', 'nospam must be a u32');

  const previousPublicKey = findSection(source, 'nospamKeys')?.publicKey;
  if (previousPublicKey && bytesEqual(previousPublicKey, keyPair.publicKey)) throw new ProfileError('BAD_KEYPAIR', 'the new keypair is the old one');

  let friendCount = 0;
  const droppedGroups: RekeyResult['droppedGroups'] = [];
  const droppedUnknownSections: RekeyResult['droppedUnknownSections'] = [];
  let sections: ProfileSection[] = [];
  for (const section of source.sections) {
    switch (section.kind) {
      case 'friends': {
        const friends = section.friends.filter((f) => f.status !== 0).map(asConfirmed);
        friendCount += friends.length;
        sections.push({ kind: 'friends', friends });
        break;
      }
      case 'dht':
        sections.push(options.keepRelays ? section : { kind: 'dht', subsections: [{ type: DHT_SUBSECTION_NODES, nodes: [] }], trailing: new Uint8Array(0) });
        break;
      case 'tcpRelays':
      case 'pathNodes':
        sections.push(options.keepRelays ? section : { kind: section.kind, nodes: [] });
        break;
      case 'conferences':
        if (options.keepGroupChats) sections.push(section);
        break;
      case 'groups':
        for (const g of decodeGroups(section.data)) droppedGroups.push({ chatId: bytesToHex(groupChatId(g)), name: new TextDecoder().decode(g.name) });
        break;
      case 'unknown':
        droppedUnknownSections.push({ type: section.type, bytes: section.data.length });
        break;
      default:
        sections.push(section);
    }
  }
  sections = withSection(sections, { kind: 'nospamKeys', nospam, publicKey: Uint8Array.from(keyPair.publicKey), secretKey: Uint8Array.from(keyPair.secretKey) });
  if (options.addOriginalAsFriend && previousPublicKey) {
    const original: SavedFriend = {
      status: 3,
      publicKey: Uint8Array.from(previousPublicKey),
      requestMessage: new Uint8Array(0),
      name: new Uint8Array(0),
      statusMessage: new Uint8Array(0),
      userStatus: 0,
      requestNospam: new Uint8Array(4),
      lastSeen: 0n,
    };
    const friendSections = sections.filter((s): s is Extract<ProfileSection, { kind: 'friends' }> => s.kind === 'friends');
    if (!friendSections.some((fs) => fs.friends.some((f) => bytesEqual(f.publicKey, previousPublicKey)))) {
      // The friends sections in `sections` are the fresh copies made above, so appending changes nothing of the input.
      if (friendSections[0]) friendSections[0].friends.push(original);
      else sections = withSection(sections, { kind: 'friends', friends: [original] });
      friendCount++;
    }
  }
  if (name !== undefined) sections = withSection(sections, { kind: 'name', name });
  if (statusMessage !== undefined) sections = withSection(sections, { kind: 'statusMessage', statusMessage });
  if (!sections.some((s) => s.kind === 'end')) sections = withSection(sections, { kind: 'end' });
  // Nothing after END: a trailer of the old file has no meaning for the new one.
  const profile: Profile = { sections, trailing: new Uint8Array(0) };

  const plain = writeProfile(profile);
  const outPassphrase = options.newPassphrase ?? (inputEncrypted ? options.passphrase : undefined);
  const encrypted = outPassphrase !== undefined;
  const bytes = encrypted ? encryptProfile(plain, outPassphrase) : plain;
  return {
    profile,
    bytes,
    encrypted,
    publicKey: Uint8Array.from(keyPair.publicKey),
    nospam,
    address: toxAddress(keyPair.publicKey, nospam),
    previousPublicKey: previousPublicKey ? Uint8Array.from(previousPublicKey) : undefined,
    friendCount,
    droppedGroups,
    droppedUnknownSections,
  };
}

/** A profile file read from disk: parsed, plus whether it was encrypted. */
export interface LoadedProfile {
  profile: Profile;
  /** The plain savedata (decrypted when the file was encrypted). */
  plain: Uint8Array;
  encrypted: boolean;
}

/** Reads and parses a profile file, decrypting it with `passphrase` when it is encrypted. Throws {@link ProfileError} (READ_FAILED, ENCRYPTED, BAD_PASSPHRASE, parse codes). */
export async function readProfileFile(path: string, options: { passphrase?: Passphrase } = {}): Promise<LoadedProfile> {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new ProfileError('READ_FAILED', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  return loadProfileBytes(raw, options);
}

/** Parses profile bytes that may be encrypted; see {@link readProfileFile}. */
export function loadProfileBytes(raw: Uint8Array, options: { passphrase?: Passphrase } = {}): LoadedProfile {
  if (hasEncryptedMagic(raw)) {
    if (options.passphrase === undefined) throw new ProfileError('ENCRYPTED', 'the profile is encrypted (toxEsave); a passphrase is needed');
    const plain = decryptProfile(raw, options.passphrase);
    return { profile: parseProfile(plain), plain, encrypted: true };
  }
  return { profile: parseProfile(raw), plain: raw, encrypted: false };
}

/** Options for {@link rekeyProfileFile}: the rekey options, with `passphrase` for an encrypted input. */
export type RekeyFileOptions = RekeyOptions;

/** What {@link rekeyProfileFile} wrote. */
export interface RekeyFileResult extends Omit<RekeyResult, 'bytes' | 'profile'> {
  /** Absolute path of the new profile. */
  outPath: string;
}

/**
 * Rekeys the profile at `inPath` into a new file `outPath` (mode 0600). Refuses to write over its input (SAME_FILE) or
 * over any existing file (OUTPUT_EXISTS, checked atomically: the new file is linked into place, never renamed over).
 * An encrypted input stays encrypted, with the same passphrase or `newPassphrase`. Nothing is written on any error.
 */
export async function rekeyProfileFile(inPath: string, outPath: string, options: RekeyFileOptions = {}): Promise<RekeyFileResult> {
  if (typeof inPath !== 'string' || typeof outPath !== 'string' || inPath === '' || outPath === '') {
    throw new ProfileError('BAD_ARGUMENT', 'rekeyProfileFile: input and output paths are needed');
  }
  const inAbs = resolve(inPath);
  const outAbs = resolve(outPath);
  if (inAbs === outAbs || (await sameFile(inAbs, outAbs))) throw new ProfileError('SAME_FILE', `the output ${outPath} is the input file; rekey never overwrites its input`);
  if (await exists(outAbs)) throw new ProfileError('OUTPUT_EXISTS', `the output ${outPath} already exists; choose a new path`);

  let raw: Uint8Array;
  try {
    raw = new Uint8Array(await readFile(inAbs));
  } catch (cause) {
    throw new ProfileError('READ_FAILED', `cannot read ${inPath}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  const result = rekeyProfile(raw, options);
  await writeNewFile(outAbs, result.bytes);
  const { bytes: _bytes, profile: _profile, ...rest } = result;
  return { ...rest, outPath: outAbs };
}

/**
 * Writes `data` to a path that must not exist yet: atomic temp file (fsynced, 0600; at `tmp` when given, so a caller can
 * find it after a crash), then link(2), which fails rather than replace.
 */
export async function writeNewFile(path: string, data: Uint8Array, tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)): Promise<void> {
  try {
    await writeFileAtomic(tmp, data, { mode: 0o600 });
  } catch (cause) {
    throw new ProfileError('WRITE_FAILED', `cannot write next to ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  try {
    await link(tmp, path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ProfileError('OUTPUT_EXISTS', `the output ${path} already exists; choose a new path`, { cause });
    throw new ProfileError('WRITE_FAILED', `cannot create ${path}: ${code ?? (cause as Error).message}`, { cause });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dirname(path));
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ProfileError('WRITE_FAILED', `cannot check ${path}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  } catch {
    // A missing file can't be the same file; fall through to comparing resolved paths.
  }
  try {
    return (await realpath(a)) === join(await realpath(dirname(b)), basename(b));
  } catch {
    return false;
  }
}

// Raw libtoxcore instances for profile tests: make a Tox (optionally from savedata), read back what libtoxcore sees, save.
// Goes straight to src/ffi so the profile tests check our parser against libtoxcore itself, with no layer in between.
import { loadToxcore, enumNames, Tox_Err_New, Tox_Savedata_Type, type Ptr } from '../../src/ffi/index.js';

/** A raw Tox instance plus the savedata buffer it was created from (kept alive until kill, as toxcore may read it). */
export interface RawTox {
  tox: Ptr<'Tox'>;
  kill(): void;
}

/** Thrown by {@link newRawTox} when tox_new fails; `code` is the short Tox_Err_New name (e.g. LOAD_BAD_FORMAT). */
export class RawToxNewError extends Error {
  constructor(readonly code: string) {
    super(`tox_new failed: ${code}`);
  }
}

/**
 * Creates a Tox on loopback-friendly settings (IPv6 and LAN discovery off); with `savedata`, loads it as a Tox save;
 * with `groupsPersistence`, saves and loads NGC groups (libtoxcore 0.2.19+).
 */
export function newRawTox(options: { savedata?: Uint8Array; udp?: boolean; groupsPersistence?: boolean } = {}): RawTox {
  const ffi = loadToxcore();
  const optErr = [0];
  const opts = ffi.tox_options_new(optErr);
  if (opts === null) throw new Error(`tox_options_new failed: ${optErr[0]}`);
  ffi.tox_options_set_ipv6_enabled(opts, false);
  ffi.tox_options_set_local_discovery_enabled(opts, false);
  ffi.tox_options_set_udp_enabled(opts, options.udp ?? true);
  ffi.tox_options_set_start_port(opts, 33500);
  ffi.tox_options_set_end_port(opts, 34500);
  // NGC groups are saved and loaded only with this (0.2.19+; on 0.2.18 the binding's stub throws).
  if (options.groupsPersistence) ffi.tox_options_set_experimental_groups_persistence(opts, true);
  const data = options.savedata ? Buffer.from(options.savedata) : undefined;
  if (data) {
    ffi.tox_options_set_savedata_type(opts, Tox_Savedata_Type.TOX_SAVEDATA_TYPE_TOX_SAVE);
    ffi.tox_options_set_savedata_data(opts, data, data.length);
  }
  const err = [0];
  const tox = ffi.tox_new(opts, err);
  ffi.tox_options_free(opts);
  if (err[0] !== Tox_Err_New.TOX_ERR_NEW_OK || tox === null) {
    if (tox !== null) ffi.tox_kill(tox);
    throw new RawToxNewError(enumNames.Tox_Err_New.short[err[0] as keyof typeof enumNames.Tox_Err_New.short] ?? String(err[0]));
  }
  let alive = true;
  return {
    tox,
    kill() {
      if (alive) ffi.tox_kill(tox);
      alive = false;
      void data;
    },
  };
}

/** libtoxcore's savedata of `tox`, exactly as tox_get_savedata writes it (zero padding included). */
export function getSavedata(tox: Ptr<'Tox'>): Uint8Array {
  const ffi = loadToxcore();
  const buf = Buffer.alloc(ffi.tox_get_savedata_size(tox));
  ffi.tox_get_savedata(tox, buf);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The instance's own public key. */
export function selfPublicKey(tox: Ptr<'Tox'>): Uint8Array {
  const buf = Buffer.alloc(32);
  loadToxcore().tox_self_get_public_key(tox, buf);
  return new Uint8Array(buf);
}

/** The instance's own nospam (tox_self_get_nospam). */
export function selfNospam(tox: Ptr<'Tox'>): number {
  return loadToxcore().tox_self_get_nospam(tox);
}

/** Public keys of the friend list, in friend-number order, as uppercase hex. */
export function friendKeysHex(tox: Ptr<'Tox'>): string[] {
  const ffi = loadToxcore();
  const n = ffi.tox_self_get_friend_list_size(tox);
  const list = new Uint32Array(n);
  if (n > 0) ffi.tox_self_get_friend_list(tox, list);
  return Array.from(list, (num) => {
    const pk = Buffer.alloc(32);
    const err = [0];
    if (!ffi.tox_friend_get_public_key(tox, num, pk, err)) throw new Error(`tox_friend_get_public_key(${num}) failed: ${err[0]}`);
    return pk.toString('hex').toUpperCase();
  });
}

/** Adds `publicKey` as a friend without a request; throws with the Tox_Err_Friend_Add code on failure. */
export function addFriendNoRequest(tox: Ptr<'Tox'>, publicKey: Uint8Array): number {
  const err = [0];
  const num = loadToxcore().tox_friend_add_norequest(tox, Buffer.from(publicKey), err);
  if (err[0] !== 0) throw new Error(`tox_friend_add_norequest failed: ${err[0]}`);
  return num;
}

/** Sets name and status message; throws on failure. */
export function setSelfInfo(tox: Ptr<'Tox'>, info: { name?: string; statusMessage?: string }): void {
  const ffi = loadToxcore();
  const err = [0];
  if (info.name !== undefined) {
    const b = Buffer.from(info.name);
    if (!ffi.tox_self_set_name(tox, b, b.length, err)) throw new Error(`tox_self_set_name failed: ${err[0]}`);
  }
  if (info.statusMessage !== undefined) {
    const b = Buffer.from(info.statusMessage);
    if (!ffi.tox_self_set_status_message(tox, b, b.length, err)) throw new Error(`tox_self_set_status_message failed: ${err[0]}`);
  }
}

/** Own Tox address (38 bytes). */
export function selfAddress(tox: Ptr<'Tox'>): Uint8Array {
  const buf = Buffer.alloc(38);
  loadToxcore().tox_self_get_address(tox, buf);
  return new Uint8Array(buf);
}

/** Sends a friend request to a 38-byte address (the friend is saved with status 1/2 until accepted). */
export function addFriendWithRequest(tox: Ptr<'Tox'>, address: Uint8Array, message: string): number {
  const err = [0];
  const msg = Buffer.from(message);
  const num = loadToxcore().tox_friend_add(tox, Buffer.from(address), msg, msg.length, err);
  if (err[0] !== 0) throw new Error(`tox_friend_add failed: ${err[0]}`);
  return num;
}

/** Iterates every instance, paced by tox_iteration_interval, until `condition` holds; throws naming `what` after `timeoutMs`. */
export async function iterateUntil(toxes: readonly RawTox[], condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const ffi = loadToxcore();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const t of toxes) ffi.tox_iterate(t.tox, null);
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    const interval = Math.min(...toxes.map((t) => ffi.tox_iteration_interval(t.tox)));
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(interval, 50))));
  }
}

/** A profile libtoxcore wrote with no network: name, status message, confirmed friends, a pending request, a conference. */
export interface SocialProfile {
  savedata: Uint8Array;
  publicKey: Uint8Array;
  nospam: number;
  /** Friend keys in friend-number order (uppercase hex), as libtoxcore lists them. */
  friendKeys: string[];
  name: string;
  statusMessage: string;
}

/** Builds a {@link SocialProfile} with real libtoxcore instances (UDP off, so no sockets are needed beyond creation). */
export function buildSocialProfile(): SocialProfile {
  const ffi = loadToxcore();
  const alice = newRawTox({ udp: false });
  const others = [0, 1, 2, 3].map(() => newRawTox({ udp: false }));
  try {
    const name = 'Alice ✓ desktop';
    const statusMessage = 'available – ask me about PersonaIDs';
    setSelfInfo(alice.tox, { name, statusMessage });
    for (const o of others.slice(0, 3)) addFriendNoRequest(alice.tox, selfPublicKey(o.tox));
    addFriendWithRequest(alice.tox, selfAddress(others[3]!.tox), 'Hi, it is Alice: please add me');
    const err = [0];
    ffi.tox_conference_new(alice.tox, err);
    if (err[0] !== 0) throw new Error(`tox_conference_new failed: ${err[0]}`);
    return {
      savedata: getSavedata(alice.tox),
      publicKey: selfPublicKey(alice.tox),
      nospam: selfNospam(alice.tox),
      friendKeys: friendKeysHex(alice.tox),
      name,
      statusMessage,
    };
  } finally {
    alice.kill();
    for (const o of others) o.kill();
  }
}

/** Where a local tox-bootstrapd listens, as {@link buildNetworkedProfile} needs it. */
export interface LocalBootstrap {
  host: string;
  port: number;
  tcpPort: number;
  publicKey: string;
}

/** Bootstraps a raw instance off a local node, over UDP and as a TCP relay. */
export function bootstrapRaw(t: RawTox, node: LocalBootstrap): void {
  const ffi = loadToxcore();
  const pk = Buffer.from(node.publicKey, 'hex');
  const err = [0];
  if (!ffi.tox_bootstrap(t.tox, node.host, node.port, pk, err)) throw new Error(`tox_bootstrap failed: ${err[0]}`);
  if (!ffi.tox_add_tcp_relay(t.tox, node.host, node.tcpPort, pk, err)) throw new Error(`tox_add_tcp_relay failed: ${err[0]}`);
}

/**
 * A profile libtoxcore wrote after being online on the local network: DHT nodes, a TCP relay, onion path nodes, and a
 * friend (Bob) that connected, so his name, status message and last-seen time are in the friend record.
 */
export async function buildNetworkedProfile(node: LocalBootstrap): Promise<{ savedata: Uint8Array; bobKey: Uint8Array }> {
  const ffi = loadToxcore();
  const alice = newRawTox();
  const bob = newRawTox();
  try {
    setSelfInfo(alice.tox, { name: 'Alice', statusMessage: 'online on the local net' });
    setSelfInfo(bob.tox, { name: 'Bob', statusMessage: 'Bob was here' });
    addFriendNoRequest(alice.tox, selfPublicKey(bob.tox));
    addFriendNoRequest(bob.tox, selfPublicKey(alice.tox));
    bootstrapRaw(alice, node);
    bootstrapRaw(bob, node);
    const bobPk = selfPublicKey(bob.tox);
    let save: Uint8Array = new Uint8Array(0);
    await iterateUntil(
      [alice, bob],
      () => {
        if (ffi.tox_friend_get_connection_status(alice.tox, 0, [0]) === 0) return false;
        save = getSavedata(alice.tox);
        const text = Buffer.from(save);
        // Bob's status message reached Alice, and the save holds at least one TCP relay and one path node.
        return text.includes(Buffer.from('Bob was here')) && hasNonEmptySection(save, 10) && hasNonEmptySection(save, 11);
      },
      'Alice connected to Bob, with Bob\'s status message, a TCP relay and a path node in her savedata',
      60_000,
    );
    return { savedata: save, bobKey: bobPk };
  } finally {
    alice.kill();
    bob.kill();
  }
}

/** Whether the savedata has a section of `type` with a non-zero length (a tiny independent walker, not our parser). */
export function hasNonEmptySection(save: Uint8Array, type: number): boolean {
  const view = new DataView(save.buffer, save.byteOffset, save.byteLength);
  let at = 8;
  while (at + 8 <= save.length) {
    const len = view.getUint32(at, true);
    const t = view.getUint16(at + 4, true);
    if (t === type && len > 0) return true;
    if (t === 255) return false;
    at += 8 + len;
  }
  return false;
}

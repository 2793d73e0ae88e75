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

/** Creates a Tox on loopback-friendly settings (IPv6 and LAN discovery off); with `savedata`, loads it as a Tox save. */
export function newRawTox(options: { savedata?: Uint8Array; udp?: boolean } = {}): RawTox {
  const ffi = loadToxcore();
  const optErr = [0];
  const opts = ffi.tox_options_new(optErr);
  if (opts === null) throw new Error(`tox_options_new failed: ${optErr[0]}`);
  ffi.tox_options_set_ipv6_enabled(opts, false);
  ffi.tox_options_set_local_discovery_enabled(opts, false);
  ffi.tox_options_set_udp_enabled(opts, options.udp ?? true);
  ffi.tox_options_set_start_port(opts, 33500);
  ffi.tox_options_set_end_port(opts, 34500);
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

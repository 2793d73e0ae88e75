// ToxNode: the safe, typed face of one libtoxcore instance: lifecycle, iterate loop, events, profile load/save, bootstrap.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import {
  constants,
  enumNames,
  isAvailable,
  libtoxcoreInfo,
  loadToxcore,
  Tox_Group_Privacy_State,
  Tox_Message_Type,
  Tox_Proxy_Type,
  Tox_Savedata_Type,
  Tox_User_Status,
  type EnumName,
  type Ptr,
  type ToxFfi,
} from '../ffi/index.js';
import { bytesOrHex, bytesToHex } from '../util/bytes.js';
import { writeFileAtomic } from '../util/fs.js';
import { ToxError } from './errors.js';
import {
  attachEvents,
  CONNECTION,
  detachEvents,
  USER_STATUS,
  type ConnectionStatus,
  type FriendNumber,
  type GroupNumber,
  type GroupPeerNumber,
  type MessageType,
  type QueuedEvent,
  type SelfConnectionEvent,
  type ToxcoreEvents,
  type UserStatus,
} from './events.js';
import type { BootstrapNode } from './nodes.js';

export type * from './events.js';

/** Proxy for TCP connections (toxcore does UDP only without a proxy). */
export interface ProxyOptions {
  type: 'http' | 'socks5';
  host: string;
  port: number;
}

/** Settings for the automatic re-bootstrap while offline. */
export interface RebootstrapOptions {
  /** First delay after going (or starting) offline before bootstrapping again, in ms (default 5000). */
  initialDelayMs?: number;
  /** Upper bound of the doubling backoff, in ms (default 60000). */
  maxDelayMs?: number;
}

/** Options of {@link ToxNode.create}; defaults suit an always-on server (UDP, IPv6 and LAN discovery on). */
export interface ToxNodeOptions {
  /** A profile to load: plain or encrypted (`toxEsave`) savedata. */
  savedata?: Uint8Array;
  /** Profile file: loaded when it exists (and `savedata` is not given), and the default target of `save()`. */
  profilePath?: string;
  /** Passphrase for an encrypted profile; when set, `save()` and `savedata()` encrypt (even if the loaded profile was plain). */
  passphrase?: string | Uint8Array;
  /** Start a fresh identity from this 32-byte secret key (`TOX_SAVEDATA_TYPE_SECRET_KEY`) instead of a profile. */
  secretKey?: Uint8Array | string;
  /** Use UDP (default true); false means TCP relays only. */
  udp?: boolean;
  /** Use IPv6 (default true); tests turn it off. */
  ipv6?: boolean;
  /** LAN discovery (default true); tests turn it off. */
  localDiscovery?: boolean;
  /** UDP hole punching (default true). */
  holePunching?: boolean;
  /** First UDP port to try (default 0: toxcore's range 33445-33545). */
  startPort?: number;
  /** Last UDP port to try (default 0: toxcore's range). */
  endPort?: number;
  /** Run a TCP relay server on this port (default 0: none). */
  tcpPort?: number;
  /** Proxy for TCP connections. */
  proxy?: ProxyOptions;
  /** Nodes to bootstrap from right after creation (also remembered for the automatic re-bootstrap). */
  bootstrapNodes?: BootstrapNode[];
  /** Automatic re-bootstrap while offline (default on); `false` turns it off. */
  rebootstrap?: RebootstrapOptions | false;
  /**
   * Save NGC groups in the profile and rejoin them when it is loaded (libtoxcore's `experimental_groups_persistence`,
   * default false). Ignored on a libtoxcore without that option (0.2.18): there groups never survive a restart.
   */
  groupsPersistence?: boolean;
}

/** Payload of `rebootstrap`: we were offline and bootstrapped again. */
export interface RebootstrapEvent {
  /** 1 for the first retry since the node was last online. */
  attempt: number;
  /** Nodes that were accepted by toxcore this time. */
  accepted: number;
  /** Delay before the next attempt if we stay offline. */
  nextDelayMs: number;
}

/** The typed event map of {@link ToxNode}; toxcore's events are dispatched after `tox_iterate` returns, never from inside C. */
export interface ToxNodeEvents extends ToxcoreEvents {
  rebootstrap: [RebootstrapEvent];
  /** One turn of the `start()` loop finished: how late it began and how long it took. */
  iterate: [IterateEvent];
  /** A handler threw, or the iterate loop hit an error; the node keeps running. */
  error: [Error];
  /** The node was closed. */
  close: [];
}

/** Timing of one turn of the iterate loop, for lag metrics. */
export interface IterateEvent {
  /** How long after its due time (`tox_iteration_interval` after the previous turn) this turn began, ms. */
  lagMs: number;
  /** How long `tox_iterate` plus event dispatch took, ms. */
  durationMs: number;
  /** Events dispatched in this turn. */
  events: number;
}

/** Outcome of {@link ToxNode.bootstrap}: per node, whether toxcore accepted it (as DHT node and TCP relay). */
export interface BootstrapReport {
  accepted: BootstrapNode[];
  failed: Array<{ node: BootstrapNode; error: ToxError }>;
}

const { TOX_PUBLIC_KEY_SIZE, TOX_ADDRESS_SIZE, TOX_SECRET_KEY_SIZE, TOX_MAX_NAME_LENGTH, TOX_MAX_STATUS_MESSAGE_LENGTH } = constants;
const { TOX_MAX_MESSAGE_LENGTH, TOX_MAX_CUSTOM_PACKET_SIZE, TOX_MAX_HOSTNAME_LENGTH } = constants;
const { TOX_PASS_ENCRYPTION_EXTRA_LENGTH, TOX_PASS_SALT_LENGTH } = constants;
const USER_STATUS_C = {
  none: Tox_User_Status.TOX_USER_STATUS_NONE,
  away: Tox_User_Status.TOX_USER_STATUS_AWAY,
  busy: Tox_User_Status.TOX_USER_STATUS_BUSY,
} as const;
const UINT64_MAX = 0xffffffffffffffffn;
const utf8 = new TextDecoder('utf-8');

/** One libtoxcore instance behind a safe API: every call checked, every `Tox_Err_*` a {@link ToxError}, no use after close. */
export class ToxNode extends EventEmitter<ToxNodeEvents> {
  private readonly ffi: ToxFfi;
  private tox: Ptr<'Tox'> | null;
  /** Events the C callbacks copied during tox_iterate, dispatched after it returned (src/tox/events.ts). */
  private readonly queue: QueuedEvent[];
  private passKey: Ptr<'Tox_Pass_Key'> | null;
  private readonly profilePath: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the pending loop turn is due (performance.now() ms). */
  private dueAt = 0;
  private loopOn = false;
  private iterating = false;
  private lastSelfStatus: ConnectionStatus = 'none';
  private readonly knownNodes = new Map<string, BootstrapNode>();
  private readonly rebootstrapOn: boolean;
  private readonly rebootstrapInitial: number;
  private readonly rebootstrapMax: number;
  private rebootstrapDelay: number;
  private nextRebootstrapAt = 0;
  private rebootstrapAttempt = 0;

  private constructor(ffi: ToxFfi, tox: Ptr<'Tox'>, queue: QueuedEvent[], passKey: Ptr<'Tox_Pass_Key'> | null, options: ToxNodeOptions) {
    super();
    this.ffi = ffi;
    this.tox = tox;
    this.queue = queue;
    this.passKey = passKey;
    this.profilePath = options.profilePath;
    const rb = options.rebootstrap === false ? undefined : (options.rebootstrap ?? {});
    this.rebootstrapOn = rb !== undefined;
    this.rebootstrapInitial = rb?.initialDelayMs ?? 5_000;
    this.rebootstrapMax = Math.max(rb?.maxDelayMs ?? 60_000, this.rebootstrapInitial);
    this.rebootstrapDelay = this.rebootstrapInitial;
    this.nextRebootstrapAt = Date.now() + this.rebootstrapInitial;
  }

  /**
   * Creates a node from options (through `tox_options_new` and its accessors, never a struct layout).
   * Loads `savedata`, else `profilePath` when that file exists, else starts a fresh identity.
   * Throws ToxError with op `'create'`: a `Tox_Err_New` name (`LOAD_BAD_FORMAT`, `PORT_ALLOC`, ...), `NO_PASSPHRASE`,
   * `WRONG_PASSPHRASE`, `PROFILE_UNREADABLE` or `BAD_ARGUMENT`. A partly loaded instance is always killed first.
   */
  static async create(options: ToxNodeOptions = {}): Promise<ToxNode> {
    let savedata = options.savedata;
    if (savedata === undefined && options.profilePath !== undefined) {
      try {
        savedata = await readFile(options.profilePath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') {
          throw new ToxError('create', 'PROFILE_UNREADABLE', `cannot read ${options.profilePath}: ${code ?? (err as Error).message}`, { cause: err });
        }
      }
    }
    return ToxNode.createSync({ ...options, savedata });
  }

  /** Like {@link ToxNode.create} but synchronous; `profilePath` is only remembered for `save()`, never read. */
  static createSync(options: ToxNodeOptions = {}): ToxNode {
    const op = 'create';
    const ffi = loadToxcore();
    const keep: unknown[] = []; // buffers toxcore holds pointers to until tox_new returns
    let passKey: Ptr<'Tox_Pass_Key'> | null = null;
    const passphrase = options.passphrase === undefined ? undefined : textArg(op, options.passphrase, 'passphrase');
    if (passphrase !== undefined && passphrase.length === 0) throw new ToxError(op, 'BAD_ARGUMENT', 'passphrase: must not be empty');
    for (const [k, v] of [['udp', options.udp], ['ipv6', options.ipv6], ['localDiscovery', options.localDiscovery], ['holePunching', options.holePunching], ['groupsPersistence', options.groupsPersistence]] as const) {
      if (v !== undefined && typeof v !== 'boolean') throw new ToxError(op, 'BAD_ARGUMENT', `${k}: expected a boolean`);
    }
    const startPort = portArg(op, options.startPort ?? 0, 'startPort', true);
    const endPort = portArg(op, options.endPort ?? 0, 'endPort', true);
    const tcpPort = portArg(op, options.tcpPort ?? 0, 'tcpPort', true);

    let savedataType: number = Tox_Savedata_Type.TOX_SAVEDATA_TYPE_NONE;
    let plain: Uint8Array | undefined;
    try {
      if (options.secretKey !== undefined) {
        if (options.savedata !== undefined) throw new ToxError(op, 'BAD_ARGUMENT', 'give either savedata or secretKey, not both');
        plain = Buffer.from(keyArg(op, options.secretKey, TOX_SECRET_KEY_SIZE, 'secretKey'));
        savedataType = Tox_Savedata_Type.TOX_SAVEDATA_TYPE_SECRET_KEY;
      } else if (options.savedata !== undefined) {
        const data = bytesArg(op, options.savedata, 'savedata');
        if (data.length === 0) throw new ToxError(op, 'LOAD_BAD_FORMAT', 'savedata is empty');
        if (data.length >= TOX_PASS_ENCRYPTION_EXTRA_LENGTH && ffi.tox_is_data_encrypted(data)) {
          if (passphrase === undefined) throw new ToxError(op, 'NO_PASSPHRASE', 'the profile is encrypted; a passphrase is needed to load it');
          passKey = deriveKeyFor(ffi, passphrase, data);
          plain = Buffer.alloc(data.length - TOX_PASS_ENCRYPTION_EXTRA_LENGTH);
          const err = [0];
          if (!ffi.tox_pass_key_decrypt(passKey, data, data.length, plain, err) || err[0] !== 0) {
            const name = errName('Tox_Err_Decryption', err[0]!);
            if (name === 'FAILED') throw new ToxError(op, 'WRONG_PASSPHRASE', 'wrong passphrase, or the encrypted profile is corrupt');
            throw new ToxError(op, `DECRYPTION_${name}`, 'the encrypted profile could not be decrypted');
          }
        } else {
          plain = data;
        }
        const problem = savedataProblem(plain);
        if (problem !== undefined) throw new ToxError(op, 'LOAD_BAD_FORMAT', problem);
        savedataType = Tox_Savedata_Type.TOX_SAVEDATA_TYPE_TOX_SAVE;
      }
      if (passphrase !== undefined && passKey === null) passKey = deriveKey(ffi, passphrase);

      const err = [0];
      const opts = ffi.tox_options_new(err);
      if (opts === null || err[0] !== 0) throw new ToxError(op, errName('Tox_Err_Options_New', err[0]!), 'tox_options_new failed');
      let tox: Ptr<'Tox'> | null;
      try {
        ffi.tox_options_set_udp_enabled(opts, options.udp ?? true);
        ffi.tox_options_set_ipv6_enabled(opts, options.ipv6 ?? true);
        ffi.tox_options_set_local_discovery_enabled(opts, options.localDiscovery ?? true);
        ffi.tox_options_set_hole_punching_enabled(opts, options.holePunching ?? true);
        ffi.tox_options_set_start_port(opts, startPort);
        ffi.tox_options_set_end_port(opts, endPort);
        ffi.tox_options_set_tcp_port(opts, tcpPort);
        // Only where the library has the option (0.2.20, 0.2.22 here); elsewhere there are no groups to keep anyway.
        if (options.groupsPersistence === true && isAvailable('tox_options_set_experimental_groups_persistence', ffi)) {
          ffi.tox_options_set_experimental_groups_persistence(opts, true);
        }
        if (options.proxy !== undefined) {
          const p = options.proxy;
          if (p.type !== 'http' && p.type !== 'socks5') throw new ToxError(op, 'PROXY_BAD_TYPE', `proxy.type: expected "http" or "socks5"`);
          const host = hostArg(op, p.host, 'proxy.host');
          keep.push(host);
          ffi.tox_options_set_proxy_type(opts, p.type === 'http' ? Tox_Proxy_Type.TOX_PROXY_TYPE_HTTP : Tox_Proxy_Type.TOX_PROXY_TYPE_SOCKS5);
          ffi.tox_options_set_proxy_host(opts, host);
          ffi.tox_options_set_proxy_port(opts, portArg(op, p.port, 'proxy.port', false));
        }
        if (plain !== undefined) {
          keep.push(plain);
          ffi.tox_options_set_savedata_type(opts, savedataType as Tox_Savedata_Type);
          ffi.tox_options_set_savedata_data(opts, plain, plain.length);
        }
        tox = ffi.tox_new(opts, err);
      } finally {
        ffi.tox_options_free(opts);
      }
      keep.length = 0; // toxcore copied what it needed; the buffers may go now
      if (err[0] !== 0) {
        // tox_new can hand back a partly loaded instance together with LOAD_BAD_FORMAT: never let it live.
        if (tox !== null) ffi.tox_kill(tox);
        const name = errName('Tox_Err_New', err[0]!);
        throw new ToxError(op, name, NEW_HINTS[name]);
      }
      if (tox === null) throw new ToxError(op, 'NULL', 'tox_new returned NULL without an error code');
      const node = new ToxNode(ffi, tox, attachEvents(ffi, tox), passKey, options);
      passKey = null; // owned by the node now
      if (options.bootstrapNodes && options.bootstrapNodes.length > 0) {
        try {
          node.bootstrap(options.bootstrapNodes);
        } catch (e) {
          node.close();
          throw e;
        }
      }
      return node;
    } finally {
      if (passKey !== null) ffi.tox_pass_key_free(passKey);
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------------

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.tox === null;
  }

  /** Whether the iterate loop is running. */
  get running(): boolean {
    return this.loopOn;
  }

  /** Starts the iterate loop (paced by `tox_iteration_interval`); idempotent. */
  start(): void {
    this.live('start');
    if (this.loopOn) return;
    this.loopOn = true;
    this.schedule(0);
  }

  /** Stops the iterate loop; idempotent, and a no-op after close. */
  stop(): void {
    this.loopOn = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops the loop and frees the toxcore instance; idempotent. Every later call (but stop/close) throws ToxError `CLOSED`. */
  close(): void {
    if (this.tox === null) return;
    if (this.iterating) throw new ToxError('close', 'REENTRANT', 'close() called from inside tox_iterate');
    this.stop();
    const tox = this.tox;
    this.tox = null;
    this.ffi.tox_kill(tox);
    detachEvents(tox);
    this.queue.length = 0;
    if (this.passKey !== null) this.ffi.tox_pass_key_free(this.passKey);
    this.passKey = null;
    this.safeEmit('close');
  }

  /** The libtoxcore this node runs on: file, `version` (`0.2.22`), and whether that version is a known (tested) one. */
  get libtoxcore(): { path: string; version: string; known: boolean } {
    const { path, version, known } = libtoxcoreInfo(this.ffi);
    return { path, version, known };
  }

  /** Milliseconds toxcore wants until the next iteration. */
  iterationInterval(): number {
    return this.ffi.tox_iteration_interval(this.live('iterationInterval'));
  }

  /**
   * Runs one `tox_iterate`, then dispatches the events its callbacks queued (and runs the offline re-bootstrap).
   * Returns the number of events dispatched. Handlers run after C returned; a throwing handler becomes an `error` event.
   */
  iterateOnce(): number {
    const tox = this.live('iterate');
    if (this.iterating) throw new ToxError('iterate', 'REENTRANT', 'iterateOnce() called from inside an iteration');
    this.iterating = true;
    try {
      this.ffi.tox_iterate(tox, null);
    } finally {
      this.iterating = false;
    }
    const batch = this.queue.splice(0);
    for (const [name, payload] of batch) {
      if (this.tox === null) break;
      if (name === 'error') {
        this.emitError(payload);
        continue;
      }
      if (name === 'selfConnection') this.onSelfConnection((payload as SelfConnectionEvent).status);
      this.safeEmit(name, payload);
    }
    this.maybeRebootstrap();
    return batch.length;
  }

  private schedule(delayMs: number): void {
    this.dueAt = performance.now() + delayMs;
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.loopOn || this.tox === null) return;
    const began = performance.now();
    let events = 0;
    try {
      events = this.iterateOnce();
    } catch (err) {
      this.emitError(err);
    }
    if (this.tox === null) return;
    // Only computed when someone listens: the loop runs 20 times a second for the life of the node.
    if (this.listenerCount('iterate') > 0) {
      this.safeEmit('iterate', { lagMs: Math.max(0, began - this.dueAt), durationMs: performance.now() - began, events });
    }
    if (this.loopOn && this.tox !== null) this.schedule(this.ffi.tox_iteration_interval(this.tox));
  }

  // ---- profile ---------------------------------------------------------------------------------------------------

  /** Whether saves are encrypted (a passphrase is set). */
  get encrypted(): boolean {
    this.live('encrypted');
    return this.passKey !== null;
  }

  /** Sets (or with `null` removes) the passphrase used by later saves; derives the key once (scrypt, slow by design). */
  setPassphrase(passphrase: string | Uint8Array | null): void {
    this.live('setPassphrase');
    const bytes = passphrase === null ? null : textArg('setPassphrase', passphrase, 'passphrase');
    if (bytes !== null && bytes.length === 0) throw new ToxError('setPassphrase', 'BAD_ARGUMENT', 'passphrase: must not be empty (use null to save unencrypted)');
    const next = bytes === null ? null : deriveKey(this.ffi, bytes);
    if (this.passKey !== null) this.ffi.tox_pass_key_free(this.passKey);
    this.passKey = next;
  }

  /** The profile bytes: encrypted (`toxEsave`) when a passphrase is set, unless `plain` is asked for. */
  savedata(options: { plain?: boolean } = {}): Uint8Array {
    const tox = this.live('savedata');
    const size = this.ffi.tox_get_savedata_size(tox);
    const plain = Buffer.alloc(size);
    this.ffi.tox_get_savedata(tox, plain);
    if (options.plain || this.passKey === null) return plain;
    const out = Buffer.alloc(size + TOX_PASS_ENCRYPTION_EXTRA_LENGTH);
    const err = [0];
    if (!this.ffi.tox_pass_key_encrypt(this.passKey, plain, size, out, err) || err[0] !== 0) {
      throw new ToxError('savedata', errName('Tox_Err_Encryption', err[0]!), 'encrypting the profile failed');
    }
    plain.fill(0);
    return out;
  }

  /** Writes the profile atomically (temp file, fsync, rename, fsync dir) with mode 0600 to `path` or the `profilePath` option. */
  async save(path?: string): Promise<void> {
    this.live('save');
    const target = path ?? this.profilePath;
    if (target === undefined) throw new ToxError('save', 'NO_PATH', 'no path given and no profilePath option');
    await writeFileAtomic(target, this.savedata(), { mode: 0o600 });
  }

  // ---- self ------------------------------------------------------------------------------------------------------

  /** Our long-term public key (32 bytes). */
  get publicKey(): Uint8Array {
    const out = Buffer.alloc(TOX_PUBLIC_KEY_SIZE);
    this.ffi.tox_self_get_public_key(this.live('publicKey'), out);
    return out;
  }

  /** Our public key as uppercase hex. */
  get publicKeyHex(): string {
    return bytesToHex(this.publicKey);
  }

  /** Our Tox ID (38 bytes: public key, nospam, checksum), what friends pass to `friendAdd`. */
  get address(): Uint8Array {
    const out = Buffer.alloc(TOX_ADDRESS_SIZE);
    this.ffi.tox_self_get_address(this.live('address'), out);
    return out;
  }

  /** Our Tox ID as 76 uppercase hex characters. */
  get addressHex(): string {
    return bytesToHex(this.address);
  }

  /** Our nospam value (part of the Tox ID; changing it stops new friend requests to the old ID). */
  get nospam(): number {
    return this.ffi.tox_self_get_nospam(this.live('nospam'));
  }

  /** Sets the nospam value (uint32). */
  setNospam(nospam: number): void {
    const tox = this.live('setNospam');
    if (!Number.isInteger(nospam) || nospam < 0 || nospam > 0xffffffff) throw new ToxError('setNospam', 'BAD_ARGUMENT', 'nospam: expected a uint32');
    this.ffi.tox_self_set_nospam(tox, nospam);
  }

  /** Our DHT public key (changes every run; useful to bootstrap one local node off another). */
  get dhtId(): Uint8Array {
    const out = Buffer.alloc(TOX_PUBLIC_KEY_SIZE);
    this.ffi.tox_self_get_dht_id(this.live('dhtId'), out);
    return out;
  }

  /** The UDP port we are bound to; throws ToxError `getUdpPort`/`NOT_BOUND` when UDP is off. */
  get udpPort(): number {
    const err = [0];
    const port = this.ffi.tox_self_get_udp_port(this.live('udpPort'), err);
    check('udpPort', 'Tox_Err_Get_Port', err);
    return port;
  }

  /** Our own connection to the network (DHT or TCP relay). */
  get connectionStatus(): ConnectionStatus {
    return CONNECTION[this.ffi.tox_self_get_connection_status(this.live('connectionStatus'))] ?? 'none';
  }

  /** Our nickname, decoded as UTF-8. */
  get name(): string {
    const tox = this.live('name');
    const out = Buffer.alloc(this.ffi.tox_self_get_name_size(tox));
    if (out.length > 0) this.ffi.tox_self_get_name(tox, out);
    return utf8.decode(out);
  }

  /** Sets our nickname (at most 128 bytes of UTF-8). */
  setName(name: string | Uint8Array): void {
    const tox = this.live('setName');
    const bytes = lengthArg('setName', textArg('setName', name, 'name'), 0, TOX_MAX_NAME_LENGTH, 'name');
    const err = [0];
    this.ffi.tox_self_set_name(tox, bytes, bytes.length, err);
    check('setName', 'Tox_Err_Set_Info', err);
  }

  /** Our status message as bytes (the persona layer stores binary-safe text there). */
  get statusMessage(): Uint8Array {
    const tox = this.live('statusMessage');
    const out = Buffer.alloc(this.ffi.tox_self_get_status_message_size(tox));
    if (out.length > 0) this.ffi.tox_self_get_status_message(tox, out);
    return out;
  }

  /** Sets our status message (at most 1007 bytes); friends online receive it at once, others when they connect. */
  setStatusMessage(message: string | Uint8Array): void {
    const tox = this.live('setStatusMessage');
    const bytes = lengthArg('setStatusMessage', textArg('setStatusMessage', message, 'message'), 0, TOX_MAX_STATUS_MESSAGE_LENGTH, 'status message');
    const err = [0];
    this.ffi.tox_self_set_status_message(tox, bytes, bytes.length, err);
    check('setStatusMessage', 'Tox_Err_Set_Info', err);
  }

  /** Our presence. */
  get status(): UserStatus {
    return USER_STATUS[this.ffi.tox_self_get_status(this.live('status'))] ?? 'none';
  }

  /** Sets our presence. */
  setStatus(status: UserStatus): void {
    const tox = this.live('setStatus');
    const c = USER_STATUS_C[status];
    if (c === undefined) throw new ToxError('setStatus', 'BAD_ARGUMENT', 'status: expected "none", "away" or "busy"');
    this.ffi.tox_self_set_status(tox, c);
  }

  // ---- friends ---------------------------------------------------------------------------------------------------

  /** Sends a friend request to a Tox ID (38 bytes or 76 hex) with a message of 1 to tox_max_friend_request_length() bytes (1016; 921 from 0.2.21); returns the friend number. */
  friendAdd(address: Uint8Array | string, message: string | Uint8Array): FriendNumber {
    const op = 'friendAdd';
    const tox = this.live(op);
    const addr = keyArg(op, address, TOX_ADDRESS_SIZE, 'address');
    const msg = textArg(op, message, 'message');
    if (msg.length === 0) throw new ToxError(op, 'NO_MESSAGE', 'the request message must not be empty');
    // 1016 bytes up to 0.2.20, 921 from 0.2.21: ask the loaded library, not a header.
    const max = this.ffi.tox_max_friend_request_length();
    if (msg.length > max) throw new ToxError(op, 'TOO_LONG', `message is ${msg.length} bytes, at most ${max}`);
    const err = [0];
    const n = this.ffi.tox_friend_add(tox, addr, msg, msg.length, err);
    check(op, 'Tox_Err_Friend_Add', err);
    return n;
  }

  /** Adds a friend by public key without a request (accepting a request, or a pre-arranged pair); returns the friend number. */
  friendAddNorequest(publicKey: Uint8Array | string): FriendNumber {
    const op = 'friendAddNorequest';
    const tox = this.live(op);
    const pk = keyArg(op, publicKey, TOX_PUBLIC_KEY_SIZE, 'publicKey');
    const err = [0];
    const n = this.ffi.tox_friend_add_norequest(tox, pk, err);
    check(op, 'Tox_Err_Friend_Add', err);
    return n;
  }

  /** Removes a friend. */
  friendDelete(friend: FriendNumber): void {
    const op = 'friendDelete';
    const tox = this.live(op);
    const err = [0];
    this.ffi.tox_friend_delete(tox, friendArg(op, friend), err);
    check(op, 'Tox_Err_Friend_Delete', err);
  }

  /** The friend number of a public key, or undefined when it is not a friend. */
  friendByPublicKey(publicKey: Uint8Array | string): FriendNumber | undefined {
    const op = 'friendByPublicKey';
    const tox = this.live(op);
    const pk = keyArg(op, publicKey, TOX_PUBLIC_KEY_SIZE, 'publicKey');
    const err = [0];
    const n = this.ffi.tox_friend_by_public_key(tox, pk, err);
    if (err[0] === enumValue('Tox_Err_Friend_By_Public_Key', 'NOT_FOUND')) return undefined;
    check(op, 'Tox_Err_Friend_By_Public_Key', err);
    return n;
  }

  /** Whether a friend number is in use. */
  friendExists(friend: FriendNumber): boolean {
    const tox = this.live('friendExists');
    return this.ffi.tox_friend_exists(tox, friendArg('friendExists', friend));
  }

  /** All friend numbers. */
  friendList(): FriendNumber[] {
    const tox = this.live('friendList');
    const out = new Uint32Array(this.ffi.tox_self_get_friend_list_size(tox));
    if (out.length > 0) this.ffi.tox_self_get_friend_list(tox, out);
    return Array.from(out);
  }

  /** A friend's long-term public key (32 bytes). */
  friendPublicKey(friend: FriendNumber): Uint8Array {
    const op = 'friendPublicKey';
    const tox = this.live(op);
    const out = Buffer.alloc(TOX_PUBLIC_KEY_SIZE);
    const err = [0];
    this.ffi.tox_friend_get_public_key(tox, friendArg(op, friend), out, err);
    check(op, 'Tox_Err_Friend_Get_Public_Key', err);
    return out;
  }

  /** A friend's nickname (last known), decoded as UTF-8. */
  friendName(friend: FriendNumber): string {
    const op = 'friendName';
    const tox = this.live(op);
    const n = friendArg(op, friend);
    const err = [0];
    const size = this.ffi.tox_friend_get_name_size(tox, n, err);
    check(op, 'Tox_Err_Friend_Query', err);
    // koffi passes an empty Buffer as NULL, which toxcore refuses; an empty name needs no copy anyway.
    if (size === 0) return '';
    const out = Buffer.alloc(size);
    this.ffi.tox_friend_get_name(tox, n, out, err);
    check(op, 'Tox_Err_Friend_Query', err);
    return utf8.decode(out);
  }

  /** A friend's last known status message as bytes (restored from the profile on load, without an event). */
  friendStatusMessage(friend: FriendNumber): Uint8Array {
    const op = 'friendStatusMessage';
    const tox = this.live(op);
    const n = friendArg(op, friend);
    const err = [0];
    const size = this.ffi.tox_friend_get_status_message_size(tox, n, err);
    check(op, 'Tox_Err_Friend_Query', err);
    if (size === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(size);
    this.ffi.tox_friend_get_status_message(tox, n, out, err);
    check(op, 'Tox_Err_Friend_Query', err);
    return out;
  }

  /** A friend's presence. */
  friendStatus(friend: FriendNumber): UserStatus {
    const op = 'friendStatus';
    const tox = this.live(op);
    const err = [0];
    const s = this.ffi.tox_friend_get_status(tox, friendArg(op, friend), err);
    check(op, 'Tox_Err_Friend_Query', err);
    return USER_STATUS[s] ?? 'none';
  }

  /** How a friend is connected to us right now. */
  friendConnectionStatus(friend: FriendNumber): ConnectionStatus {
    const op = 'friendConnectionStatus';
    const tox = this.live(op);
    const err = [0];
    const s = this.ffi.tox_friend_get_connection_status(tox, friendArg(op, friend), err);
    check(op, 'Tox_Err_Friend_Query', err);
    return CONNECTION[s] ?? 'none';
  }

  /** When a friend was last seen online, or undefined if never. */
  friendLastOnline(friend: FriendNumber): Date | undefined {
    const op = 'friendLastOnline';
    const tox = this.live(op);
    const err = [0];
    const t = BigInt(this.ffi.tox_friend_get_last_online(tox, friendArg(op, friend), err));
    check(op, 'Tox_Err_Friend_Get_Last_Online', err);
    if (t === 0n || t === UINT64_MAX) return undefined;
    return new Date(Number(t) * 1000);
  }

  /** Tells a friend whether we are typing. */
  setTyping(friend: FriendNumber, typing: boolean): void {
    const op = 'setTyping';
    const tox = this.live(op);
    const err = [0];
    this.ffi.tox_self_set_typing(tox, friendArg(op, friend), Boolean(typing), err);
    check(op, 'Tox_Err_Set_Typing', err);
  }

  /** Sends a chat message (1-1372 bytes) to an online friend; returns the message id echoed by `friendReadReceipt`. */
  sendMessage(friend: FriendNumber, message: string | Uint8Array, type: MessageType = 'normal'): number {
    const op = 'sendMessage';
    const tox = this.live(op);
    const n = friendArg(op, friend);
    if (type !== 'normal' && type !== 'action') throw new ToxError(op, 'BAD_ARGUMENT', 'type: expected "normal" or "action"');
    const bytes = textArg(op, message, 'message');
    if (bytes.length === 0) throw new ToxError(op, 'EMPTY', 'message must not be empty');
    if (bytes.length > TOX_MAX_MESSAGE_LENGTH) throw new ToxError(op, 'TOO_LONG', `message is ${bytes.length} bytes, at most ${TOX_MAX_MESSAGE_LENGTH}`);
    const err = [0];
    const id = this.ffi.tox_friend_send_message(
      tox,
      n,
      type === 'action' ? Tox_Message_Type.TOX_MESSAGE_TYPE_ACTION : Tox_Message_Type.TOX_MESSAGE_TYPE_NORMAL,
      bytes,
      bytes.length,
      err,
    );
    check(op, 'Tox_Err_Friend_Send_Message', err);
    return id;
  }

  /** Sends a lossless custom packet (1-1373 bytes, first byte 160-191) to an online friend. */
  sendLosslessPacket(friend: FriendNumber, data: Uint8Array): void {
    const op = 'sendLosslessPacket';
    const tox = this.live(op);
    const n = friendArg(op, friend);
    const bytes = packetArg(op, data, 160, 191);
    const err = [0];
    this.ffi.tox_friend_send_lossless_packet(tox, n, bytes, bytes.length, err);
    check(op, 'Tox_Err_Friend_Custom_Packet', err);
  }

  /** Sends a lossy custom packet (1-1373 bytes, first byte 200-254) to an online friend. */
  sendLossyPacket(friend: FriendNumber, data: Uint8Array): void {
    const op = 'sendLossyPacket';
    const tox = this.live(op);
    const n = friendArg(op, friend);
    const bytes = packetArg(op, data, 200, 254);
    const err = [0];
    this.ffi.tox_friend_send_lossy_packet(tox, n, bytes, bytes.length, err);
    check(op, 'Tox_Err_Friend_Custom_Packet', err);
  }

  // ---- NGC groups (libtoxcore 0.2.19+) ------------------------------------------------------------------------------
  // The few calls later work needs; on 0.2.18 each throws ToxError `UNAVAILABLE`. A group key is per group: our
  // `groupSelfPublicKey` differs from `publicKey` and from our key in every other group.

  /** Whether the loaded libtoxcore has NGC groups (0.2.19+); the group methods throw ToxError `UNAVAILABLE` otherwise. */
  get groupsAvailable(): boolean {
    return isAvailable('tox_group_new', this.ffi);
  }

  /** Creates a group (we are its founder) and returns its number; `groupSelfJoin` follows. */
  groupNew(groupName: string | Uint8Array, selfName: string | Uint8Array, privacy: 'public' | 'private' = 'private'): GroupNumber {
    const op = 'groupNew';
    const tox = this.liveGroups(op);
    if (privacy !== 'public' && privacy !== 'private') throw new ToxError(op, 'BAD_ARGUMENT', 'privacy: expected "public" or "private"');
    const gname = lengthArg(op, textArg(op, groupName, 'groupName'), 1, constants.TOX_GROUP_MAX_GROUP_NAME_LENGTH, 'group name');
    const name = lengthArg(op, textArg(op, selfName, 'selfName'), 1, TOX_MAX_NAME_LENGTH, 'name');
    const state = privacy === 'public' ? Tox_Group_Privacy_State.TOX_GROUP_PRIVACY_STATE_PUBLIC : Tox_Group_Privacy_State.TOX_GROUP_PRIVACY_STATE_PRIVATE;
    const err = [0];
    const n = this.ffi.tox_group_new(tox, state, gname, gname.length, name, name.length, err);
    check(op, 'Tox_Err_Group_New', err);
    return n;
  }

  /** Joins a public group by its 32-byte chat id; returns its number (`groupSelfJoin` or `groupJoinFail` follows). */
  groupJoin(chatId: Uint8Array | string, selfName: string | Uint8Array, password?: string | Uint8Array): GroupNumber {
    const op = 'groupJoin';
    const tox = this.liveGroups(op);
    const id = keyArg(op, chatId, constants.TOX_GROUP_CHAT_ID_SIZE, 'chatId');
    const name = lengthArg(op, textArg(op, selfName, 'selfName'), 1, TOX_MAX_NAME_LENGTH, 'name');
    const pw = password === undefined ? null : lengthArg(op, textArg(op, password, 'password'), 1, constants.TOX_GROUP_MAX_PASSWORD_SIZE, 'password');
    const err = [0];
    const n = this.ffi.tox_group_join(tox, id, name, name.length, pw, pw?.length ?? 0, err);
    check(op, 'Tox_Err_Group_Join', err);
    return n;
  }

  /** Invites an online friend to a group we are in; the friend gets a `groupInvite` event. */
  groupInviteFriend(group: GroupNumber, friend: FriendNumber): void {
    const op = 'groupInviteFriend';
    const tox = this.liveGroups(op);
    const err = [0];
    this.ffi.tox_group_invite_friend(tox, groupArg(op, group), friendArg(op, friend), err);
    check(op, 'Tox_Err_Group_Invite_Friend', err);
  }

  /** Accepts a `groupInvite` (its `inviteData`) from a friend; returns the group's number. */
  groupInviteAccept(friend: FriendNumber, inviteData: Uint8Array, selfName: string | Uint8Array, password?: string | Uint8Array): GroupNumber {
    const op = 'groupInviteAccept';
    const tox = this.liveGroups(op);
    const data = bytesArg(op, inviteData, 'inviteData');
    const name = lengthArg(op, textArg(op, selfName, 'selfName'), 1, TOX_MAX_NAME_LENGTH, 'name');
    const pw = password === undefined ? null : lengthArg(op, textArg(op, password, 'password'), 1, constants.TOX_GROUP_MAX_PASSWORD_SIZE, 'password');
    const err = [0];
    const n = this.ffi.tox_group_invite_accept(tox, friendArg(op, friend), data, data.length, name, name.length, pw, pw?.length ?? 0, err);
    check(op, 'Tox_Err_Group_Invite_Accept', err);
    return n;
  }

  /** Leaves a group (peers see `groupPeerExit` with our optional part message); the group number becomes free. */
  groupLeave(group: GroupNumber, partMessage?: string | Uint8Array): void {
    const op = 'groupLeave';
    const tox = this.liveGroups(op);
    const msg = partMessage === undefined ? null : lengthArg(op, textArg(op, partMessage, 'partMessage'), 0, constants.TOX_GROUP_MAX_PART_LENGTH, 'part message');
    const err = [0];
    this.ffi.tox_group_leave(tox, groupArg(op, group), msg, msg?.length ?? 0, err);
    check(op, 'Tox_Err_Group_Leave', err);
  }

  /**
   * Numbers of the groups we are in (created, joined, or loaded from a profile saved with `groupsPersistence`); empty
   * without NGC. Probes numbers upward until `tox_group_get_number_groups` of them answered (bounded: a hole-ridden
   * table is cut off after 1024 misses).
   */
  groupNumbers(): GroupNumber[] {
    const tox = this.live('groupNumbers');
    if (!this.groupsAvailable) return [];
    const count = this.ffi.tox_group_get_number_groups(tox);
    const out: GroupNumber[] = [];
    const buf = Buffer.alloc(constants.TOX_GROUP_CHAT_ID_SIZE);
    for (let n = 0, misses = 0; out.length < count && misses < 1024; n++) {
      const err = [0];
      this.ffi.tox_group_get_chat_id(tox, n, buf, err);
      if (err[0] === 0) out.push(n as GroupNumber);
      else misses++;
    }
    return out;
  }

  /**
   * The number of the group with this chat id, also one whose join is still pending (libtoxcore leaves such a group out
   * of `tox_group_get_number_groups` and so of {@link ToxNode.groupNumbers}: no shared state yet); undefined when none.
   * Scans the first 1024 group numbers.
   */
  groupNumberOfChatId(chatId: Uint8Array | string): GroupNumber | undefined {
    const tox = this.live('groupNumberOfChatId');
    if (!this.groupsAvailable) return undefined;
    const want = Buffer.from(bytesOrHex(chatId, constants.TOX_GROUP_CHAT_ID_SIZE, 'chat id'));
    const buf = Buffer.alloc(constants.TOX_GROUP_CHAT_ID_SIZE);
    for (let n = 0; n < 1024; n++) {
      const err = [0];
      this.ffi.tox_group_get_chat_id(tox, n, buf, err);
      if (err[0] === 0 && buf.equals(want)) return n as GroupNumber;
    }
    return undefined;
  }

  /** The group's 32-byte chat id (what `groupJoin` takes). */
  groupChatId(group: GroupNumber): Uint8Array {
    const op = 'groupChatId';
    const tox = this.liveGroups(op);
    const out = Buffer.alloc(constants.TOX_GROUP_CHAT_ID_SIZE);
    const err = [0];
    this.ffi.tox_group_get_chat_id(tox, groupArg(op, group), out, err);
    check(op, 'Tox_Err_Group_State_Query', err);
    return out;
  }

  /** Our own public key in this group (per group, not our Tox public key). */
  groupSelfPublicKey(group: GroupNumber): Uint8Array {
    const op = 'groupSelfPublicKey';
    const tox = this.liveGroups(op);
    const out = Buffer.alloc(constants.TOX_GROUP_PEER_PUBLIC_KEY_SIZE);
    const err = [0];
    this.ffi.tox_group_self_get_public_key(tox, groupArg(op, group), out, err);
    check(op, 'Tox_Err_Group_Self_Query', err);
    return out;
  }

  /** A peer's public key in this group. */
  groupPeerPublicKey(group: GroupNumber, peer: GroupPeerNumber): Uint8Array {
    const op = 'groupPeerPublicKey';
    const tox = this.liveGroups(op);
    const out = Buffer.alloc(constants.TOX_GROUP_PEER_PUBLIC_KEY_SIZE);
    const err = [0];
    this.ffi.tox_group_peer_get_public_key(tox, groupArg(op, group), groupArg(op, peer, 'peer'), out, err);
    check(op, 'Tox_Err_Group_Peer_Query', err);
    return out;
  }

  /** Sends a custom packet (1-1373 bytes) to every peer of a group, lossless or lossy; peers get `groupCustomPacket`. */
  groupSendCustomPacket(group: GroupNumber, data: Uint8Array, lossless = true): void {
    const op = 'groupSendCustomPacket';
    const tox = this.liveGroups(op);
    const max = lossless ? constants.TOX_GROUP_MAX_CUSTOM_LOSSLESS_PACKET_LENGTH : constants.TOX_GROUP_MAX_CUSTOM_LOSSY_PACKET_LENGTH;
    const bytes = lengthArg(op, bytesArg(op, data, 'data'), 1, max, 'packet');
    const err = [0];
    this.ffi.tox_group_send_custom_packet(tox, groupArg(op, group), Boolean(lossless), bytes, bytes.length, err);
    check(op, 'Tox_Err_Group_Send_Custom_Packet', err);
  }

  private liveGroups(op: string): Ptr<'Tox'> {
    const tox = this.live(op);
    if (!this.groupsAvailable) {
      throw new ToxError(op, 'UNAVAILABLE', `NGC groups need libtoxcore 0.2.19 or newer; this is ${libtoxcoreInfo(this.ffi).version}`);
    }
    return tox;
  }

  // ---- network ---------------------------------------------------------------------------------------------------

  /**
   * Bootstraps from each node, both as a UDP DHT node (`tox_bootstrap`) and as a TCP relay (`tox_add_tcp_relay`, on each
   * of its `tcpPorts`, else its UDP port). Nodes are remembered for the automatic re-bootstrap while offline.
   * Returns which nodes toxcore accepted; throws ToxError `bootstrap` (e.g. `BAD_HOST`) only if none was accepted.
   * An address that resolves but does not answer is accepted: toxcore only learns later that nobody is there.
   */
  bootstrap(nodes: readonly BootstrapNode[]): BootstrapReport {
    const op = 'bootstrap';
    this.live(op);
    if (!Array.isArray(nodes)) throw new ToxError(op, 'BAD_ARGUMENT', 'nodes: expected an array of {host, port, publicKey}');
    const checked = nodes.map((node: BootstrapNode, i) => {
      if (typeof node !== 'object' || node === null) throw new ToxError(op, 'BAD_ARGUMENT', `nodes[${i}]: expected {host, port, publicKey}`);
      return {
        node,
        host: hostArg(op, node.host, `nodes[${i}].host`),
        port: portArg(op, node.port, `nodes[${i}].port`, false),
        key: keyArg(op, node.publicKey, TOX_PUBLIC_KEY_SIZE, `nodes[${i}].publicKey`),
        tcpPorts: (node.tcpPorts ?? [node.port]).map((p: unknown) => portArg(op, p, `nodes[${i}].tcpPorts`, false)),
      };
    });
    for (const c of checked) this.knownNodes.set(`${c.node.host}:${c.port}:${bytesToHex(c.key)}`, c.node);
    const report = this.bootstrapChecked(checked);
    if (checked.length > 0 && report.accepted.length === 0) {
      const first = report.failed[0]!.error;
      throw new ToxError(op, first.code, `no bootstrap node was accepted: ${report.failed.map((f) => `${f.node.host}:${f.node.port} ${f.error.code}`).join(', ')}`);
    }
    return report;
  }

  private bootstrapChecked(checked: Array<{ node: BootstrapNode; host: Buffer; port: number; key: Uint8Array; tcpPorts: number[] }>): BootstrapReport {
    const tox = this.live('bootstrap');
    const report: BootstrapReport = { accepted: [], failed: [] };
    for (const c of checked) {
      const err = [0];
      this.ffi.tox_bootstrap(tox, c.host, c.port, c.key, err);
      let failure = err[0] === 0 ? undefined : new ToxError('bootstrap', errName('Tox_Err_Bootstrap', err[0]!), `${c.node.host}:${c.port}`);
      let relayOk = false;
      for (const tcpPort of c.tcpPorts) {
        const e2 = [0];
        this.ffi.tox_add_tcp_relay(tox, c.host, tcpPort, c.key, e2);
        if (e2[0] === 0) relayOk = true;
        else failure ??= new ToxError('bootstrap', errName('Tox_Err_Bootstrap', e2[0]!), `TCP relay ${c.node.host}:${tcpPort}`);
      }
      if (err[0] === 0 || relayOk) report.accepted.push(c.node);
      else report.failed.push({ node: c.node, error: failure! });
    }
    return report;
  }

  private onSelfConnection(status: ConnectionStatus): void {
    const was = this.lastSelfStatus;
    this.lastSelfStatus = status;
    if (status === 'none' && was !== 'none') {
      // Just went offline: give toxcore's own reconnection a moment, then start the backoff from the beginning.
      this.rebootstrapDelay = this.rebootstrapInitial;
      this.rebootstrapAttempt = 0;
      this.nextRebootstrapAt = Date.now() + this.rebootstrapInitial;
    }
  }

  private maybeRebootstrap(): void {
    if (!this.rebootstrapOn || this.knownNodes.size === 0 || this.tox === null) return;
    if (this.lastSelfStatus !== 'none') return;
    const now = Date.now();
    if (now < this.nextRebootstrapAt) return;
    const nodes = [...this.knownNodes.values()];
    let accepted = 0;
    try {
      accepted = this.bootstrapChecked(
        nodes.map((node) => ({
          node,
          host: Buffer.from(`${node.host}\0`),
          port: node.port,
          key: bytesOrHex(node.publicKey, TOX_PUBLIC_KEY_SIZE, 'publicKey'),
          tcpPorts: node.tcpPorts ?? [node.port],
        })),
      ).accepted.length;
    } catch (err) {
      this.emitError(err);
    }
    this.rebootstrapAttempt += 1;
    this.rebootstrapDelay = Math.min(this.rebootstrapDelay * 2, this.rebootstrapMax);
    this.nextRebootstrapAt = now + this.rebootstrapDelay;
    this.safeEmit('rebootstrap', { attempt: this.rebootstrapAttempt, accepted, nextDelayMs: this.rebootstrapDelay });
  }

  // ---- events ----------------------------------------------------------------------------------------------------

  // Each listener runs on its own: one that throws becomes an 'error' event and does not starve the listeners after it.
  private safeEmit(name: keyof ToxNodeEvents, payload?: unknown): void {
    const args = payload === undefined ? [] : [payload];
    for (const listener of this.rawListeners(name) as Array<(...a: unknown[]) => unknown>) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.emitError(err);
      }
    }
  }

  private emitError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    try {
      if (this.listenerCount('error') > 0) {
        this.emit('error', error);
        return;
      }
    } catch (inner) {
      process.emitWarning(`ToxNode 'error' handler threw: ${(inner as Error)?.message ?? String(inner)}`, 'ToxNodeWarning');
      return;
    }
    // Without an 'error' listener EventEmitter would throw from inside the timer and kill the process: warn instead.
    process.emitWarning(`ToxNode: unhandled error: ${error.message}`, 'ToxNodeWarning');
  }

  private live(op: string): Ptr<'Tox'> {
    if (this.tox === null) throw new ToxError(op, 'CLOSED', 'the ToxNode was closed');
    return this.tox;
  }
}

const NEW_HINTS: Record<string, string> = {
  LOAD_BAD_FORMAT: 'the profile is corrupt or not a Tox profile',
  LOAD_ENCRYPTED: 'the profile is encrypted; a passphrase is needed',
  PORT_ALLOC: 'no free UDP port in the configured range (or the TCP server port is taken)',
  PROXY_BAD_HOST: 'the proxy host could not be resolved',
  PROXY_BAD_PORT: 'the proxy port is invalid',
  PROXY_BAD_TYPE: 'unknown proxy type',
  PROXY_NOT_FOUND: 'the proxy could not be reached',
  MALLOC: 'out of memory',
};

/** The short member name (`ALREADY_SENT`) of a value of a C error enum. */
export function errName(e: EnumName, value: number): string {
  return enumNames[e].short[value] ?? `UNKNOWN_${value}`;
}

/**
 * Returns why `data` is not a complete Tox profile, or undefined. toxcore itself accepts a bare header (and a file cut
 * at a section boundary) and silently starts a *new* identity, which would lose the user's Tox ID and friends, so we
 * insist on the identity section (NOSPAMKEYS) and the END marker that every save ends with.
 */
export function savedataProblem(data: Uint8Array): string | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 8 || view.getUint32(0, true) !== 0 || view.getUint32(4, true) !== 0x15ed1b1f) return 'not a Tox profile (bad header)';
  let at = 8;
  let keys = false;
  while (at + 8 <= data.length) {
    const length = view.getUint32(at, true);
    const type = view.getUint16(at + 4, true);
    if (view.getUint16(at + 6, true) !== 0x01ce) return `section at byte ${at} has a bad cookie`;
    at += 8;
    if (length > data.length - at) return `section type ${type} at byte ${at - 8} runs past the end (truncated profile)`;
    if (type === 1) keys = length === 68;
    if (type === 255) return keys ? undefined : 'the profile has no identity (NOSPAMKEYS) section';
    at += length;
  }
  return 'the profile ends without its END section (truncated profile)';
}

function enumValue(e: EnumName, short: string): number {
  const table = enumNames[e].short;
  for (const k of Object.keys(table)) if (table[Number(k)] === short) return Number(k);
  throw new Error(`no member ${short} in ${e}`);
}

function check(op: string, e: EnumName, err: number[]): void {
  if (err[0] !== 0) throw new ToxError(op, errName(e, err[0]!));
}

function keyArg(op: string, value: unknown, length: number, what: string): Uint8Array {
  try {
    return bytesOrHex(value, length, what);
  } catch (err) {
    throw new ToxError(op, 'BAD_ARGUMENT', (err as Error).message, { cause: err });
  }
}

function bytesArg(op: string, value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ToxError(op, 'BAD_ARGUMENT', `${what}: expected a Uint8Array`);
  return value;
}

function textArg(op: string, value: unknown, what: string): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  throw new ToxError(op, 'BAD_ARGUMENT', `${what}: expected a string or a Uint8Array`);
}

function lengthArg(op: string, bytes: Uint8Array, min: number, max: number, what: string): Uint8Array {
  if (bytes.length > max) throw new ToxError(op, 'TOO_LONG', `${what} is ${bytes.length} bytes, at most ${max}`);
  if (bytes.length < min) throw new ToxError(op, 'EMPTY', `${what} must not be empty`);
  return bytes;
}

function friendArg(op: string, friend: unknown): number {
  if (typeof friend !== 'number' || !Number.isInteger(friend) || friend < 0 || friend > 0xffffffff) {
    throw new ToxError(op, 'BAD_ARGUMENT', `friend number: expected a uint32, got ${String(friend)}`);
  }
  return friend;
}

function groupArg(op: string, n: unknown, what = 'group'): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new ToxError(op, 'BAD_ARGUMENT', `${what} number: expected a uint32, got ${String(n)}`);
  }
  return n;
}

function portArg(op: string, port: unknown, what: string, zeroOk: boolean): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (zeroOk ? 0 : 1) || port > 65535) {
    throw new ToxError(op, 'BAD_ARGUMENT', `${what}: expected a port ${zeroOk ? 0 : 1}-65535, got ${String(port)}`);
  }
  return port;
}

// toxcore may keep a host pointer (proxy), so hosts travel as NUL-terminated Buffers we control.
function hostArg(op: string, host: unknown, what: string): Buffer {
  if (typeof host !== 'string' || host.length === 0 || host.includes('\0')) throw new ToxError(op, 'BAD_ARGUMENT', `${what}: expected a host name or address`);
  const bytes = Buffer.from(`${host}\0`, 'utf8');
  if (bytes.length - 1 > TOX_MAX_HOSTNAME_LENGTH) throw new ToxError(op, 'BAD_HOST', `${what}: longer than ${TOX_MAX_HOSTNAME_LENGTH} bytes`);
  return bytes;
}

function packetArg(op: string, data: unknown, lo: number, hi: number): Uint8Array {
  const bytes = bytesArg(op, data, 'data');
  if (bytes.length === 0) throw new ToxError(op, 'EMPTY', 'packet must not be empty');
  if (bytes.length > TOX_MAX_CUSTOM_PACKET_SIZE) throw new ToxError(op, 'TOO_LONG', `packet is ${bytes.length} bytes, at most ${TOX_MAX_CUSTOM_PACKET_SIZE}`);
  if (bytes[0]! < lo || bytes[0]! > hi) throw new ToxError(op, 'INVALID', `packet id (first byte) must be ${lo}-${hi}, got ${bytes[0]}`);
  return bytes;
}

function deriveKey(ffi: ToxFfi, passphrase: Uint8Array): Ptr<'Tox_Pass_Key'> {
  const err = [0];
  const key = ffi.tox_pass_key_derive(passphrase, passphrase.length, err);
  if (key === null || err[0] !== 0) throw new ToxError('create', `KEY_DERIVATION_${errName('Tox_Err_Key_Derivation', err[0]!)}`, 'deriving the profile key failed');
  return key;
}

// Re-using the file's salt lets us decrypt with one key derivation and then encrypt every later save without another.
function deriveKeyFor(ffi: ToxFfi, passphrase: Uint8Array, encrypted: Uint8Array): Ptr<'Tox_Pass_Key'> {
  const salt = Buffer.alloc(TOX_PASS_SALT_LENGTH);
  const err = [0];
  if (!ffi.tox_get_salt(encrypted, salt, err) || err[0] !== 0) {
    throw new ToxError('create', `GET_SALT_${errName('Tox_Err_Get_Salt', err[0]!)}`, 'the encrypted profile header is corrupt');
  }
  const key = ffi.tox_pass_key_derive_with_salt(passphrase, passphrase.length, salt, err);
  if (key === null || err[0] !== 0) throw new ToxError('create', `KEY_DERIVATION_${errName('Tox_Err_Key_Derivation', err[0]!)}`, 'deriving the profile key failed');
  return key;
}

// The companion's imperative shell over one data directory: it feeds node events, timers and user commands into the
// pure reducer (reducer.ts), performs the effects it returns (friend adds and deletes, publishing, saving) and feeds their
// results back in. It decides nothing itself; it owns the files, the timers and the node.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { EventEmitter } from 'node:events';
import type { Logger } from './log.js';
import type { CompanionConfig, Policy } from './config.js';
import { dataPath, readJsonFile, writeJsonFile, DataDirError, FILES } from './datadir.js';
import { commitFiles, SaveError, type CommitFile } from '../util/fs.js';
import { faultArmed, faultPoint } from '../util/fault.js';
import { createHash } from 'node:crypto';
import type { NodePort, NodePortBootstrap, NodePortEvents, SelfConnection } from './node-port.js';
import { CompanionMetrics } from './metrics.js';
import { ToxPersonaError } from '../util/errors.js';
import * as P from './persona-port.js';
import { buildStatusMessage, loadTable, serializeTable, verifySignedList, type PersonaTable } from '../persona/index.js';
import { loadOwnKeys } from './signer.js';
import { keysView } from './key-ops.js';
import {
  activeDevice, CompanionError, initialState, MAX_PENDING_REQUESTS, reduce, userProvenance,
  type AlarmRecord, type AutoAdd, type Command, type CompanionEvent, type CompanionState, type Effect, type FriendProvenance, type PendingRequest, type Reduction, type ReducerEnv,
} from './reducer.js';
import { rekeyProfile } from '../profile/rekey.js';
import { createProfileFile, enrollTempPath, isIntentBase, resolveEnrollIntent, sha256Hex, type EnrollIntent } from './enroll.js';
import { SiblingChannel } from './sibling-channel.js';
import { emptySiblingState, type SiblingSyncState } from './sibling-sync.js';
import { boundRequests } from './requests.js';
import { loadRecords, recordsText, type RecordsFile } from './records-file.js';
import { generateKeyPair, toxAddress } from '../profile/keys.js';
import { bytesToHex } from '../util/bytes.js';
import { resolve as resolvePath } from 'node:path';
import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { CompanionGroups, MAX_GROUPS_LEFT } from './groups.js';
import type { OwnSigner } from '../persona/own.js';

export { CompanionError, MAX_PENDING_REQUESTS, type AlarmRecord, type PendingRequest, type CompanionState };

/** Saves triggered by friends' lists are coalesced to at most one per this many milliseconds. */
export const MIN_SAVE_INTERVAL_MS = 1000;

/** Delay before a failed save (a full or read-only disk) is tried again. */
export const SAVE_RETRY_MS = 5_000;

/** The last failed save, for `status` and /healthz; cleared by the next save that succeeds. */
export interface SaveFailure {
  at: string;
  code: string;
  message: string;
}

/** The outcome of one mutating request, kept by request id so that a retry gets it instead of applying twice. */
export interface RequestOutcome {
  id: string;
  op: string;
  at: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  /** Set while a `device enroll` is between its intent and its list: the outcome counts only once the start resolves it. */
  pending?: EnrollIntent;
}

/** Most request outcomes kept; the oldest give way (a retry comes within minutes, not after a hundred other changes). */
export const MAX_OUTCOMES_KEPT = 100;

/** What happened to one status message, as the `statusProcessed` event reports it. */
export type StatusOutcome = NonNullable<Reduction['outcome']>;

/** Companion events, for the daemon's progress lines, the demo and tests. */
export interface CompanionEvents {
  /** A friend's status message went through the reducer; `outcome` says what happened. */
  statusProcessed: [{ from: string; outcome: StatusOutcome; effects: Effect[] }];
  /** Our own list was re-signed and set as status message. */
  published: [{ seq: number; devices: P.DeviceView[] }];
  selfConnection: [SelfConnection];
  friendConnection: [{ publicKey: string; connection: SelfConnection; online: number; total: number }];
  alarm: [AlarmRecord];
  /** A save committed; `startedAt` (ms since the epoch) is when it began, what the at-most-one-per-second rule spaces. */
  saved: [{ startedAt: number }];
  /** A save failed (the disk refused); `status` and /healthz say why until one succeeds. */
  saveFailed: [];
}

/** Dependencies of a {@link Companion}. */
export interface CompanionComponents {
  node: NodePort;
  log: Logger;
  metrics?: CompanionMetrics;
  /** Clock in Unix seconds (tests pin it). */
  now?: () => number;
  /** Passphrase of an encrypted profile: enrolled profiles are encrypted with it too. */
  profilePassphrase?: string;
  /** Budgets and timeout of automatic adds (tests). */
  limits?: ReducerEnv['limits'];
}

/** Persisted state loaded from a data directory by {@link loadCompanionState}. */
export interface LoadedState {
  /** This device's keys (root and/or certified signer). */
  key: P.OwnKeys;
  own: P.SignedDeviceList;
  table: PersonaTable;
  requests: PendingRequest[];
  /** Friend requests dropped so far because their bucket of the queue was full (requests.json). */
  requestsDropped?: number;
  /** alarms.json: alarms and recent rejections shown by `status`; none when absent. */
  records?: RecordsFile;
  /** friends.json; undefined for a directory written before provenance was recorded. */
  friends?: FriendsFile;
  /** outcomes.json: outcomes of recent mutating requests; none when absent. */
  outcomes?: RequestOutcome[];
}

/** The companion service over one data directory. In daemon mode it listens to the node's events; in offline mode the CLI calls one operation and closes it. */
export class Companion extends EventEmitter<CompanionEvents> {
  readonly config: CompanionConfig;
  readonly node: NodePort;
  readonly log: Logger;
  readonly metrics: CompanionMetrics;
  private readonly now: () => number;
  private readonly profilePassphrase: string | undefined;
  private readonly env: ReducerEnv;
  private state: CompanionState;
  /** Effects waiting to be performed, in order; a save followed by a publish holds the queue until it is durable. */
  private readonly queue: Effect[] = [];
  private draining = false;
  private saveChain: Promise<void> = Promise.resolve();
  private dirty = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSaveAt = 0;
  private effectsDone: Promise<void> = Promise.resolve();
  private saveFailure: SaveFailure | undefined;
  private lastSavedAt: string | undefined;
  /** SHA-256 of what each file last received, so a save writes only the files whose content changed. */
  private readonly written = new Map<string, string>();
  /** Key files waiting for the next commit (installKeys); cleared once it succeeded. */
  private readonly keyFiles: CommitFile[] = [];
  /** Our own list as it is on disk: what `status` and `blob` show (a change whose save failed is not shown as done). */
  private durableOwn: P.SignedDeviceList;
  private outcomes: RequestOutcome[];
  /** Chat ids of the groups the user left on this device (friends.json `groupsLeft`; see GroupHost.groupsLeft). */
  private readonly groupsLeft: Set<string>;
  /** Set when the data directory's lock was lost: another process may own the files, so we must not write them. */
  private writesStopped = false;
  private running = false;
  private timers: NodeJS.Timeout[] = [];
  private republishTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private readonly unsubscribe: Array<() => void> = [];
  /** Typed messages between the devices of our persona (sibling sync; extensions register their own types on it). */
  readonly siblings: SiblingChannel;
  private siblingCache: { own: P.SignedDeviceList; keys: Set<string> } | undefined;
  private groupsModule: CompanionGroups | undefined;

  constructor(config: CompanionConfig, loaded: LoadedState, components: CompanionComponents) {
    super();
    this.config = config;
    this.node = components.node;
    this.log = components.log;
    this.metrics = components.metrics ?? new CompanionMetrics({ defaultMetrics: false });
    this.now = components.now ?? (() => Date.now() / 1000);
    this.profilePassphrase = components.profilePassphrase;
    this.env = {
      policy: config.policy,
      acceptRequests: config.acceptRequests,
      ttlSeconds: config.ttlSeconds,
      statusText: config.statusText,
      selfKey: this.node.publicKey,
      key: loaded.key,
      ...(components.limits ? { limits: components.limits } : {}),
    };
    this.state = {
      ...initialState(loaded.own, loaded.table),
      requests: loaded.requests,
      requestsDropped: loaded.requestsDropped ?? 0,
      ...(loaded.records ?? {}),
      ...withoutGroupsLeft(loaded.friends ?? migrateFriends(loaded.table, this.now())),
    };
    this.groupsLeft = new Set(loaded.friends?.groupsLeft ?? []);
    this.durableOwn = loaded.own;
    this.outcomes = loaded.outcomes ?? [];
    this.siblings = new SiblingChannel({
      node: this.node,
      log: this.log,
      isSibling: (pk) => this.siblingKeys().has(pk),
      siblings: () => [...this.siblingKeys()],
      onCore: (from, message) => this.dispatch({ type: 'sibling', from, message, now: this.now() }),
    });
    this.metrics.refresher = () => this.refreshGauges();
    this.metrics.setLibtoxcoreVersion(this.node.libtoxcoreVersion);
  }

  /** The other devices of our current list (cached per list: every sibling packet asks). */
  private siblingKeys(): Set<string> {
    if (this.siblingCache?.own !== this.state.own) {
      this.siblingCache = { own: this.state.own, keys: new Set(P.devicesOf(this.state.own.list).map((d) => d.publicKey).filter((pk) => pk !== this.node.publicKey)) };
    }
    return this.siblingCache.keys;
  }

  // ---------------------------------------------------------------- the one write path

  /** Feeds one event to the reducer, keeps the new state, queues its effects; throws a refused command's CompanionError. */
  dispatch(event: CompanionEvent): Reduction {
    const r = reduce(this.state, event, this.env);
    if (r.state.own !== this.state.own) faultPoint('after-sign');
    this.state = r.state;
    this.perform(r.effects);
    return r;
  }

  private command(command: Command): Reduction {
    const r = this.dispatch({ type: 'command', command, now: this.now() });
    if (r.error) throw r.error;
    return r;
  }

  private perform(effects: readonly Effect[]): void {
    this.queue.push(...effects);
    this.drain();
  }

  /** Performs queued effects in order; a save with a publish after it is made durable first (state durable before visible). */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const e = this.queue[0]!;
        if (e.type === 'save' && this.queue.some((x) => x.type === 'publish')) {
          this.queue.shift();
          this.dirty = true;
          // Durable before visible: the publish waits until the save succeeded; a failed save (full disk) is retried,
          // and until then nothing of it is published.
          this.effectsDone = this.saveUntilDurable(e.why).then(() => {
            this.draining = false;
            this.drain();
          });
          return;
        }
        this.queue.shift();
        this.guard(e.type, () => this.performOne(e));
      }
    } finally {
      if (this.queue.length === 0) this.draining = false;
    }
  }

  private performOne(e: Effect): void {
    const now = this.now();
    switch (e.type) {
      case 'save':
        this.requestSave(e.why);
        break;
      case 'publish':
        this.node.setStatusMessage(e.statusMessage);
        if (faultArmed() === 'after-publish') this.faultAfterNextIterate();
        this.metrics.publishes.inc();
        this.emit('published', { seq: e.seq, devices: P.devicesOf(this.state.own.list) });
        this.scheduleRepublish();
        break;
      case 'addFriend': {
        if (this.node.friend(e.publicKey)) {
          this.dispatch({ type: 'friendAdded', publicKey: e.publicKey, ok: true, now });
          break;
        }
        try {
          if (e.address) this.node.friendAdd(e.address, e.message ?? 'tox-persona');
          else this.node.friendAddNorequest(e.publicKey);
        } catch (err) {
          this.dispatch({ type: 'friendAdded', publicKey: e.publicKey, ok: false, code: (err as ToxPersonaError).code ?? 'ERROR', now });
          break;
        }
        if (e.personaId) this.metrics.devicesAdded.inc();
        this.dispatch({ type: 'friendAdded', publicKey: e.publicKey, ok: true, now });
        break;
      }
      case 'deleteFriend': {
        let ok = true;
        try {
          if (this.node.friend(e.publicKey)) this.node.friendDelete(e.publicKey);
        } catch (err) {
          ok = false;
          this.log.warn({ device: e.publicKey, code: (err as ToxPersonaError).code }, 'could not delete friend');
        }
        if (ok && e.personaId) this.metrics.devicesRemoved.inc();
        this.dispatch({ type: 'friendDeleted', publicKey: e.publicKey, ok, now });
        break;
      }
      case 'alarm':
        this.metrics.alarms.inc({ reason: e.alarm.reason });
        this.log.warn({ persona: e.alarm.personaId, reason: e.alarm.reason, detail: e.alarm.detail, from: e.alarm.from }, 'ALARM');
        this.emit('alarm', e.alarm);
        break;
      case 'log':
        this.log[e.level](e.fields, e.msg);
        break;
      case 'sibling':
        if (this.running) this.siblings.sendCore(e.message, e.to, e.except);
        break;
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** The PersonaID, 64 uppercase hex. */
  get personaId(): string {
    return P.personaIdHex(this.env.key);
  }

  /** NGC groups (docs/GROUPS.md): this device's group identity statements, the groups' views, sibling invites. */
  get groups(): CompanionGroups {
    this.groupsModule ??= new CompanionGroups({
      node: this.node,
      log: this.log.child({ component: 'groups' }),
      personaId: this.personaId,
      thisDevice: this.node.publicKey,
      ownList: () => this.state.own.list,
      table: () => this.state.table,
      signer: () => this.currentSigner(),
      selfName: () => this.config.name || 'tox-persona',
      now: this.now,
      siblings: this.siblings,
      requestSave: (why) => this.requestSave(why),
      groupsLeft: this.groupsLeft,
    });
    return this.groupsModule;
  }

  /**
   * What signs for this device, as for our lists (the certified signer, else the root, which signs under our list's
   * epoch so receivers do not take it for a revoked one); null when this device holds neither.
   */
  currentSigner(): OwnSigner | null {
    let s: OwnSigner;
    try {
      s = P.ownSigner(this.env.key);
    } catch {
      return null;
    }
    return s.cert ? s : { ...s, epoch: Math.max(s.epoch, this.state.own.list.epoch ?? 0) };
  }

  /** Our own current signed list. */
  get ownList(): P.SignedDeviceList {
    return this.state.own;
  }

  /** The companion's clock, Unix seconds. */
  clock(): number {
    return this.now();
  }

  /** This device's keys: the PersonaID, the root if present, the certified signer if any. */
  get keys(): P.OwnKeys {
    return P.ownKeysOf(this.env.key);
  }

  /**
   * Makes `keys` this device's keys from now on, and commits `files` (the key files that changed) with the next save,
   * together with the state it belongs to (a rotation's new list): both durable, or neither. Used by key-ops.ts.
   */
  installKeys(keys: P.OwnKeys, files: readonly CommitFile[]): void {
    this.env.key = keys;
    this.keyFiles.push(...files);
    this.dirty = true;
  }

  /** Adopts and publishes a list signed outside the reducer (a rotation, a certification), saved before it is published. */
  adoptSigned(signed: P.SignedDeviceList, why: string): P.DeviceView[] {
    return this.command({ cmd: 'adoptOwn', signed, why }).result as P.DeviceView[];
  }

  /** The reducer's current state (read-only view, for tests and views). */
  get current(): CompanionState {
    return this.state;
  }

  /** The status message we publish: human text plus the signed blob of the saved list. */
  statusMessage(): string {
    return buildStatusMessage(this.durableOwn, this.config.statusText);
  }

  /**
   * Daemon start: publish, scan every friend and its saved status message (toxcore restores them without an event),
   * start networking, listen to events, run the periodic timer and the republish before the TTL runs out.
   */
  async start(bootstrap: readonly NodePortBootstrap[]): Promise<void> {
    if (this.running) return;
    this.running = true;
    const on = <K extends keyof NodePortEvents>(event: K, fn: (payload: NodePortEvents[K]) => void) => {
      this.node.on(event, fn);
      this.unsubscribe.push(() => this.node.off(event, fn));
    };
    on('friendStatusMessage', (e) => this.guard('friendStatusMessage', () => this.onStatusMessage(e.publicKey, e.bytes)));
    on('friendRequest', (e) => this.guard('friendRequest', () => this.dispatch({ type: 'friendRequest', publicKey: e.publicKey, message: e.message, now: this.now() })));
    on('selfConnection', (e) => this.guard('selfConnection', () => this.onSelfConnection(e.status)));
    on('friendConnection', (e) => this.guard('friendConnection', () => this.onFriendConnection(e.publicKey, e.status)));
    on('friendLosslessPacket', (e) => this.guard('siblingPacket', () => this.siblings.receive(e.publicKey, e.data)));
    on('error', (e) => this.log.error({ err: e.message }, 'tox node error'));
    on('iterate', (e) => this.metrics.observeIterate(e.lagMs, e.durationMs));

    if (this.config.name) this.node.setName(this.config.name);
    if (faultArmed()) this.log.warn({ fault: faultArmed() }, 'TEST FAULT INJECTION ARMED: this process kills itself at that step');
    this.command({ cmd: 'start' });
    this.scanFriends();
    try {
      this.node.bootstrap(bootstrap);
    } catch (err) {
      // No node accepted (e.g. host names that do not resolve offline). The node keeps retrying the ones it knows, and
      // /healthz reports the problem once the grace period is over; refusing to start would lose the admin endpoint.
      this.log.warn({ code: (err as ToxPersonaError).code, err: (err as Error).message }, 'bootstrap failed; retrying in the background');
    }
    this.node.start();
    this.groups.start();
    this.timers.push(setInterval(() => this.guard('timer', () => this.dispatch({ type: 'timer', now: this.now() })), this.config.saveIntervalSeconds * 1000));
    this.scheduleRepublish();
    // A failing save (full disk) does not stop the daemon: it is logged, shown in status and /healthz, and retried.
    await this.flush().catch(() => undefined);
  }

  /**
   * Stops networking and timers, saves everything, and frees the node. Idempotent. `save: false` saves only changes
   * made through the companion (a read-only command must not rewrite the data directory); by default the profile is
   * saved whatever happened, since a running node's state (DHT nodes, friends' names) changes without telling us.
   */
  close(options: { save?: boolean } = {}): Promise<void> {
    this.closing ??= this.closeOnce(options.save ?? true);
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async closeOnce(save: boolean): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.republishTimer) clearTimeout(this.republishTimer);
    this.republishTimer = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryWake?.();
    for (const off of this.unsubscribe.splice(0)) off();
    this.groupsModule?.stop();
    if (this.running) {
      this.running = false;
      await this.node.stop();
    }
    if (save || this.state.softDirty) this.dirty = true;
    // What the commands changed was saved before they answered; a final save that fails is logged, not thrown.
    await this.flush().catch(() => undefined);
    await this.node.close();
  }

  /** Runs an event handler so that nothing it throws reaches the node's iterate loop. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ event: what, err: (err as Error).message, code: (err as ToxPersonaError).code }, 'event handler failed');
    }
  }

  // ---------------------------------------------------------------- persistence

  /** Marks state dirty and saves soon: bursts coalesce into one write, at most one per MIN_SAVE_INTERVAL_MS. */
  requestSave(why: string): void {
    this.dirty = true;
    if (this.saveTimer || this.coalescing || this.closing) return;
    const wait = Math.max(0, this.lastSaveAt + MIN_SAVE_INTERVAL_MS - Date.now());
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.coalescing = true;
      // A failure was logged by writeFiles, which also schedules the retry.
      void this.saveNow(why, true)
        .catch(() => undefined)
        .finally(() => {
          this.coalescing = false;
          // Changes made while it was queued or written get the next slot, a second after the last save began.
          if (this.dirty) this.requestSave(why);
        });
    }, wait);
    this.saveTimer.unref();
  }

  /** True while a coalesced save waits in the save chain or is written: further changes only mark the state dirty. */
  private coalescing = false;

  private retryTimer: NodeJS.Timeout | undefined;
  /** Ends the wait before the next retry at once (close: one last try, then give up). */
  private retryWake: (() => void) | undefined;

  /** Saves, retrying every SAVE_RETRY_MS while the disk refuses; resolves once the state is durable (or the companion closes). */
  private async saveUntilDurable(why: string): Promise<void> {
    this.dirty = true;
    for (;;) {
      try {
        await this.saveNow(why);
        return;
      } catch {
        if (this.closing || this.writesStopped) return;
        await new Promise<void>((r) => {
          this.retryWake = r;
          this.retryTimer = setTimeout(r, SAVE_RETRY_MS);
          this.retryTimer.unref();
        });
        this.dirty = true;
      }
    }
  }

  /**
   * Resolves once every queued effect is performed and every change is saved; rejects with `SAVE_FAILED` while the
   * disk refuses the save (the change stays in memory, unpublished, and is retried).
   */
  async flush(): Promise<void> {
    // A save that must precede a publish failed: report it now rather than wait for the disk to come back.
    if (this.saveFailure && this.queue.some((x) => x.type === 'publish')) {
      throw new SaveError('SAVE_FAILED', `saving the data directory failed (${this.saveFailure.code}: ${this.saveFailure.message}); the change is not published and is retried`);
    }
    // A durable save resumes the queue, which may hold the next one: wait until no new one started.
    for (let p = this.effectsDone; ; p = this.effectsDone) {
      await Promise.race([p, this.saveFailed()]);
      if (p === this.effectsDone) break;
    }
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    if (this.dirty) await this.saveNow('flush');
    else await this.saveChain;
  }

  /** Stops every further write to the data directory, the final save on close included (the lock was lost). */
  stopWriting(): void {
    this.writesStopped = true;
  }

  /** Chains a save after the one in progress; a `coalesced` one is skipped when another began less than a second before. */
  private saveNow(why: string, coalesced = false): Promise<void> {
    this.saveChain = this.saveChain.catch(() => undefined).then(() => this.writeFiles(why, coalesced));
    return this.saveChain;
  }

  /** Rejects with SAVE_FAILED as soon as a save fails (for flush, which must not wait for the disk to come back). */
  private saveFailed(): Promise<never> {
    const failed = new Promise<never>((_, reject) => {
      const check = () => {
        if (!this.saveFailure) return;
        this.off('saveFailed', check);
        reject(new SaveError('SAVE_FAILED', `saving the data directory failed (${this.saveFailure.code}: ${this.saveFailure.message}); the change is not published and is retried`));
      };
      this.on('saveFailed', check);
      void this.effectsDone.finally(() => this.off('saveFailed', check));
    });
    // Handled here too: a failure after flush stopped listening must not become an unhandled rejection.
    failed.catch(() => undefined);
    return failed;
  }

  /** The files of the current state, in the order a commit writes them, with the bytes that decide "changed". */
  private stateFiles(): Array<{ name: string; data: () => Uint8Array | string; key: Uint8Array | string }> {
    const s = this.state;
    const text = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
    const devices = text(P.ownListToJson(s.own));
    const requests = text({ version: 1, requests: s.requests, dropped: s.requestsDropped });
    const records = recordsText({ alarms: s.alarms, rejections: s.rejections });
    const friends = text({ version: 1, friends: s.friends, blocked: s.blocked, expired: s.expired, vouched: s.vouched, autoAdds: s.autoAdds, sibling: s.sibling, groupsLeft: [...this.groupsLeft] } satisfies FriendsFile & { version: 1 });
    const outcomes = `${JSON.stringify({ version: 1, outcomes: this.outcomes })}\n`;
    const table = serializeTable(s.table);
    // The profile is compared in plain form: an encrypted one differs at every save (fresh nonce) even when unchanged.
    const plain = this.node.savedata();
    return [
      { name: FILES.profile, data: () => this.node.profileBytes(), key: plain },
      { name: FILES.table, data: () => table, key: table },
      { name: FILES.devices, data: () => devices, key: devices },
      { name: FILES.requests, data: () => requests, key: requests },
      { name: FILES.friends, data: () => friends, key: friends },
      { name: FILES.outcomes, data: () => outcomes, key: outcomes },
      { name: FILES.alarms, data: () => records, key: records },
    ];
  }

  /**
   * One save: the state of this one moment (captured synchronously), the files whose content changed, as one atomic
   * commit (commitFiles: a redo journal first, so a crash leaves all of them or none). SAVE_FAILED when the disk refuses.
   */
  private async writeFiles(why: string, coalesced = false): Promise<void> {
    if (!this.dirty) return;
    // A save queued behind a slow one (or behind a flush) would start right after it: it waits for its own slot instead.
    if (coalesced && Date.now() < this.lastSaveAt + MIN_SAVE_INTERVAL_MS) return;
    if (this.writesStopped) {
      this.log.warn({ why }, 'not saving: the data directory lock was lost');
      return;
    }
    // The profile is part of the commit: friend adds and deletes the state already decided and that still wait in the
    // queue (behind a save that must precede a publish) are made on the node first. Otherwise this commit could carry a
    // friend record, or a request's outcome, without the friend list change it speaks of, and a crash right after it
    // would acknowledge a friend add that the restarted daemon's profile lacks (or a remove it still holds).
    this.performQueuedFriendChanges();
    this.dirty = false;
    const startedAt = Date.now();
    this.lastSaveAt = startedAt;
    const own = this.state.own;
    const files: CommitFile[] = [];
    const hashes = new Map<string, string>();
    for (const f of this.stateFiles()) {
      const h = createHash('sha256').update(f.key).digest('hex');
      if (this.written.get(f.name) === h) continue;
      files.push({ name: f.name, data: f.data() });
      hashes.set(f.name, h);
    }
    // Key files first: a list signed by a new signer is never on disk without that signer's files.
    const keyFiles = this.keyFiles.splice(0);
    files.unshift(...keyFiles);
    try {
      await commitFiles(this.config.dir, files);
    } catch (err) {
      this.dirty = true;
      this.keyFiles.unshift(...keyFiles);
      const e = err as NodeJS.ErrnoException;
      this.saveFailure = { at: new Date().toISOString(), code: e.code ?? 'EIO', message: e.message };
      this.metrics.saveFailures.inc();
      this.log.error({ why, code: e.code, err: e.message }, 'save failed: nothing of it is published or acknowledged; retrying');
      this.emit('saveFailed');
      if (!this.closing && !this.saveTimer && !this.writesStopped) this.requestSaveIn(SAVE_RETRY_MS, 'retry');
      throw new SaveError('SAVE_FAILED', `saving the data directory failed (${e.code ?? 'error'}: ${e.message}); the change is not published and is retried`, { cause: err });
    }
    for (const [name, h] of hashes) this.written.set(name, h);
    if (this.saveFailure) this.log.info({ failedSince: this.saveFailure.at }, 'saving works again');
    this.saveFailure = undefined;
    this.lastSavedAt = new Date().toISOString();
    this.durableOwn = own;
    faultPoint('after-save');
    this.metrics.saves.inc();
    this.log.debug({ why, files: files.map((f) => f.name) }, 'saved');
    this.emit('saved', { startedAt });
  }

  /** Performs the queued `addFriend` and `deleteFriend` effects now, in order, ahead of the rest of the queue. */
  private performQueuedFriendChanges(): void {
    const changes = this.queue.filter((e) => e.type === 'addFriend' || e.type === 'deleteFriend');
    if (changes.length === 0) return;
    const rest = this.queue.filter((e) => e.type !== 'addFriend' && e.type !== 'deleteFriend');
    this.queue.splice(0, this.queue.length, ...rest);
    for (const e of changes) this.guard(e.type, () => this.performOne(e));
  }

  /** A background save in `ms` (the retry after a failure). */
  private requestSaveIn(ms: number, why: string): void {
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.saveNow(why).catch(() => undefined);
    }, ms);
    this.saveTimer.unref();
  }

  /** The recorded outcome of a request id, if any. */
  outcomeOf(id: string): RequestOutcome | undefined {
    return this.outcomes.find((o) => o.id === id);
  }

  /**
   * Records a request's outcome in the state, so the next commit saves it together with the change it made: after a
   * crash, either both are on disk or neither (then a retry applies the change for the first time).
   */
  recordOutcome(outcome: RequestOutcome): void {
    // A request's final outcome replaces its enroll intent.
    this.outcomes = this.outcomes.filter((o) => o.id !== outcome.id);
    this.outcomes.push(outcome);
    if (this.outcomes.length > MAX_OUTCOMES_KEPT) this.outcomes.splice(0, this.outcomes.length - MAX_OUTCOMES_KEPT);
    this.dirty = true;
  }

  /** Test fault 'after-publish': toxcore sends a new status message at its next iterate, so the crash comes after that. */
  private faultAfterNextIterate(): void {
    if (!this.running) return faultPoint('after-publish');
    const fn = () => {
      this.node.off('iterate', fn);
      faultPoint('after-publish');
    };
    this.node.on('iterate', fn);
  }

  private scheduleRepublish(): void {
    if (!this.running) return;
    if (this.republishTimer) clearTimeout(this.republishTimer);
    const l = this.state.own.list;
    // Half the lifetime: friends that were offline for a while still see a fresh list well before it goes stale.
    const dueIn = Math.max(1, l.issuedAt + l.ttl / 2 - this.now());
    // setTimeout's limit is 2^31-1 ms (about 24.8 days); longer TTLs re-arm on the way.
    const ms = Math.min(dueIn * 1000, 2 ** 31 - 1);
    this.republishTimer = setTimeout(() => {
      this.guard('republish', () => {
        const before = this.state.own;
        this.dispatch({ type: 'timer', now: this.now() });
        if (this.state.own === before) this.scheduleRepublish();
      });
    }, ms);
    this.republishTimer.unref();
  }

  // ---------------------------------------------------------------- incoming

  /** Records every friend and feeds its saved status message through the reducer once. */
  scanFriends(): void {
    const now = this.now();
    for (const f of this.node.friends()) {
      this.guard('scan', () => {
        this.dispatch({ type: 'friendAdded', publicKey: f.publicKey, ok: true, existing: true, now });
        if (f.statusMessage.length > 0) this.onStatusMessage(f.publicKey, f.statusMessage);
      });
    }
    // Records of friends that are gone (deleted while we were not running, or an add lost in a crash) are dropped.
    for (const pk of Object.keys(this.state.friends)) if (!this.node.friend(pk)) this.dispatch({ type: 'friendDeleted', publicKey: pk, ok: true, now });
    this.refreshGauges();
  }

  /** One friend's status message through the reducer. Public so benches feed the same path. */
  onStatusMessage(from: string, text: string | Uint8Array): StatusOutcome {
    const r = this.dispatch({ type: 'statusMessage', from, text, now: this.now() });
    const o = r.outcome!;
    if (o.kind === 'applied' || o.kind === 'unchanged' || o.kind === 'pending') this.metrics.listsVerified.inc();
    else if (o.kind === 'rejected' || o.kind === 'ignored') this.metrics.listsRejected.inc({ reason: o.reason });
    this.emit('statusProcessed', { from, outcome: o, effects: r.effects });
    return o;
  }

  private onSelfConnection(connection: SelfConnection): void {
    this.metrics.connection.set(connection === 'none' ? 0 : connection === 'tcp' ? 1 : 2);
    this.dispatch({ type: 'connection', publicKey: null, connection, now: this.now() });
    this.emit('selfConnection', connection);
  }

  private onFriendConnection(publicKey: string, connection: SelfConnection): void {
    const { online, total } = this.refreshGauges();
    if (connection === 'none') this.siblings.forget(publicKey);
    this.dispatch({ type: 'connection', publicKey, connection, now: this.now() });
    this.emit('friendConnection', { publicKey, connection, online, total });
  }

  private refreshGauges(): { online: number; total: number } {
    const { online, total } = this.node.friendCounts();
    this.metrics.friendsOnline.set(online);
    this.metrics.friendsTotal.set(total);
    this.metrics.setPersonaCounts(P.countByState(this.state.table));
    const fromPersona = this.state.requests.filter((r) => r.persona !== undefined).length;
    this.metrics.requestsPending.set({ from: 'persona' }, fromPersona);
    this.metrics.requestsPending.set({ from: 'stranger' }, this.state.requests.length - fromPersona);
    this.metrics.requestsDropped.set(this.state.requestsDropped);
    return { online, total };
  }

  // ---------------------------------------------------------------- views

  /** True when connected, or within the start-up grace period. */
  health(): { healthy: boolean; body: unknown } {
    const connection = this.node.selfConnection();
    const inGrace = Date.now() - this.startedAt < this.config.healthGraceSeconds * 1000;
    // A daemon that cannot save cannot publish or acknowledge changes: unhealthy, with the reason.
    const healthy = (connection !== 'none' || inGrace) && !this.saveFailure;
    return { healthy, body: { status: healthy ? 'ok' : 'unhealthy', connection, inGracePeriod: inGrace && connection === 'none', uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000), libtoxcore: this.node.libtoxcoreVersion, save: this.saveView() } };
  }

  /** The state of saving: `ok`, when it last succeeded, whether a change waits to be saved (`pending`), and the last error while saves fail. */
  saveView(): { ok: boolean; lastSavedAt: string | null; pending: boolean; error?: SaveFailure } {
    const pending = this.dirty || this.saveTimer !== undefined || this.coalescing;
    return { ok: !this.saveFailure, lastSavedAt: this.lastSavedAt ?? null, pending, ...(this.saveFailure ? { error: this.saveFailure } : {}) };
  }

  /** The table as JSON-friendly views; `addedByUs` and the active device come from the companion's records. */
  personas(): P.PersonaView[] {
    const t = this.state.table;
    return P.tableView(t).map((v) => {
      const active = activeDevice(t, v.personaId);
      return {
        ...v,
        devices: v.devices.map((d) => {
          const f = this.state.friends[d.publicKey];
          const name = this.node.friend(d.publicKey)?.name;
          return { ...d, active: d.publicKey === active, addedByUs: !!f && f.autoAddedAt !== null && !f.user && !f.accepted, ...(name ? { toxName: name } : {}) };
        }),
      };
    });
  }

  /** What `tox-persona status` shows. */
  status(): Record<string, unknown> & { alarms: AlarmRecord[] } {
    const friends = this.node.friendCounts();
    const s = this.state;
    return {
      toxId: this.node.address,
      publicKey: this.node.publicKey,
      personaId: this.personaId,
      connection: this.node.selfConnection(),
      libtoxcore: this.node.libtoxcoreVersion,
      running: this.running,
      friends,
      // The saved list (the one we publish): a change whose save failed is not shown as done.
      devices: P.devicesOf(this.durableOwn.list),
      /** Other devices of our list that are not Tox friends of this one: they never see each other's lists. */
      siblingsNotFriends: P.devicesOf(this.durableOwn.list).filter((d) => d.publicKey !== this.node.publicKey && !this.node.friend(d.publicKey)).map((d) => d.publicKey),
      /** Sibling sync counters: messages in and out, and what was dropped (a non-sibling's packets show as NOT_SIBLING). */
      siblingSync: { messagesIn: this.siblings.stats.messagesIn, messagesOut: this.siblings.stats.messagesOut, dropped: { ...this.siblings.stats.dropped } },
      seq: this.durableOwn.list.seq,
      /** Our epoch, and which key signs here (docs/KEYS.md). */
      keys: keysView(this),
      issuedAt: this.durableOwn.list.issuedAt,
      ttl: this.durableOwn.list.ttl,
      policy: this.config.policy,
      acceptRequests: this.config.acceptRequests,
      personas: P.countByState(s.table),
      pendingApprovals: P.tableView(s.table).filter((p) => p.pending).length,
      pendingRequests: s.requests.length,
      /** Friend requests dropped because their bucket of the queue was full (a flood of new keys); older requests were kept. */
      requestsDropped: s.requestsDropped,
      blocked: s.blocked.length,
      alarms: [...s.alarms],
      rejections: s.rejections,
      save: this.saveView(),
    };
  }

  /** Friend list view: a friend shows a persona only when it confirmed it; `why` says why it is a friend. */
  friendList(): Array<{ publicKey: string; name: string; connection: SelfConnection; persona?: string; why: string[] }> {
    const pins = this.state.table.pins;
    return this.node.friends().map((f) => {
      const p = this.state.friends[f.publicKey] ?? userProvenance();
      return { publicKey: f.publicKey, name: f.name, connection: f.connection, ...(pins[f.publicKey] ? { persona: pins[f.publicKey]! } : {}), why: provenanceWords(p) };
    });
  }

  // ---------------------------------------------------------------- operations (CLI / admin)

  /** Adds a device to our list (at the end, or first with `active`), re-signs and publishes. */
  deviceAdd(publicKey: string, name = '', active = false): P.DeviceView[] {
    requireValidCurve25519(publicKey);
    return this.command({ cmd: 'deviceAdd', publicKey, name, active }).result as P.DeviceView[];
  }

  /** Removes a device from our list, re-signs and publishes. */
  deviceRemove(ref: string): P.DeviceView[] {
    return this.command({ cmd: 'deviceRemove', ref }).result as P.DeviceView[];
  }

  /** Makes a device the active one (first in the list), re-signs and publishes. */
  deviceActivate(ref: string): P.DeviceView[] {
    return this.command({ cmd: 'deviceActivate', ref }).result as P.DeviceView[];
  }

  /**
   * The new-device flow: rekey our own profile into `out` (fresh keypair and nospam, same friends), add the new key to
   * our list, re-sign, write the new signed status message into `out` so the new device publishes it from its first
   * start, then adopt and publish it here. Nothing changes here when writing `out` fails.
   */
  async enroll(out: string, name = '', requestId: string = randomUUID()): Promise<{ out: string; publicKey: string; toxId: string; devices: P.DeviceView[]; friends: number }> {
    const outPath = resolvePath(out);
    if (existsSync(outPath)) throw new CompanionError('OUTPUT_EXISTS', `${out} already exists; choose a new path`);
    const pair = generateKeyPair();
    const pk = bytesToHex(pair.publicKey);
    const devices = [...P.devicesOf(this.state.own.list), { publicKey: pk, name }];
    const next = P.signNext(this.state.own.list, devices, this.env.key, this.now(), this.config.ttlSeconds);
    const status = buildStatusMessage(next, this.config.statusText);
    // The new profile has this device as a friend and this device adds it: siblings connect without a request.
    const r = rekeyProfile(this.node.savedata(), { keyPair: pair, statusMessage: status, addOriginalAsFriend: true, ...(this.profilePassphrase ? { newPassphrase: this.profilePassphrase } : {}) });
    const result = { out: outPath, publicKey: pk, toxId: bytesToHex(toxAddress(r.publicKey, r.nospam)), devices: P.devicesOf(next.list), friends: r.friendCount };
    // The profile is written outside the data directory, so not in the list's commit: a durable intent goes first
    // (src/companion/enroll.ts), and a start after a crash finishes or drops the enrollment by it.
    const intent: EnrollIntent = { out: outPath, tmp: enrollTempPath(outPath, requestId), sha256: sha256Hex(r.bytes), list: P.ownListToJson(next), base: P.ownListToJson(this.state.own), publicKey: pk };
    this.recordOutcome({ id: requestId, op: 'deviceEnroll', at: new Date().toISOString(), ok: true, result, pending: intent });
    let written = false;
    try {
      await this.flush();
      faultPoint('after-enroll-intent');
      await createProfileFile(outPath, intent.tmp, r.bytes);
      written = true;
      faultPoint('after-enroll-file');
      // Another change of our list came first (a sibling's list adopted meanwhile): the new profile, which nobody has
      // seen yet, would carry a list that forks ours. Remove it; nothing was applied.
      if (!isIntentBase(intent, this.state.own)) throw new CompanionError('LIST_CHANGED', `our list changed (seq ${this.state.own.list.seq}) while enrolling; nothing was applied, run it again`);
    } catch (err) {
      this.outcomes = this.outcomes.filter((o) => o.id !== requestId);
      this.dirty = true;
      if (written) await unlink(outPath).catch(() => undefined);
      throw err;
    }
    this.command({ cmd: 'adoptOwn', signed: next, why: 'device enrolled' });
    this.command({ cmd: 'siblingAdd', publicKey: pk });
    this.recordOutcome({ id: requestId, op: 'deviceEnroll', at: new Date().toISOString(), ok: true, result });
    await this.flush();
    return result;
  }

  /**
   * Resolves the `device enroll` intents a crash left (src/companion/enroll.ts), before any request is served: an
   * enrollment whose profile file is complete is finished (list adopted, sibling befriended, outcome kept for a retry),
   * any other is dropped (a retry enrolls anew). Called once after the state is loaded.
   */
  async finishInterruptedEnrollments(): Promise<void> {
    for (const o of this.outcomes.filter((x) => x.pending)) {
      const intent = o.pending!;
      const r = await resolveEnrollIntent(intent, this.state.own);
      if (r.finish) {
        if (r.signed.list.seq > this.state.own.list.seq) this.command({ cmd: 'adoptOwn', signed: r.signed, why: 'interrupted device enroll finished' });
        if (!this.node.friend(r.publicKey)) this.command({ cmd: 'siblingAdd', publicKey: r.publicKey });
        this.recordOutcome({ id: o.id, op: o.op, at: o.at, ok: true, result: o.result });
        this.log.warn({ requestId: o.id, out: intent.out, device: r.publicKey }, 'finished a device enroll that a crash interrupted');
      } else {
        this.outcomes = this.outcomes.filter((x) => x.id !== o.id);
        this.dirty = true;
        this.log.warn({ requestId: o.id, out: intent.out, why: r.why }, 'dropped a device enroll that a crash interrupted before its profile was complete; nothing of it was applied');
      }
    }
    await this.flush();
  }

  /**
   * Re-signs our list as a refresh (same version, new issuedAt) when half its time-to-live is gone, as the daemon's
   * timer does: so `profile sync` with the daemon stopped still puts a fresh list into an ordinary client. True when it
   * re-signed; a device that cannot sign (no signer, revoked) keeps the list and says why in the log.
   */
  refreshIfDue(): boolean {
    const l = this.state.own.list;
    if (this.now() - l.issuedAt <= l.ttl / 2 && l.ttl === this.config.ttlSeconds) return false;
    const before = this.state.own;
    this.command({ cmd: 'start' });
    return this.state.own !== before;
  }

  /** Applies the newest pending update of a persona (PersonaID, 8+ hex prefix, or a pending id); APPROVE_REFUSED when the table refuses it. */
  approve(ref: string): P.PersonaView {
    const r = this.command({ cmd: 'approve', ref });
    this.refreshGauges();
    return this.personaView(r.result as string);
  }

  /** Drops every pending update of a persona (or the one with this pending id). */
  reject(ref: string): P.PersonaView {
    const r = this.command({ cmd: 'reject', ref });
    this.refreshGauges();
    return this.personaView(r.result as string);
  }

  /** Vouches for a persona (PersonaID or unique prefix): its lists may add its devices although none the user added confirmed it. */
  vouch(ref: string): P.PersonaView {
    return this.personaView(this.command({ cmd: 'vouch', ref }).result as string);
  }

  private personaView(personaId: string): P.PersonaView {
    return this.personas().find((p) => p.personaId === personaId) ?? { personaId, state: 'none', seq: null, issuedAt: null, ttl: null, lastSeen: null, from: null, devices: [] };
  }

  /** Sends a friend request to a Tox ID (and lifts a block of that key). */
  friendAdd(address: string, message: string): { publicKey: string } {
    requireValidCurve25519(address);
    return this.command({ cmd: 'friendAdd', address, message }).result as { publicKey: string };
  }

  /** Removes a friend by public key (or unique prefix); it stays removed for automatic adds. */
  friendRemove(ref: string): { publicKey: string } {
    // Offline (no start-up scan), a friend added outside the companion may have no record yet: record it first.
    const now = this.now();
    for (const f of this.node.friends()) if (!this.state.friends[f.publicKey]) this.dispatch({ type: 'friendAdded', publicKey: f.publicKey, ok: true, existing: true, now });
    return this.command({ cmd: 'friendRemove', ref }).result as { publicKey: string };
  }

  /** Incoming friend requests waiting for a decision. */
  pendingRequests(): PendingRequest[] {
    return [...this.state.requests];
  }

  /** Accepts a stored friend request (full key or unique prefix). */
  accept(ref: string): PendingRequest {
    return this.command({ cmd: 'accept', ref }).result as PendingRequest;
  }

  /** Declines (forgets) a stored friend request (full key or unique prefix). */
  decline(ref: string): PendingRequest {
    return this.command({ cmd: 'decline', ref }).result as PendingRequest;
  }
}

/**
 * Throws `INVALID_PUBLIC_KEY` for a key (64 hex, or a Tox ID starting with one) that toxcore refuses as a Curve25519
 * public key, its last byte 0x80 or more: such a device could never become anyone's friend, and toxcore would report it
 * as a bad checksum, which is not the cause. Anything that is not hex is left to the reducer's BAD_ARGUMENT.
 */
function requireValidCurve25519(keyOrId: string): void {
  const t = keyOrId.trim().toUpperCase();
  if (!/^[0-9A-F]{64}([0-9A-F]{12})?$/.test(t)) return;
  const last = t.slice(62, 64);
  if (Number.parseInt(last, 16) >= 0x80) {
    throw new CompanionError('INVALID_PUBLIC_KEY', `${t.slice(0, 8)}… is not a valid Curve25519 public key (its 32nd byte is 0x${last}; Tox keys end in a byte below 0x80)`);
  }
}

/** Words for why a friend is one, for `friend list`. */
function provenanceWords(p: FriendProvenance): string[] {
  return [...(p.user ? ['added'] : []), ...(p.accepted ? ['accepted'] : []), ...p.personas.map((id) => `listed by ${id.slice(0, 8)}`)];
}

/** friends.json: provenance per friend, the block list, expired keys and vouched personas. */
export interface FriendsFile {
  friends: Record<string, FriendProvenance>;
  blocked: string[];
  expired: string[];
  vouched: string[];
  autoAdds: AutoAdd[];
  /** Sibling sync's stamped registers, decisions and dropped own devices (absent in older files). */
  sibling?: SiblingSyncState;
  /** Chat ids of the groups the user left on this device, oldest first (absent in older files). */
  groupsLeft?: string[];
}

/** The reducer's part of friends.json: everything but groupsLeft, which the groups module keeps. */
function withoutGroupsLeft(f: FriendsFile): Omit<FriendsFile, 'groupsLeft'> {
  const { groupsLeft: _, ...rest } = f;
  return rest;
}

/**
 * Provenance for a directory written before friends.json existed: a friend the table says we added becomes one added
 * for the personas that list it (its clock starts now); every other friend is the user's and is never deleted by lists.
 */
function migrateFriends(table: PersonaTable, now: number): FriendsFile {
  const friends: Record<string, FriendProvenance> = {};
  for (const [pk, f] of Object.entries(table.friends)) {
    if (!f.addedByUs) {
      friends[pk] = userProvenance();
      continue;
    }
    const personas = Object.values(table.personas).filter((e) => e.state !== 'provisional' && e.devices.some((d) => d.publicKey === pk)).map((e) => e.personaId);
    friends[pk] = { user: false, accepted: false, personas, introducer: null, autoAddedAt: now };
  }
  return { friends, blocked: [], expired: [], vouched: [], autoAdds: [] };
}

function recoverOwnList(dir: string, devicesPath: string, key: P.OwnKeys, devicePublicKey: string, statusMessage: string | Uint8Array | undefined, now: number, ttl: number, log: Logger | undefined): P.SignedDeviceList {
  const v = statusMessage === undefined || statusMessage.length === 0 ? undefined : P.decodeOwnList(statusMessage);
  let why = 'our status message carries no device list';
  if (v?.ok) {
    if (P.listPersonaIdHex(v.signed.list) !== P.personaIdHex(key)) why = 'the list in our status message belongs to another persona than persona.key';
    else if (!P.devicesOf(v.signed.list).some((d) => d.publicKey === devicePublicKey.toUpperCase())) why = 'the list in our status message does not name this device';
    else {
      log?.warn({ file: devicesPath, seq: v.signed.list.seq, devices: v.signed.list.devices.length }, 'devices.json was missing: rebuilt it from the list in our own status message');
      return v.signed;
    }
  } else if (v && v.reason !== 'NO_BLOB') {
    why = `our status message: ${v.reason}: ${v.detail}`;
  }
  // A directory without a table either (init writes both together) whose device never published a list is a fresh
  // one: nothing of this persona can have been seen through this device, so a first list names only it, as init does.
  if (!existsSync(dataPath(dir, 'table')) && (v === undefined || (!v.ok && v.reason === 'NO_BLOB'))) {
    log?.info({ file: devicesPath }, 'fresh data directory: signed a first device list naming this device');
    return P.signNext(undefined, [{ publicKey: devicePublicKey, name: '' }], key, now, ttl);
  }
  throw new DataDirError('NOT_INITIALIZED', `${devicesPath} is missing and cannot be rebuilt (${why}); restore it from a backup, or re-create the data directory with "tox-persona init --list <a current status message of this persona>"`);
}

function short(pk: string): string {
  return `${pk.slice(0, 8)}…`;
}

/** What {@link loadCompanionState} may use to rebuild a missing devices.json. */
export interface LoadStateOptions {
  /** The node's own status message as loaded from the profile: it carries the last list we published. */
  selfStatusMessage?: string | Uint8Array;
  log?: Logger;
}

/**
 * Loads the persona state of an initialized data directory. A missing devices.json is rebuilt from our own
 * status message (the signed list we last published, when it is our persona's, verifies and lists this device) and
 * written back; otherwise it is `NOT_INITIALIZED`. A fresh list is never invented: it would carry only this device, and friends
 * would drop every other device of the persona. Only a fresh directory (no table.json, and a device that never
 * published a list) gets a first list naming this device, as init writes one.
 */
export async function loadCompanionState(dir: string, devicePublicKey: string, ttl: number, now = Date.now() / 1000, options: LoadStateOptions = {}): Promise<LoadedState> {
  const key = (await loadOwnKeys(dir)).keys;
  const devicesPath = dataPath(dir, 'devices');
  let own: P.SignedDeviceList;
  if (existsSync(devicesPath)) {
    own = P.ownListFromJson(readJsonFile(devicesPath, null), devicesPath);
    if (P.personaIdHex(key) !== P.listPersonaIdHex(own.list)) {
      throw new DataDirError('BAD_FILE', `${devicesPath}: the device list belongs to another persona than persona.key`);
    }
    // Checked before it is ever re-signed: a list edited on disk must not be laundered into a validly signed one.
    if (!verifySignedList(own)) throw new DataDirError('BAD_FILE', `${devicesPath}: the device list's signature does not verify with persona.key; restore it from a backup`);
    // One save is one state, but a directory written by an older version (which published before it saved) or put
    // back from a backup may hold a devices.json older than the list in our own status message, which friends may
    // have seen: continue from the newer one, or friends refuse what we publish as a rollback.
    const published = ownListInStatus(key, devicePublicKey, options.selfStatusMessage);
    if (published && published.list.seq > own.list.seq) {
      options.log?.warn({ file: devicesPath, fileSeq: own.list.seq, publishedSeq: published.list.seq }, 'devices.json is older than the list in our own status message: continuing from the published list');
      own = published;
      await writeJsonFile(devicesPath, P.ownListToJson(own));
    }
  } else {
    own = recoverOwnList(dir, devicesPath, key, devicePublicKey, options.selfStatusMessage, now, ttl, options.log);
    await writeJsonFile(devicesPath, P.ownListToJson(own));
  }
  const table = await loadTable(dataPath(dir, 'table'));
  const friends = loadFriends(dataPath(dir, 'friends'));
  const requests = loadRequests(dataPath(dir, 'requests'));
  return { key, own, table, ...requests, ...(friends ? { friends } : {}), outcomes: loadOutcomes(dataPath(dir, 'outcomes')), records: loadRecords(dataPath(dir, 'alarms')) };
}

const OutcomesFileSchema = z.object({
  version: z.literal(1),
  outcomes: z.array(z.object({
    id: z.string(),
    op: z.string(),
    at: z.string(),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    pending: z.object({ out: z.string(), tmp: z.string(), sha256: z.string(), list: z.unknown(), base: z.unknown(), publicKey: z.string() }).optional(),
  })),
});

/** outcomes.json (missing → none); a damaged one is `BAD_FILE`, as for the other state files. */
function loadOutcomes(path: string): RequestOutcome[] {
  const r = OutcomesFileSchema.safeParse(readJsonFile<unknown>(path, { version: 1, outcomes: [] }));
  if (!r.success) throw new DataDirError('BAD_FILE', `${path}: not a request-outcomes file (${r.error.issues[0]?.message ?? 'invalid'}); it may be deleted (retries of older requests then apply again)`);
  return r.data.outcomes.slice(-MAX_OUTCOMES_KEPT) as RequestOutcome[];
}

/** The list in our own status message when it is a valid list of our persona that names this device. */
function ownListInStatus(key: P.OwnKeys, devicePublicKey: string, statusMessage: string | Uint8Array | undefined): P.SignedDeviceList | undefined {
  if (statusMessage === undefined || statusMessage.length === 0) return undefined;
  const v = P.decodeOwnList(statusMessage);
  if (!v.ok || P.listPersonaIdHex(v.signed.list) !== P.personaIdHex(key) || !verifySignedList(v.signed)) return undefined;
  return P.devicesOf(v.signed.list).some((d) => d.publicKey === devicePublicKey.toUpperCase()) ? v.signed : undefined;
}

const Hex64 = z.string().regex(/^[0-9A-F]{64}$/);
const FriendsFileSchema = z.object({
  version: z.literal(1),
  friends: z.record(Hex64, z.object({
    user: z.boolean(), accepted: z.boolean(), personas: z.array(Hex64), introducer: Hex64.nullable(), autoAddedAt: z.number().finite().nullable(),
  }).strip()),
  blocked: z.array(Hex64),
  expired: z.array(Hex64),
  vouched: z.array(Hex64),
  autoAdds: z.array(z.object({ publicKey: Hex64, personaId: Hex64, introducer: Hex64.nullable(), at: z.number().finite() }).strip()).default([]),
  sibling: z.object({
    registers: z.record(Hex64, z.object({ kind: z.enum(['blocked', 'user', 'auto']), t: z.number().int().nonnegative(), by: Hex64, personas: z.array(Hex64) }).strip()),
    decisions: z.array(z.object({ personaId: Hex64, version: z.string().regex(/^[0-9a-f]{64}$/), decision: z.enum(['approve', 'reject']), t: z.number().int().nonnegative(), by: Hex64 }).strip()),
    dropped: z.array(Hex64),
  }).strip().optional(),
  groupsLeft: z.array(Hex64).max(MAX_GROUPS_LEFT).optional(),
});

/** friends.json (missing → undefined, and provenance is derived from the table); a wrong shape is `BAD_FILE`. */
function loadFriends(path: string): FriendsFile | undefined {
  if (!existsSync(path)) return undefined;
  const r = FriendsFileSchema.safeParse(readJsonFile<unknown>(path, null));
  if (!r.success) {
    const first = r.error.issues[0];
    throw new DataDirError('BAD_FILE', `${path}: not a friends file (${first && first.path.length > 0 ? first.path.join('.') : 'top level'}: ${first?.message ?? 'invalid'}); fix or delete it`);
  }
  const { friends, blocked, expired, vouched, autoAdds, sibling, groupsLeft } = r.data;
  return { friends, blocked, expired, vouched, autoAdds, sibling: sibling ?? emptySiblingState(), ...(groupsLeft ? { groupsLeft } : {}) };
}

const RequestsFileSchema = z.object({
  version: z.literal(1).optional(),
  requests: z.array(
    z.object({
      publicKey: z.string().regex(/^[0-9A-F]{64}$/),
      message: z.string(),
      receivedAt: z.string(),
      persona: z.string().regex(/^[0-9A-F]{64}$/).optional(),
    }).strip(),
  ),
  dropped: z.number().int().nonnegative().optional(),
});

/** requests.json (missing → none); anything but the shape we write is `BAD_FILE`, as for the table. */
function loadRequests(path: string): { requests: PendingRequest[]; requestsDropped: number } {
  const raw = readJsonFile<unknown>(path, { requests: [] });
  const r = RequestsFileSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : 'top level';
    throw new DataDirError('BAD_FILE', `${path}: not a pending-requests file (${where}: ${first?.message ?? 'invalid'}); fix or delete it`);
  }
  // An older or hand-edited file may hold more than the buckets' bounds: keep what the queue would have kept.
  return { requests: boundRequests(r.data.requests as PendingRequest[]), requestsDropped: r.data.dropped ?? 0 };
}

export type { Policy };

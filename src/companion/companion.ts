// The companion: owns one data directory (profile, persona key, own list, table), applies friends' lists, publishes its own, and offers the operations the CLI calls.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { EventEmitter } from 'node:events';
import type { Logger } from './log.js';
import type { CompanionConfig, Policy } from './config.js';
import { dataPath, readJsonFile, writeJsonFile, DataDirError, FILES } from './datadir.js';
import { commitFiles, SaveError, type CommitFile } from '../util/fs.js';
import { faultArmed, faultPoint } from '../util/fault.js';
import { createHash } from 'node:crypto';
import type { NodePort, NodePortBootstrap, SelfConnection } from './node-port.js';
import { CompanionMetrics } from './metrics.js';
import { ToxPersonaError } from '../util/errors.js';
import * as P from './persona-port.js';
import { rekeyProfile, writeNewFile } from '../profile/rekey.js';
import { generateKeyPair, toxAddress } from '../profile/keys.js';
import { bytesToHex } from '../util/bytes.js';
import { resolve as resolvePath } from 'node:path';

/** A refused companion operation. Codes: `UNKNOWN_DEVICE`, `DEVICE_EXISTS`, `INVALID_PUBLIC_KEY`, `LAST_DEVICE`, `OWN_DEVICE`, `UNKNOWN_PERSONA`, `NO_PENDING`, `UNKNOWN_REQUEST`, `UNKNOWN_FRIEND`, `BAD_ARGUMENT`, `NOT_RUNNING`, `APPROVE_REFUSED`, `AMBIGUOUS`. */
export class CompanionError extends ToxPersonaError {}

/** Most friend requests kept waiting for accept/decline; a new one beyond it drops the oldest. */
export const MAX_PENDING_REQUESTS = 100;

/** An incoming friend request waiting for accept/decline. */
export interface PendingRequest {
  publicKey: string;
  message: string;
  receivedAt: string;
}

/** One alarm kept for `status` (the log has them all). */
export interface AlarmRecord {
  at: string;
  personaId: string;
  reason: string;
  detail: string;
  from?: string;
}

/** Companion events, for the daemon's progress lines, the demo and tests. */
export interface CompanionEvents {
  /** A friend's status message went through the table; `outcome` says what happened. */
  statusProcessed: [{ from: string; outcome: P.OutcomeView; actions: P.CompanionAction[] }];
  /** Our own list was re-signed and set as status message. */
  published: [{ seq: number; devices: P.DeviceView[] }];
  selfConnection: [SelfConnection];
  friendConnection: [{ publicKey: string; connection: SelfConnection; online: number; total: number }];
  alarm: [AlarmRecord];
  saved: [];
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
}

/** Loaded persona state handed to the constructor by {@link openCompanion}. */
export interface CompanionState {
  key: P.PersonaKey;
  own: P.SignedDeviceList;
  table: P.Table;
  requests: PendingRequest[];
  /** Outcomes of recent mutating requests (outcomes.json); none when absent. */
  outcomes?: RequestOutcome[];
}

/** The outcome of one mutating request, kept by request id so that a retry gets it instead of applying twice. */
export interface RequestOutcome {
  id: string;
  op: string;
  at: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

/** Most request outcomes kept; the oldest give way (a retry comes within minutes, not after a hundred other changes). */
export const MAX_OUTCOMES_KEPT = 100;

const MAX_ALARMS_KEPT = 100;

/** Fewest milliseconds between two background saves: bursts of friends' updates coalesce into at most one save a second. */
export const MIN_SAVE_INTERVAL_MS = 1_000;

/** Delay before a failed save (a full or read-only disk) is tried again. */
export const SAVE_RETRY_MS = 5_000;

/** The last failed save, for `status` and /healthz; cleared by the next save that succeeds. */
export interface SaveFailure {
  at: string;
  code: string;
  message: string;
}

/**
 * The companion service over one data directory. In daemon mode it listens to the node's events; in offline mode the
 * CLI calls one operation and closes it. Every state change is saved (profile, table, own list) before the operation returns.
 */
export class Companion extends EventEmitter<CompanionEvents> {
  readonly config: CompanionConfig;
  readonly node: NodePort;
  readonly log: Logger;
  readonly metrics: CompanionMetrics;
  private readonly now: () => number;
  private readonly profilePassphrase: string | undefined;
  private key: P.PersonaKey;
  private own: P.SignedDeviceList;
  private table: P.Table;
  private requests: PendingRequest[];
  private outcomes: RequestOutcome[];
  private readonly alarms: AlarmRecord[] = [];
  private dirty = false;
  /** The save in progress, if any: saves never overlap. */
  private saving: Promise<void> | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSaveAt = 0;
  private saveFailure: SaveFailure | undefined;
  private lastSavedAt: string | undefined;
  /** SHA-256 of what each file last received, so a save writes only the files whose content changed. */
  private readonly written = new Map<string, string>();
  /** Our own list as it is on disk: the only list that may be published (durable before visible). */
  private durableOwn: P.SignedDeviceList;
  /** The list in our status message right now (set only from {@link durableOwn}). */
  private publishedOwn: P.SignedDeviceList | undefined;
  /** Set when the data directory's lock was lost: another process may own the files, so we must not write them. */
  private writesStopped = false;
  private running = false;
  private timers: NodeJS.Timeout[] = [];
  private republishTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(config: CompanionConfig, state: CompanionState, components: CompanionComponents) {
    super();
    this.config = config;
    this.node = components.node;
    this.log = components.log;
    this.metrics = components.metrics ?? new CompanionMetrics({ defaultMetrics: false });
    this.now = components.now ?? (() => Date.now() / 1000);
    this.profilePassphrase = components.profilePassphrase;
    this.key = state.key;
    this.own = state.own;
    this.durableOwn = state.own;
    this.table = state.table;
    this.requests = state.requests;
    this.outcomes = state.outcomes ?? [];
    this.metrics.refresher = () => this.refreshGauges();
  }

  // ---------------------------------------------------------------- lifecycle

  /** The PersonaID, 64 uppercase hex. */
  get personaId(): string {
    return P.personaIdHex(this.key);
  }

  /** Our own current signed list. */
  get ownList(): P.SignedDeviceList {
    return this.own;
  }

  /** The status message we publish: human text plus the signed blob of the saved list. */
  statusMessage(): string {
    return P.buildStatusMessage(this.durableOwn, this.config.statusText);
  }

  /**
   * Daemon start: publish, scan every friend's saved status message (toxcore restores them without an event), start
   * networking, listen to events, schedule periodic saves and the republish before the TTL runs out.
   */
  async start(bootstrap: readonly NodePortBootstrap[]): Promise<void> {
    if (this.running) return;
    this.running = true;
    const node = this.node;
    const on = <K extends Parameters<NodePort['on']>[0]>(event: K, fn: Parameters<NodePort['on']>[1] & ((p: never) => void)) => {
      node.on(event, fn as never);
      this.unsubscribe.push(() => node.off(event, fn as never));
    };
    on('friendStatusMessage', ((e: { publicKey: string; message: string | Uint8Array }) => this.guard('friendStatusMessage', () => this.onStatusMessage(e.publicKey, e.message))) as never);
    on('friendRequest', ((e: { publicKey: string; message: string }) => this.guard('friendRequest', () => this.onFriendRequest(e.publicKey, e.message))) as never);
    on('selfConnection', ((e: { connection: SelfConnection }) => this.guard('selfConnection', () => this.onSelfConnection(e.connection))) as never);
    on('friendConnection', ((e: { publicKey: string; connection: SelfConnection }) => this.guard('friendConnection', () => this.onFriendConnection(e.publicKey, e.connection))) as never);
    on('error', ((e: { error: Error }) => this.log.error({ err: e.error.message }, 'tox node error')) as never);
    on('iterate', ((e: { lagMs: number; durationMs: number }) => this.metrics.observeIterate(e.lagMs, e.durationMs)) as never);

    if (this.config.name) node.setName(this.config.name);
    if (faultArmed()) this.log.warn({ fault: faultArmed() }, 'TEST FAULT INJECTION ARMED: this process kills itself at that step');
    // The loaded list is on disk, so it may go out at once; a refresh below is published once it is saved.
    this.publishDurable('start');
    this.ensureFresh();
    this.scanFriends();
    try {
      node.bootstrap(bootstrap);
    } catch (err) {
      // No node accepted (e.g. host names that do not resolve offline). The node keeps retrying the ones it knows, and
      // /healthz reports the problem once the grace period is over; refusing to start would lose the admin endpoint.
      this.log.warn({ code: (err as ToxPersonaError).code, err: (err as Error).message }, 'bootstrap failed; retrying in the background');
    }
    node.start();
    this.timers.push(setInterval(() => {
      this.guard('periodic', () => {
        const r = P.staleness(this.table, this.now());
        if (r.changed.length > 0) {
          this.table = r.table;
          this.log.info({ personas: r.changed }, 'lists past their time-to-live are stale now');
        }
        this.requestSave('periodic');
      });
    }, this.config.saveIntervalSeconds * 1000));
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
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.running) {
      this.running = false;
      await this.node.stop();
    }
    if (save) this.dirty = true;
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

  /** Marks state dirty and saves it in the background, at most once per {@link MIN_SAVE_INTERVAL_MS} (bursts coalesce). */
  requestSave(why: string): void {
    this.dirty = true;
    if (this.saveTimer || this.closing) return;
    this.scheduleSave(Math.max(0, this.lastSaveAt + MIN_SAVE_INTERVAL_MS - Date.now()), why);
  }

  private scheduleSave(ms: number, why: string): void {
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      // A failure was logged by saveNow and schedules its own retry.
      this.commit(why).catch(() => undefined);
    }, ms);
    this.saveTimer.unref();
  }

  /**
   * Makes every change made so far durable (one atomic commit of the changed files), then publishes our list if it
   * changed. Resolves once that is done; rejects with `SAVE_FAILED` when the disk refuses (the state stays in memory,
   * unpublished, and the save is retried). Saves never overlap; concurrent callers share the next one.
   */
  async commit(why = 'commit'): Promise<void> {
    while (this.saving) await this.saving.catch(() => undefined);
    if (!this.dirty) return;
    this.saving = this.saveNow(why);
    try {
      await this.saving;
    } finally {
      this.saving = undefined;
    }
  }

  /** Saves now what changed and waits for it; `SAVE_FAILED` when the disk refused. */
  async flush(): Promise<void> {
    await this.commit('flush');
  }

  /** Stops every further write to the data directory, the final save on close included (the lock was lost). */
  stopWriting(): void {
    this.writesStopped = true;
  }

  /** The files of the current state, in the order a commit writes them. */
  private stateFiles(): Array<{ name: string; data: () => Uint8Array | string; key: Uint8Array | string }> {
    const devices = `${JSON.stringify(P.ownListToJson(this.own), null, 2)}\n`;
    const requests = `${JSON.stringify({ version: 1, requests: this.requests }, null, 2)}\n`;
    const table = P.tableText(this.table);
    const outcomes = `${JSON.stringify({ version: 1, outcomes: this.outcomes })}\n`;
    // The profile is compared in plain form: an encrypted one differs at every save (fresh nonce) even when unchanged.
    const plain = this.node.savedata();
    return [
      { name: FILES.profile, data: () => this.node.profileBytes(), key: plain },
      { name: FILES.table, data: () => table, key: table },
      { name: FILES.devices, data: () => devices, key: devices },
      { name: FILES.requests, data: () => requests, key: requests },
      { name: FILES.outcomes, data: () => outcomes, key: outcomes },
    ];
  }

  private async saveNow(why: string): Promise<void> {
    if (!this.dirty) return;
    if (this.writesStopped) {
      this.log.warn({ why }, 'not saving: the data directory lock was lost');
      return;
    }
    this.dirty = false;
    this.lastSaveAt = Date.now();
    // Everything is captured synchronously: the commit is the state of this one moment.
    const own = this.own;
    const files: CommitFile[] = [];
    const hashes = new Map<string, string>();
    for (const f of this.stateFiles()) {
      const h = createHash('sha256').update(f.key).digest('hex');
      if (this.written.get(f.name) === h) continue;
      files.push({ name: f.name, data: f.data() });
      hashes.set(f.name, h);
    }
    try {
      await commitFiles(this.config.dir, files);
    } catch (err) {
      this.dirty = true;
      const e = err as NodeJS.ErrnoException;
      this.saveFailure = { at: new Date().toISOString(), code: e.code ?? 'EIO', message: e.message };
      this.metrics.saveFailures.inc();
      this.log.error({ why, code: e.code, err: e.message }, 'save failed: nothing was published or acknowledged from it; retrying');
      if (!this.closing && !this.saveTimer) this.scheduleSave(SAVE_RETRY_MS, 'retry');
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
    this.emit('saved');
    this.publishDurable(why);
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
    this.outcomes.push(outcome);
    if (this.outcomes.length > MAX_OUTCOMES_KEPT) this.outcomes.splice(0, this.outcomes.length - MAX_OUTCOMES_KEPT);
    this.dirty = true;
  }

  // ---------------------------------------------------------------- publishing

  /**
   * Puts our durable list into the status message when it is not there yet. Only the list on disk is ever published:
   * a crash then never restarts from an older list than the one friends may have seen.
   */
  private publishDurable(why: string): void {
    const own = this.durableOwn;
    if (this.publishedOwn === own) return;
    this.node.setStatusMessage(P.buildStatusMessage(own, this.config.statusText));
    this.publishedOwn = own;
    // The profile carries the status message too: save it again (only it changed), so it matches devices.json.
    this.requestSave('status message');
    this.metrics.publishes.inc();
    this.log.info({ why, seq: own.list.seq, devices: own.list.devices.length }, 'published device list');
    this.emit('published', { seq: own.list.seq, devices: P.devicesOf(own.list) });
    if (faultArmed() === 'after-publish') this.faultAfterNextIterate();
  }

  /** Test fault 'after-publish': toxcore sends a new status message at its next iterate, so the crash comes after that. */
  private faultAfterNextIterate(): void {
    if (!this.running) return faultPoint('after-publish');
    const fn = () => {
      this.node.off('iterate', fn as never);
      faultPoint('after-publish');
    };
    this.node.on('iterate', fn as never);
  }

  /** Re-signs our list with `devices` (or the same devices) and publishes it. */
  private resign(devices: P.DeviceView[], why: string): void {
    const next = P.signNext(this.own.list, devices, this.key.pair, this.now(), this.config.ttlSeconds);
    // Throws StatusMessageTooLong (with the byte budget) before anything changes when the list no longer fits.
    P.buildStatusMessage(next, this.config.statusText);
    this.own = next;
    faultPoint('after-sign');
    this.scheduleRepublish();
    // Published by the save once it is durable (publishDurable).
    this.requestSave(why);
  }

  /** Re-signs at start when the list is past half its lifetime or the TTL setting changed. */
  private ensureFresh(): void {
    const l = this.own.list;
    const age = this.now() - l.issuedAt;
    if (age > l.ttl / 2 || l.ttl !== this.config.ttlSeconds) this.resign(P.devicesOf(l), 'refresh');
  }

  private scheduleRepublish(): void {
    if (!this.running) return;
    if (this.republishTimer) clearTimeout(this.republishTimer);
    const l = this.own.list;
    // Half the lifetime: friends that were offline for a while still see a fresh list well before it goes stale.
    const dueIn = Math.max(1, l.issuedAt + l.ttl / 2 - this.now());
    // setTimeout's limit is 2^31-1 ms (about 24.8 days); longer TTLs re-arm on the way.
    const ms = Math.min(dueIn * 1000, 2 ** 31 - 1);
    this.republishTimer = setTimeout(() => {
      this.guard('republish', () => {
        if (this.now() >= l.issuedAt + l.ttl / 2) this.resign(P.devicesOf(this.own.list), 'ttl refresh');
        else this.scheduleRepublish();
      });
    }, ms);
    this.republishTimer.unref();
  }

  // ---------------------------------------------------------------- incoming

  /** Records every friend in the table and feeds its saved status message through it once. */
  scanFriends(): void {
    for (const f of this.node.friends()) {
      if (!this.table.friends[f.publicKey]) {
        this.table = P.observe(this.table, f.publicKey);
        this.requestSave('friend observed');
      }
      if (f.statusMessage.length > 0) this.guard('scan', () => this.onStatusMessage(f.publicKey, f.statusMessage));
    }
    this.refreshGauges();
  }

  /** Our own device keys: never added or removed as friends by the table's actions. */
  private selfDevices(): string[] {
    return P.devicesOf(this.own.list).map((d) => d.publicKey);
  }

  /** One friend's status message: decode, verify, update the table, apply the actions, save. Public so benches feed the same path. */
  onStatusMessage(from: string, text: string | Uint8Array): P.OutcomeView {
    const result = P.applyStatus(this.table, { from, text, now: this.now(), policy: this.config.policy, selfDevices: this.selfDevices(), isFriend: this.node.friend(from) !== undefined });
    this.table = result.table;
    const o = result.outcome;
    if ('personaId' in o && o.personaId === this.personaId) this.adoptOwnList(from, text);
    if (o.kind === 'applied' || o.kind === 'unchanged' || o.kind === 'pending') this.metrics.listsVerified.inc();
    else if (o.kind === 'rejected') this.metrics.listsRejected.inc({ reason: o.reason });
    else if (o.kind === 'ignored') this.metrics.listsRejected.inc({ reason: o.reason });
    const level = o.kind === 'applied' || o.kind === 'pending' ? 'info' : 'debug';
    this.log[level]({ from, outcome: o.kind, ...('reason' in o ? { reason: o.reason } : {}), ...('personaId' in o ? { persona: o.personaId } : {}) }, 'friend status message processed');
    this.applyActions(result.actions, from);
    if (result.changed) this.requestSave('table update');
    this.emit('statusProcessed', { from, outcome: o, actions: result.actions });
    return o;
  }

  /**
   * Another device holding our persona key (see `persona import`) published a newer list of our persona: adopt it as
   * our own, so the next change here starts from it instead of silently dropping what that device changed. Only a
   * device the list names speaks for it (consent), as for friends' lists.
   */
  private adoptOwnList(from: string, text: string | Uint8Array): void {
    const v = P.decodeOwnList(text);
    if (!v.ok || P.listPersonaIdHex(v.signed.list) !== this.personaId) return;
    const l = v.signed.list;
    if (l.seq <= this.own.list.seq || l.issuedAt > this.now() + 300) return;
    if (!P.devicesOf(l).some((d) => d.publicKey === from)) return;
    try {
      P.buildStatusMessage(v.signed, this.config.statusText);
    } catch {
      return; // does not fit next to our human text; keep ours
    }
    this.own = v.signed;
    this.log.info({ from, seq: l.seq, devices: l.devices.length }, 'adopted a newer list of our own persona from another of its devices');
    this.scheduleRepublish();
    this.requestSave('adopted own list');
  }

  private applyActions(actions: readonly P.CompanionAction[], from?: string): void {
    for (const a of actions) {
      switch (a.type) {
        case 'addDevice': {
          if (a.publicKey === this.node.publicKey) break;
          if (!this.node.friend(a.publicKey)) {
            try {
              this.node.friendAddNorequest(a.publicKey);
            } catch (err) {
              this.log.warn({ persona: a.personaId, device: a.publicKey, code: (err as ToxPersonaError).code }, 'could not add device');
              break;
            }
            this.metrics.devicesAdded.inc();
            this.log.info({ persona: a.personaId, device: a.publicKey, name: a.name }, 'added a device of a verified persona');
          }
          this.table = P.added(this.table, a.publicKey);
          this.requestSave('device added');
          break;
        }
        case 'removeDevice': {
          if (this.node.friend(a.publicKey)) {
            try {
              this.node.friendDelete(a.publicKey);
            } catch (err) {
              this.log.warn({ persona: a.personaId, device: a.publicKey, code: (err as ToxPersonaError).code }, 'could not remove device');
              break;
            }
            this.metrics.devicesRemoved.inc();
            this.log.info({ persona: a.personaId, device: a.publicKey }, 'removed a device its persona dropped');
          }
          this.table = P.forgot(this.table, a.publicKey);
          this.requestSave('device removed');
          break;
        }
        case 'setActive':
          this.log.info({ persona: a.personaId, device: a.publicKey }, 'active device');
          break;
        case 'alarm': {
          const rec: AlarmRecord = { at: new Date(this.now() * 1000).toISOString(), personaId: a.personaId, reason: a.code, detail: a.detail, ...(from ? { from } : {}) };
          this.alarms.push(rec);
          if (this.alarms.length > MAX_ALARMS_KEPT) this.alarms.shift();
          this.metrics.alarms.inc({ reason: a.code });
          this.log.warn({ persona: a.personaId, reason: a.code, detail: a.detail, from }, 'ALARM');
          this.emit('alarm', rec);
          break;
        }
      }
    }
  }

  private onFriendRequest(publicKey: string, message: string): void {
    const policy = this.config.acceptRequests;
    const known = P.isVerifiedDevice(this.table, publicKey);
    if (policy === 'all' || (policy === 'personas' && known)) {
      if (!this.node.friend(publicKey)) this.node.friendAddNorequest(publicKey);
      this.table = P.observe(this.table, publicKey);
      this.log.info({ from: publicKey, policy, known }, 'friend request accepted by policy');
      this.requestSave('request accepted');
      return;
    }
    const receivedAt = new Date().toISOString();
    const seen = this.requests.find((r) => r.publicKey === publicKey);
    if (seen) {
      // A repeat (toxcore clients resend until accepted) refreshes the entry; the next save writes it, no save of its own,
      // so a peer resending in a loop cannot make us rewrite the data directory for each copy.
      seen.message = message;
      seen.receivedAt = receivedAt;
      this.dirty = true;
      this.log.debug({ from: publicKey }, 'repeated friend request');
      return;
    }
    this.requests.push({ publicKey, message, receivedAt });
    // Bounded: strangers can send requests from as many keys as they like; the oldest give way.
    const dropped = this.requests.splice(0, Math.max(0, this.requests.length - MAX_PENDING_REQUESTS));
    if (dropped.length > 0) this.log.warn({ dropped: dropped.map((r) => r.publicKey), max: MAX_PENDING_REQUESTS }, 'pending friend requests full: dropped the oldest');
    this.requestSave('request stored');
    this.log.info({ from: publicKey, policy }, 'friend request waiting for accept/decline');
  }

  private onSelfConnection(connection: SelfConnection): void {
    this.metrics.connection.set(connection === 'none' ? 0 : connection === 'tcp' ? 1 : 2);
    this.log.info({ connection }, connection === 'none' ? 'DHT disconnected' : 'DHT connected');
    this.emit('selfConnection', connection);
  }

  private onFriendConnection(publicKey: string, connection: SelfConnection): void {
    const { online, total } = this.refreshGauges();
    this.log.info({ friend: publicKey, connection, online, total }, connection === 'none' ? 'friend offline' : 'friend online');
    this.emit('friendConnection', { publicKey, connection, online, total });
  }

  private refreshGauges(): { online: number; total: number } {
    const { online, total } = this.node.friendCounts();
    this.metrics.friendsOnline.set(online);
    this.metrics.friendsTotal.set(total);
    this.metrics.setPersonaCounts(P.countByState(this.table));
    return { online, total };
  }


  // ---------------------------------------------------------------- views

  /** True when connected, or within the start-up grace period. */
  health(): { healthy: boolean; body: unknown } {
    const connection = this.node.selfConnection();
    const inGrace = Date.now() - this.startedAt < this.config.healthGraceSeconds * 1000;
    // A daemon that cannot save cannot publish or acknowledge changes: unhealthy, with the reason.
    const healthy = (connection !== 'none' || inGrace) && !this.saveFailure;
    return { healthy, body: { status: healthy ? 'ok' : 'unhealthy', connection, inGracePeriod: inGrace && connection === 'none', uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000), save: this.saveView() } };
  }

  /** The state of saving: `ok`, when it last succeeded, and the last error while saves fail. */
  saveView(): { ok: boolean; lastSavedAt: string | null; error?: SaveFailure } {
    return { ok: !this.saveFailure, lastSavedAt: this.lastSavedAt ?? null, ...(this.saveFailure ? { error: this.saveFailure } : {}) };
  }

  /** The table as JSON-friendly views. */
  personas(): P.PersonaView[] {
    return P.tableView(this.table);
  }

  /** What `tox-persona status` shows. */
  status(): Record<string, unknown> & { alarms: AlarmRecord[] } {
    const friends = this.node.friendCounts();
    return {
      toxId: this.node.address,
      publicKey: this.node.publicKey,
      personaId: this.personaId,
      connection: this.node.selfConnection(),
      running: this.running,
      friends,
      // The saved list (the one we publish): a change whose save failed is not shown as done.
      devices: P.devicesOf(this.durableOwn.list),
      seq: this.durableOwn.list.seq,
      issuedAt: this.durableOwn.list.issuedAt,
      ttl: this.durableOwn.list.ttl,
      policy: this.config.policy,
      acceptRequests: this.config.acceptRequests,
      personas: P.countByState(this.table),
      pendingApprovals: P.tableView(this.table).filter((p) => p.pending).length,
      pendingRequests: this.requests.length,
      alarms: [...this.alarms],
      save: this.saveView(),
    };
  }

  /** Friend list view. */
  friendList(): Array<{ publicKey: string; name: string; connection: SelfConnection; persona?: string }> {
    const owners = P.deviceOwners(this.table);
    return this.node.friends().map((f) => ({ publicKey: f.publicKey, name: f.name, connection: f.connection, ...(owners.get(f.publicKey) ? { persona: owners.get(f.publicKey)! } : {}) }));
  }

  // ---------------------------------------------------------------- operations (CLI / admin)

  /** Adds a device to our list (at the end, or first with `active`), re-signs and publishes. */
  deviceAdd(publicKey: string, name = '', active = false): P.DeviceView[] {
    const pk = normKey(publicKey);
    const devices = P.devicesOf(this.own.list);
    if (devices.some((d) => d.publicKey === pk)) throw new CompanionError('DEVICE_EXISTS', `device ${short(pk)} is already in the list`);
    const entry = { publicKey: pk, name };
    const next = active ? [entry, ...devices] : [...devices, entry];
    this.resign(next, 'device added');
    return P.devicesOf(this.own.list);
  }

  /** Removes a device from our list, re-signs and publishes. */
  deviceRemove(publicKey: string): P.DeviceView[] {
    const pk = this.resolveOwnDevice(publicKey);
    if (pk === this.node.publicKey) throw new CompanionError('OWN_DEVICE', 'this device cannot remove itself from the list');
    const devices = P.devicesOf(this.own.list).filter((d) => d.publicKey !== pk);
    if (devices.length === 0) throw new CompanionError('LAST_DEVICE', 'a list needs at least one device');
    this.resign(devices, 'device removed');
    return P.devicesOf(this.own.list);
  }

  /** Makes a device the active one (first in the list), re-signs and publishes. */
  deviceActivate(publicKey: string): P.DeviceView[] {
    const pk = this.resolveOwnDevice(publicKey);
    const devices = P.devicesOf(this.own.list);
    const d = devices.find((x) => x.publicKey === pk)!;
    this.resign([d, ...devices.filter((x) => x.publicKey !== pk)], 'device activated');
    return P.devicesOf(this.own.list);
  }

  /**
   * The new-device flow: rekey our own profile into `out` (fresh keypair and nospam, same friends), add the new key to
   * our list, re-sign, write the new signed status message into `out` so the new device publishes it from its first
   * start, then publish it here. Nothing changes here when writing `out` fails.
   */
  async enroll(out: string, name = ''): Promise<{ out: string; publicKey: string; toxId: string; devices: P.DeviceView[]; friends: number }> {
    const outPath = resolvePath(out);
    if (existsSync(outPath)) throw new CompanionError('OUTPUT_EXISTS', `${out} already exists; choose a new path`);
    const pair = generateKeyPair();
    const pk = bytesToHex(pair.publicKey);
    const devices = [...P.devicesOf(this.own.list), { publicKey: pk, name }];
    const next = P.signNext(this.own.list, devices, this.key.pair, this.now(), this.config.ttlSeconds);
    const status = P.buildStatusMessage(next, this.config.statusText);
    const r = rekeyProfile(this.node.savedata(), { keyPair: pair, statusMessage: status, ...(this.profilePassphrase ? { newPassphrase: this.profilePassphrase } : {}) });
    await writeNewFile(outPath, r.bytes);
    this.own = next;
    this.scheduleRepublish();
    this.requestSave('device enrolled');
    await this.flush();
    return { out: outPath, publicKey: pk, toxId: bytesToHex(toxAddress(r.publicKey, r.nospam)), devices: P.devicesOf(next.list), friends: r.friendCount };
  }

  /** Accepts a device key by full hex or by a unique prefix / name. */
  private resolveOwnDevice(ref: string): string {
    const devices = P.devicesOf(this.own.list);
    const up = ref.trim().toUpperCase();
    const hits = devices.filter((d) => d.publicKey === up || (up.length >= 8 && d.publicKey.startsWith(up)) || d.name === ref);
    if (hits.length !== 1) throw new CompanionError('UNKNOWN_DEVICE', hits.length === 0 ? `no device "${ref}" in the list` : `"${ref}" matches ${hits.length} devices`);
    return hits[0]!.publicKey;
  }

  /** Applies the pending update(s) of a persona (PersonaID, 8+ hex prefix, or a pending id), newest first; applies the resulting actions. */
  approve(ref: string): P.PersonaView {
    const pend = P.pendingFor(this.table, ref).sort((x, y) => y.seq - x.seq);
    if (pend.length === 0) throw new CompanionError('NO_PENDING', `no pending update for "${ref}"`);
    const personaId = pend[0]!.personaId;
    const r = P.approve(this.table, pend[0]!.id, this.now(), this.selfDevices());
    this.table = r.table;
    this.applyActions(r.actions);
    // The pending entry is consumed either way, so the table is saved before a refusal is reported.
    this.requestSave('approved');
    this.refreshGauges();
    if (r.outcome.kind !== 'applied') {
      const why = r.outcome.kind === 'rejected' || r.outcome.kind === 'ignored' ? r.outcome.reason : r.outcome.kind;
      const detail = r.outcome.kind === 'rejected' ? `: ${r.outcome.detail}` : '';
      this.log.warn({ persona: personaId, outcome: r.outcome.kind, reason: why }, 'pending update refused on approval');
      throw new CompanionError('APPROVE_REFUSED', `the pending update of ${short(personaId)} was refused (${why}${detail}); it is dropped and nothing changed`);
    }
    this.log.info({ persona: personaId, outcome: r.outcome.kind }, 'pending update approved');
    return this.personaView(personaId);
  }

  /** Drops every pending update of a persona (or the one with this pending id). */
  reject(ref: string): P.PersonaView {
    const pend = P.pendingFor(this.table, ref);
    if (pend.length === 0) throw new CompanionError('NO_PENDING', `no pending update for "${ref}"`);
    for (const p of pend) this.table = P.reject(this.table, p.id);
    this.log.info({ persona: pend[0]!.personaId, count: pend.length }, 'pending update rejected');
    this.requestSave('rejected');
    this.refreshGauges();
    return this.personaView(pend[0]!.personaId);
  }

  private personaView(personaId: string): P.PersonaView {
    return P.tableView(this.table).find((p) => p.personaId === personaId) ?? { personaId, state: 'none', seq: null, issuedAt: null, ttl: null, lastSeen: null, from: null, devices: [] };
  }

  /** Sends a friend request to a Tox ID. */
  friendAdd(address: string, message: string): { publicKey: string } {
    const addr = address.trim().toUpperCase();
    if (!/^[0-9A-F]{76}$/.test(addr)) throw new CompanionError('BAD_ARGUMENT', 'a Tox ID is 76 hex characters');
    requireValidCurve25519(addr.slice(0, 64));
    this.node.friendAdd(addr, message || 'tox-persona');
    this.requestSave('friend added');
    return { publicKey: addr.slice(0, 64) };
  }

  /** Removes a friend by public key (or unique prefix). */
  friendRemove(ref: string): { publicKey: string } {
    const up = ref.trim().toUpperCase();
    const hits = this.node.friends().filter((f) => f.publicKey === up || (up.length >= 8 && f.publicKey.startsWith(up)));
    if (hits.length !== 1) throw new CompanionError('UNKNOWN_FRIEND', hits.length === 0 ? `no friend "${ref}"` : `"${ref}" matches ${hits.length} friends`);
    this.node.friendDelete(hits[0]!.publicKey);
    this.table = P.forgot(this.table, hits[0]!.publicKey);
    this.requestSave('friend removed');
    return { publicKey: hits[0]!.publicKey };
  }

  /** Incoming friend requests waiting for a decision. */
  pendingRequests(): PendingRequest[] {
    return [...this.requests];
  }

  /** Accepts a stored friend request. */
  accept(ref: string): PendingRequest {
    const r = this.takeRequest(ref);
    if (!this.node.friend(r.publicKey)) this.node.friendAddNorequest(r.publicKey);
    this.table = P.observe(this.table, r.publicKey);
    this.requestSave('request accepted');
    return r;
  }

  /** Declines (forgets) a stored friend request. */
  decline(ref: string): PendingRequest {
    const r = this.takeRequest(ref);
    this.requestSave('request declined');
    return r;
  }

  private takeRequest(ref: string): PendingRequest {
    const up = ref.trim().toUpperCase();
    const i = this.requests.findIndex((r) => r.publicKey === up || (up.length >= 8 && r.publicKey.startsWith(up)));
    if (i < 0) throw new CompanionError('UNKNOWN_REQUEST', `no pending friend request from "${ref}"`);
    return this.requests.splice(i, 1)[0]!;
  }
}

function normKey(text: string): string {
  const t = text.trim().toUpperCase();
  // A full Tox ID is accepted too: its first 32 bytes are the public key.
  const pk = /^[0-9A-F]{76}$/.test(t) ? t.slice(0, 64) : t;
  if (!/^[0-9A-F]{64}$/.test(pk)) throw new CompanionError('BAD_ARGUMENT', `not a Tox public key (64 hex) or Tox ID (76 hex): "${text}"`);
  requireValidCurve25519(pk);
  return pk;
}

/**
 * Throws `INVALID_PUBLIC_KEY` for a key toxcore refuses as a Curve25519 public key (its last byte is 0x80 or more):
 * such a device could never become anyone's friend, and toxcore would report it as a bad checksum.
 */
function requireValidCurve25519(pk: string): void {
  if (Number.parseInt(pk.slice(62, 64), 16) >= 0x80) {
    throw new CompanionError('INVALID_PUBLIC_KEY', `${short(pk)} is not a valid Curve25519 public key (its last byte is 0x${pk.slice(62, 64)}; Tox keys end in a byte below 0x80)`);
  }
}

function recoverOwnList(dir: string, devicesPath: string, key: P.PersonaKey, devicePublicKey: string, statusMessage: string | Uint8Array | undefined, now: number, ttl: number, log: Logger | undefined): P.SignedDeviceList {
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
    return P.signNext(undefined, [{ publicKey: devicePublicKey, name: '' }], key.pair, now, ttl);
  }
  throw new DataDirError('NOT_INITIALIZED', `${devicesPath} is missing and cannot be rebuilt (${why}); restore it from a backup, or re-create the data directory with "tox-persona init --list <a current status message of this persona>"`);
}

/** The list in our own status message when it is a valid list of our persona that names this device. */
function ownListInStatus(key: P.PersonaKey, devicePublicKey: string, statusMessage: string | Uint8Array | undefined): P.SignedDeviceList | undefined {
  if (statusMessage === undefined || statusMessage.length === 0) return undefined;
  const v = P.decodeOwnList(statusMessage);
  if (!v.ok || P.listPersonaIdHex(v.signed.list) !== P.personaIdHex(key)) return undefined;
  return P.devicesOf(v.signed.list).some((d) => d.publicKey === devicePublicKey.toUpperCase()) ? v.signed : undefined;
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
export async function loadCompanionState(dir: string, devicePublicKey: string, ttl: number, now = Date.now() / 1000, options: LoadStateOptions = {}): Promise<CompanionState> {
  const key = await P.loadPersonaKey(dataPath(dir, 'personaKey'));
  const devicesPath = dataPath(dir, 'devices');
  let own: P.SignedDeviceList;
  if (existsSync(devicesPath)) {
    own = P.ownListFromJson(readJsonFile(devicesPath, null), devicesPath);
    if (P.personaIdHex(key) !== P.listPersonaIdHex(own.list)) {
      throw new DataDirError('BAD_FILE', `${devicesPath}: the device list belongs to another persona than persona.key`);
    }
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
  const table = await P.loadTable(dataPath(dir, 'table'));
  return { key, own, table, requests: loadRequests(dataPath(dir, 'requests')), outcomes: loadOutcomes(dataPath(dir, 'outcomes')) };
}

const RequestsFileSchema = z.object({
  version: z.literal(1).optional(),
  requests: z.array(
    z.object({
      publicKey: z.string().regex(/^[0-9A-F]{64}$/),
      message: z.string(),
      receivedAt: z.string(),
    }).strip(),
  ),
});

const OutcomesFileSchema = z.object({
  version: z.literal(1),
  outcomes: z.array(z.object({
    id: z.string(),
    op: z.string(),
    at: z.string(),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })),
});

/** outcomes.json (missing → none); a damaged one is `BAD_FILE`, as for the other state files. */
function loadOutcomes(path: string): RequestOutcome[] {
  const r = OutcomesFileSchema.safeParse(readJsonFile<unknown>(path, { version: 1, outcomes: [] }));
  if (!r.success) throw new DataDirError('BAD_FILE', `${path}: not a request-outcomes file (${r.error.issues[0]?.message ?? 'invalid'}); it may be deleted (retries of older requests then apply again)`);
  return r.data.outcomes.slice(-MAX_OUTCOMES_KEPT) as RequestOutcome[];
}

/** requests.json (missing → none); anything but the shape we write is `BAD_FILE`, as for the table. */
function loadRequests(path: string): PendingRequest[] {
  const raw = readJsonFile<unknown>(path, { requests: [] });
  const r = RequestsFileSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : 'top level';
    throw new DataDirError('BAD_FILE', `${path}: not a pending-requests file (${where}: ${first?.message ?? 'invalid'}); fix or delete it`);
  }
  // An older or hand-edited file may hold more than the cap: keep the newest, as the queue does.
  return r.data.requests.slice(-MAX_PENDING_REQUESTS);
}

export type { Policy };

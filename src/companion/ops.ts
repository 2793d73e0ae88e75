// The companion's named operations, shared by the admin endpoint (daemon running) and the CLI's direct mode (daemon not running).
import type { Companion } from './companion.js';
import { CompanionError } from './companion.js';
import * as P from './persona-port.js';
import { encodeStatusMessage } from '../persona/index.js';
import * as K from './key-ops.js';
import { ToxPersonaError } from '../util/errors.js';

/** One operation: takes JSON arguments (and the request id, when the client sent one), returns a JSON-friendly result. */
export type Operation = (c: Companion, args: Record<string, unknown>, requestId?: string) => Promise<unknown> | unknown;

function str(args: Record<string, unknown>, key: string, required = true): string {
  const v = args[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new CompanionError('BAD_ARGUMENT', `missing argument "${key}"`);
    return '';
  }
  if (typeof v !== 'string') throw new CompanionError('BAD_ARGUMENT', `argument "${key}" must be a string`);
  return v;
}

/** Every operation by name; names are the admin endpoint's `/api/<name>` paths. */
export const OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  status: (c) => c.status(),
  personaShow: (c) => ({ personaId: c.personaId, seq: c.ownList.list.seq, issuedAt: c.ownList.list.issuedAt, ttl: c.ownList.list.ttl, devices: P.devicesOf(c.ownList.list), thisDevice: c.node.publicKey }),
  deviceList: (c) => ({ devices: P.devicesOf(c.ownList.list), thisDevice: c.node.publicKey, seq: c.ownList.list.seq }),
  deviceAdd: (c, a) => ({ devices: c.deviceAdd(str(a, 'publicKey'), str(a, 'name', false), a.active === true) }),
  deviceRemove: (c, a) => ({ devices: c.deviceRemove(str(a, 'device')) }),
  deviceActivate: (c, a) => ({ devices: c.deviceActivate(str(a, 'device')) }),
  // The request id names the enrollment's intent, so that a retry after a crash finds the enrollment it started.
  deviceEnroll: (c, a, id) => c.enroll(str(a, 'out'), str(a, 'name', false), id),
  blob: (c) => ({
    statusMessage: c.statusMessage(),
    blob: encodeStatusMessage(c.ownList),
    humanBytesLeft: P.humanBudget(c.ownList),
    expiresAt: c.ownList.list.issuedAt + c.ownList.list.ttl,
  }),
  personas: (c) => ({ personas: c.personas() }),
  // The same, after re-signing a list past half its time-to-live (profile sync while the daemon is stopped).
  syncSourceFresh: (c) => {
    const refreshed = c.refreshIfDue();
    return { ...(OPERATIONS.syncSource!(c, {}) as Record<string, unknown>), refreshed };
  },
  syncSource: (c) => ({
    personaId: c.personaId,
    ownDevices: P.devicesOf(c.ownList.list),
    blob: encodeStatusMessage(c.ownList),
    expiresAt: c.ownList.list.issuedAt + c.ownList.list.ttl,
    personas: c.personas(),
    blocked: c.current.blocked,
  }),
  approve: (c, a) => c.approve(str(a, 'persona')),
  reject: (c, a) => c.reject(str(a, 'persona')),
  vouch: (c, a) => c.vouch(str(a, 'persona')),
  friendAdd: (c, a) => c.friendAdd(str(a, 'toxId'), str(a, 'message', false)),
  friendList: (c) => ({ friends: c.friendList() }),
  friendRemove: (c, a) => c.friendRemove(str(a, 'friend')),
  requests: (c) => ({ requests: c.pendingRequests() }),
  accept: (c, a) => c.accept(str(a, 'publicKey')),
  decline: (c, a) => c.decline(str(a, 'publicKey')),
  // Root and signers (key-ops.ts, docs/KEYS.md). `recoveryKey` is the root for this one operation when it is not on this device.
  personaKeys: (c) => K.keysView(c),
  personaCertify: (c, a) => K.certifyRequest(c, str(a, 'request'), str(a, 'recoveryKey', false) || undefined),
  personaRotate: (c, a) => K.rotate(c, { recovery: str(a, 'recoveryKey', false) || undefined, drop: strings(a, 'drop') }),
  personaSignerRenew: (c, a) => K.renewSigner(c, str(a, 'recoveryKey', false) || undefined),
  personaRootRemove: (c, a) => K.removeRoot(c, { recovery: str(a, 'recoveryKey', false) || undefined, force: a.force === true }),
  personaRootRestore: (c, a) => K.restoreRoot(c, str(a, 'recoveryKey')),
  groups: (c) => c.groups.list(),
  groupCreate: (c, a) => c.groups.create(str(a, 'name'), a.public === true ? 'public' : 'private'),
  groupJoin: (c, a) => c.groups.join(str(a, 'chatId'), str(a, 'password', false)),
  groupLeave: (c, a) => c.groups.leave(str(a, 'group')),
  groupVouch: (c, a) => c.groups.vouch(str(a, 'group'), str(a, 'peer'), str(a, 'device')),
});

function strings(args: Record<string, unknown>, key: string): string[] {
  const v = args[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new CompanionError('BAD_ARGUMENT', `argument "${key}" must be a list of strings`);
  return v as string[];
}

/** Operations that only read: run offline, they leave the data directory's files untouched. */
export const READ_ONLY_OPERATIONS: ReadonlySet<string> = new Set(['personaKeys', 'status', 'personaShow', 'deviceList', 'blob', 'personas', 'syncSource', 'friendList', 'requests', 'groups']);

/** A request id: what a client sends so that a retry of the same request returns the first outcome. */
const REQUEST_ID_RE = /^[A-Za-z0-9_-]{8,64}$/;

/** Requests being run now, by companion and request id: a retry arriving meanwhile waits for the same outcome. */
const inFlight = new WeakMap<Companion, Map<string, Promise<unknown>>>();

/**
 * Runs an operation by name; unknown names give `UNKNOWN_OPERATION`. The answer comes only once the state it shows is
 * saved (durable before visible). A mutating operation with `args.requestId` runs at most once per id: its outcome (a
 * result or a refusal) is saved in the same commit as its change, and a retry with the same id gets that outcome back,
 * also across a crash and restart of the daemon, instead of failing (`DEVICE_EXISTS`) or applying twice.
 */
export async function runOperation(c: Companion, name: string, args: Record<string, unknown>): Promise<unknown> {
  const op = Object.prototype.hasOwnProperty.call(OPERATIONS, name) ? OPERATIONS[name] : undefined;
  if (!op) throw new CompanionError('UNKNOWN_OPERATION', `no such operation: ${name}`);
  const { requestId, ...rest } = args;
  if (requestId === undefined || READ_ONLY_OPERATIONS.has(name)) {
    const result = await op(c, rest);
    await c.flush();
    return result;
  }
  if (typeof requestId !== 'string' || !REQUEST_ID_RE.test(requestId)) throw new CompanionError('BAD_ARGUMENT', 'requestId must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -');
  let running = inFlight.get(c);
  if (!running) inFlight.set(c, (running = new Map()));
  const same = running.get(requestId);
  if (same) return same;
  const p = runOnce(c, name, requestId, () => op(c, rest, requestId));
  running.set(requestId, p);
  try {
    return await p;
  } finally {
    running.delete(requestId);
  }
}

async function runOnce(c: Companion, name: string, id: string, run: () => Promise<unknown> | unknown): Promise<unknown> {
  const prev = c.outcomeOf(id);
  if (prev) {
    if (prev.op !== name) throw new CompanionError('BAD_ARGUMENT', `request id ${id} was already used for ${prev.op}, not ${name}`);
    // The first attempt's save may have failed (full disk): the outcome counts once it is on disk.
    await c.flush();
    if (!prev.ok) throw new CompanionError(prev.error!.code, prev.error!.message);
    return prev.result;
  }
  let result: unknown;
  try {
    result = await run();
  } catch (err) {
    // A refusal is an outcome too (nothing changed, or only what the refusal says); a failed save is not: unknown.
    if (err instanceof ToxPersonaError && err.code !== 'SAVE_FAILED') {
      c.recordOutcome({ id, op: name, at: new Date().toISOString(), ok: false, error: { code: err.code, message: err.message } });
      await c.flush().catch(() => undefined);
    }
    throw err;
  }
  // Recorded before any other task runs, so the save that carries the change carries its outcome too.
  c.recordOutcome({ id, op: name, at: new Date().toISOString(), ok: true, result: JSON.parse(JSON.stringify(result ?? null)) as unknown });
  await c.flush();
  return result;
}

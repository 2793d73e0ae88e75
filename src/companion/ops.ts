// The companion's named operations, shared by the admin endpoint (daemon running) and the CLI's direct mode (daemon not running).
import type { Companion } from './companion.js';
import { CompanionError } from './companion.js';
import * as P from './persona-port.js';

/** One operation: takes JSON arguments, returns a JSON-friendly result. */
export type Operation = (c: Companion, args: Record<string, unknown>) => Promise<unknown> | unknown;

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
  deviceEnroll: (c, a) => c.enroll(str(a, 'out'), str(a, 'name', false)),
  blob: (c) => ({
    statusMessage: c.statusMessage(),
    blob: P.blobOnly(c.ownList),
    humanBytesLeft: P.humanBudget(c.ownList),
    expiresAt: c.ownList.list.issuedAt + c.ownList.list.ttl,
  }),
  personas: (c) => ({ personas: c.personas() }),
  syncSource: (c) => ({
    personaId: c.personaId,
    ownDevices: P.devicesOf(c.ownList.list),
    blob: P.blobOnly(c.ownList),
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
});

/** Operations that only read: run offline, they leave the data directory's files untouched. */
export const READ_ONLY_OPERATIONS: ReadonlySet<string> = new Set(['status', 'personaShow', 'deviceList', 'blob', 'personas', 'syncSource', 'friendList', 'requests']);

/** Runs an operation by name; unknown names give `UNKNOWN_OPERATION`. */
export async function runOperation(c: Companion, name: string, args: Record<string, unknown>): Promise<unknown> {
  const op = Object.prototype.hasOwnProperty.call(OPERATIONS, name) ? OPERATIONS[name] : undefined;
  if (!op) throw new CompanionError('UNKNOWN_OPERATION', `no such operation: ${name}`);
  const result = await op(c, args);
  await c.flush();
  return result;
}

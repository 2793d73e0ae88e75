// Protocol v2 stories: Alice's root certifies signers with an epoch, lists chain, seq is bound to time; Bob's table follows the root and refuses the rest.
import { describe, expect, it } from 'vitest';
import {
  applyStatusMessage,
  approvePending,
  certifySigner,
  emptyTable,
  encodeStatusMessage,
  judgeOwnList,
  markAdded,
  nextDeviceList,
  observeFriend,
  OwnSignerError,
  personaKeyFromSeed,
  signDeviceList,
  signOwnChange,
  signOwnRefresh,
  type Action,
  type ApplyResult,
  type OwnSigner,
  type PersonaTable,
  type SignedDeviceList,
} from '../../src/persona/index.js';
import { sodium } from '../../src/persona/sodium.js';
import { bytesToHex } from '../../src/util/bytes.js';

const fixed = (label: string): Uint8Array => sodium.crypto_generichash(32, label, null);
const root = personaKeyFromSeed(fixed('alice-root'));
const P = bytesToHex(root.publicKey);
const D1 = fixed('alice-server');
const D2 = fixed('alice-laptop');
const S = fixed('alice-phone');
const M = fixed('mallory-device');
const hex = (k: Uint8Array): string => bytesToHex(k);
const T = 1_767_225_600;
const DAY = 86_400;
const TTL = 7 * DAY;

/** A signer key on one of Alice's devices, certified by the root for `epoch`. */
function signerOn(label: string, epoch: number): OwnSigner {
  const key = personaKeyFromSeed(fixed(`signer-${label}`));
  return { key, cert: certifySigner(root, epoch, key.publicKey), epoch };
}
const dev = (...keys: Uint8Array[]) => keys.map((publicKey) => ({ publicKey, name: '' }));
const text = (s: SignedDeviceList): string => encodeStatusMessage(s, '');

/** Bob's companion, reduced to its table: it performs addDevice as the companion would (markAdded). */
function bobSees(t: PersonaTable, from: Uint8Array, s: SignedDeviceList | string, now: number, policy: 'auto' | 'manual' = 'auto'): ApplyResult {
  const r = applyStatusMessage(t, { from, text: typeof s === 'string' ? s : text(s), now, policy });
  let table = r.table;
  for (const a of r.actions) if (a.type === 'addDevice') table = markAdded(table, a.publicKey);
  return { ...r, table };
}
const kinds = (actions: Action[], type: Action['type']): string[] => actions.filter((a) => a.type === type).map((a) => ('publicKey' in a ? a.publicKey : (a as { code: string }).code));
const alarms = (actions: Action[]): string[] => actions.filter((a) => a.type === 'alarm').map((a) => (a as { code: string }).code);

/** Alice's persona as Bob knows it: D1 is Bob's friend; D2 and S were added by Bob's companion from L1. */
function start() {
  const sD1 = signerOn('server', 1);
  const sD2 = signerOn('laptop', 1);
  const sS = signerOn('phone', 1);
  const L1 = signOwnChange(undefined, dev(D1, D2, S), sD1, root.publicKey, T, TTL);
  const r = bobSees(observeFriend(emptyTable(), D1), D1, L1, T);
  expect(r.outcome.kind).toBe('applied');
  expect(kinds(r.actions, 'addDevice').sort()).toEqual([hex(D2), hex(S)].sort());
  return { sD1, sD2, sS, L1, t: r.table };
}

describe('failure 1: a stale sibling cannot undo a revocation', () => {
  it('D2 removes the stolen phone; D1, still holding the old list, refreshes and then re-signs its old view: Bob keeps S out and D2 in', () => {
    const { sD1, sD2, L1, t } = start();
    // Alice's laptop removes the phone; Bob drops it.
    const L2 = signOwnChange(L1, dev(D1, D2), sD2, root.publicKey, T + 100, TTL);
    let r = bobSees(t, D2, L2, T + 100);
    expect(r.outcome.kind).toBe('applied');
    expect(kinds(r.actions, 'removeDevice')).toEqual([hex(S)]);
    const afterRevocation = r.table;

    // Half a ttl later the server, which never saw L2, refreshes L1: same seq, so it is older than L2.
    const refresh = signOwnRefresh(L1, sD1, T + 3.5 * DAY, TTL);
    expect(refresh.list.seq).toBe(L1.list.seq);
    r = bobSees(afterRevocation, D1, refresh, T + 3.5 * DAY);
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: P, reason: 'ROLLBACK' });
    expect(r.actions).toEqual([]);
    expect(r.table).toEqual(afterRevocation);

    // Even a real change built from the stale view (a new version with a higher seq) is a fork: held, alarm, not applied.
    const stale = signOwnChange(L1, dev(D1, S), sD1, root.publicKey, T + 3.5 * DAY, TTL);
    expect(stale.list.seq).toBeGreaterThan(L2.list.seq);
    r = bobSees(afterRevocation, D1, stale, T + 3.5 * DAY);
    expect(r.outcome).toMatchObject({ kind: 'pending', reason: 'FORK' });
    expect(alarms(r.actions)).toEqual(['FORK']);
    expect(kinds(r.actions, 'addDevice')).toEqual([]);
    expect(kinds(r.actions, 'removeDevice')).toEqual([]);
    expect(r.table.personas[P]!.devices.map((d) => d.publicKey)).toEqual([hex(D1), hex(D2)]);
    // The re-send at the next reconnect raises no second alarm.
    expect(alarms(bobSees(r.table, D1, stale, T + 3.5 * DAY + 60).actions)).toEqual([]);
  });

  it('a friend that missed lists in between follows a list built from a later one', () => {
    const { sD2, L1, t } = start();
    const L2 = signOwnChange(L1, dev(D1, D2), sD2, root.publicKey, T + 100, TTL);
    const L3 = signOwnChange(L2, dev(D1, D2, M), sD2, root.publicKey, T + 200, TTL);
    const r = bobSees(t, D2, L3, T + 200);
    expect(r.outcome.kind).toBe('applied');
    expect(kinds(r.actions, 'removeDevice')).toEqual([hex(S)]);
  });
});

describe('failure 2: a stolen signer is revoked by the root, and friends follow by themselves', () => {
  it('the thief signs seq 2^48-1 (refused), then a plausible list (applied); Alice rotates with the recovery key; Bob follows; the thief is refused with an alarm', () => {
    const { sD2, sS, L1, t } = start();
    const L2 = signOwnChange(L1, dev(D1, D2, S), sD2, root.publicKey, T + 100, TTL);
    let r = bobSees(t, D2, L2, T + 100);
    const before = r.table;

    // The thief holds the phone's signer. The version-1 lockout: seq 2^48-1 with a 136-year ttl.
    const lockout = signDeviceList({ ...nextDeviceList(L2.list, dev(S, M), { now: T + 200 }), seq: 2 ** 48 - 1 }, sS.key, sS.cert);
    r = bobSees(before, S, lockout, T + 200);
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'SEQ_AHEAD' });
    expect(r.table).toEqual(before);
    const forever = signDeviceList({ ...nextDeviceList(L2.list, dev(S, M), { now: T + 200 }), ttl: 2 ** 32 - 1 }, sS.key, sS.cert);
    expect(bobSees(before, S, forever, T + 200).outcome).toMatchObject({ kind: 'rejected', reason: 'TTL_TOO_LONG' });

    // Within its epoch a stolen signer can still sign a plausible list: Bob follows it, as any friend would.
    // Its clock may even run 299 s ahead, so its seq is higher than anything Alice signs in the next minutes.
    const stolen = signOwnChange(L2, dev(S, M), sS, root.publicKey, T + 300 + 299, TTL);
    r = bobSees(before, S, stolen, T + 300);
    expect(r.outcome.kind).toBe('applied');
    expect(kinds(r.actions, 'removeDevice')).toEqual([hex(D2)]);

    // Alice, on the server with the recovery key: epoch 2, a new signer there, and a list without the phone.
    const sD1v2 = signerOn('server-2', 2);
    const rotated = signOwnChange(L2, dev(D1, D2), sD1v2, root.publicKey, T + 400, TTL);
    expect(rotated.list.seq, 'the higher epoch wins over a higher seq').toBeLessThan(stolen.list.seq);
    r = bobSees(r.table, D1, rotated, T + 400);
    expect(r.outcome.kind).toBe('applied');
    expect(kinds(r.actions, 'removeDevice').sort()).toEqual([hex(S), hex(M)].sort());
    expect(kinds(r.actions, 'addDevice')).toEqual([hex(D2)]);
    expect(r.table.personas[P]).toMatchObject({ epoch: 2, state: 'verified' });
    const recovered = r.table;

    // The thief's later lists, whatever their seq, are refused with an alarm (once per list).
    const later = signOwnChange(stolen, dev(S, M), sS, root.publicKey, T + 500, TTL);
    r = bobSees(recovered, S, later, T + 500);
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: P, reason: 'EPOCH_REVOKED' });
    expect(alarms(r.actions)).toEqual(['REVOKED_SIGNER']);
    expect(r.table.personas[P]!.devices.map((d) => d.publicKey)).toEqual([hex(D1), hex(D2)]);
    expect(r.table.personas[P]!.lastRevoked).toMatchObject({ epoch: 1, from: hex(S) });
    expect(alarms(bobSees(r.table, S, later, T + 560).actions)).toEqual([]);
    // Nor can the thief's old certificate claim the new epoch: the certificate no longer verifies.
    const claim = signDeviceList({ ...nextDeviceList(later.list, dev(S, M), { now: T + 600 }), epoch: 2 }, sS.key, sS.cert);
    expect(bobSees(recovered, S, claim, T + 600).outcome).toMatchObject({ kind: 'rejected', reason: 'SIGNER_NOT_CERTIFIED' });
  });

  it("a higher epoch also ends an equivocation conflict the thief caused, without the user approving anything", () => {
    const { sD2, sS, L1, t } = start();
    const a = signOwnChange(L1, dev(D1, D2, S), sD2, root.publicKey, T + 100, TTL);
    const b = signDeviceList({ ...a.list, devices: dev(D1, S, M) }, sS.key, sS.cert);
    let r = bobSees(bobSees(t, D2, a, T + 100).table, S, b, T + 100);
    expect(r.outcome).toMatchObject({ kind: 'ignored', reason: 'EQUIVOCATION' });
    expect(r.table.personas[P]!.state).toBe('conflict');
    const rotated = signOwnChange(a, dev(D1, D2), signerOn('server-2', 2), root.publicKey, T + 200, TTL);
    r = bobSees(r.table, D1, rotated, T + 200);
    expect(r.outcome.kind).toBe('applied');
    expect(r.table.personas[P]!.state).toBe('verified');
  });
});

describe('failure 3: one clock glitch cannot freeze the other signers', () => {
  it("the laptop's clock runs 50 years ahead: its list is refused, it can't build on it, and the server's lists keep applying", () => {
    const { sD1, sD2, L1, t } = start();
    const glitch = T + 50 * 365 * DAY;
    const future = signOwnChange(L1, dev(D1, D2), sD2, root.publicKey, glitch, TTL);
    let r = bobSees(t, D2, future, T + 10);
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'FUTURE_DATED' });
    expect(r.table).toEqual(t);
    // Clock fixed: the laptop refuses to build on its glitched list (its seq would run ahead of issuedAt)...
    expect(() => signOwnChange(future, dev(D1, D2), sD2, root.publicKey, T + 20, TTL)).toThrow(OwnSignerError);
    // ...and a list signed anyway with that seq and a correct issuedAt is refused by receivers.
    const forced = signDeviceList({ ...nextDeviceList(L1.list, dev(D1, D2), { now: T + 20 }), seq: future.list.seq + 1 }, sD2.key, sD2.cert);
    r = bobSees(t, D2, forced, T + 20);
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'SEQ_AHEAD' });
    // The server's correct list applies.
    const L2 = signOwnChange(L1, dev(D1, D2, S, M), sD1, root.publicKey, T + 30, TTL);
    r = bobSees(r.table, D1, L2, T + 30);
    expect(r.outcome.kind).toBe('applied');
    expect(kinds(r.actions, 'addDevice')).toEqual([hex(M)]);
  });
});

describe('chains, epochs and bad input: refused with a reason, the table unchanged', () => {
  it('UNKNOWN_PREV: a list naming our seq but another list as its base', () => {
    const { sD1, L1, t } = start();
    const other = signOwnChange(undefined, dev(D1, M), sD1, root.publicKey, T, TTL); // a different list, never seen
    const forged = signDeviceList({ ...nextDeviceList(other.list, dev(D1, D2), { now: T + 10 }), prev: { seq: L1.list.seq, hash: other.list.prev!.hash.map((x) => x ^ 0xff) } }, sD1.key, sD1.cert);
    const r = bobSees(t, D1, forged, T + 10);
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'UNKNOWN_PREV' });
    expect(r.table).toEqual(t);
  });

  it('an older epoch is refused whatever its seq; a refresh of the same version under a newer epoch is only a refresh', () => {
    const { L1, t } = start();
    const v2 = signOwnRefresh(L1, signerOn('server-2', 2), T + 100, TTL);
    let r = bobSees(t, D1, v2, T + 100);
    expect(r.outcome).toEqual({ kind: 'unchanged', personaId: P, refreshed: true });
    expect(r.table.personas[P]!.epoch).toBe(2);
    const old = signOwnChange(L1, dev(D1, D2), signerOn('laptop', 1), root.publicKey, T + 200, TTL);
    r = bobSees(r.table, D2, old, T + 200);
    expect(r.outcome).toMatchObject({ kind: 'ignored', reason: 'EPOCH_REVOKED' });
    expect(alarms(r.actions)).toEqual(['REVOKED_SIGNER']);
  });

  it('a version-1 list upgrades in place: its v2 refresh is the same version, and the next change chains from it', () => {
    const v1 = signDeviceList(nextDeviceList(undefined, dev(D1, D2), { now: T, personaId: root.publicKey, version: 1 }), root);
    let r = bobSees(observeFriend(emptyTable(), D1), D1, v1, T);
    expect(r.outcome.kind).toBe('applied');
    expect(r.table.personas[P]!.epoch).toBe(0);
    const rootSigner: OwnSigner = { key: root, cert: null, epoch: 0 };
    const up = signOwnRefresh(v1, rootSigner, T + 100, TTL);
    expect(up.list.version).toBe(2);
    r = bobSees(r.table, D1, up, T + 100);
    expect(r.outcome).toEqual({ kind: 'unchanged', personaId: P, refreshed: true });
    const next = signOwnChange(up, dev(D1, D2, S), signerOn('server', 0), root.publicKey, T + 200, TTL);
    r = bobSees(r.table, D1, next, T + 200);
    expect(r.outcome.kind).toBe('applied');
    // A version-1 list after that was not built from it: a fork (and once a signer of epoch 1 speaks, a revoked one).
    const stale = signDeviceList(nextDeviceList(v1.list, dev(D1, M), { now: T + 300, version: 1 }), root);
    expect(bobSees(r.table, D1, stale, T + 300).outcome).toMatchObject({ kind: 'pending', reason: 'FORK' });
    r = bobSees(r.table, D1, signOwnRefresh(next, signerOn('server', 1), T + 400, TTL), T + 400);
    expect(bobSees(r.table, D1, stale, T + 400).outcome).toMatchObject({ kind: 'ignored', reason: 'EPOCH_REVOKED' });
  });

  it('approving a held fork applies it (the user decides)', () => {
    const { sD1, sD2, L1, t } = start();
    const L2 = signOwnChange(L1, dev(D1, D2), sD2, root.publicKey, T + 100, TTL);
    const stale = signOwnChange(L1, dev(D1, S, M), sD1, root.publicKey, T + 200, TTL);
    let r = bobSees(bobSees(t, D2, L2, T + 100).table, D1, stale, T + 200);
    expect(r.outcome.kind).toBe('pending');
    r = approvePending(r.table, (r.outcome as { pendingId: string }).pendingId, T + 300);
    expect(r.outcome.kind).toBe('applied');
    expect(r.table.personas[P]!.devices.map((d) => d.publicKey)).toEqual([hex(D1), hex(S), hex(M)]);
  });
});

describe('the signer side', () => {
  it('a revoked signer refuses to sign; the root signs under any epoch', () => {
    const { L1 } = start();
    const rotated = signOwnRefresh(L1, signerOn('server-2', 2), T + 10, TTL);
    expect(() => signOwnChange(rotated, dev(D1), signerOn('laptop', 1), root.publicKey, T + 20, TTL)).toThrow(expect.objectContaining({ code: 'SIGNER_REVOKED' }));
    expect(() => signOwnRefresh(rotated, signerOn('laptop', 1), T + 20, TTL)).toThrow(expect.objectContaining({ code: 'SIGNER_REVOKED' }));
    expect(signOwnChange(rotated, dev(D1), { key: root, cert: null, epoch: 0 }, root.publicKey, T + 20, TTL).list.epoch).toBe(2);
  });

  it('judging lists of our own persona: adopt newer chained lists, never one that drops us, alarm on forks and revoked epochs', () => {
    const { sD1, sD2, L1 } = start();
    const opts = { thisDevice: D1, from: D2, now: T + 200, maxClockSkew: 300, signerEpoch: 1 };
    const L2 = signOwnChange(L1, dev(D1, D2), sD2, root.publicKey, T + 100, TTL);
    expect(judgeOwnList(L1, L2, opts)).toEqual({ adopt: true });
    expect(judgeOwnList(L2, L1, opts)).toEqual({ adopt: false });
    const drops = signOwnChange(L1, dev(D2, S), sD2, root.publicKey, T + 100, TTL);
    expect(judgeOwnList(L1, drops, opts)).toMatchObject({ adopt: false, alarm: { code: 'SELF_DROPPED' } });
    const fork = signOwnChange(L1, dev(D1, D2, M), sD2, root.publicKey, T + 150, TTL);
    expect(judgeOwnList(L2, fork, opts)).toMatchObject({ adopt: false, alarm: { code: 'FORK' } });
    const rotated = signOwnChange(L2, dev(D1, D2), signerOn('laptop-2', 2), root.publicKey, T + 160, TTL);
    expect(judgeOwnList(L2, rotated, opts)).toMatchObject({ adopt: true, alarm: { code: 'SIGNER_REVOKED' } });
    expect(judgeOwnList(rotated, signOwnRefresh(L2, sD1, T + 170, TTL), opts)).toMatchObject({ adopt: false, alarm: { code: 'REVOKED_SIGNER' } });
    // Consent: a list that does not name the device it came from is not adopted.
    expect(judgeOwnList(L1, L2, { ...opts, from: M })).toEqual({ adopt: false });
  });
});

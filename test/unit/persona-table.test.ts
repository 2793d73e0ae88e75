// The PersonaID table rules, one adversarial story per rule: Alice has devices, Bob's companion keeps the table.
import { describe, expect, it } from 'vitest';
import {
  applyStatusMessage,
  approvePending,
  emptyTable,
  encodeStatusMessage,
  forgetFriend,
  markAdded,
  nextDeviceList,
  observeFriend,
  personaKeyFromSeed,
  personaOfDevice,
  PendingNotFound,
  MAX_PENDING_PER_PERSONA,
  MAX_PENDING_PER_SENDER,
  refreshStaleness,
  rejectPending,
  signDeviceList,
  type Action,
  type DeviceList,
  type PersonaKeyPair,
  type PersonaTable,
} from '../../src/persona/index.js';
import { sodium } from '../../src/persona/sodium.js';
import { bytesToHex } from '../../src/util/bytes.js';

const fixed = (label: string): Uint8Array => sodium.crypto_generichash(32, label, null);
const alice = personaKeyFromSeed(fixed('alice'));
const mallory = personaKeyFromSeed(fixed('mallory'));
const laptop = fixed('alice-laptop');
const phone = fixed('alice-phone');
const tablet = fixed('alice-tablet');
const mDevice = fixed('mallory-device');
const bobDevice = fixed('bob-device');
const A = bytesToHex(alice.publicKey);
const M = bytesToHex(mallory.publicKey);
const hex = (k: Uint8Array): string => bytesToHex(k);
const T = 1_767_225_600;
const DAY = 86_400;

function status(key: PersonaKeyPair, devices: Uint8Array[], over: Partial<DeviceList> = {}, human = ''): string {
  const base = nextDeviceList(undefined, devices.map((publicKey, i) => ({ publicKey, name: `d${i}` })), { now: T, personaId: key.publicKey, ttl: 7 * DAY, version: 1 });
  return encodeStatusMessage(signDeviceList({ ...base, ...over }, key), human);
}

function friends(...pks: Uint8Array[]): PersonaTable {
  return pks.reduce((t, pk) => observeFriend(t, pk), emptyTable());
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const adds = (actions: Action[]): string[] => actions.filter((a) => a.type === 'addDevice').map((a) => (a as { publicKey: string }).publicKey);
const alarms = (actions: Action[]): string[] => actions.filter((a) => a.type === 'alarm').map((a) => (a as { code: string }).code);

describe('provisional entries', () => {
  it('a friend without a persona is its own provisional persona', () => {
    const t = observeFriend(emptyTable(), laptop);
    const e = personaOfDevice(t, laptop);
    expect(e?.state).toBe('provisional');
    expect(e?.personaId).toBe(hex(laptop));
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });
  it('forgetFriend drops the provisional entry', () => {
    const t = forgetFriend(observeFriend(emptyTable(), laptop), laptop);
    expect(personaOfDevice(t, laptop)).toBeUndefined();
    expect(t.friends[hex(laptop)]).toBeUndefined();
  });
});

describe('Alice publishes, Bob verifies', () => {
  it('Bob merges the laptop, adds the phone (unconfirmed) and sets the laptop active', () => {
    const t0 = deepFreeze(friends(laptop));
    const r = applyStatusMessage(t0, { from: laptop, text: status(alice, [laptop, phone]), now: T + 10, policy: 'auto', selfDevices: [bobDevice] });
    expect(r.outcome).toEqual({ kind: 'applied', personaId: A, stale: false });
    expect(adds(r.actions)).toEqual([hex(phone)]);
    expect(r.actions).toContainEqual({ type: 'setActive', personaId: A, publicKey: hex(laptop) });
    const e = r.table.personas[A];
    expect(e?.state).toBe('verified');
    expect(e?.devices.map((d) => [d.publicKey, d.confirmed])).toEqual([[hex(laptop), true], [hex(phone), false]]);
    expect(r.table.personas[hex(laptop)], 'provisional entry merged').toBeUndefined();
    expect(r.table.pins[hex(laptop)]).toBe(A);
    expect(r.table.pins[hex(phone)], 'unconfirmed device is not pinned').toBeUndefined();
    expect(JSON.parse(JSON.stringify(r.table))).toEqual(r.table);
  });

  it('unconfirmed device: the phone is added but stays on its own until it publishes the list itself', () => {
    let t = friends(laptop);
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone]), now: T + 10, policy: 'auto' }).table;
    t = markAdded(t, phone);
    t = observeFriend(t, phone);
    expect(personaOfDevice(t, phone)?.state, 'phone still provisional before confirming').toBe('provisional');
    const r = applyStatusMessage(t, { from: phone, text: status(alice, [laptop, phone]), now: T + 20, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'unchanged', personaId: A, refreshed: false });
    expect(personaOfDevice(r.table, phone)?.personaId).toBe(A);
    expect(r.table.personas[A]?.devices.find((d) => d.publicKey === hex(phone))).toEqual({ publicKey: hex(phone), name: 'd1', confirmed: true, addedByUs: true });
    expect(r.table.personas[hex(phone)]).toBeUndefined();
    expect(r.actions).toEqual([]);
  });

  it('selfDevices are never added', () => {
    const r = applyStatusMessage(friends(laptop), { from: laptop, text: status(alice, [laptop, bobDevice]), now: T, policy: 'auto', selfDevices: [bobDevice] });
    expect(adds(r.actions)).toEqual([]);
  });

  it('a plain status message changes nothing; a broken blob is a rejection value', () => {
    const t = friends(laptop);
    expect(applyStatusMessage(t, { from: laptop, text: 'at lunch', now: T, policy: 'auto' }).outcome).toEqual({ kind: 'none' });
    const bad = status(alice, [laptop]).slice(0, -4);
    const r = applyStatusMessage(t, { from: laptop, text: bad, now: T, policy: 'auto' });
    expect(r.outcome.kind).toBe('rejected');
    expect(r.table).toEqual(t);
    const sig = status(alice, [laptop]);
    const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
    expect(applyStatusMessage(t, { from: laptop, text: flipped, now: T, policy: 'auto' }).outcome).toMatchObject({ kind: 'rejected', reason: 'BAD_SIGNATURE' });
  });
});

describe('consent', () => {
  it('copied blob: Mallory copying Alice\'s status message is only a hint, never applied', () => {
    const t = friends(mDevice, laptop);
    const r = applyStatusMessage(t, { from: mDevice, text: status(alice, [laptop, phone]), now: T, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: A, reason: 'NOT_A_MEMBER' });
    expect(r.actions).toEqual([]);
    expect(r.table).toEqual(t);
  });
});

describe('rollback', () => {
  it('a lower seq from a member that is merely behind is ignored quietly', () => {
    let t = friends(laptop, phone);
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone], { seq: 2 }), now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: phone, text: status(alice, [phone, laptop], { seq: 1 }), now: T, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: A, reason: 'ROLLBACK' });
    expect(r.actions).toEqual([]);
    expect(r.table.personas[A]?.seq).toBe(2);
    expect(r.table.personas[A]?.devices[0]?.publicKey, 'older list never applied').toBe(hex(laptop));
  });
  it('a dropped device replaying an old list raises ROLLBACK and is not applied', () => {
    let t = friends(laptop, tablet);
    const old = status(alice, [laptop, tablet], { seq: 1 });
    t = applyStatusMessage(t, { from: laptop, text: old, now: T, policy: 'auto' }).table;
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop], { seq: 2 }), now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: tablet, text: old, now: T, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: A, reason: 'ROLLBACK' });
    expect(alarms(r.actions)).toEqual(['ROLLBACK']);
    expect(r.table.personas[A]?.devices.map((d) => d.publicKey)).toEqual([hex(laptop)]);
  });
});

describe('equivocation', () => {
  it('same seq, different devices: alarm, both kept as evidence, neither applied, later updates held', () => {
    let t = friends(laptop, phone);
    const first = status(alice, [laptop, phone], { seq: 5 });
    const second = status(alice, [phone, laptop, tablet], { seq: 5 });
    t = applyStatusMessage(t, { from: laptop, text: first, now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: phone, text: second, now: T, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: A, reason: 'EQUIVOCATION' });
    expect(alarms(r.actions)).toEqual(['EQUIVOCATION']);
    expect(adds(r.actions), 'the conflicting list adds nothing').toEqual([]);
    expect(r.table.personas[A]?.state).toBe('conflict');
    expect(r.table.personas[A]?.devices.map((d) => d.publicKey)).toEqual([hex(laptop), hex(phone)]);
    expect(r.table.evidence).toHaveLength(1);
    expect(r.table.evidence[0]?.records).toHaveLength(2);
    expect(r.table.evidence[0]?.records[0]).not.toBe(r.table.evidence[0]?.records[1]);
    // Receiving it again (status messages are re-sent at every reconnect) adds no duplicate evidence or alarm.
    const again = applyStatusMessage(r.table, { from: phone, text: second, now: T + 1, policy: 'auto' });
    expect(again.table.evidence).toHaveLength(1);
    expect(again.actions).toEqual([]);
    const newer = applyStatusMessage(r.table, { from: laptop, text: status(alice, [laptop], { seq: 6 }), now: T, policy: 'auto' });
    expect(newer.outcome).toMatchObject({ kind: 'pending', reason: 'CONFLICT_STATE' });
    const ok = approvePending(newer.table, (newer.outcome as { pendingId: string }).pendingId, T);
    expect(ok.outcome).toMatchObject({ kind: 'applied' });
    expect(ok.table.personas[A]?.state).toBe('verified');
    expect(ok.table.evidence, 'evidence survives resolution').toHaveLength(1);
  });
});

describe('several devices hold the persona key', () => {
  it('laptop and phone re-sign the same devices: the newest wins and nobody is accused of equivocation', () => {
    let t = friends(laptop, phone);
    const v1 = nextDeviceList(undefined, [{ publicKey: laptop, name: 'l' }, { publicKey: phone, name: 'p' }], { now: T, personaId: alice.publicKey });
    t = applyStatusMessage(t, { from: laptop, text: encodeStatusMessage(signDeviceList(v1, alice)), now: T, policy: 'auto' }).table;
    // Both devices build their next list from v1 a second apart; seq is time-derived, so they differ.
    const fromLaptop = nextDeviceList(v1, v1.devices, { now: T + 100 });
    const fromPhone = nextDeviceList(v1, [...v1.devices].reverse(), { now: T + 101 });
    expect(fromPhone.seq).toBeGreaterThan(fromLaptop.seq);
    let r = applyStatusMessage(t, { from: phone, text: encodeStatusMessage(signDeviceList(fromPhone, alice)), now: T + 102, policy: 'auto' });
    expect(r.outcome.kind).toBe('applied');
    r = applyStatusMessage(r.table, { from: laptop, text: encodeStatusMessage(signDeviceList(fromLaptop, alice)), now: T + 103, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: A, reason: 'ROLLBACK' });
    expect(r.actions, 'no alarm for a sibling that is behind').toEqual([]);
    expect(r.table.personas[A]?.devices[0]?.publicKey).toBe(hex(phone));
  });
  it('the same list re-signed with the same seq but a later issuedAt is a refresh, not equivocation', () => {
    let t = friends(laptop, phone);
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone], { seq: 9 }), now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: phone, text: status(alice, [laptop, phone], { seq: 9, issuedAt: T + 50 }), now: T + 60, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'unchanged', personaId: A, refreshed: true });
    expect(alarms(r.actions)).toEqual([]);
    expect(r.table.personas[A]?.issuedAt).toBe(T + 50);
    expect(r.table.evidence).toEqual([]);
  });
  it('an identical re-signature (Ed25519 is deterministic) is simply unchanged', () => {
    let t = friends(laptop, phone);
    const s = status(alice, [laptop, phone]);
    t = applyStatusMessage(t, { from: laptop, text: s, now: T, policy: 'auto' }).table;
    expect(applyStatusMessage(t, { from: phone, text: status(alice, [laptop, phone]), now: T, policy: 'auto' }).outcome).toEqual({ kind: 'unchanged', personaId: A, refreshed: false });
  });
});

describe('freshness', () => {
  it('future-dated: issuedAt beyond the clock-skew allowance is refused', () => {
    const t = friends(laptop);
    const r = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop], { issuedAt: T + 3600 }), now: T, policy: 'auto' });
    expect(r.outcome).toMatchObject({ kind: 'rejected', reason: 'FUTURE_DATED' });
    expect(r.table).toEqual(t);
    expect(applyStatusMessage(t, { from: laptop, text: status(alice, [laptop], { issuedAt: T + 200 }), now: T, policy: 'auto' }).outcome.kind, 'within 300 s of skew').toBe('applied');
  });
  it('expired list: the mapping is kept but triggers no automatic adds', () => {
    const t = friends(laptop);
    const r = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone], { ttl: DAY }), now: T + 2 * DAY, policy: 'auto' });
    expect(r.outcome).toEqual({ kind: 'applied', personaId: A, stale: true });
    expect(adds(r.actions)).toEqual([]);
    expect(r.table.personas[A]?.state).toBe('stale');
    expect(r.table.pins[hex(laptop)]).toBe(A);
  });
  it('refreshStaleness turns an expired verified entry stale; receiving it again adds nothing', () => {
    let t = friends(laptop);
    const s = status(alice, [laptop, phone], { ttl: DAY });
    const first = applyStatusMessage(t, { from: laptop, text: s, now: T, policy: 'auto' });
    expect(adds(first.actions)).toEqual([hex(phone)]);
    const { table, changed } = refreshStaleness(first.table, T + 2 * DAY);
    expect(changed).toEqual([A]);
    expect(table.personas[A]?.state).toBe('stale');
    t = table;
    const again = applyStatusMessage(t, { from: laptop, text: s, now: T + 2 * DAY, policy: 'auto' });
    expect(again.outcome.kind).toBe('unchanged');
    expect(adds(again.actions)).toEqual([]);
    expect(again.table.personas[hex(laptop)], 'mapping kept').toBeUndefined();
    expect(again.table.personas[A]?.devices).toHaveLength(2);
  });
});

describe('pinning', () => {
  it('double claim: a second persona listing Alice\'s confirmed laptop raises an alarm and is not applied', () => {
    let t = friends(laptop, mDevice);
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop]), now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: mDevice, text: status(mallory, [mDevice, laptop]), now: T, policy: 'auto' });
    expect(r.outcome).toMatchObject({ kind: 'pending', personaId: M, reason: 'DOUBLE_CLAIM' });
    expect(alarms(r.actions)).toEqual(['DOUBLE_CLAIM']);
    expect(r.actions.find((a) => a.type === 'alarm')).toMatchObject({ devices: [hex(laptop)] });
    expect(r.table.personas[M]).toBeUndefined();
    expect(r.table.pins[hex(laptop)]).toBe(A);
  });
  it('a claim on a device that never confirmed is no pin: the device\'s own confirmation decides', () => {
    let t = friends(laptop, mDevice);
    t = applyStatusMessage(t, { from: mDevice, text: status(mallory, [mDevice, laptop]), now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop]), now: T, policy: 'auto' });
    expect(r.outcome.kind).toBe('applied');
    expect(alarms(r.actions)).toEqual([]);
    expect(r.table.pins[hex(laptop)]).toBe(A);
  });
  it('two personas listing the same unconfirmed device: alarm, applied, and the device\'s confirmation decides', () => {
    let t = friends(laptop, mDevice);
    t = applyStatusMessage(t, { from: mDevice, text: status(mallory, [mDevice, phone]), now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone]), now: T, policy: 'auto' });
    expect(r.outcome.kind).toBe('applied');
    expect(alarms(r.actions)).toEqual(['DOUBLE_CLAIM']);
    expect(r.actions.find((a) => a.type === 'alarm')).toMatchObject({ devices: [hex(phone)] });
    const c = applyStatusMessage(observeFriend(r.table, phone), { from: phone, text: status(alice, [laptop, phone]), now: T, policy: 'auto' });
    expect(c.table.pins[hex(phone)]).toBe(A);
    // Mallory's list arriving again is now a hard double claim on a pinned device.
    const m = applyStatusMessage(c.table, { from: mDevice, text: status(mallory, [mDevice, phone], { seq: T * 1000 + 1 }), now: T, policy: 'auto' });
    expect(m.outcome).toMatchObject({ kind: 'pending', reason: 'DOUBLE_CLAIM' });
  });
  it('persona change: a friend that confirmed Alice now publishing another persona raises an alarm and waits', () => {
    let t = friends(laptop);
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop]), now: T, policy: 'auto' }).table;
    const r = applyStatusMessage(t, { from: laptop, text: status(mallory, [laptop]), now: T, policy: 'auto' });
    expect(r.outcome).toMatchObject({ kind: 'pending', personaId: M, reason: 'PERSONA_CHANGED' });
    expect(alarms(r.actions)).toEqual(['PERSONA_CHANGED']);
    expect(r.table.pins[hex(laptop)]).toBe(A);
    // The user approves the move: the laptop now belongs to the new persona.
    const ok = approvePending(r.table, (r.outcome as { pendingId: string }).pendingId, T);
    expect(ok.table.pins[hex(laptop)]).toBe(M);
    expect(ok.table.personas[A]?.devices[0]?.confirmed).toBe(false);
  });
  it('persona change: the same held list re-sent (at every reconnect) raises its alarm once', () => {
    let t = friends(laptop);
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop]), now: T, policy: 'auto' }).table;
    const first = applyStatusMessage(t, { from: laptop, text: status(mallory, [laptop]), now: T, policy: 'auto' });
    const again = applyStatusMessage(first.table, { from: laptop, text: status(mallory, [laptop]), now: T + 60, policy: 'auto' });
    expect(alarms(first.actions)).toEqual(['PERSONA_CHANGED']);
    expect(alarms(again.actions), 'no second alarm for the same held list').toEqual([]);
    expect(again.outcome).toMatchObject({ kind: 'pending', reason: 'PERSONA_CHANGED' });
    expect(again.table.pending).toHaveLength(1);
    expect(again.table.pending[0]?.receivedAt).toBe(T + 60);
  });
  it('a friend publishing lists of ever new personas gets at most MAX_PENDING_PER_SENDER of them held', () => {
    let t = friends(laptop);
    t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop]), now: T, policy: 'auto' }).table;
    for (let i = 0; i < MAX_PENDING_PER_SENDER + 5; i++) {
      const madeUp = personaKeyFromSeed(fixed(`made-up-${i}`));
      t = applyStatusMessage(t, { from: laptop, text: status(madeUp, [laptop]), now: T + i, policy: 'auto' }).table;
    }
    expect(t.pending).toHaveLength(MAX_PENDING_PER_SENDER);
    // The most recently received are the ones kept.
    expect(Math.min(...t.pending.map((p) => p.receivedAt))).toBe(T + 5);
  });
});

describe('manual policy', () => {
  it('holds a new list until approved, and drops it when rejected', () => {
    const t = friends(laptop);
    const r = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone]), now: T, policy: 'manual' });
    expect(r.outcome).toMatchObject({ kind: 'pending', personaId: A, reason: 'MANUAL_POLICY' });
    expect(r.actions).toEqual([]);
    expect(r.table.pending).toHaveLength(1);
    const id = (r.outcome as { pendingId: string }).pendingId;
    // The same message again does not queue a duplicate.
    expect(applyStatusMessage(r.table, { from: laptop, text: status(alice, [laptop, phone]), now: T + 5, policy: 'manual' }).table.pending).toHaveLength(1);
    const ok = approvePending(r.table, id, T + 10);
    expect(ok.outcome).toMatchObject({ kind: 'applied', personaId: A });
    expect(adds(ok.actions)).toEqual([hex(phone)]);
    expect(ok.table.pending).toEqual([]);
    const no = rejectPending(r.table, id);
    expect(no.pending).toEqual([]);
    expect(no.personas[A]).toBeUndefined();
    expect(() => rejectPending(no, id)).toThrow(PendingNotFound);
    expect(() => approvePending(no, id, T)).toThrow(PendingNotFound);
  });
  it('two different held lists with the same seq are equivocation too: alarm and evidence, both stay for the user', () => {
    const t = friends(laptop, phone);
    const a = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone], { seq: 7 }), now: T, policy: 'manual' });
    const b = applyStatusMessage(a.table, { from: phone, text: status(alice, [phone], { seq: 7 }), now: T, policy: 'manual' });
    expect(alarms(b.actions)).toEqual(['EQUIVOCATION']);
    expect(b.table.evidence).toHaveLength(1);
    expect(b.table.pending).toHaveLength(2);
    expect(b.table.personas[A], 'neither applied').toBeUndefined();
  });
  it('keeps at most MAX_PENDING_PER_PERSONA held lists per persona, the newest ones', () => {
    let t = friends(laptop);
    for (let seq = 1; seq <= MAX_PENDING_PER_PERSONA + 3; seq++) {
      t = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop], { seq }), now: T, policy: 'manual' }).table;
    }
    expect(t.pending.map((p) => p.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: MAX_PENDING_PER_PERSONA }, (_, i) => i + 4));
  });
  it('approving a list older than the one applied since is refused as a rollback', () => {
    let t = friends(laptop);
    const held = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop], { seq: 1 }), now: T, policy: 'manual' });
    t = applyStatusMessage(held.table, { from: laptop, text: status(alice, [laptop, phone], { seq: 2 }), now: T, policy: 'auto' }).table;
    // The auto-applied seq 2 already discarded the older pending list.
    expect(t.pending).toEqual([]);
    const again = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop], { seq: 3 }), now: T, policy: 'manual' });
    const late = applyStatusMessage(again.table, { from: laptop, text: status(alice, [laptop, tablet], { seq: 4 }), now: T, policy: 'auto' });
    expect(late.table.pending, 'applying seq 4 drops the older pending seq 3').toEqual([]);
    // A companion that kept the old pending list (e.g. it saved before the apply) still can't approve it.
    const forced = { ...again.table, personas: late.table.personas };
    const r = approvePending(forced, (again.outcome as { pendingId: string }).pendingId, T);
    expect(r.outcome).toEqual({ kind: 'ignored', personaId: A, reason: 'ROLLBACK' });
  });
});

describe('device removal', () => {
  it('a device the persona drops is removed only if we added it; a friend we had before goes back to provisional', () => {
    let t = friends(laptop, tablet);
    let r = applyStatusMessage(t, { from: laptop, text: status(alice, [laptop, phone, tablet], { seq: 1 }), now: T, policy: 'auto' });
    expect(adds(r.actions)).toEqual([hex(phone)]);
    t = markAdded(r.table, phone);
    t = applyStatusMessage(t, { from: tablet, text: status(alice, [laptop, phone, tablet], { seq: 1 }), now: T, policy: 'auto' }).table;
    expect(t.pins[hex(tablet)]).toBe(A);
    r = applyStatusMessage(t, { from: laptop, text: status(alice, [tablet, laptop], { seq: 2 }), now: T, policy: 'auto' });
    expect(r.actions.filter((a) => a.type === 'removeDevice')).toEqual([{ type: 'removeDevice', personaId: A, publicKey: hex(phone) }]);
    expect(r.actions).toContainEqual({ type: 'setActive', personaId: A, publicKey: hex(tablet) });
    r = applyStatusMessage(r.table, { from: laptop, text: status(alice, [laptop], { seq: 3 }), now: T, policy: 'auto' });
    expect(r.actions.filter((a) => a.type === 'removeDevice'), 'tablet was our friend before: never removed').toEqual([]);
    expect(r.table.pins[hex(tablet)]).toBeUndefined();
    expect(personaOfDevice(r.table, tablet)?.state).toBe('provisional');
  });
});

// The table functions are pure: over random histories (rollbacks, equivocation, double claims, removals, both policies)
// no update writes into the table it was given, though the copy-on-write result shares untouched entries with it; and
// the same history run in 'inPlace' mode (the companion's) gives the same tables, actions and outcomes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyStatusMessage, approvePending, emptyTable, forgetFriend, markAdded, observeFriend, refreshStaleness, rejectPending,
  type PersonaTable, type UpdateMode,
} from '../../src/persona/table.js';
import { encodeStatusMessage, generatePersonaKey, nextDeviceList, signDeviceList, type DeviceList } from '../../src/persona/index.js';
import { generateKeyPair } from '../../src/profile/keys.js';
import { bytesToHex } from '../../src/util/bytes.js';

const personas = await Promise.all(Array.from({ length: 4 }, () => generatePersonaKey()));
const devices = Array.from({ length: 8 }, () => generateKeyPair().publicKey);
const SELF = bytesToHex(generateKeyPair().publicKey);

/** Freezes the whole table, so any write into it throws (ES modules are strict). */
function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

let mirror: PersonaTable;

/**
 * Runs `update` in copy mode on a frozen table and checks the input still serialises exactly as before; runs it in
 * 'inPlace' mode on `mirror` too and checks both give the same result.
 */
function pure<R>(table: PersonaTable, update: (t: PersonaTable, mode: UpdateMode) => R): R {
  const before = JSON.stringify(table);
  const result = update(deepFreeze(table), 'copy');
  expect(JSON.stringify(table), 'the input table was modified').toBe(before);
  const inPlace = update(mirror, 'inPlace');
  expect(JSON.stringify(inPlace), 'inPlace mode differs from copy mode').toBe(JSON.stringify(result));
  const tableOf = (r: unknown) => ((r as { table?: PersonaTable }).table ?? r) as PersonaTable;
  expect(tableOf(inPlace), 'inPlace mode returns the table it was given').toBe(mirror);
  return result;
}

const step = fc.record({
  persona: fc.nat(3),
  devs: fc.uniqueArray(fc.nat(7), { minLength: 1, maxLength: 4 }),
  from: fc.nat(7),
  kind: fc.constantFrom('next', 'next', 'next', 'sameSeq', 'replay', 'garbage', 'approve', 'reject', 'forget', 'stale'),
  friend: fc.boolean(),
});

describe('persona table purity', () => {
  it('no update writes into its input table', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), fc.constantFrom<'auto' | 'manual'>('auto', 'manual'), (steps, policy) => {
        let table = emptyTable();
        mirror = emptyTable();
        const last = new Map<number, DeviceList>();
        const sent: string[] = [];
        let now = 1_800_000_000;
        for (const s of steps) {
          now += 10;
          const key = personas[s.persona]!;
          const from = bytesToHex(devices[s.from]!);
          if (s.kind === 'approve' || s.kind === 'reject') {
            const p = table.pending[s.from % Math.max(1, table.pending.length)];
            if (p) {
              table = s.kind === 'approve'
                ? pure(table, (t, m) => approvePending(t, p.id, now, { selfDevices: [SELF] }, m)).table
                : pure(table, (t, m) => rejectPending(t, p.id, m));
            }
            continue;
          }
          if (s.kind === 'forget') {
            table = pure(table, (t, m) => forgetFriend(t, from, m));
            continue;
          }
          if (s.kind === 'stale') {
            table = pure(table, (t, m) => refreshStaleness(t, now + 10 * 86_400, m)).table;
            continue;
          }
          const list = s.devs.map((i) => ({ publicKey: devices[i]!, name: `d${i}` }));
          let text: string;
          if (s.kind === 'garbage') text = 'hello~tp1:AAAA';
          else if (s.kind === 'replay' && sent.length > 0) text = sent[s.from % sent.length]!;
          else if (s.kind === 'sameSeq' && last.has(s.persona)) {
            text = encodeStatusMessage(signDeviceList({ ...last.get(s.persona)!, issuedAt: now, devices: list }, key), '');
          } else {
            const next = nextDeviceList(last.get(s.persona), list, { now, ttl: 3600, personaId: key.publicKey });
            last.set(s.persona, next);
            text = encodeStatusMessage(signDeviceList(next, key), '');
          }
          sent.push(text);
          // Usually the sender is a listed device (consent); sometimes not.
          const sender = s.kind === 'garbage' || s.from % 3 === 0 ? from : bytesToHex(list[s.from % list.length]!.publicKey);
          if (s.friend) table = pure(table, (t, m) => observeFriend(t, sender, m));
          const r = pure(table, (t, m) => applyStatusMessage(t, { from: sender, text, now, policy, selfDevices: [SELF] }, m));
          table = r.table;
          for (const act of r.actions) {
            if (act.type === 'addDevice') table = pure(table, (t, m) => markAdded(t, act.publicKey, m));
            else if (act.type === 'removeDevice') table = pure(table, (t, m) => forgetFriend(t, act.publicKey, m));
          }
          expect(JSON.parse(JSON.stringify(table))).toEqual(table);
        }
      }),
      { numRuns: 150 },
    );
  });
});

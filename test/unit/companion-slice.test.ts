// The companion applies the persona table's pure update functions to the slice of the table an update can touch (so a
// 1,000-entry table is not deep-copied per status message). This checks, over random histories with rollbacks,
// equivocation, double claims, removals and both policies, that the sliced updates give exactly the whole-table result.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as P from '../../src/companion/persona-port.js';
import { applyStatusMessage, observeFriend, markAdded, forgetFriend, type PersonaTable } from '../../src/persona/table.js';
import { signDeviceList, type DeviceList } from '../../src/persona/list.js';
import { generateKeyPair } from '../../src/profile/keys.js';
import { bytesToHex } from '../../src/util/bytes.js';

await P.ready();
const personas = await Promise.all(Array.from({ length: 4 }, () => P.newPersonaKey()));
const devices = Array.from({ length: 8 }, () => bytesToHex(generateKeyPair().publicKey));
const SELF = bytesToHex(generateKeyPair().publicKey);

function normal(t: PersonaTable) {
  return {
    ...t,
    pending: [...t.pending].sort((a, b) => a.id.localeCompare(b.id)),
    evidence: [...t.evidence].sort((a, b) => `${a.personaId}${a.seq}${a.records.join()}`.localeCompare(`${b.personaId}${b.seq}${b.records.join()}`)),
  };
}

const step = fc.record({
  persona: fc.nat(3),
  devs: fc.uniqueArray(fc.nat(7), { minLength: 1, maxLength: 4 }),
  from: fc.nat(7),
  kind: fc.constantFrom('next', 'next', 'next', 'sameSeq', 'replay', 'garbage'),
  friend: fc.boolean(),
});

describe('sliced table updates', () => {
  it('equal the whole-table updates over random histories', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), fc.constantFrom<'auto' | 'manual'>('auto', 'manual'), (steps, policy) => {
        let sliced = P.emptyTable();
        let whole = P.emptyTable();
        const last = new Map<number, DeviceList>();
        const sent: string[] = [];
        let now = 1_800_000_000;
        for (const s of steps) {
          now += 10;
          const key = personas[s.persona]!;
          const list = s.devs.map((i) => ({ publicKey: devices[i]!, name: `d${i}` }));
          let text: string;
          if (s.kind === 'garbage') text = 'hello~tp1:AAAA';
          else if (s.kind === 'replay' && sent.length > 0) text = sent[s.from % sent.length]!;
          else if (s.kind === 'sameSeq' && last.has(s.persona)) {
            const prev = last.get(s.persona)!;
            const l: DeviceList = { ...prev, issuedAt: Math.floor(now), devices: list.map((d) => ({ publicKey: Buffer.from(d.publicKey, 'hex'), name: d.name })) };
            text = P.buildStatusMessage(signDeviceList(l, key.pair), '');
          } else {
            const signed = P.signNext(last.get(s.persona), list, key.pair, now, 3600);
            last.set(s.persona, signed.list);
            text = P.buildStatusMessage(signed, '');
          }
          sent.push(text);
          // Usually the sender is a listed device (consent); sometimes not.
          const from = s.kind === 'garbage' || s.from % 3 === 0 ? devices[s.from]! : list[s.from % list.length]!.publicKey;
          const input = { from, text, now, policy, selfDevices: [SELF] };
          const isFriend = s.friend || whole.friends[from] !== undefined;
          const a = P.applyStatus(sliced, { ...input, isFriend });
          const wholeIn = whole.friends[from] || !isFriend ? whole : observeFriend(whole, from);
          const b = applyStatusMessage(wholeIn, input);
          expect(a.outcome).toEqual(b.outcome);
          expect(a.actions).toEqual(b.actions);
          sliced = a.table;
          whole = b.table;
          // Apply the actions' bookkeeping the way the companion does.
          for (const act of b.actions) {
            if (act.type === 'addDevice') {
              sliced = P.added(sliced, act.publicKey);
              whole = markAdded(whole, act.publicKey);
            } else if (act.type === 'removeDevice') {
              sliced = P.forgot(sliced, act.publicKey);
              whole = forgetFriend(whole, act.publicKey);
            }
          }
          expect(normal(sliced)).toEqual(normal(whole));
        }
      }),
      { numRuns: 150 },
    );
  });
});

// The companion's reducer, table-driven: each vector in test/vectors/companion-rules.json is a story of events, with the
// effects and state each event must produce. Runs the pure function alone; no node, no files.
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { sodium } from '../../src/persona/sodium.js';
import * as P from '../../src/companion/persona-port.js';
import { buildStatusMessage } from '../../src/persona/index.js';
import { personaKeyFromSeed } from '../../src/persona/keys.js';
import { initialState, reduce, type CompanionEvent, type CompanionState, type Effect, type ReducerEnv } from '../../src/companion/reducer.js';

interface Step {
  event: 'friendAdd' | 'friendRemove' | 'friendDeleted' | 'list' | 'same' | 'text' | 'equivocate' | 'timer' | 'request' | 'vouch' | 'deviceAdd';
  key?: string;
  ref?: string;
  from?: string;
  persona?: string;
  devices?: string[];
  text?: string;
  count?: number;
  at?: number;
  expect?: {
    outcome?: string;
    effects?: string[];
    friends?: Record<string, Partial<{ personas: string[]; introducer: string; user: boolean; accepted: boolean }>>;
    absent?: string[];
    requests?: string[];
    requestsDropped?: number;
    rejections?: Record<string, string[]>;
    evidence?: number;
    alarms?: number;
  };
}
interface Vector {
  name: string;
  description: string;
  steps: Step[];
}

const vectors = (JSON.parse(readFileSync(new URL('../vectors/companion-rules.json', import.meta.url), 'utf8')) as { vectors: Vector[] }).vectors;
const T0 = 1_767_225_600;

/** Names to keys: devices are BLAKE2b-256(name); personas (and 'persona:NAME' in a device list) use the seed BLAKE2b-256(name). */
function names() {
  const byKey = new Map<string, string>();
  const seed = (name: string) => sodium.crypto_generichash(32, name, null);
  const persona = (name: string) => {
    const pair = personaKeyFromSeed(seed(name));
    byKey.set(P.personaIdHex({ pair }), `persona:${name}`);
    return { pair };
  };
  const device = (name: string) => {
    if (name.startsWith('persona:')) return P.personaIdHex(persona(name.slice(8)));
    const pk = Buffer.from(seed(name)).toString('hex').toUpperCase();
    byKey.set(pk, name);
    return pk;
  };
  return { persona, device, name: (pk: string) => byKey.get(pk) ?? pk.slice(0, 8) };
}

/** Effects as the vectors write them: "type name", log effects left out. */
function effectWords(effects: readonly Effect[], name: (pk: string) => string): string[] {
  return effects.filter((e) => e.type !== 'log').map((e) => ('publicKey' in e ? `${e.type} ${name(e.publicKey)}` : e.type));
}

describe('companion reducer rule vectors (test/vectors/companion-rules.json)', () => {
  beforeAll(async () => {
    await P.ready();
  });

  for (const v of vectors) {
    it(`${v.name}: ${v.description}`, () => {
      const n = names();
      const bobKey = n.persona('bob');
      const self = n.device('bob-phone');
      const env: ReducerEnv = { policy: 'auto', acceptRequests: 'personas', ttlSeconds: 7 * 24 * 3600, statusText: 'bob', selfKey: self, key: bobKey };
      let state: CompanionState = initialState(P.signNext(undefined, [{ publicKey: self, name: '' }], bobKey.pair, T0, env.ttlSeconds));
      let now = T0;
      const prev = new Map<string, { list: P.DeviceList; before: P.DeviceList | undefined }>();
      let lastText = '';
      const sign = (persona: string, devices: string[], equivocate = false) => {
        const p = prev.get(persona);
        const base = equivocate ? p?.before : p?.list;
        const s = P.signNext(base, devices.map((d) => ({ publicKey: n.device(d), name: '' })), n.persona(persona).pair, equivocate ? p!.list.issuedAt : now, 30 * 24 * 3600);
        if (!equivocate) prev.set(persona, { list: s.list, before: p?.list });
        return buildStatusMessage(s, '');
      };

      /** Runs one event; effects that have results (adds, deletes) are answered as the shell would, silently. */
      const run = (event: CompanionEvent) => {
        const r = reduce(state, event, env);
        state = r.state;
        for (const e of r.effects) {
          if (e.type === 'addFriend') state = reduce(state, { type: 'friendAdded', publicKey: e.publicKey, ok: true, now }, env).state;
          if (e.type === 'deleteFriend') state = reduce(state, { type: 'friendDeleted', publicKey: e.publicKey, ok: true, now }, env).state;
        }
        return r;
      };

      v.steps.forEach((step, i) => {
        const where = `${v.name} step ${i + 1} (${step.event})`;
        now = step.at !== undefined ? T0 + step.at : now + 1;
        const cmd = (command: Extract<CompanionEvent, { type: 'command' }>['command']) => run({ type: 'command', command, now });
        let r: ReturnType<typeof reduce> | undefined;
        let alarms = 0;
        switch (step.event) {
          case 'friendAdd':
            r = cmd({ cmd: 'friendAdd', address: `${n.device(step.key!)}000000000000`, message: '' });
            break;
          case 'friendRemove':
            r = cmd({ cmd: 'friendRemove', ref: n.device(step.ref!) });
            break;
          case 'vouch':
            r = cmd({ cmd: 'vouch', ref: P.personaIdHex(n.persona(step.ref!)) });
            break;
          case 'deviceAdd':
            r = cmd({ cmd: 'deviceAdd', publicKey: n.device(step.key!), name: '', active: false });
            break;
          case 'friendDeleted':
            r = run({ type: 'friendDeleted', publicKey: n.device(step.key!), ok: true, now });
            break;
          case 'timer':
            r = run({ type: 'timer', now });
            break;
          case 'request':
            r = run({ type: 'friendRequest', publicKey: n.device(step.from!), message: 'hi', now });
            break;
          case 'list':
            lastText = sign(step.persona!, step.devices!);
            r = run({ type: 'statusMessage', from: n.device(step.from!), text: lastText, now });
            break;
          case 'same':
            r = run({ type: 'statusMessage', from: n.device(step.from!), text: lastText, now });
            break;
          case 'text':
            r = run({ type: 'statusMessage', from: n.device(step.from!), text: step.text!, now });
            break;
          case 'equivocate':
            for (let k = 0; k < step.count!; k++) {
              const e = run({ type: 'statusMessage', from: n.device(step.from!), text: sign(step.persona!, [step.from!, `equivocation-${k}`], true), now });
              alarms += e.effects.filter((x) => x.type === 'alarm').length;
            }
            break;
        }
        const x = step.expect;
        if (!x) return;
        if (x.outcome !== undefined) {
          const o = r?.outcome;
          expect(o && [o.kind, 'reason' in o && x.outcome.includes(' ') ? o.reason : undefined].filter(Boolean).join(' '), `${where}: outcome`).toBe(x.outcome);
        }
        if (x.effects) expect(effectWords(r?.effects ?? [], n.name), `${where}: effects`).toEqual(x.effects);
        for (const [k, want] of Object.entries(x.friends ?? {})) {
          const f = state.friends[n.device(k)];
          expect(f, `${where}: ${k} is a friend`).toBeDefined();
          const got = { ...f!, personas: f!.personas.map((p) => n.name(p).replace(/^persona:/, '')), introducer: f!.introducer && n.name(f!.introducer) };
          expect(got, `${where}: provenance of ${k}`).toMatchObject(want);
        }
        for (const k of x.absent ?? []) expect(state.friends[n.device(k)], `${where}: ${k} must not be a friend`).toBeUndefined();
        if (x.requests) expect(state.requests.map((q) => n.name(q.publicKey)), `${where}: waiting requests`).toEqual(x.requests);
        if (x.requestsDropped !== undefined) expect(state.requestsDropped, `${where}: requests dropped`).toBe(x.requestsDropped);
        for (const [k, reasons] of Object.entries(x.rejections ?? {})) expect(state.rejections[n.device(k)]?.map((q) => q.reason), `${where}: rejections of ${k}`).toEqual(reasons);
        if (x.evidence !== undefined) expect(state.table.evidence.length, `${where}: evidence kept`).toBe(x.evidence);
        if (x.alarms !== undefined) expect(alarms, `${where}: alarms raised`).toBe(x.alarms);
      });
    });
  }

  it('is pure: the state it is given is never modified', () => {
    const n = names();
    const bobKey = n.persona('bob');
    const self = n.device('bob-phone');
    const env: ReducerEnv = { policy: 'auto', acceptRequests: 'personas', ttlSeconds: 3600, statusText: '', selfKey: self, key: bobKey };
    const s0 = initialState(P.signNext(undefined, [{ publicKey: self, name: '' }], bobKey.pair, T0, 3600));
    const s1 = reduce(s0, { type: 'command', command: { cmd: 'friendAdd', address: `${n.device('alice-phone')}000000000000`, message: '' }, now: T0 }, env).state;
    const frozen = JSON.stringify(s1);
    const text = buildStatusMessage(P.signNext(undefined, [{ publicKey: n.device('alice-phone'), name: '' }, { publicKey: n.device('alice-laptop'), name: '' }], n.persona('alice').pair, T0, 3600), '');
    const s2 = reduce(s1, { type: 'statusMessage', from: n.device('alice-phone'), text, now: T0 + 1 }, env).state;
    expect(JSON.stringify(s1)).toBe(frozen);
    expect(s2.friends[n.device('alice-laptop')]).toBeDefined();
  });

  it('siblingAdd befriends another device of our own list without a request, as the user\'s friend; nothing else', () => {
    const n = names();
    const bobKey = n.persona('bob');
    const self = n.device('bob-phone');
    const laptop = n.device('bob-laptop');
    const env: ReducerEnv = { policy: 'auto', acceptRequests: 'personas', ttlSeconds: 3600, statusText: '', selfKey: self, key: bobKey };
    const s0 = initialState(P.signNext(undefined, [{ publicKey: self, name: '' }, { publicKey: laptop, name: 'laptop' }], bobKey.pair, T0, 3600));
    const r = reduce(s0, { type: 'command', command: { cmd: 'siblingAdd', publicKey: laptop }, now: T0 }, env);
    expect(r.effects.filter((e) => e.type === 'addFriend')).toEqual([{ type: 'addFriend', publicKey: laptop }]); // no address: norequest
    expect(r.state.friends[laptop]).toMatchObject({ user: true, autoAddedAt: null });
    // Only keys of our own list, never this device itself: anything else is refused and changes nothing.
    for (const key of [n.device('mallory'), self]) {
      expect(() => reduce(s0, { type: 'command', command: { cmd: 'siblingAdd', publicKey: key }, now: T0 }, env)).toThrow(expect.objectContaining({ code: 'UNKNOWN_DEVICE' }));
    }
  });
});

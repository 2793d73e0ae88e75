// Bounds a hostile friend cannot flush (issue 10, "bounded storage"): the friend-request queue keeps its buckets apart,
// so a sender with thousands of keys evicts nobody's request; alarms and rejections stay per friend and survive a restart,
// saved by the periodic save, never one save per message.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import * as P from '../../src/companion/persona-port.js';
import { MAX_PERSONA_REQUESTS, MAX_REQUESTS_PER_PERSONA, MAX_STRANGER_REQUESTS, queueRequest, type PendingRequest } from '../../src/companion/requests.js';
import { MAX_ALARMS_KEPT, MAX_ALARMS_PER_FRIEND, recordAlarm, type AlarmRecord } from '../../src/companion/records.js';
import { FakeNode } from '../support/fake-node.js';
import { makePersona, randomKey } from '../support/hostile.js';

describe('the friend-request queue (pure)', () => {
  it('no sequence of requests removes an entry that was waiting; each bucket stays within its bound', () => {
    const keys = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(64, '0').toUpperCase());
    const personas = ['A', 'B', 'C'].map((c) => c.repeat(64));
    const req = fc.record({ key: fc.integer({ min: 0, max: keys.length - 1 }), persona: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(req, { maxLength: 300 }), (reqs) => {
        let q: PendingRequest[] = [];
        for (const [i, r] of reqs.entries()) {
          const before = q.map((x) => x.publicKey);
          const persona = r.persona === undefined ? undefined : personas[r.persona];
          q = queueRequest(q, { publicKey: keys[r.key]!, message: `${i}`, receivedAt: '', ...(persona ? { persona } : {}) }).requests;
          expect(q.map((x) => x.publicKey).slice(0, before.length), `request ${i} evicted or reordered an entry`).toEqual(before);
          expect(q.filter((x) => x.persona === undefined).length).toBeLessThanOrEqual(MAX_STRANGER_REQUESTS);
          for (const p of personas) expect(q.filter((x) => x.persona === p).length).toBeLessThanOrEqual(MAX_REQUESTS_PER_PERSONA);
          expect(q.filter((x) => x.persona !== undefined).length).toBeLessThanOrEqual(MAX_PERSONA_REQUESTS);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('bounds a hostile friend cannot flush (stub node)', () => {
  let dir: string;
  let bob: Companion;
  let node: FakeNode;
  const open = async (flags: Record<string, unknown> = {}) => {
    const config = loadConfig({ dir, env: {}, readFile: false, flags });
    node ??= new FakeNode(randomKey());
    bob = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600), { node, log: createLogger({ level: 'silent' }) });
    await bob.start([]);
    return bob;
  };
  const deliver = (from: string, text: string) => node.deliverStatus(from, text);
  const request = (from: string, message = 'hi') => node.request(from, message);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-queue-'));
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
    node = undefined as unknown as FakeNode;
  });
  afterEach(async () => {
    await bob?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('attack: Mallory floods 10,000 requests from fresh keys; Carol\'s and Alice\'s new laptop\'s requests stay, his newest are dropped and counted', async () => {
    await open({ acceptRequests: 'personas' });
    const alice = await makePersona();
    const phone = randomKey();
    const laptop = randomKey();
    const carol = randomKey();
    node.addFriend(phone);
    bob.friendAdd(`${phone}000000000000`, 'hi');
    deliver(phone, alice.publish([phone, laptop]));
    // The laptop has not confirmed Alice yet (it never published), so its request waits, in Alice's bucket.
    if (node.friend(laptop)) {
      node.friendDelete(laptop);
      bob.dispatch({ type: 'friendDeleted', publicKey: laptop, ok: true, now: Date.now() / 1000 });
    }
    request(carol, 'Carol here');
    request(laptop, 'Alice\'s laptop');
    const saves = vi.spyOn(bob, 'requestSave');
    for (let i = 0; i < 10_000; i++) request(randomKey(), 'let me in');
    const waiting = bob.pendingRequests();
    expect(waiting.find((r) => r.publicKey === carol), 'Mallory\'s flood pushed out Carol\'s request').toMatchObject({ message: 'Carol here' });
    expect(waiting.find((r) => r.publicKey === laptop), 'Mallory\'s flood pushed out the laptop\'s request').toMatchObject({ message: 'Alice\'s laptop', persona: alice.id });
    expect(waiting.filter((r) => r.persona === undefined)).toHaveLength(MAX_STRANGER_REQUESTS);
    expect(bob.status().requestsDropped).toBe(10_000 - (MAX_STRANGER_REQUESTS - 1));
    // Only a stored request asks for a save (coalesced by the shell); the 9,937 dropped ones ask for none.
    expect(saves.mock.calls.length, `${saves.mock.calls.length} save requests for a flood of 10,000`).toBeLessThanOrEqual(MAX_STRANGER_REQUESTS);
    await bob.close();
    const saved = JSON.parse(readFileSync(join(dir, 'requests.json'), 'utf8')) as { requests: PendingRequest[]; dropped: number };
    expect(saved.requests).toHaveLength(MAX_STRANGER_REQUESTS + 1);
    expect(saved.dropped).toBe(10_000 - (MAX_STRANGER_REQUESTS - 1));
  });

  it('attack 3, alarms: Alice\'s alarm and Mallory\'s rejections survive a restart, saved without a save per message', async () => {
    await open();
    const alice = await makePersona();
    const mal = await makePersona();
    const phone = randomKey();
    const m1 = randomKey();
    for (const k of [phone, m1]) {
      node.addFriend(k);
      bob.friendAdd(`${k}000000000000`, 'hi');
    }
    const aliceList = alice.publish([phone]);
    deliver(phone, aliceList);
    deliver(phone, alice.equivocate([phone, randomKey()]));
    expect(bob.status().alarms).toEqual([expect.objectContaining({ personaId: alice.id, reason: 'EQUIVOCATION', from: phone })]);
    await bob.flush();
    // Replays of Alice's list, which Mallory is no member of: recorded once (then counted), and no save of their own.
    const saves = vi.spyOn(bob, 'requestSave');
    for (let i = 0; i < 500; i++) deliver(m1, i % 2 === 0 ? aliceList : alice.publish([phone], `replay ${i}`));
    expect(saves, 'a refused list asked for a save').not.toHaveBeenCalled();
    const mine = (bob.status().rejections as Record<string, Array<{ reason: string; count?: number }>>)[m1]!;
    expect(mine.map((r) => r.reason)).toEqual(['NOT_A_MEMBER']);
    expect(mine[0]!.count).toBe(500);
    // The periodic save (or the one at close) writes them to alarms.json; a restarted daemon shows them again.
    await bob.close();
    await open();
    expect(bob.status().alarms).toContainEqual(expect.objectContaining({ personaId: alice.id, reason: 'EQUIVOCATION', from: phone }));
    expect((bob.status().rejections as Record<string, Array<{ reason: string; count?: number }>>)[m1]?.[0]).toMatchObject({ reason: 'NOT_A_MEMBER', count: 500 });
  });

  it('alarms: one sender keeps at most 8, the total is bounded, and a former friend\'s go before a current friend\'s', () => {
    const a = (from: string, i: number): AlarmRecord => ({ at: `${i}`, personaId: 'P', reason: 'EQUIVOCATION', detail: `${i}`, from });
    const alice = 'A'.repeat(64);
    let alarms = recordAlarm([], a(alice, 0), () => true);
    for (let i = 0; i < 1000; i++) alarms = recordAlarm(alarms, a('B'.repeat(64), i), () => true);
    expect(alarms.filter((x) => x.from === alice)).toHaveLength(1);
    expect(alarms).toHaveLength(1 + MAX_ALARMS_PER_FRIEND);
    // Many senders (Mallory's friends that come and go): current friends' alarms stay while former friends' give way.
    const senders = Array.from({ length: MAX_ALARMS_KEPT }, (_, i) => i.toString(16).padStart(64, '0').toUpperCase());
    for (const [i, s] of senders.entries()) alarms = recordAlarm(alarms, a(s, i), (pk) => pk === alice);
    expect(alarms).toHaveLength(MAX_ALARMS_KEPT);
    expect(alarms.filter((x) => x.from === alice), 'a current friend\'s alarm was evicted by former friends\'').toHaveLength(1);
  });
});

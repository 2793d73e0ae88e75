// Attacks 1-3 of issue 10 over a real local network: Mallory is a real Tox node the victim (Bob's companion) added as a
// friend, and he publishes whatever his persona key signs. Each test shows the attack and that it no longer works.
import { afterAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { useLocalNetwork, type LocalNetwork } from '../support/network.js';
import { waitFor } from '../support/wait.js';
import { makePersona, randomKey, startVictim, type Victim } from '../support/hostile.js';
import { runOperation } from '../../src/companion/ops.js';
import type { ToxNode } from '../../src/tox/node.js';
import { MAX_EVIDENCE_PER_PERSONA, type PersonaTable } from '../../src/persona/table.js';
import { MAX_UNCONFIRMED_PER_PERSONA } from '../../src/companion/reducer.js';

const net = useLocalNetwork();
const victims: Victim[] = [];
afterAll(async () => {
  for (const v of victims) await v.close();
});

const hex = (n: ToxNode) => n.publicKeyHex.toUpperCase();

/** Bob's companion on a real node of `n`'s network. */
async function victim(n: LocalNetwork): Promise<Victim> {
  const v = await startVictim(n.dir, n.bootstrapd.node());
  victims.push(v);
  return v;
}

/** Bob adds `friend` by hand (`friend add`), the friend adds Bob back, and both see each other online. */
async function befriendByHand(v: Victim, friend: ToxNode): Promise<void> {
  await runOperation(v.companion, 'friendAdd', { toxId: friend.addressHex.toUpperCase() });
  friend.friendAddNorequest(v.node.publicKey);
  await waitFor(() => v.node.friend(hex(friend))?.connection !== 'none' && v.node.friend(hex(friend)) !== undefined, {
    what: `Bob to see his friend ${hex(friend).slice(0, 8)} online`, timeoutMs: 60_000,
  });
}

/** Counts every status message Bob's node receives from each friend, so a sender can wait until one arrived. */
function receivedBy(v: Victim): Map<string, string[]> {
  const got = new Map<string, string[]>();
  v.node.on('friendStatusMessage', (e) => {
    const text = typeof e.message === 'string' ? e.message : Buffer.from(e.message).toString('utf8');
    got.set(e.publicKey, [...(got.get(e.publicKey) ?? []), text]);
  });
  return got;
}

/** Sets `text` as `node`'s status message and waits until Bob's node delivered it to the companion. */
async function say(v: Victim, got: Map<string, string[]>, node: ToxNode, text: string): Promise<void> {
  const before = got.get(hex(node))?.length ?? 0;
  node.setStatusMessage(text);
  await waitFor(() => (got.get(hex(node)) ?? []).slice(before).includes(text), {
    what: `Bob to receive status message #${before + 1} of ${hex(node).slice(0, 8)}`, timeoutMs: 30_000, intervalMs: 2,
  });
}

const personaOf = (v: Victim, id: string) => v.companion.personas().find((p) => p.personaId === id);

describe('issue 10 attacks over a real network (Mallory is a real node and Bob\'s friend)', () => {
  it('attack 1: Mallory listing Alice\'s new laptop and then dropping it does not make Bob delete it', async () => {
    const [phone, laptop, mallory] = await net.get().addNodes(3);
    const bob = await victim(net.get());
    const got = receivedBy(bob);
    const alice = await makePersona();
    const mal = await makePersona();
    await befriendByHand(bob, phone!);
    await befriendByHand(bob, mallory!);

    // Alice adds her laptop; Bob's companion follows her list and adds it.
    const aliceList = alice.publish([hex(phone!), hex(laptop!)]);
    await say(bob, got, phone!, aliceList);
    await waitFor(() => bob.node.friend(hex(laptop!)), { what: 'Bob to add Alice\'s laptop from her list' });

    // Mallory claims the laptop too, before it confirmed Alice.
    await say(bob, got, mallory!, mal.publish([hex(mallory!), hex(laptop!)]));

    // The laptop comes online and confirms Alice's list: it is pinned to Alice now.
    laptop!.friendAddNorequest(bob.node.publicKey);
    laptop!.setStatusMessage(aliceList);
    await waitFor(() => personaOf(bob, alice.id)?.devices.find((d) => d.publicKey === hex(laptop!))?.confirmed, {
      what: 'Alice\'s laptop to confirm her persona at Bob', timeoutMs: 60_000,
    });

    // Mallory drops the laptop from his list.
    await say(bob, got, mallory!, mal.publish([hex(mallory!)]));
    expect(personaOf(bob, mal.id)?.devices.map((d) => d.publicKey)).toEqual([hex(mallory!)]);
    expect(bob.node.friend(hex(laptop!)), 'Bob deleted Alice\'s laptop because Mallory dropped it from his list').toBeDefined();
    expect(bob.companion.friendList().find((f) => f.publicKey === hex(laptop!))?.persona).toBe(alice.id);
  });

  it('attack 2: a list naming 18 strangers adds at most the budget, a removed one stays removed, and a listed stranger\'s request waits', async () => {
    const [mallory, stranger] = await net.get().addNodes(2);
    const bob = await victim(net.get());
    const got = receivedBy(bob);
    const mal = await makePersona();
    await befriendByHand(bob, mallory!);
    const strangers = [...Array.from({ length: 17 }, randomKey), hex(stranger!)];

    await say(bob, got, mallory!, mal.publish([hex(mallory!), ...strangers]));
    expect(personaOf(bob, mal.id)?.state).toBe('verified');
    const added = () => strangers.filter((s) => bob.node.friend(s));
    expect(added().length, `Bob befriended ${added().length} of Mallory's 18 strangers`).toBeLessThanOrEqual(MAX_UNCONFIRMED_PER_PERSONA);

    // A stranger Bob removes by hand stays removed, even when Mallory publishes his list again.
    const removed = added()[0];
    if (removed) {
      await runOperation(bob.companion, 'friendRemove', { friend: removed });
      await say(bob, got, mallory!, mal.publish([hex(mallory!), ...strangers]));
      expect(bob.node.friend(removed), 'a stranger Bob removed came back with Mallory\'s next list').toBeUndefined();
    }

    // The last stranger is a real node: its friend request is not auto-accepted, since it never confirmed any persona.
    stranger!.friendAdd(bob.node.address, 'let me in');
    await waitFor(() => bob.companion.pendingRequests().some((r) => r.publicKey === hex(stranger!)) || bob.node.friend(hex(stranger!)), {
      what: 'the stranger\'s friend request to reach Bob', timeoutMs: 60_000,
    });
    expect(bob.node.friend(hex(stranger!)), 'Bob befriended an unconfirmed stranger Mallory listed').toBeUndefined();
  });

  it('attack 3: an equivocation flood and list replays neither grow the table, nor evict Alice\'s alarm, nor force saves', async () => {
    const [phone, mallory] = await net.get().addNodes(2);
    const bob = await victim(net.get());
    const got = receivedBy(bob);
    const alice = await makePersona();
    const mal = await makePersona();
    await befriendByHand(bob, phone!);
    await befriendByHand(bob, mallory!);

    // A real alarm: Alice's key signed two different lists with one seq.
    const aliceList = alice.publish([hex(phone!)]);
    await say(bob, got, phone!, aliceList);
    const aliceFork = alice.equivocate([hex(phone!), randomKey()]);
    await say(bob, got, phone!, aliceFork);
    expect(bob.companion.status().alarms).toContainEqual(expect.objectContaining({ personaId: alice.id, reason: 'EQUIVOCATION' }));

    // Mallory equivocates 150 times with his own key.
    await say(bob, got, mallory!, mal.publish([hex(mallory!)]));
    for (let i = 0; i < 150; i++) await say(bob, got, mallory!, mal.equivocate([hex(mallory!), randomKey()]));
    await bob.companion.flush();
    const table = JSON.parse(await readFile(`${bob.dir}/personas.json`, 'utf8')) as PersonaTable;
    const evidence = table.evidence.filter((e) => e.personaId === mal.id).length;
    expect(evidence, `${evidence} pieces of Mallory's equivocation evidence kept`).toBeLessThanOrEqual(MAX_EVIDENCE_PER_PERSONA);
    expect(bob.companion.status().alarms, 'Mallory\'s alarms evicted Alice\'s').toContainEqual(expect.objectContaining({ personaId: alice.id, reason: 'EQUIVOCATION' }));

    // Mallory replays Alice's lists, which he is no member of: nothing changes, so nothing is saved.
    let saves = 0;
    bob.companion.on('saved', () => saves++);
    for (let i = 0; i < 60; i++) await say(bob, got, mallory!, i % 2 === 0 ? aliceList : aliceFork);
    await bob.companion.flush();
    expect(saves, `${saves} saves for 60 replays that changed nothing`).toBe(0);
  });
});

// Every commit carries the friend list as the state says it is. A save that must precede a publish (a device add or
// remove) is written while later changes wait in the effect queue; a friend add or remove that waits there, and its
// request's outcome, went into that commit without the friend list change, so a SIGKILL right after it left an
// acknowledged outcome over a profile without the friend (found by the kill -9 soak: one acknowledged friend add lost
// in 200 kills, twice). The attack is a crash at the worst moment: what the first commit holds is what a restart sees.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import * as P from '../../src/companion/persona-port.js';
import { generateKeyPair, toxAddress } from '../../src/profile/keys.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { FakeNode } from '../support/fake-node.js';

const key = () => bytesToHex(generateKeyPair().publicKey).toUpperCase();
const toxId = () => bytesToHex(toxAddress(generateKeyPair().publicKey, randomBytes(4).readUInt32BE(0))).toUpperCase();

describe('a save ahead of a publish carries the friend list the state decided', () => {
  let dir: string;
  let c: Companion;
  let node: FakeNode;
  /** The node's friends at each save's capture (the fake profile is that list). */
  let captured: string[][];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-save-'));
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
    node = new FakeNode(key());
    captured = [];
    node.savedata = () => {
      const friends = [...node.friendMap.keys()].sort();
      captured.push(friends);
      return new TextEncoder().encode(friends.join('\n'));
    };
    const config = loadConfig({ dir, env: {}, readFile: false, flags: {} });
    c = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600), { node, log: createLogger({ level: 'silent' }) });
  });
  afterEach(async () => {
    await c.close({ save: false });
    await rm(dir, { recursive: true, force: true });
  });

  /** The next commit, as a SIGKILL right after it leaves the directory: friends.json, outcomes.json and the node's friends it was captured with. */
  async function nextCommit(): Promise<{ records: string[]; blocked: string[]; outcomes: string[]; nodeFriends: string[] }> {
    const from = captured.length;
    await new Promise((r) => c.once('saved', r));
    const friends = JSON.parse(await readFile(join(dir, 'friends.json'), 'utf8')) as { friends: Record<string, unknown>; blocked: string[] };
    const outcomes = JSON.parse(await readFile(join(dir, 'outcomes.json'), 'utf8')) as { outcomes: Array<{ id: string }> };
    return { records: Object.keys(friends.friends), blocked: friends.blocked, outcomes: outcomes.outcomes.map((o) => o.id), nodeFriends: captured[from]! };
  }

  it('a friend add queued behind a device add: the commit that holds its record and outcome holds the friend', async () => {
    await c.flush();
    c.deviceAdd(key(), 'tablet');
    const { publicKey } = c.friendAdd(toxId(), 'hi');
    c.recordOutcome({ id: 'friend-add-0001', op: 'friendAdd', at: new Date().toISOString(), ok: true, result: { publicKey } });
    const first = await nextCommit();
    expect(first.records).toContain(publicKey);
    expect(first.outcomes).toContain('friend-add-0001');
    expect(first.nodeFriends, 'the profile of the commit that acknowledges the add').toContain(publicKey);
    await c.flush();
  });

  it('a friend remove queued behind a device add: the commit that holds its outcome no longer holds the friend', async () => {
    const { publicKey } = c.friendAdd(toxId(), 'hi');
    await c.flush();
    c.deviceAdd(key(), 'tablet');
    c.friendRemove(publicKey);
    c.recordOutcome({ id: 'friend-remove-01', op: 'friendRemove', at: new Date().toISOString(), ok: true, result: { publicKey } });
    const first = await nextCommit();
    expect(first.blocked).toContain(publicKey);
    expect(first.outcomes).toContain('friend-remove-01');
    expect(first.nodeFriends, 'the profile of the commit that acknowledges the remove').not.toContain(publicKey);
    await c.flush();
  });
});

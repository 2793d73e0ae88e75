// The companion's group features without a network: a node without NGC refuses every group operation with a typed
// code and says so once; the error codes map to exit codes and HTTP statuses; `groups` renders for people.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import { runOperation, READ_ONLY_OPERATIONS } from '../../src/companion/ops.js';
import { groupsText } from '../../src/cli/groups.js';
import { groupKeysCodec, MAX_GROUP_KEYS } from '../../src/companion/groups.js';
import { exitCodeForCode, httpStatusForCode } from '../../src/util/error-codes.js';
import * as P from '../../src/companion/persona-port.js';
import { FakeNode } from '../support/fake-node.js';

const pk = () => { const b = randomBytes(32); b[31]! &= 0x7f; return b.toString('hex').toUpperCase(); };

describe('companion groups without NGC (stub node, as on libtoxcore 0.2.18)', () => {
  let dir: string;
  let c: Companion;
  let lines: string[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-groups-'));
    const key = await P.newPersonaKey();
    const node = new FakeNode(pk());
    await P.writePersonaKey(join(dir, 'persona.key'), key);
    lines = [];
    const destination = new Writable({ write: (chunk: Buffer, _e, cb) => { lines.push(chunk.toString()); cb(); } });
    const config = loadConfig({ dir, env: {}, readFile: false, flags: {} });
    c = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600), { node, log: createLogger({ level: 'info', destination }) });
  });
  afterEach(async () => {
    await c.close({ save: false });
    await rm(dir, { recursive: true, force: true });
  });

  it('every group operation is GROUPS_UNAVAILABLE, and the daemon says so once, not per request', async () => {
    await c.start([]);
    for (const [op, args] of [['groups', {}], ['groupCreate', { name: 'g' }], ['groupJoin', { chatId: 'AB'.repeat(32) }], ['groupLeave', { group: '0' }], ['groupVouch', { group: '0', peer: 'AB'.repeat(4), device: 'CD'.repeat(4) }]] as const) {
      await expect(runOperation(c, op, args), op).rejects.toMatchObject({ code: 'GROUPS_UNAVAILABLE' });
    }
    expect(lines.filter((l) => l.includes('GROUPS_UNAVAILABLE'))).toHaveLength(1);
    expect(READ_ONLY_OPERATIONS.has('groups')).toBe(true);
  });

  it('group refusals are exit 5; UNKNOWN_GROUP is a 404', () => {
    for (const code of ['GROUPS_UNAVAILABLE', 'GROUPS_NEED_DAEMON', 'UNKNOWN_GROUP', 'UNKNOWN_PEER']) expect(exitCodeForCode(code), code).toBe(5);
    expect(httpStatusForCode('UNKNOWN_GROUP')).toBe(404);
    expect(httpStatusForCode('GROUPS_UNAVAILABLE')).toBe(400);
  });
});

describe('groups output for people', () => {
  it('shows peers grouped by persona, vouched ones marked, the others, alarms and invites', () => {
    const [alice, mal] = ['A'.repeat(64), 'B'.repeat(64)];
    const text = groupsText({
      groups: [{
        group: 0, joined: true, selfPeerKey: '1'.repeat(64), peerCount: 3, chatId: 'C'.repeat(64), invited: ['D'.repeat(64)], leftBySelf: [], siblingPeers: [],
        personas: [{ personaId: alice, known: true, peers: [{ peerKey: '1'.repeat(64), deviceKey: '2'.repeat(64), confirmed: true }, { peerKey: '3'.repeat(64), deviceKey: '4'.repeat(64), confirmed: false }] }],
        others: ['5'.repeat(64)],
        alarms: [{ code: 'IMPOSTOR', reason: 'NOT_LISTED', peerKey: '5'.repeat(64), personaId: alice, detail: 'claims a device her list does not name', at: 1 }],
      }],
      invites: [{ friend: mal, groupName: 'spam' }],
    });
    expect(text).toContain('this device');
    expect(text).toContain('vouched, not confirmed');
    expect(text).toMatch(/ALARM IMPOSTOR \(NOT_LISTED\)/);
    expect(text).toContain('invite to "spam"');
    expect(groupsText({ groups: [], invites: [] })).toBe('(in no group)');
  });
});

describe('GROUP_KEYS, the sibling message "my peer keys in my groups"', () => {
  it('round-trips, and refuses a wrong version, a count over the bound or a length that does not match', () => {
    const pairs = [{ chatId: 'A'.repeat(64), peerKey: 'B'.repeat(64) }, { chatId: 'C'.repeat(64), peerKey: 'D'.repeat(64) }];
    const body = groupKeysCodec.encode(pairs);
    expect(groupKeysCodec.decode(body)).toEqual(pairs);
    expect(groupKeysCodec.decode(Uint8Array.from([2, ...body.subarray(1)]))).toBeUndefined();
    expect(groupKeysCodec.decode(body.subarray(0, body.length - 1))).toBeUndefined();
    expect(groupKeysCodec.decode(Uint8Array.from([1, MAX_GROUP_KEYS + 1, ...new Uint8Array(64 * (MAX_GROUP_KEYS + 1))]))).toBeUndefined();
    expect(groupKeysCodec.decode(new Uint8Array(0))).toBeUndefined();
    expect(groupKeysCodec.decode(groupKeysCodec.encode([]))).toEqual([]);
  });
});

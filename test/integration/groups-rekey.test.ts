// Rekey and NGC groups, live against libtoxcore 0.2.22 (Debian sid, in a child process: one process loads one
// libtoxcore): a profile that founded one group and joined another, saved with group persistence, is rekeyed; the
// result, loaded by 0.2.22 with persistence on, has no group and none of the old device's group keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { decodeGroups, findSection, groupChatId, groupSelfPublicKey, inspectProfile, parseProfile, rekeyProfile } from '../../src/profile/index.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { libtoxcoreEnv, runScript } from '../support/libtoxcore-child.js';

interface NgcReport {
  version: string;
  publicKey: string;
  groups: { chatId: string; selfPublicKey: string; role: number; name: string }[];
}

describe('rekey of a profile with NGC groups, checked by libtoxcore 0.2.22', () => {
  let dir: string;
  let bootstrapd: Bootstrapd;
  let sid: Record<string, string>;
  let made: NgcReport;
  let original: Uint8Array;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-ngc-rekey-'));
    sid = libtoxcoreEnv('sid').env;
    bootstrapd = await startBootstrapd();
    const node = bootstrapd.node();
    made = await runScript<NgcReport>('test/support/ngc-child.ts', ['make', join(dir, 'alice.tox'), JSON.stringify({ host: node.host, port: node.port, tcpPort: bootstrapd.tcpPort, publicKey: node.publicKey })], sid, 240_000);
    original = new Uint8Array(await readFile(join(dir, 'alice.tox')));
  }, 300_000);
  afterAll(async () => {
    await bootstrapd?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the saved profile holds both groups: our parser and libtoxcore agree on chat IDs and our per-group keys', async () => {
    expect(made.version).toMatch(/^0\.2\.(19|[2-9]\d)$/);
    expect(made.groups.map((g) => [g.name, g.role])).toEqual([['alice private', 0], ['bob public', 2]]); // 0 founder, 2 user
    const section = findSection(parseProfile(original), 'groups');
    expect(section, 'a GROUPS section in the saved profile').toBeDefined();
    const parsed = decodeGroups(section!.data).map((g) => ({ chatId: bytesToHex(groupChatId(g)), selfPublicKey: bytesToHex(groupSelfPublicKey(g)) }));
    expect(parsed).toEqual(made.groups.map((g) => ({ chatId: g.chatId, selfPublicKey: g.selfPublicKey })));
    expect(inspectProfile(parseProfile(original)).groups.map((g) => [g.name, g.role, g.founder])).toEqual([['alice private', 'founder', true], ['bob public', 'user', false]]);
    // Control: libtoxcore loads the original with the same groups and keys, so the check below can see a copied identity.
    const reloaded = await runScript<NgcReport>('test/support/ngc-child.ts', ['load', join(dir, 'alice.tox')], sid);
    expect(reloaded.groups).toEqual(made.groups);
  });

  it('the rekeyed profile loads in 0.2.22 with a new key, no group, and none of the old group keys anywhere in it', async () => {
    const r = rekeyProfile(original);
    expect(r.droppedGroups.map((g) => g.name)).toEqual(['alice private', 'bob public']);
    await writeFile(join(dir, 'tablet.tox'), r.bytes);
    const loaded = await runScript<NgcReport>('test/support/ngc-child.ts', ['load', join(dir, 'tablet.tox')], sid);
    expect(loaded.publicKey).toBe(bytesToHex(r.publicKey));
    expect(loaded.publicKey).not.toBe(made.publicKey);
    expect(loaded.groups, 'groups libtoxcore 0.2.22 loads from the rekeyed profile').toEqual([]);
    const bytes = Buffer.from(r.bytes).toString('hex').toUpperCase();
    for (const g of decodeGroups(findSection(parseProfile(original), 'groups')!.data)) {
      for (const key of [g.selfPublicKey, g.selfSecretKey]) expect(bytes).not.toContain(bytesToHex(key));
    }
  });
});

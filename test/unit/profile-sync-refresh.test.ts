// `profile sync` with the daemon stopped: the data directory's key re-signs a list past half its time-to-live (a
// refresh: same version, later issuedAt), saves it, and only then hands it out; a list still fresh is left alone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import { runOperation } from '../../src/companion/ops.js';
import * as P from '../../src/companion/persona-port.js';
import { encodeStatusMessage } from '../../src/persona/codec.js';
import { FakeNode } from '../support/fake-node.js';

const pk = () => { const b = randomBytes(32); b[31]! &= 0x7f; return b.toString('hex').toUpperCase(); };
const TTL = 3600;

describe('profile sync source with the daemon stopped', () => {
  let dir: string;
  let c: Companion | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-syncfresh-'));
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
  });
  afterEach(async () => {
    await c?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function offline(listAgeSeconds: number): Promise<{ c: Companion; node: FakeNode }> {
    const node = new FakeNode(pk());
    const config = loadConfig({ dir, env: {}, readFile: false, flags: { ttlSeconds: TTL } });
    const state = await loadCompanionState(dir, node.publicKey, TTL, Date.now() / 1000 - listAgeSeconds);
    c = new Companion(config, state, { node, log: createLogger({ level: 'silent' }) });
    return { c, node };
  }

  it('re-signs a list past half its lifetime as the same version, saves it, and hands out the fresh one', async () => {
    const { c: comp } = await offline(0.75 * TTL);
    const before = comp.ownList.list;
    const r = (await runOperation(comp, 'syncSourceFresh', {})) as { refreshed: boolean; expiresAt: number; blob: string };
    expect(r.refreshed).toBe(true);
    expect(r.expiresAt).toBeGreaterThan(Date.now() / 1000 + 0.9 * TTL);
    const after = comp.ownList.list;
    expect(after.seq, 'a refresh is the same version: same seq').toBe(before.seq);
    expect(after.issuedAt).toBeGreaterThan(before.issuedAt);
    expect(r.blob).toBe(encodeStatusMessage(comp.ownList));
    await comp.close();
    c = undefined;
    const saved = await loadCompanionState(dir, comp.node.publicKey, TTL);
    expect(saved.own.list.issuedAt, 'the refreshed list was not saved').toBe(after.issuedAt);
  });

  it('leaves a list that is still fresh alone', async () => {
    const { c: comp } = await offline(0.1 * TTL);
    const before = comp.ownList;
    const r = (await runOperation(comp, 'syncSourceFresh', {})) as { refreshed: boolean };
    expect(r.refreshed).toBe(false);
    expect(comp.ownList).toBe(before);
  });
});

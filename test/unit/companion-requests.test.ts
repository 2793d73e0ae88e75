// Request ids: a mutating operation runs at most once per id; a retry gets the first outcome (result or refusal), also after the companion was closed and reopened from disk, and the outcome is saved in the same commit as the change.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import { runOperation } from '../../src/companion/ops.js';
import * as P from '../../src/companion/persona-port.js';
import { FakeNode } from '../support/fake-node.js';

// A valid Curve25519 public key as toxcore sees one: random, last byte below 0x80.
const pk = () => {
  const b = randomBytes(32);
  b[31]! &= 0x7f;
  return b.toString('hex').toUpperCase();
};

describe('request ids', () => {
  let dir: string;
  let c: Companion | undefined;
  let me: string;
  const open = async () => {
    const config = loadConfig({ dir, env: {}, readFile: false, flags: {} });
    const node = new FakeNode(me);
    c = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600), { node, log: createLogger({ level: 'silent' }) });
    return c;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-req-'));
    me = pk();
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
  });
  afterEach(async () => {
    await c?.close();
    c = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a retry returns the first result and applies nothing twice; the outcome is on disk with the change', async () => {
    const comp = await open();
    const key = pk();
    const first = await runOperation(comp, 'deviceAdd', { publicKey: key, name: 'tablet', requestId: 'req-00000001' });
    const seq = comp.ownList.list.seq;
    // Without the id the same command fails (DEVICE_EXISTS); with it, it is the first answer again.
    await expect(runOperation(comp, 'deviceAdd', { publicKey: key, name: 'tablet' })).rejects.toMatchObject({ code: 'DEVICE_EXISTS' });
    expect(await runOperation(comp, 'deviceAdd', { publicKey: key, name: 'tablet', requestId: 'req-00000001' })).toEqual(first);
    expect(comp.ownList.list.seq).toBe(seq);
    // Saved in the same commit as the list that holds the device.
    const saved = JSON.parse(readFileSync(join(dir, 'outcomes.json'), 'utf8'));
    expect(saved.outcomes.find((o: any) => o.id === 'req-00000001')).toMatchObject({ op: 'deviceAdd', ok: true });
    expect(P.devicesOf(P.ownListFromJson(JSON.parse(readFileSync(join(dir, 'devices.json'), 'utf8')), 'devices.json').list).map((d) => d.publicKey)).toContain(key);
  });

  it('the first outcome survives a close and reopen (the daemon restarted): a result and a refusal come back as they were', async () => {
    let comp = await open();
    const key = pk();
    const first = await runOperation(comp, 'deviceAdd', { publicKey: key, requestId: 'req-add-0001' });
    await expect(runOperation(comp, 'deviceRemove', { device: 'nobody', requestId: 'req-rm-00001' })).rejects.toMatchObject({ code: 'UNKNOWN_DEVICE' });
    await comp.close();
    comp = await open();
    expect(await runOperation(comp, 'deviceAdd', { publicKey: key, requestId: 'req-add-0001' })).toEqual(first);
    await expect(runOperation(comp, 'deviceRemove', { device: 'nobody', requestId: 'req-rm-00001' })).rejects.toMatchObject({ code: 'UNKNOWN_DEVICE' });
  });

  it('concurrent copies of one request run once; an id reused for another operation or malformed is refused', async () => {
    const comp = await open();
    const key = pk();
    const [a, b] = await Promise.all([
      runOperation(comp, 'deviceAdd', { publicKey: key, requestId: 'req-same-001' }),
      runOperation(comp, 'deviceAdd', { publicKey: key, requestId: 'req-same-001' }),
    ]);
    expect(a).toEqual(b);
    await expect(runOperation(comp, 'deviceRemove', { device: key, requestId: 'req-same-001' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(runOperation(comp, 'deviceAdd', { publicKey: pk(), requestId: 'x' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('device add and friend add refuse a key that is not a valid Curve25519 public key (last byte >= 0x80) with INVALID_PUBLIC_KEY', async () => {
    const comp = await open();
    const bad = `${pk().slice(0, 62)}80`;
    expect(() => comp.deviceAdd(bad)).toThrow(expect.objectContaining({ code: 'INVALID_PUBLIC_KEY' }));
    expect(() => comp.friendAdd(`${bad}${'00'.repeat(6)}`, 'hi')).toThrow(expect.objectContaining({ code: 'INVALID_PUBLIC_KEY' }));
    expect(comp.ownList.list.devices).toHaveLength(1);
  });
});

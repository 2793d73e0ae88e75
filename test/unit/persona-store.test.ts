// The table store: round trip, 0600, last good copy, and refusal to touch corrupt or unknown-version files.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyStatusMessage,
  emptyTable,
  encodeStatusMessage,
  loadTable,
  nextDeviceList,
  observeFriend,
  personaKeyFromSeed,
  PersonaTableStoreError,
  saveTable,
  signDeviceList,
  TABLE_BACKUP_SUFFIX,
} from '../../src/persona/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'persona-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pk = (n: number): Uint8Array => new Uint8Array(32).fill(n);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return error instanceof PersonaTableStoreError ? error.code : `untyped ${(error as Error).name}`;
  }
}

describe('persona table store', () => {
  it('a missing file loads as an empty table', async () => {
    expect(await loadTable(join(dir, 'none.json'))).toEqual(emptyTable());
  });
  it('round-trips, is 0600, and keeps the previous good copy', async () => {
    const p = join(dir, 'table.json');
    const t1 = observeFriend(emptyTable(), pk(1));
    await saveTable(p, t1);
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect(await loadTable(p)).toEqual(t1);
    const t2 = observeFriend(t1, pk(2));
    await saveTable(p, t2);
    expect(await loadTable(p)).toEqual(t2);
    expect(await loadTable(p + TABLE_BACKUP_SUFFIX)).toEqual(t1);
    expect((await stat(p + TABLE_BACKUP_SUFFIX)).mode & 0o777).toBe(0o600);
  });
  it('a table with every kind of state (verified, conflict, pending, evidence, provisional) round-trips', async () => {
    const key = personaKeyFromSeed(new Uint8Array(32).fill(5));
    const other = personaKeyFromSeed(new Uint8Array(32).fill(6));
    const msg = (k: typeof key, devices: Uint8Array[], seq: number) =>
      encodeStatusMessage(signDeviceList({ ...nextDeviceList(undefined, devices.map((publicKey) => ({ publicKey, name: 'n' })), { now: 1_767_225_600, personaId: k.publicKey }), seq }, k));
    let t = [1, 2, 3, 9].reduce((acc, n) => observeFriend(acc, pk(n)), emptyTable());
    t = applyStatusMessage(t, { from: pk(1), text: msg(key, [pk(1), pk(2)], 1), now: 1_767_225_600, policy: 'auto' }).table;
    t = applyStatusMessage(t, { from: pk(2), text: msg(key, [pk(2), pk(1), pk(4)], 1), now: 1_767_225_600, policy: 'auto' }).table;
    t = applyStatusMessage(t, { from: pk(3), text: msg(other, [pk(3), pk(1)], 1), now: 1_767_225_600, policy: 'auto' }).table;
    expect(t.evidence.length).toBe(1);
    expect(t.pending.length).toBe(1);
    const p = join(dir, 'rich.json');
    await saveTable(p, t);
    expect(await loadTable(p)).toEqual(t);
  });
  it('a corrupt file is a typed error and is never overwritten', async () => {
    const p = join(dir, 'corrupt.json');
    await writeFile(p, '{"schema":1,"personas":');
    expect(await codeOf(loadTable(p))).toBe('TABLE_CORRUPT');
    expect(await codeOf(saveTable(p, emptyTable()))).toBe('TABLE_CORRUPT');
    expect(await readFile(p, 'utf8')).toBe('{"schema":1,"personas":');
    await writeFile(p, JSON.stringify({ ...emptyTable(), pins: { nothex: 'x' } }));
    expect(await codeOf(loadTable(p))).toBe('TABLE_CORRUPT');
  });
  it('an unknown schema version is a typed error and is never overwritten', async () => {
    const p = join(dir, 'future.json');
    const future = JSON.stringify({ schema: 99, whatever: true });
    await writeFile(p, future);
    expect(await codeOf(loadTable(p))).toBe('TABLE_UNKNOWN_VERSION');
    expect(await codeOf(saveTable(p, emptyTable()))).toBe('TABLE_UNKNOWN_VERSION');
    expect(await readFile(p, 'utf8')).toBe(future);
  });
});

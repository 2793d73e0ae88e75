// Loading a data directory's persona state: a missing devices.json is rebuilt from our own status message (never
// invented), and a damaged requests.json is a typed BAD_FILE error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadCompanionState } from '../../src/companion/companion.js';
import * as P from '../../src/companion/persona-port.js';
import { buildStatusMessage, emptyTable, saveTable } from '../../src/persona/index.js';

// A valid Curve25519 public key as toxcore sees one: random, last byte below 0x80.
const pk = () => { const b = randomBytes(32); b[31]! &= 0x7f; return b.toString('hex').toUpperCase(); };

describe('loadCompanionState: a missing devices.json', () => {
  let dir: string;
  let key: P.PersonaKey;
  const me = pk();
  const other = pk();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-state-'));
    await P.ready();
    key = await P.newPersonaKey();
    await P.writePersonaKey(join(dir, 'persona.key'), key);
    await saveTable(join(dir, 'personas.json'), emptyTable()); // an initialized directory, not a fresh one
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const published = (devices: P.DeviceView[], k = key) => {
    const first = P.signNext(undefined, devices, k.pair, Date.now() / 1000 - 100, 3600);
    return { signed: first, text: buildStatusMessage(first, 'hello') };
  };

  it('is rebuilt from the list in our status message, other devices kept, and written back', async () => {
    const { signed, text } = published([{ publicKey: other, name: 'laptop' }, { publicKey: me, name: 'phone' }]);
    const logged: string[] = [];
    const log = { warn: (_o: unknown, m: string) => logged.push(m), info: (_o: unknown, m: string) => logged.push(m) } as never;
    const state = await loadCompanionState(dir, me, 3600, Date.now() / 1000, { selfStatusMessage: text, log });
    expect(state.own.list.seq).toBe(signed.list.seq);
    expect(P.devicesOf(state.own.list).map((d) => d.publicKey)).toEqual([other, me]);
    expect(logged.join('\n')).toMatch(/rebuilt it from the list in our own status message/);
    expect(existsSync(join(dir, 'devices.json'))).toBe(true);
    const again = await loadCompanionState(dir, me, 3600);
    expect(again.own.list.seq).toBe(signed.list.seq);
    expect(P.devicesOf(again.own.list)).toHaveLength(2);
  });

  it('is refused (NOT_INITIALIZED), never invented, when the status message cannot give it back', async () => {
    const otherPersona = await P.newPersonaKey();
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /carries no device list/],
      ['just text', /carries no device list/],
      [published([{ publicKey: me, name: '' }], otherPersona).text, /another persona/],
      [published([{ publicKey: other, name: '' }]).text, /does not name this device/],
      [`${published([{ publicKey: me, name: '' }]).text.slice(0, -4)}AAAA`, /our status message: /],
    ];
    for (const [msg, why] of cases) {
      await expect(loadCompanionState(dir, me, 3600, Date.now() / 1000, msg === undefined ? {} : { selfStatusMessage: msg }), String(msg)).rejects.toMatchObject({ code: 'NOT_INITIALIZED', message: expect.stringMatching(why) });
      expect(existsSync(join(dir, 'devices.json'))).toBe(false);
    }
  });

  it('a fresh directory (no table yet, nothing published) gets a first list naming this device', async () => {
    await rm(join(dir, 'personas.json'));
    const state = await loadCompanionState(dir, me, 3600);
    expect(P.devicesOf(state.own.list).map((d) => d.publicKey)).toEqual([me]);
    expect(JSON.parse(await readFile(join(dir, 'devices.json'), 'utf8'))).toHaveProperty('record');
  });
});

describe('loadCompanionState: requests.json', () => {
  let dir: string;
  const me = pk();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-state-'));
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads what the companion writes, and a missing file as none', async () => {
    expect((await loadCompanionState(dir, me, 3600)).requests).toEqual([]);
    const good = { publicKey: pk(), message: 'hi', receivedAt: new Date().toISOString() };
    await writeFile(join(dir, 'requests.json'), JSON.stringify({ version: 1, requests: [good] }));
    expect((await loadCompanionState(dir, me, 3600)).requests).toEqual([good]);
  });

  it('refuses null, a wrong shape or malformed entries with a typed BAD_FILE error naming the file', async () => {
    const bad: unknown[] = [
      null,
      [],
      'requests',
      { requests: null },
      { requests: {} },
      { requests: [null] },
      { requests: [{ publicKey: 'nope', message: '', receivedAt: '' }] },
      { requests: [{ publicKey: pk(), message: 5, receivedAt: '' }] },
      { requests: [{ publicKey: pk(), message: '' }] },
      { version: 2, requests: [] },
    ];
    for (const content of bad) {
      await writeFile(join(dir, 'requests.json'), JSON.stringify(content));
      await expect(loadCompanionState(dir, me, 3600), JSON.stringify(content)).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringContaining('requests.json') });
    }
    await writeFile(join(dir, 'requests.json'), '{not json');
    await expect(loadCompanionState(dir, me, 3600)).rejects.toMatchObject({ code: 'BAD_FILE' });
  });
});

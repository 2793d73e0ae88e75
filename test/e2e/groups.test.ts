// End to end: `tox-persona groups` through a running daemon's admin endpoint. With NGC (0.2.19+): create a group, see
// this device under its persona, leave it; without the daemon the commands say GROUPS_NEED_DAEMON. On 0.2.18: the
// daemon says once in its log that it runs without groups, and `groups` is GROUPS_UNAVAILABLE (exit 5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libtoxcoreInfo } from '../../src/ffi/index.js';
import { cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';

const hasGroups = libtoxcoreInfo().version !== '0.2.18';

describe(`tox-persona groups (libtoxcore ${libtoxcoreInfo().version})`, () => {
  let root: string;
  let dir: string;
  let d: DaemonProcess;
  let personaId: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-groups-'));
    dir = join(root, 'a');
    personaId = (await cliJson<{ personaId: string }>(['init', '--dir', dir, '--name', 'phone'])).personaId;
    d = await startDaemonProcess(dir, ['--network', 'local']);
  });
  afterAll(async () => {
    await d?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it.runIf(hasGroups)('create, list (this device under its persona), leave; then, daemon stopped, GROUPS_NEED_DAEMON', async () => {
    const created = await cliJson<{ chatId: string; selfPeerKey: string }>(['groups', 'create', 'e2e group', '--dir', dir]);
    expect(created.chatId).toMatch(/^[0-9A-F]{64}$/);
    const listed = await cliJson<{ groups: Array<{ chatId: string; personas: Array<{ personaId: string; known: boolean; peers: Array<{ peerKey: string; confirmed: boolean }> }> }> }>(['groups', '--dir', dir]);
    expect(listed.groups).toHaveLength(1);
    expect(listed.groups[0]!.personas).toEqual([{ personaId, known: true, peers: [expect.objectContaining({ peerKey: created.selfPeerKey, confirmed: true })] }]);
    const human = await cli(['groups', '--dir', dir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('this device');
    const unknown = await cli(['groups', 'leave', 'ABCDEF0123', '--dir', dir, '--json']);
    expect(unknown.code).toBe(5);
    expect(JSON.parse(unknown.stderr).error.code).toBe('UNKNOWN_GROUP');
    await cliJson(['groups', 'leave', created.chatId.slice(0, 12), '--dir', dir]);
    expect((await cliJson<{ groups: unknown[] }>(['groups', '--dir', dir])).groups).toEqual([]);
    await d.stop();
    const offline = await cli(['groups', '--dir', dir, '--json']);
    expect(offline.code).toBe(5);
    expect(JSON.parse(offline.stderr).error.code).toBe('GROUPS_NEED_DAEMON');
  });

  it.runIf(!hasGroups)('the daemon says once that it runs without groups; `groups` is GROUPS_UNAVAILABLE, exit 5', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await cli(['groups', '--dir', dir, '--json']);
      expect(r.code).toBe(5);
      expect(JSON.parse(r.stderr).error.code).toBe('GROUPS_UNAVAILABLE');
    }
    expect(d.logs().split('\n').filter((l) => l.includes('GROUPS_UNAVAILABLE'))).toHaveLength(1);
  });
});

// End to end, groups across a crash: Alice's daemon creates a public NGC group and Bob's daemon joins it by chat id,
// over a real local tox-bootstrapd. Alice's daemon is SIGKILLed and started again on the same data directory: with
// groupsPersistence (the default) profile.tox kept the group, so `groups` shows her in the same group (same chat id,
// same peer key), she sees Bob's peer again, and Bob's companion shows her peer under her persona again.
// On libtoxcore 0.2.18 (no NGC) there is nothing to persist: the test is skipped, saying so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libtoxcoreInfo } from '../../src/ffi/index.js';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';
import { waitFor } from '../support/wait.js';

const { version } = libtoxcoreInfo();
const hasGroups = version !== '0.2.18';

interface Listing {
  chatId: string;
  joined: boolean;
  selfPeerKey: string | null;
  personas: Array<{ personaId: string; peers: Array<{ peerKey: string }> }>;
  others: string[];
}
const groupsOf = async (dir: string) => (await cliJson<{ groups: Listing[] }>(['groups', '--dir', dir])).groups;
/** Every present peer key of `chatId` in the listing of the daemon on `dir` (by persona or not). */
const peersIn = async (dir: string, chatId: string): Promise<string[]> => {
  const g = (await groupsOf(dir)).find((x) => x.chatId === chatId);
  return g ? [...g.personas.flatMap((p) => p.peers.map((q) => q.peerKey)), ...g.others] : [];
};

describe.skipIf(!hasGroups)(`a companion is back in its NGC groups after kill -9 (libtoxcore ${version}; skipped on 0.2.18: no NGC there)`, () => {
  let root: string;
  let bootstrapd: Bootstrapd;
  const daemons: DaemonProcess[] = [];
  const start = async (dir: string) => {
    const d = await startDaemonProcess(dir, ['--bootstrap', bootstrapd.nodeString(), '--accept-requests', 'all']);
    daemons.push(d);
    return d;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-groups-restart-'));
    bootstrapd = await startBootstrapd();
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop().catch(() => undefined);
    await bootstrapd?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('same chat id and peer key after the restart; Alice sees Bob again and Bob sees Alice under her persona', async () => {
    const a = join(root, 'alice');
    const b = join(root, 'bob');
    const alice = (await cliJson<{ personaId: string }>(['init', '--dir', a, '--name', 'alice'])).personaId;
    await cliJson(['init', '--dir', b, '--name', 'bob']);
    const da = await start(a);
    await start(b);

    const created = await cliJson<{ chatId: string; selfPeerKey: string }>(['groups', 'create', 'kept group', '--public', '--dir', a]);
    await cliJson(['groups', 'join', created.chatId, '--dir', b]);
    const bobPeer = await waitFor(async () => (await groupsOf(b)).find((g) => g.chatId === created.chatId && g.joined)?.selfPeerKey, { what: 'Bob to complete joining Alice\'s group', timeoutMs: 60_000, intervalMs: 500 });
    await waitFor(async () => (await peersIn(a, created.chatId)).includes(bobPeer), { what: 'Alice to see Bob\'s peer before the crash', timeoutMs: 60_000, intervalMs: 500 });

    // A crash: no final save. The group is in profile.tox because `groups create` answered only after saving it.
    expect(await da.stop('SIGKILL')).toBe(null);
    await start(a);

    const after = await groupsOf(a);
    expect(after.map((g) => ({ chatId: g.chatId, selfPeerKey: g.selfPeerKey }))).toEqual([{ chatId: created.chatId, selfPeerKey: created.selfPeerKey }]);
    await waitFor(async () => (await peersIn(a, created.chatId)).includes(bobPeer), { what: 'the restarted Alice to see Bob\'s peer in the group again', timeoutMs: 90_000, intervalMs: 500 });
    await waitFor(async () => {
      const g = (await groupsOf(b)).find((x) => x.chatId === created.chatId);
      return g?.personas.find((p) => p.personaId === alice)?.peers.some((p) => p.peerKey === created.selfPeerKey);
    }, { what: 'Bob\'s companion to show the restarted Alice\'s peer under her persona', timeoutMs: 90_000, intervalMs: 500 });
  });
});

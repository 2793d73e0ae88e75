// End to end with real nodes: Bob's ordinary client (a plain Tox node, stopped) is brought up to date with `profile sync`
// from Bob's companion, and then connects to the device Alice enrolled while it was off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { ToxNode } from '../../src/tox/node.js';
import { encryptProfile, hasEncryptedMagic, decryptProfile } from '../../src/profile/index.js';
import { waitFor } from '../support/wait.js';
import { getSavedata, newRawTox, selfPublicKey, setSelfInfo } from '../support/profile-tox.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';

const nodeOptions = { ipv6: false, localDiscovery: false, startPort: 33445, endPort: 34445 } as const;

async function personasOf(d: DaemonProcess): Promise<Array<{ personaId: string; state: string; devices: Array<{ publicKey: string; confirmed: boolean }> }>> {
  return ((await (await fetch(`${d.url}/personas`)).json()) as { personas: any[] }).personas;
}

function connected(node: ToxNode, pk: string): boolean {
  const f = node.friendByPublicKey(pk);
  return f !== undefined && node.friendConnectionStatus(f) !== 'none';
}

describe('profile sync: a friend\'s ordinary client learns Alice\'s new device', () => {
  let root: string;
  let bootstrapd: Bootstrapd;
  let alice: DaemonProcess | undefined;
  let bob: DaemonProcess | undefined;
  const nodes: ToxNode[] = [];
  const A = () => join(root, 'alice');
  const B = () => join(root, 'bob');
  const clientPath = () => join(root, 'bob-laptop.tox');

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-sync-'));
    bootstrapd = await startBootstrapd();
  });
  afterAll(async () => {
    for (const n of nodes) n.close();
    await alice?.stop();
    await bob?.stop();
    await bootstrapd?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('sync adds Alice\'s verified devices and the list; the client then connects to Alice\'s enrolled laptop', async () => {
    // Bob's laptop runs an ordinary client: a profile libtoxcore wrote, with Bob's own status text.
    const raw = newRawTox({ udp: false });
    setSelfInfo(raw.tox, { name: 'bob laptop', statusMessage: 'on the train' });
    const clientPk = bytesToHex(selfPublicKey(raw.tox));
    await writeFile(clientPath(), getSavedata(raw.tox), { mode: 0o600 });
    raw.kill();

    const a = await cliJson(['init', '--dir', A(), '--name', 'phone']);
    const b = await cliJson(['init', '--dir', B(), '--name', 'bob']);
    await cliJson(['device', 'add', '--dir', B(), clientPk, '--name', 'laptop']);
    const runArgs = ['--bootstrap', bootstrapd.nodeString(), '--ttl', '3600'];
    alice = await startDaemonProcess(A(), runArgs);
    bob = await startDaemonProcess(B(), runArgs);
    await cliJson(['friend', 'add', '--dir', A(), b.toxId, 'hi Bob']);
    await waitFor(async () => (await cliJson(['requests', '--dir', B()])).requests.some((r: any) => r.publicKey === a.publicKey), {
      what: 'Bob to list Alice\'s friend request', timeoutMs: 60_000, intervalMs: 500,
    });
    expect((await cli(['accept', '--dir', B(), a.publicKey])).code).toBe(0);
    // Alice's companion follows Bob's persona and adds his laptop by itself, so the device she enrolls next carries it.
    await waitFor(async () => (await cliJson(['friend', 'list', '--dir', A()])).friends.some((f: any) => f.publicKey === clientPk), {
      what: 'Alice\'s companion to add Bob\'s laptop from Bob\'s list', timeoutMs: 60_000, intervalMs: 500,
    });

    const enrolled = await cliJson(['device', 'enroll', '--dir', A(), join(root, 'alice-laptop.tox'), '--name', 'laptop']);
    const laptop = await ToxNode.create({ ...nodeOptions, savedata: await readFile(join(root, 'alice-laptop.tox')) });
    nodes.push(laptop);
    laptop.bootstrap([bootstrapd.node()]);
    laptop.start();
    await waitFor(async () => (await personasOf(bob!)).find((p) => p.personaId === a.personaId)?.devices.find((d) => d.publicKey === enrolled.publicKey && d.confirmed), {
      what: 'Alice\'s laptop to confirm her list at Bob\'s companion', timeoutMs: 90_000, intervalMs: 500,
    });

    // Bob's client is stopped: sync it from Bob's companion (running, so through its admin endpoint).
    const r = await cliJson(['profile', 'sync', clientPath(), '--dir', B()]);
    expect(r.changed).toBe(true);
    expect(r.added.map((x: any) => x.publicKey).sort()).toEqual([a.publicKey, enrolled.publicKey, b.publicKey].sort());
    expect(r.removed).toEqual([]);
    expect(r.statusMessage).toEqual({ changed: true, humanText: 'on the train' });
    expect(Date.parse(r.listExpiresAt)).toBeGreaterThan(Date.now());
    expect((await stat(clientPath())).mode & 0o777).toBe(0o600);
    expect((await readFile(r.record, 'utf8')).includes(enrolled.publicKey)).toBe(true);
    // Synced again at once: nothing to do, nothing written.
    const again = await cliJson(['profile', 'sync', clientPath(), '--dir', B()]);
    expect(again.changed).toBe(false);

    const client = await ToxNode.create({ ...nodeOptions, savedata: await readFile(clientPath()) });
    nodes.push(client);
    expect(client.publicKeyHex.toUpperCase()).toBe(clientPk);
    const verified = await cliJson(['verify', '--dir', B(), Buffer.from(client.statusMessage).toString('utf8')]);
    expect(verified).toMatchObject({ ok: true, personaId: b.personaId, human: 'on the train ' });
    client.bootstrap([bootstrapd.node()]);
    client.start();
    await waitFor(() => connected(client, enrolled.publicKey) && connected(laptop, clientPk), {
      what: 'Bob\'s synced client and Alice\'s enrolled laptop to connect to each other', timeoutMs: 90_000, intervalMs: 250,
    });

    // Alice drops the laptop; Bob's companion follows; the next sync of the stopped client removes it (sync added it).
    client.close();
    await cliJson(['device', 'remove', '--dir', A(), 'laptop']);
    await waitFor(async () => !(await personasOf(bob!)).find((p) => p.personaId === a.personaId)?.devices.some((d) => d.publicKey === enrolled.publicKey), {
      what: 'Bob\'s companion to drop Alice\'s laptop', timeoutMs: 60_000, intervalMs: 500,
    });
    const dropped = await cliJson(['profile', 'sync', clientPath(), '--dir', B()]);
    expect(dropped.removed.map((x: any) => x.publicKey)).toEqual([enrolled.publicKey]);
    const reloaded = ToxNode.createSync({ ...nodeOptions, savedata: await readFile(clientPath()) });
    try {
      expect(reloaded.friendByPublicKey(enrolled.publicKey)).toBeUndefined();
      expect(reloaded.friendByPublicKey(a.publicKey)).toBeDefined();
    } finally {
      reloaded.close();
    }
  });

  it('refuses an encrypted profile without its passphrase (exit 5) and keeps it encrypted with one; refuses a profile in use (exit 4)', async () => {
    const raw = newRawTox({ udp: false });
    const plain = getSavedata(raw.tox);
    raw.kill();
    const enc = join(root, 'enc.tox');
    await writeFile(enc, encryptProfile(plain, 'open sesame'), { mode: 0o600 });
    const refused = await cli(['profile', 'sync', enc, '--dir', B(), '--json']);
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { code: 'ENCRYPTED' } });
    const ok = await cliJson(['profile', 'sync', enc, '--dir', B()], { env: { TOX_PERSONA_PASSPHRASE: 'open sesame' } });
    expect(ok).toMatchObject({ changed: true, encrypted: true });
    const bytes = new Uint8Array(await readFile(enc));
    expect(hasEncryptedMagic(bytes)).toBe(true);
    expect(Buffer.from(decryptProfile(bytes, 'open sesame')).includes(Buffer.from('~tp1:'))).toBe(true);

    // qTox's lock file next to the profile, naming a live process (this test's).
    await writeFile(join(root, 'enc.lock'), `${process.pid}\nqTox\n\n`);
    const busy = await cli(['profile', 'sync', enc, '--dir', B(), '--json'], { env: { TOX_PERSONA_PASSPHRASE: 'open sesame' } });
    expect(busy.code).toBe(4);
    expect(JSON.parse(busy.stderr)).toMatchObject({ error: { code: 'IN_USE' } });
  });
});

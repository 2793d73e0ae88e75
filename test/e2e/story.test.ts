// End to end, with real processes: Alice's and Bob's companions as `tox-persona run` children on a real local tox-bootstrapd,
// driven by CLI commands; Alice's laptop is a plain Tox node started from the profile `device enroll` wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { ToxNode } from '../../src/tox/node.js';
import { waitFor } from '../support/wait.js';
import { cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';

interface PersonaJson {
  personaId: string;
  state: string;
  seq: number | null;
  devices: Array<{ publicKey: string; name: string; active: boolean; confirmed: boolean; addedByUs: boolean }>;
}

async function personasOf(d: DaemonProcess): Promise<PersonaJson[]> {
  const res = await fetch(`${d.url}/personas`, { headers: { authorization: `Bearer ${d.token}` } });
  return ((await res.json()) as { personas: PersonaJson[] }).personas;
}

async function statusOf(d: DaemonProcess): Promise<any> {
  return (await fetch(`${d.url}/status`, { headers: { authorization: `Bearer ${d.token}` } })).json();
}

describe('the story, with the CLI as child processes', () => {
  let root: string;
  let bootstrapd: Bootstrapd;
  let alice: DaemonProcess | undefined;
  let bob: DaemonProcess | undefined;
  let laptop: ToxNode | undefined;
  const A = () => join(root, 'alice');
  const B = () => join(root, 'bob');
  let alicePersona = '';
  let alicePk = '';
  let bobPk = '';
  let laptopPk = '';
  let laptopId = '';

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-story-'));
    bootstrapd = await startBootstrapd();
  });
  afterAll(async () => {
    laptop?.close();
    await alice?.stop();
    await bob?.stop();
    await bootstrapd?.close();
    await rm(root, { recursive: true, force: true });
  });

  const runArgs = () => ['--bootstrap', bootstrapd.nodeString(), '--ttl', '3600'];

  it('1. Alice and Bob come up, befriend each other, and Bob verifies and maps Alice\'s persona', async () => {
    const a = await cliJson(['init', '--dir', A(), '--name', 'phone']);
    const b = await cliJson(['init', '--dir', B(), '--name', 'bob']);
    alicePersona = a.personaId;
    alicePk = a.publicKey;
    bobPk = b.publicKey;
    alice = await startDaemonProcess(A(), runArgs());
    bob = await startDaemonProcess(B(), runArgs());
    const sent = await cliJson(['friend', 'add', '--dir', A(), b.toxId, 'hi Bob']);
    expect(sent.publicKey).toBe(bobPk);
    // Bob's default policy ("personas") keeps a request from a stranger waiting.
    await waitFor(async () => (await cliJson(['requests', '--dir', B()])).requests.some((r: any) => r.publicKey === alicePk), {
      what: 'Bob to list Alice\'s friend request', timeoutMs: 60_000, intervalMs: 500,
    });
    expect((await cli(['accept', '--dir', B(), alicePk.slice(0, 12)])).code).toBe(0);
    const entry = await waitFor(async () => (await personasOf(bob!)).find((p) => p.personaId === alicePersona && p.state === 'verified'), {
      what: 'Bob\'s table to hold Alice\'s verified persona', timeoutMs: 60_000, intervalMs: 250,
    });
    expect(entry.devices.map((d) => d.publicKey)).toEqual([alicePk]);
    const st = await cliJson(['status', '--dir', B()]);
    expect(st.running).toBe(true);
    expect(st.friends).toEqual({ online: 1, total: 1 });
    expect(st.personas.verified).toBe(1);
    // Healthy because connected, not because of the start-up grace period.
    const health = (await (await fetch(`${bob!.url}/healthz`)).json()) as { status: string; connection: string; inGracePeriod: boolean };
    expect(health).toMatchObject({ status: 'ok', inGracePeriod: false });
    expect(health.connection).not.toBe('none');
    const metrics = await (await fetch(`${bob!.url}/metrics`, { headers: { authorization: `Bearer ${bob!.token}` } })).text();
    expect(metrics).toMatch(/^tox_persona_friends_online 1$/m);
    expect(metrics).toMatch(/^tox_persona_personas\{state="verified"\} 1$/m);
  });

  it('2. Alice enrolls a laptop; Bob adds it by himself, it connects and confirms', async () => {
    const out = join(root, 'laptop.tox');
    const r = await cliJson(['device', 'enroll', '--dir', A(), out, '--name', 'laptop']);
    laptopPk = r.publicKey;
    laptopId = r.toxId;
    expect(r.devices.map((d: any) => d.name)).toEqual(['phone', 'laptop']);
    expect(r.friends).toBe(1);
    // The new device's profile already carries the signed list that names it.
    const v = await cliJson(['verify', '--dir', A(), (await cliJson(['blob', '--dir', A()])).statusMessage]);
    expect(v.devices.map((d: any) => d.publicKey)).toEqual([alicePk, laptopPk]);
    laptop = await ToxNode.create({ savedata: await readFile(out), ipv6: false, localDiscovery: false, startPort: 33445, endPort: 34445 });
    expect(laptop.publicKeyHex.toUpperCase()).toBe(laptopPk);
    expect(Buffer.from(laptop.statusMessage).toString()).toContain('~tp1:');
    laptop.bootstrap([bootstrapd.node()]);
    laptop.start();
    await waitFor(async () => (await cliJson(['friend', 'list', '--dir', B()])).friends.find((f: any) => f.publicKey === laptopPk && f.connection !== 'none'), {
      what: 'Bob\'s companion to add the laptop by itself and connect to it', timeoutMs: 90_000, intervalMs: 500,
    });
    const dev = await waitFor(async () => (await personasOf(bob!)).find((p) => p.personaId === alicePersona)?.devices.find((d) => d.publicKey === laptopPk && d.confirmed), {
      what: 'the laptop to confirm Alice\'s list in Bob\'s table', timeoutMs: 60_000, intervalMs: 250,
    });
    expect(dev.addedByUs).toBe(true);
  });

  it('3. Alice removes the laptop and Bob drops it', async () => {
    const r = await cliJson(['device', 'remove', '--dir', A(), 'laptop']);
    expect(r.devices.map((d: any) => d.publicKey)).toEqual([alicePk]);
    await waitFor(async () => {
      const entry = (await personasOf(bob!)).find((p) => p.personaId === alicePersona);
      const friends = (await cliJson(['friend', 'list', '--dir', B()])).friends as Array<{ publicKey: string }>;
      return entry && !entry.devices.some((d) => d.publicKey === laptopPk) && !friends.some((f) => f.publicKey === laptopPk);
    }, { what: 'Bob to drop the laptop from Alice\'s persona and from his friends', timeoutMs: 60_000, intervalMs: 500 });
  });

  it('4. the dropped laptop replays Alice\'s older list over the network: refused as a rollback', async () => {
    const before = (await personasOf(bob!)).find((p) => p.personaId === alicePersona)!;
    // Bob befriends the laptop again by hand; it still carries the list that named it, and sends it when it connects.
    await cliJson(['friend', 'add', '--dir', B(), laptopId, 'come back']);
    const alarm = await waitFor(async () => ((await statusOf(bob!)).alarms as any[]).find((a) => a.reason === 'ROLLBACK' && a.personaId === alicePersona), {
      what: 'a ROLLBACK alarm at Bob for the laptop\'s replayed list', timeoutMs: 90_000, intervalMs: 500,
    });
    expect(alarm.from).toBe(laptopPk);
    const after = (await personasOf(bob!)).find((p) => p.personaId === alicePersona)!;
    expect(after.seq).toBe(before.seq);
    expect(after.devices).toEqual(before.devices);
    const metrics = await (await fetch(`${bob!.url}/metrics`, { headers: { authorization: `Bearer ${bob!.token}` } })).text();
    expect(metrics).toMatch(/tox_persona_alarms_total\{reason="ROLLBACK"\} [1-9]/);
  });

  it('5. Bob\'s node restarts with the table intact and reconnects to Alice', async () => {
    const before = await personasOf(bob!);
    expect(await bob!.stop()).toBe(0);
    // Offline, the command reads the saved table directly.
    const offline = await cliJson(['personas', '--dir', B()]);
    expect(offline.personas).toEqual(before);
    bob = await startDaemonProcess(B(), runArgs());
    // The start-up scan re-reads friends' saved status messages, which only refreshes when each list was last seen.
    const timeless = (ps: PersonaJson[]) => ps.map(({ lastSeen: _l, from: _f, ...rest }: any) => rest);
    expect(timeless(await personasOf(bob))).toEqual(timeless(before));
    await waitFor(async () => (await cliJson(['friend', 'list', '--dir', B()])).friends.find((f: any) => f.publicKey === alicePk && f.connection !== 'none'), {
      // Alice's node must first notice that Bob's old session is gone; this took 10-40 s in our runs.
      what: 'restarted Bob to reconnect to Alice', timeoutMs: 110_000, intervalMs: 500,
    });
    const entry = (await personasOf(bob)).find((p) => p.personaId === alicePersona)!;
    expect(entry.state).toBe('verified');
    expect(entry.devices.map((d) => d.publicKey)).toEqual([alicePk]);
  }, 170_000);
});

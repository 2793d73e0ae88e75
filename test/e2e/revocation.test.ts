// End to end, real network (issue 9): Alice's server certifies a phone's signer; the phone is stolen and its signer
// rewrites Alice's list; Alice rotates with her recovery key; Bob's companion follows the new epoch by itself, drops
// the thief's phone, and refuses what the phone signs afterwards with an alarm. Three `tox-persona run` children on a
// real local tox-bootstrapd, driven by CLI commands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { waitFor } from '../support/wait.js';
import { cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';

interface PersonaJson {
  personaId: string;
  state: string;
  epoch: number | null;
  lastRevoked: { epoch: number; from: string } | null;
  devices: Array<{ publicKey: string; name: string; confirmed: boolean }>;
}

describe('revocation that sticks, over the network', () => {
  let root: string;
  let bootstrapd: Bootstrapd;
  const daemons: DaemonProcess[] = [];
  let alice: DaemonProcess;
  let bob: DaemonProcess;
  let thief: DaemonProcess;
  const A = () => join(root, 'alice-server');
  const B = () => join(root, 'bob');
  const T = () => join(root, 'alice-phone');
  let persona = '';
  let alicePk = '';
  let phonePk = '';
  let phoneId = '';
  let bobId = '';

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-revocation-'));
    bootstrapd = await startBootstrapd();
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await bootstrapd?.close();
    await rm(root, { recursive: true, force: true });
  });

  const runArgs = () => ['--bootstrap', bootstrapd.nodeString(), '--ttl', '3600'];
  const personaAtBob = async (): Promise<PersonaJson | undefined> => (await cliJson(['personas', '--dir', B()])).personas.find((p: PersonaJson) => p.personaId === persona);
  const bobFriends = async (): Promise<string[]> => (await cliJson(['friend', 'list', '--dir', B()])).friends.map((f: { publicKey: string }) => f.publicKey);

  it('1. Alice\'s server (root + signer) certifies her phone\'s signer; Bob follows Alice and adds the phone by himself', async () => {
    const a = await cliJson(['init', '--dir', A(), '--name', 'server']);
    const b = await cliJson(['init', '--dir', B(), '--name', 'bob']);
    const t = await cliJson(['init', '--dir', T(), '--name', 'phone', '--join']);
    persona = a.personaId;
    alicePk = a.publicKey;
    phonePk = t.publicKey;
    phoneId = t.toxId;
    bobId = b.toxId;
    expect(t.request).toMatch(/^toxpersona-request-1\./);
    const cert = await cliJson(['persona', 'certify', '--dir', A(), t.request]);
    expect(cert.devices.map((d: { name: string }) => d.name)).toEqual(['server', 'phone']);
    const joined = await cli(['persona', 'join', '--dir', T(), '-', '--json'], { input: cert.certificate });
    expect(joined.code, joined.stderr).toBe(0);
    expect((await cliJson(['persona', 'keys', '--dir', T()]))).toMatchObject({ personaId: persona, root: false, epoch: 0, signer: { epoch: 0 } });

    alice = await startDaemonProcess(A(), runArgs());
    bob = await startDaemonProcess(B(), runArgs());
    thief = await startDaemonProcess(T(), runArgs());
    daemons.push(alice, bob, thief);
    await cliJson(['friend', 'add', '--dir', A(), bobId, 'hi Bob']);
    await waitFor(async () => (await cliJson(['requests', '--dir', B()])).requests.some((r: { publicKey: string }) => r.publicKey === alicePk), {
      what: 'Bob to list Alice\'s friend request', timeoutMs: 90_000, intervalMs: 500,
    });
    expect((await cli(['accept', '--dir', B(), alicePk])).code).toBe(0);
    // The phone joined with no friends: it befriends Bob (Bob's companion adds it without a request once it sees the list).
    await cliJson(['friend', 'add', '--dir', T(), bobId, 'phone']);
    const entry = await waitFor(async () => {
      const p = await personaAtBob();
      return p && p.state === 'verified' && p.devices.find((d) => d.publicKey === phonePk)?.confirmed ? p : undefined;
    }, { what: 'Bob\'s table to hold Alice\'s persona with the phone confirmed over its own connection', timeoutMs: 120_000, intervalMs: 500 });
    expect(entry.devices.map((d) => d.publicKey)).toEqual([alicePk, phonePk]);
    expect(entry.epoch).toBe(0);
  }, 240_000);

  it('2. the phone is stolen: its signer drops Alice\'s server, and Bob follows (within the epoch it is a valid signer)', async () => {
    const r = await cliJson(['device', 'remove', '--dir', T(), 'server']);
    expect(r.devices.map((d: { publicKey: string }) => d.publicKey)).toEqual([phonePk]);
    await waitFor(async () => {
      const p = await personaAtBob();
      return p && p.devices.length === 1 && p.devices[0]!.publicKey === phonePk;
    }, { what: 'Bob to apply the thief\'s list', timeoutMs: 60_000, intervalMs: 500 });
  }, 90_000);

  it('3. Alice removes the root from her server (recovery key typed back), then rotates with the recovery key and drops the phone; Bob follows by himself', async () => {
    const rk = (await cliJson(['persona', 'recovery-key', '--dir', A()])).recoveryKey as string;
    expect(rk).toMatch(/^TPR1(-[0-9A-Z]{5}){12}$/);
    const rkFile = join(root, 'recovery.txt');
    await writeFile(rkFile, `${rk}\n`, { mode: 0o600 });
    const refused = await cli(['persona', 'root-remove', '--dir', A()]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/RECOVERY_KEY_REQUIRED/);
    expect((await cli(['persona', 'root-remove', '--dir', A(), '--recovery-key', `@${rkFile}`])).code).toBe(0);
    expect(await cliJson(['persona', 'keys', '--dir', A()])).toMatchObject({ root: false, signer: { epoch: 0 } });

    const rot = await cliJson(['persona', 'rotate', '--dir', A(), '--drop', 'phone', '--recovery-key', `@${rkFile}`]);
    expect(rot).toMatchObject({ epoch: 1, dropped: [phonePk] });
    const p = await waitFor(async () => {
      const e = await personaAtBob();
      return e && e.epoch === 1 && !(await bobFriends()).includes(phonePk) ? e : undefined;
    }, { what: 'Bob\'s companion to apply epoch 1 and delete the thief\'s phone from his friends', timeoutMs: 90_000, intervalMs: 500 });
    expect(p.devices.map((d) => d.publicKey)).toEqual([alicePk]);
    expect(p.state).toBe('verified');
  }, 150_000);

  it('4. what the stolen signer signs afterwards is refused at Bob, with a REVOKED_SIGNER alarm in status and personas', async () => {
    await cliJson(['device', 'add', '--dir', T(), '0101010101010101010101010101010101010101010101010101010101010101', '--name', 'mallory']);
    // Bob befriends the phone again by hand (it looks like Alice's); it sends the list it signed last.
    await cliJson(['friend', 'add', '--dir', B(), phoneId, 'are you Alice?']);
    const alarm = await waitFor(async () => (await cliJson(['status', '--dir', B()])).alarms.find((a: { reason: string; from?: string }) => a.reason === 'REVOKED_SIGNER' && a.from === phonePk), {
      what: 'a REVOKED_SIGNER alarm at Bob for the stolen phone\'s list', timeoutMs: 120_000, intervalMs: 500,
    });
    expect(alarm.personaId).toBe(persona);
    const p = (await personaAtBob())!;
    expect(p.epoch).toBe(1);
    expect(p.devices.map((d) => d.publicKey)).toEqual([alicePk]);
    expect(p.lastRevoked).toMatchObject({ epoch: 0, from: phonePk });
    const text = await cli(['personas', '--dir', B()]);
    expect(text.stdout).toMatch(/REVOKED_SIGNER seen: epoch 0/);
    const status = await cli(['status', '--dir', B()]);
    expect(status.stdout).toMatch(/REVOKED_SIGNER persona/);
  }, 150_000);
});

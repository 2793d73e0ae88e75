// A mixed network: a companion on the system's libtoxcore (0.2.18 on Debian 12) and one on libtoxcore 0.2.22 (Debian
// sid, fetched by scripts/get-libtoxcore.sh), each a `tox-persona run` child on the test's own tox-bootstrapd,
// befriend each other and verify each other's signed device list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { libtoxcoreEnv } from '../support/libtoxcore-child.js';
import { waitFor } from '../support/wait.js';
import { cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';

interface PersonaJson {
  personaId: string;
  state: string;
  devices: Array<{ publicKey: string }>;
}

async function personasOf(d: DaemonProcess): Promise<PersonaJson[]> {
  return ((await (await fetch(`${d.url}/personas`, { headers: { authorization: `Bearer ${d.token}` } })).json()) as { personas: PersonaJson[] }).personas;
}

describe('mixed libtoxcore versions on one network', () => {
  let root: string;
  let bootstrapd: Bootstrapd;
  let oldD: DaemonProcess | undefined;
  let newD: DaemonProcess | undefined;
  const system = libtoxcoreEnv('system');
  let sid: ReturnType<typeof libtoxcoreEnv>;
  beforeAll(async () => {
    sid = libtoxcoreEnv('sid');
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-mixed-'));
    bootstrapd = await startBootstrapd();
  }, 300_000);
  afterAll(async () => {
    await oldD?.stop();
    await newD?.stop();
    await bootstrapd?.close();
    await rm(root, { recursive: true, force: true });
  });

  it(`a ${system.version} companion and a 0.2.22 companion befriend each other and verify each other's persona`, async () => {
    expect(sid.version).not.toBe(system.version);
    const O = join(root, 'old');
    const N = join(root, 'new');
    const o = await cliJson(['init', '--dir', O, '--name', 'old-phone'], { env: system.env });
    const n = await cliJson(['init', '--dir', N, '--name', 'new-phone', '--policy', 'auto'], { env: sid.env });
    const runArgs = ['--bootstrap', bootstrapd.nodeString(), '--ttl', '3600'];
    oldD = await startDaemonProcess(O, runArgs, system.env);
    newD = await startDaemonProcess(N, [...runArgs, '--accept-requests', 'all'], sid.env);

    // Each daemon says which library it runs on.
    expect((await cliJson(['status', '--dir', O], { env: system.env })).libtoxcore).toBe(system.version);
    expect((await cliJson(['status', '--dir', N], { env: sid.env })).libtoxcore).toBe(sid.version);

    // The old side sends the request; the new side accepts every request by itself.
    expect((await cli(['friend', 'add', '--dir', O, n.toxId, 'hello from the old library'], { env: system.env })).code).toBe(0);
    const onNew = await waitFor(async () => (await personasOf(newD!)).find((p) => p.personaId === o.personaId && p.state === 'verified'), {
      what: `the ${sid.version} companion to verify the ${system.version} companion's list`, timeoutMs: 90_000, intervalMs: 500,
    });
    expect(onNew.devices.map((d) => d.publicKey)).toEqual([o.publicKey]);
    // The old side got the new side's list over the same friendship (its request, now accepted).
    const onOld = await waitFor(async () => (await personasOf(oldD!)).find((p) => p.personaId === n.personaId && p.state === 'verified'), {
      what: `the ${system.version} companion to verify the ${sid.version} companion's list`, timeoutMs: 90_000, intervalMs: 500,
    });
    expect(onOld.devices.map((d) => d.publicKey)).toEqual([n.publicKey]);
    const st = await cliJson(['status', '--dir', O], { env: system.env });
    expect(st.friends).toEqual({ online: 1, total: 1 });
  });
});

// End to end, crash safety with real processes: the owner's daemon is SIGKILLed at each named step of a change (test fault hook) while a friend's companion watches over a real local tox-bootstrapd; every restart converges and the friend refuses nothing and raises no alarm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { generateKeyPair } from '../../src/profile/keys.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { FAULT_ENV } from '../../src/util/fault.js';
import { waitFor } from '../support/wait.js';
import { CLI, cleanEnv, cli, cliJson, startDaemonProcess, type DaemonProcess } from './cli.js';

/** A fresh valid device key (a real X25519 public key). */
function deviceKey(): string {
  return bytesToHex(generateKeyPair().publicKey).toUpperCase();
}

/** GET a JSON endpoint of a daemon (/status and /personas need the admin token). */
async function json(d: DaemonProcess, path: string): Promise<any> {
  return (await fetch(`${d.url}${path}`, { headers: { authorization: `Bearer ${d.token}` } })).json();
}

/** Every list the friend refused or ignored and every alarm it raised, from its /metrics. */
async function friendComplaints(d: DaemonProcess): Promise<string[]> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  return text.split('\n').filter((l) => /^tox_persona_(lists_rejected_total|alarms_total)\{/.test(l) && !/ 0$/.test(l));
}

/** What a data directory must look like after any restart: no temp file, no journal, every file 0600. */
function expectCleanDir(dir: string): void {
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name));
    if (!st.isFile()) continue;
    expect(name, 'no temp or journal file survives a restart').not.toMatch(/\.tmp$|^commit\.journal$|\.\d+$/);
    expect(st.mode & 0o777, `${name} is 0600`).toBe(0o600);
  }
}

describe('a kill -9 at each step of a change: restart converges, the watching friend refuses nothing', () => {
  let root: string;
  let bootstrapd: Bootstrapd;
  let alice: DaemonProcess | undefined;
  let bob: DaemonProcess | undefined;
  const A = () => join(root, 'alice');
  const B = () => join(root, 'bob');
  let alicePersona = '';
  const runArgs = () => ['--bootstrap', bootstrapd.nodeString(), '--ttl', '3600', '--accept-requests', 'all'];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-crash-'));
    bootstrapd = await startBootstrapd();
    const a = await cliJson(['init', '--dir', A(), '--name', 'phone']);
    const b = await cliJson(['init', '--dir', B(), '--name', 'bob']);
    alicePersona = a.personaId;
    alice = await startDaemonProcess(A(), runArgs());
    bob = await startDaemonProcess(B(), runArgs());
    await cliJson(['friend', 'add', '--dir', A(), b.toxId, 'hi']);
    await waitFor(async () => (await json(bob!, '/personas')).personas.find((p: any) => p.personaId === alicePersona && p.state === 'verified'), {
      what: 'Bob to verify Alice\'s persona', timeoutMs: 90_000, intervalMs: 250,
    });
  }, 180_000);
  afterAll(async () => {
    await alice?.stop();
    await bob?.stop();
    await bootstrapd?.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Alice's list as Bob's table holds it, once it equals the list Alice's daemon publishes. */
  async function converged(): Promise<{ seq: number; devices: string[] }> {
    return waitFor(async () => {
      const own = await json(alice!, '/status');
      const entry = (await json(bob!, '/personas')).personas.find((p: any) => p.personaId === alicePersona);
      return entry && entry.seq === own.seq ? { seq: own.seq as number, devices: own.devices.map((d: any) => d.publicKey) as string[] } : undefined;
    }, { what: 'Bob\'s table to hold the list Alice\'s restarted daemon publishes', timeoutMs: 90_000, intervalMs: 250 }).catch((err: Error) => {
      throw new Error(`${err.message}\nalice:\n${alice!.logs().slice(-4000)}\nbob:\n${bob!.logs().slice(-3000)}`);
    });
  }

  // [fault spec, whether the change must survive]: before the commit point it is lost (never acknowledged), from it on it is kept.
  const points: Array<[string, boolean]> = [
    ['after-sign', false],
    ['after-sign>after-journal', true],
    ['after-sign>after-file:devices.json', true],
    ['after-sign>after-files', true],
    ['after-sign>after-save', true],
    ['after-sign>after-publish', true],
  ];
  for (const [fault, kept] of points) {
    it(`killed at ${fault}: the restart ${kept ? 'keeps' : 'drops'} the change, publishes no older list than Bob saw, and Bob refuses nothing`, async () => {
      await alice!.stop();
      alice = await startDaemonProcess(A(), runArgs(), { [FAULT_ENV]: fault });
      const before = await json(alice!, '/status');
      const pk = deviceKey();
      const answer = await fetch(`${alice.url}/api/deviceAdd`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ publicKey: pk, name: 'crash' }),
      }).then((r) => r.status, (err: Error) => err.message);
      // After publishing, the answer goes out before toxcore's next iterate (where the fault kills): acknowledged, hence kept.
      if (!fault.endsWith('after-publish')) expect(answer, 'the daemon died before answering').not.toBe(200);
      const dead = alice;
      let exit: { code: number | null } | undefined;
      void dead.exited().then((code) => (exit = { code }));
      expect((await waitFor(() => exit, { what: `the daemon to kill itself at ${fault}`, timeoutMs: 30_000 })).code, dead.logs()).toBeNull();
      expect(alice.logs()).toContain('TEST FAULT INJECTION ARMED');
      alice = await startDaemonProcess(A(), runArgs());
      expectCleanDir(A());
      const now = await converged();
      expect(now.devices.includes(pk), `device ${kept ? 'kept' : 'dropped'} after a kill at ${fault}`).toBe(kept);
      if (kept) expect(now.seq).toBeGreaterThan(before.seq);
      expect(await friendComplaints(bob!)).toEqual([]);
      expect((await json(bob!, '/status')).alarms).toEqual([]);
    });
  }

  it('device add whose daemon dies before answering (change saved): with no retry budget exit 6 naming the request id; the same command with that id then reports the first outcome, applied once', async () => {
    await alice!.stop();
    alice = await startDaemonProcess(A(), runArgs(), { [FAULT_ENV]: 'after-sign>after-save' });
    const pk = deviceKey();
    const r = await cli(['device', 'add', '--dir', A(), pk, '--name', 'lost-answer', '--request-id', 'lost-answer-1', '--json'], { env: { TOX_PERSONA_RETRY_SECONDS: '0' } });
    expect(r.code, r.stderr).toBe(6);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'OUTCOME_UNKNOWN', message: expect.stringContaining('--request-id lost-answer-1') });
    // The daemon is gone; the retry runs on the files under the lock and finds the saved outcome.
    const again = await cliJson(['device', 'add', '--dir', A(), pk, '--name', 'lost-answer', '--request-id', 'lost-answer-1']);
    expect(again.devices.filter((d: any) => d.publicKey === pk)).toHaveLength(1);
    alice = await startDaemonProcess(A(), runArgs());
    expect((await converged()).devices.filter((d) => d === pk)).toHaveLength(1);
    expect(await friendComplaints(bob!)).toEqual([]);
  });

  for (const [fault, saved] of [['after-sign', false], ['after-sign>after-journal', true]] as const) {
    it(`device add whose daemon is killed at ${fault}: the command retries by itself with its request id and exits 0, the device listed once`, async () => {
      await alice!.stop();
      alice = await startDaemonProcess(A(), runArgs(), { [FAULT_ENV]: fault });
      const pk = deviceKey();
      const r = await cli(['device', 'add', '--dir', A(), pk, '--name', saved ? 'saved' : 'unsaved', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).devices.filter((d: any) => d.publicKey === pk)).toHaveLength(1);
      alice = await startDaemonProcess(A(), runArgs());
      expect((await converged()).devices.filter((d) => d === pk)).toHaveLength(1);
      expect(await friendComplaints(bob!)).toEqual([]);
    });
  }

  // device enroll writes the new profile outside the data directory: a durable intent precedes it, and the restart
  // finishes the enrollment (profile complete) or drops it (profile never written); the retry never says OUTPUT_EXISTS.
  for (const [fault, finished] of [['after-enroll-intent', false], ['after-enroll-file', true]] as const) {
    it(`device enroll whose daemon is killed at ${fault}: the retry with the same request id ${finished ? 'gets the first outcome (the restart finished the enrollment)' : 'enrolls (nothing of the first attempt was applied)'}, applied once; Bob refuses nothing`, async () => {
      await alice!.stop();
      alice = await startDaemonProcess(A(), runArgs(), { [FAULT_ENV]: fault });
      const before: string[] = (await json(alice!, '/status')).devices.map((d: any) => d.publicKey);
      const out = join(root, `laptop-${fault}.tox`);
      const id = `enroll-${fault}`;
      const args = ['device', 'enroll', '--dir', A(), out, '--name', 'laptop', '--request-id', id];
      const first = await cli([...args, '--json'], { env: { TOX_PERSONA_RETRY_SECONDS: '0' } });
      expect(first.code, first.stderr).toBe(6);
      const dead = alice;
      let exit: { code: number | null } | undefined;
      void dead.exited().then((code) => (exit = { code }));
      expect((await waitFor(() => exit, { what: `the daemon to kill itself at ${fault}`, timeoutMs: 30_000 })).code, dead.logs()).toBeNull();
      expect(existsSync(out), `the new profile ${finished ? 'was' : 'was not'} written before the kill`).toBe(finished);
      alice = await startDaemonProcess(A(), runArgs());
      expect(alice.logs()).toContain(finished ? 'finished a device enroll that a crash interrupted' : 'dropped a device enroll that a crash interrupted');
      const again = await cliJson(args);
      const inFile = (await cliJson(['profile', 'inspect', out])).publicKey as string;
      expect(again.out).toBe(out);
      expect(again.publicKey, 'the outcome names the device whose profile is in OUT').toBe(inFile);
      expect(again.devices.map((d: any) => d.publicKey)).toEqual([...before, inFile]);
      // Asked once more: the same outcome, not a second device.
      expect((await cliJson(args)).publicKey).toBe(inFile);
      // Another request for the same path is a new request: the path is taken.
      const other = await cli(['device', 'enroll', '--dir', A(), out, '--request-id', `${id}-other`, '--json']);
      expect(other.code, other.stderr).toBe(5);
      expect(JSON.parse(other.stderr).error.code).toBe('OUTPUT_EXISTS');
      expect(readdirSync(root).filter((n) => n.endsWith('.tmp')), 'no temp copy of the new profile (it holds its secret key)').toEqual([]);
      expectCleanDir(A());
      expect((await converged()).devices).toEqual([...before, inFile]);
      expect(await friendComplaints(bob!)).toEqual([]);
      expect((await json(bob!, '/status')).alarms).toEqual([]);
    });
  }

  it('devices.json one list behind the list in the profile\'s status message (an older version\'s crash, a partial restore): the restart continues from the newer list, Bob refuses nothing', async () => {
    const older = readFileSync(join(A(), 'devices.json'));
    const r = await cliJson(['device', 'add', '--dir', A(), deviceKey(), '--name', 'newer']);
    const seen = await converged();
    expect(seen.devices).toEqual(r.devices.map((d: any) => d.publicKey));
    expect(await alice!.stop()).toBe(0);
    writeFileSync(join(A(), 'devices.json'), older, { mode: 0o600 });
    alice = await startDaemonProcess(A(), runArgs());
    expect(alice.logs()).toContain('devices.json is older than the list in our own status message');
    const now = await converged();
    expect(now.seq).toBe(seen.seq);
    expect(now.devices).toEqual(seen.devices);
    expect(await friendComplaints(bob!)).toEqual([]);
    // The owner's next change builds on the newest list.
    const next = await cli(['device', 'list', '--dir', A(), '--json']);
    expect(JSON.parse(next.stdout).devices.map((d: any) => d.name)).toContain('newer');
  });
});

const HOLDER = resolve(import.meta.dirname, '../support/lock-holder.ts');

/** A process holding the kernel lock on `path` until killed; resolves once it holds it. */
async function holdLock(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => /locked \d+/.test(out), { what: `a process to hold ${path}`, timeoutMs: 30_000 });
  return child;
}

describe('a command while a daemon is starting on the directory', () => {
  it('waits for it (daemon.lock and lock held, no daemon.json yet) instead of failing LOCKED, and runs once the directory is free', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tp-e2e-starting-'));
    const holders: ChildProcess[] = [];
    try {
      const dir = join(root, 'a');
      await cliJson(['init', '--dir', dir, '--name', 'phone']);
      // What a daemon holds while it starts, before daemon.json names it.
      holders.push(await holdLock(join(dir, 'daemon.lock')), await holdLock(join(dir, 'lock')));
      const pk = deviceKey();
      const cmd = spawn(process.execPath, [CLI, 'device', 'add', '--dir', dir, pk, '--name', 'late', '--json'], { env: cleanEnv({ TOX_PERSONA_RETRY_SECONDS: '60' }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      cmd.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      cmd.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = new Promise<number | null>((r) => cmd.on('exit', r));
      await waitFor(() => stderr.includes('waiting for it'), { what: 'the command to say it waits for the locked data directory', timeoutMs: 30_000 });
      for (const h of holders) h.kill('SIGKILL');
      expect(await code, stderr).toBe(0);
      expect(JSON.parse(stdout).devices.map((d: any) => d.publicKey)).toContain(pk);
    } finally {
      for (const h of holders) h.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});

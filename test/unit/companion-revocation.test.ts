// Issue 9's three failures, at the companion level (stub nodes, real data directories, the real reducer and key
// files): Alice's devices sign with certified signers, Bob's companion follows the root and refuses the rest.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import { runOperation } from '../../src/companion/ops.js';
import { certifyNewSigner, rootKeyFile } from '../../src/companion/signer.js';
import * as P from '../../src/companion/persona-port.js';
import { buildStatusMessage } from '../../src/persona/index.js';
import { commitFiles } from '../../src/util/fs.js';
import { FILES } from '../../src/companion/datadir.js';
import { encodeRecoveryKey } from '../../src/persona/recovery.js';
import { nextDeviceList, signDeviceList } from '../../src/persona/list.js';
import type { PersonaKeyPair } from '../../src/persona/keys.js';
import { FakeNode } from '../support/fake-node.js';

const pk = () => { const b = randomBytes(32); b[31]! &= 0x7f; return b.toString('hex').toUpperCase(); };
const bin = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const DAY = 86_400;
const YEAR = 365 * DAY;

describe('issue 9 at the companion level: revocation that sticks', () => {
  const dirs: string[] = [];
  const open: Companion[] = [];
  let root: PersonaKeyPair;
  let t0: number;

  beforeEach(async () => {
    await P.ready();
    root = (await P.newPersonaKey()).pair;
    t0 = Math.floor(Date.now() / 1000);
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** One of Alice's devices: a data directory with its own certified signer (and the root when `withRoot`), starting from `list`. */
  async function aliceDevice(node: FakeNode, list: P.SignedDeviceList | undefined, o: { withRoot?: boolean; clock?: () => number; devices?: P.DeviceView[] } = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'tp-rev-'));
    dirs.push(dir);
    const { signer, files } = await certifyNewSigner(root, list?.list.epoch ?? 0, '');
    const keys: P.OwnKeys = { personaId: root.publicKey, root: o.withRoot ? root : null, signer };
    const own = list ?? P.signNext(undefined, o.devices ?? [{ publicKey: node.publicKey, name: '' }], keys, (o.clock ?? (() => t0))(), 7 * DAY);
    await commitFiles(dir, [...(o.withRoot ? [await rootKeyFile(root, '')] : []), ...files, { name: FILES.devices, data: JSON.stringify(P.ownListToJson(own)) }]);
    return { dir, own, start: () => startCompanion(dir, node, o.clock) };
  }

  async function startCompanion(dir: string, node: FakeNode, clock = () => t0): Promise<Companion> {
    const config = loadConfig({ dir, env: {}, readFile: false });
    const c = new Companion(config, await loadCompanionState(dir, node.publicKey, config.ttlSeconds, clock()), { node, log: createLogger({ level: 'silent' }), now: clock });
    await c.start([]);
    open.push(c);
    return c;
  }

  /** Bob's companion: his own persona, and Alice's first device as a friend he added by hand. */
  async function bob(aliceFriend: string, clock = () => t0) {
    const dir = await mkdtemp(join(tmpdir(), 'tp-rev-bob-'));
    dirs.push(dir);
    await P.writePersonaKey(join(dir, FILES.personaKey), await P.newPersonaKey());
    const node = new FakeNode(pk());
    node.addFriend(aliceFriend);
    const c = await startCompanion(dir, node, clock);
    await runOperation(c, 'friendAdd', { toxId: `${aliceFriend}000000000000` });
    return { c, node, dir };
  }
  const personaAt = (c: Companion) => c.personas().find((p) => p.personaId === P.personaIdHex({ pair: root }));
  const devicesAt = (c: Companion) => personaAt(c)?.devices.map((d) => d.publicKey);

  it('failure 1: a stale sibling (server D1) cannot undo the revocation that laptop D2 made: its refresh is a rollback, its change a fork', async () => {
    const n1 = new FakeNode(pk());
    const n2 = new FakeNode(pk());
    const S = pk();
    const first = await aliceDevice(n1, undefined, { devices: [{ publicKey: n1.publicKey, name: 'server' }, { publicKey: n2.publicKey, name: 'laptop' }, { publicKey: S, name: 'phone' }] });
    let now = t0;
    const clock = () => now;
    const d1 = await startCompanion(first.dir, n1, clock);
    const d2 = await (await aliceDevice(n2, first.own, { clock })).start();
    const b = await bob(n1.publicKey, clock);
    b.c.onStatusMessage(n1.publicKey, n1.status);
    expect(b.node.friend(S), 'Bob adds the phone the list names').toBeDefined();
    expect(b.node.friend(n2.publicKey)).toBeDefined();

    // The phone is stolen; on the laptop Alice removes it. Bob's companion drops it.
    now += 100;
    await runOperation(d2, 'deviceRemove', { device: 'phone' });
    b.c.onStatusMessage(n2.publicKey, n2.status);
    expect(b.node.friend(S), 'Bob drops the stolen phone').toBeUndefined();
    expect(devicesAt(b.c)).toEqual([n1.publicKey, n2.publicKey]);

    // Half a ttl later the server, which never saw that list, refreshes its own view {D1, D2, S} automatically.
    now += 3.5 * DAY;
    const before = n1.status;
    d1.dispatch({ type: 'timer', now });
    await d1.flush();
    expect(n1.status, 'the server refreshed').not.toBe(before);
    expect(P.verifyStatus(n1.status, now)).toMatchObject({ ok: true, seq: first.own.list.seq });
    expect(b.c.onStatusMessage(n1.publicKey, n1.status)).toMatchObject({ kind: 'ignored', reason: 'ROLLBACK' });
    expect(b.node.friend(S), 'a refresh re-added the thief\'s phone').toBeUndefined();

    // A real change on the stale server (it activates itself) is built from the old list: a fork, held with an alarm.
    await runOperation(d1, 'deviceActivate', { device: 'server' });
    expect(b.c.onStatusMessage(n1.publicKey, n1.status)).toMatchObject({ kind: 'pending', reason: 'FORK' });
    expect(b.node.friend(S), 'a fork re-added the thief\'s phone').toBeUndefined();
    expect(devicesAt(b.c)).toEqual([n1.publicKey, n2.publicKey]);
    expect(b.c.status().alarms.map((a) => a.reason)).toContain('FORK');
    expect(personaAt(b.c)?.pending?.map((p) => p.reason)).toEqual(['FORK']);

    // When the siblings talk, the laptop does not adopt the server's fork either: it keeps its list and raises FORK.
    d2.onStatusMessage(n1.publicKey, n1.status);
    expect(P.devicesOf(d2.ownList.list).map((d) => d.name)).toEqual(['server', 'laptop']);
    expect(d2.status().alarms.map((a) => a.reason)).toContain('FORK');
  });

  it('failure 2: a stolen signer signs seq 2^48-1 (refused) and a list without Alice (applied); Alice rotates with the recovery key; Bob follows by himself and refuses the thief with an alarm', async () => {
    const nA = new FakeNode(pk());
    const nT = new FakeNode(pk());
    const devices = [{ publicKey: nA.publicKey, name: 'server' }, { publicKey: nT.publicKey, name: 'phone' }];
    const a = await aliceDevice(nA, undefined, { withRoot: true, devices });
    const alice = await a.start();
    const thiefDir = await aliceDevice(nT, a.own);
    const thief = await thiefDir.start();
    nA.addFriend(nT.publicKey);
    const b = await bob(nA.publicKey);
    b.c.onStatusMessage(nA.publicKey, nA.status);
    expect(b.node.friend(nT.publicKey), 'Bob adds the phone').toBeDefined();
    b.c.onStatusMessage(nT.publicKey, nT.status);
    expect(personaAt(b.c)?.devices.find((d) => d.publicKey === nT.publicKey)?.confirmed).toBe(true);

    // The phone is stolen with its signer. The thief signs the version-1 lockout: seq 2^48-1.
    const signer = thief.keys.signer!;
    const lockout = signDeviceList({ ...nextDeviceList(thief.ownList.list, [{ publicKey: bin(nT.publicKey), name: '' }], { now: t0 + 10 }), seq: 2 ** 48 - 1 }, signer.key, signer.cert);
    const lockoutText = buildStatusMessage(lockout, '');
    const bobBefore = personaAt(b.c);
    expect(b.c.onStatusMessage(nT.publicKey, lockoutText)).toMatchObject({ kind: 'rejected', reason: 'SEQ_AHEAD' });
    expect(personaAt(b.c)).toEqual(bobBefore);
    // Alice's own companion does not adopt it and can still change her list.
    alice.onStatusMessage(nT.publicKey, lockoutText);
    expect(alice.ownList.list.seq).toBe(a.own.list.seq);

    // Within epoch 0 the thief can sign a plausible list without Alice's server: Bob follows it, Alice's companion alarms.
    await runOperation(thief, 'deviceRemove', { device: 'server' });
    expect(b.c.onStatusMessage(nT.publicKey, nT.status)).toMatchObject({ kind: 'applied' });
    expect(devicesAt(b.c)).toEqual([nT.publicKey]);
    alice.onStatusMessage(nT.publicKey, nT.status);
    expect(alice.status().alarms.map((x) => x.reason)).toContain('SELF_DROPPED');
    expect(P.devicesOf(alice.ownList.list).map((d) => d.name)).toEqual(['server', 'phone']);

    // Alice took the root off the server earlier (proof: the recovery key typed back); she rotates with the recovery key.
    const recoveryKey = encodeRecoveryKey(root);
    await runOperation(alice, 'personaRootRemove', { recoveryKey });
    expect(existsSync(join(a.dir, FILES.personaKey))).toBe(false);
    await expect(runOperation(alice, 'personaRotate', { drop: ['phone'] })).rejects.toMatchObject({ code: 'RECOVERY_KEY_REQUIRED' });
    const r = (await runOperation(alice, 'personaRotate', { drop: ['phone'], recoveryKey })) as { epoch: number };
    expect(r.epoch).toBe(1);
    expect(P.verifyStatus(nA.status, t0)).toMatchObject({ ok: true, devices: [{ publicKey: nA.publicKey, name: 'server' }] });

    // Bob's companion follows the new epoch by itself, and drops the phone it had added.
    expect(b.c.onStatusMessage(nA.publicKey, nA.status)).toMatchObject({ kind: 'applied' });
    expect(devicesAt(b.c)).toEqual([nA.publicKey]);
    expect(personaAt(b.c)?.epoch).toBe(1);
    expect(b.node.friend(nT.publicKey), 'Bob still has the thief\'s phone').toBeUndefined();

    // The thief signs on (a higher seq than anything before): refused as revoked, with an alarm in status and personas.
    await runOperation(thief, 'deviceAdd', { publicKey: pk(), name: 'mallory' });
    expect(b.c.onStatusMessage(nT.publicKey, nT.status)).toMatchObject({ kind: 'ignored', reason: 'EPOCH_REVOKED' });
    expect(devicesAt(b.c)).toEqual([nA.publicKey]);
    expect(b.c.status().alarms.map((x) => x.reason)).toContain('REVOKED_SIGNER');
    expect(personaAt(b.c)?.lastRevoked).toMatchObject({ epoch: 0, from: nT.publicKey });

    // After a restart Bob still knows the epoch: the thief's list stays refused.
    await b.c.close();
    open.splice(open.indexOf(b.c), 1);
    const bob2 = await startCompanion(b.dir, b.node);
    expect(bob2.onStatusMessage(nT.publicKey, nT.status)).toMatchObject({ kind: 'ignored', reason: 'EPOCH_REVOKED' });

    // Alice's server keeps signing day to day without the root (its new signer), and the stolen signer can't sign for it.
    await runOperation(alice, 'deviceAdd', { publicKey: pk(), name: 'new-phone' });
    expect(b.c === bob2).toBe(false);
    expect(bob2.onStatusMessage(nA.publicKey, nA.status)).toMatchObject({ kind: 'applied' });
    expect(personaAt(bob2)?.devices.map((d) => d.name)).toEqual(['server', 'new-phone']);
  });

  it('failure 3: one signer\'s clock 50 years ahead freezes nobody: its lists are refused, the other signer goes on', async () => {
    const n1 = new FakeNode(pk());
    const n2 = new FakeNode(pk());
    const devices = [{ publicKey: n1.publicKey, name: 'server' }, { publicKey: n2.publicKey, name: 'laptop' }];
    const first = await aliceDevice(n1, undefined, { devices });
    let good = t0;
    let bad = t0 + 50 * YEAR;
    const d1 = await startCompanion(first.dir, n1, () => good);
    const d2 = await (await aliceDevice(n2, first.own, { clock: () => bad })).start();
    n1.addFriend(n2.publicKey);
    const b = await bob(n1.publicKey, () => good);
    b.c.onStatusMessage(n1.publicKey, n1.status);
    const seq0 = personaAt(b.c)?.seq;

    // The laptop, its clock 50 years ahead, signs a change: seq and issuedAt 50 years ahead.
    await runOperation(d2, 'deviceAdd', { publicKey: pk(), name: 'glitch' });
    expect(b.c.onStatusMessage(n2.publicKey, n2.status)).toMatchObject({ kind: 'rejected', reason: 'FUTURE_DATED' });
    d1.onStatusMessage(n2.publicKey, n2.status);
    expect(P.devicesOf(d1.ownList.list).map((d) => d.name), 'the server adopted a list from the future').toEqual(['server', 'laptop']);
    // The same seq with an honest issuedAt (a signer that bumps seq alone) is refused for its seq.
    const s = d2.keys.signer!;
    const ahead = signDeviceList({ ...nextDeviceList(first.own.list, [{ publicKey: bin(n1.publicKey), name: '' }, { publicKey: bin(n2.publicKey), name: '' }], { now: good }), seq: Math.floor(bad * 1000) }, s.key, s.cert);
    expect(b.c.onStatusMessage(n2.publicKey, buildStatusMessage(ahead, ''))).toMatchObject({ kind: 'rejected', reason: 'SEQ_AHEAD' });
    expect(personaAt(b.c)?.seq).toBe(seq0);

    // The server's next change, with the right clock, is applied at once.
    good += 60;
    await runOperation(d1, 'deviceAdd', { publicKey: pk(), name: 'tablet' });
    expect(b.c.onStatusMessage(n1.publicKey, n1.status)).toMatchObject({ kind: 'applied' });
    expect(personaAt(b.c)?.devices.map((d) => d.name)).toEqual(['server', 'laptop', 'tablet']);

    // Once the laptop's clock is fixed it refuses to sign from its list of the future (it does not publish one
    // receivers would refuse), rather than freezing anyone.
    bad = good;
    await expect(runOperation(d2, 'deviceAdd', { publicKey: pk(), name: 'x' })).rejects.toMatchObject({ code: 'SEQ_AHEAD_OF_CLOCK' });
  });

  it('after a rotation on another device, a sibling adopts the new epoch; without the root it refuses changes (SIGNER_REVOKED) until signer-renew with the recovery key', async () => {
    const n1 = new FakeNode(pk());
    const n2 = new FakeNode(pk());
    const devices = [{ publicKey: n1.publicKey, name: 'server' }, { publicKey: n2.publicKey, name: 'laptop' }];
    const first = await aliceDevice(n1, undefined, { withRoot: true, devices });
    const d1 = await first.start();
    const d2 = await (await aliceDevice(n2, first.own)).start();
    await runOperation(d1, 'personaRotate', {});
    d2.onStatusMessage(n1.publicKey, n1.status);
    expect(d2.ownList.list.epoch, 'the laptop adopted epoch 1').toBe(1);
    expect(d2.status().alarms.map((a) => a.reason)).toContain('SIGNER_REVOKED');
    expect(await runOperation(d2, 'personaKeys', {})).toMatchObject({ epoch: 1, root: false, signer: { epoch: 0 }, signerRevoked: true });
    await expect(runOperation(d2, 'deviceAdd', { publicKey: pk(), name: 'x' })).rejects.toMatchObject({ code: 'SIGNER_REVOKED' });
    await runOperation(d2, 'personaSignerRenew', { recoveryKey: encodeRecoveryKey(root) });
    expect(await runOperation(d2, 'personaKeys', {})).toMatchObject({ epoch: 1, signer: { epoch: 1 }, signerRevoked: false });
    await runOperation(d2, 'deviceAdd', { publicKey: pk(), name: 'tablet' });
    // The server, with the root, signs on at epoch 1 after adopting that change.
    d1.onStatusMessage(n2.publicKey, n2.status);
    expect(P.devicesOf(d1.ownList.list).map((d) => d.name)).toEqual(['server', 'laptop', 'tablet']);
  });
});

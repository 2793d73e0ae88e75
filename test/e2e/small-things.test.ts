// The small things users see: the Tox name set by init, the separated status text, blob's expiry, enroll's advice, a pending join.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliJson } from './cli.js';

describe('what init, blob and device enroll tell the user', () => {
  let root: string;
  const dir = () => join(root, 'alice');
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-small-'));
    await cliJson(['init', '--dir', dir(), '--name', 'phone']);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('init --name is also the Tox name, so friends do not see "Anonymous"', async () => {
    const p = await cliJson(['profile', 'inspect', join(dir(), 'profile.tox')]);
    expect(p.name).toBe('phone');
  });

  it('the default status text is separated from the marker by a space, and the list still verifies', async () => {
    const b = await cliJson(['blob', '--dir', dir()]);
    expect(b.statusMessage).toBe(`tox-persona ${b.blob}`);
    const v = await cliJson(['verify', b.statusMessage]);
    expect(v).toMatchObject({ ok: true, human: 'tox-persona ' });
  });

  it('blob says when the list expires: on stderr in text mode (stdout stays pasteable), and in --json', async () => {
    const b = await cliJson(['blob', '--dir', dir()]);
    expect(b.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(b.expires).toBe(new Date(b.expiresAt * 1000).toISOString());
    const text = await cli(['blob', '--dir', dir()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`${b.statusMessage}\n`);
    expect(text.stderr).toContain(`the signed list expires ${b.expires}`);
  });

  it('a device made with init --join that waits for its certificate says so, instead of "run init first"', async () => {
    const joining = join(root, 'tablet');
    await cliJson(['init', '--dir', joining, '--name', 'tablet', '--join']);
    for (const args of [['run', '--dir', joining, '--network', 'local'], ['status', '--dir', joining]]) {
      const r = await cli(args);
      expect(r.code, args[0]).not.toBe(0);
      expect(r.stderr, args[0]).toContain('waits for its signer certificate');
      expect(r.stderr, args[0]).toContain(`persona join CERTIFICATE --dir ${joining}`);
      expect(r.stderr, args[0]).not.toContain('run "tox-persona init');
    }
  });

  it('device enroll says which friends add the device by themselves and which need profile sync', async () => {
    const r = await cli(['device', 'enroll', '--dir', dir(), join(root, 'laptop.tox'), '--name', 'laptop']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('friends who run a tox-persona companion add it by themselves');
    expect(r.stdout).toContain('tox-persona profile sync');
  });

  it('device enroll makes the new device and this one friends; status warns about an own device that is not a friend', async () => {
    const me = await cliJson(['status', '--dir', dir()]);
    const out = join(root, 'tablet.tox');
    const r = await cliJson(['device', 'enroll', '--dir', dir(), out, '--name', 'tablet']);
    const tablet = await cliJson(['profile', 'inspect', out]);
    expect(tablet.friends.map((f: any) => f.publicKey)).toContain(me.publicKey);
    const friends = (await cliJson(['friend', 'list', '--dir', dir()])).friends.map((f: any) => f.publicKey);
    expect(friends).toContain(r.publicKey);
    // A device added by key alone (its profile made elsewhere) is befriended by itself (issue 12: siblings are friends);
    // once the user removes that friend, the device is listed but not a friend, and status says so.
    const stranger = '5'.repeat(64);
    await cliJson(['device', 'add', '--dir', dir(), stranger, '--name', 'tv']);
    expect((await cliJson(['friend', 'list', '--dir', dir()])).friends.map((f: any) => f.publicKey)).toContain(stranger);
    await cliJson(['friend', 'remove', '--dir', dir(), stranger]);
    const st = await cliJson(['status', '--dir', dir()]);
    expect(st.siblingsNotFriends).toEqual([stranger]);
    const text = await cli(['status', '--dir', dir()]);
    expect(text.stdout).toContain(`warning: own device ${stranger} is not a Tox friend of this one`);
  });
});

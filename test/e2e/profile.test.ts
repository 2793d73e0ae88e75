// The built `tox-persona profile` commands as child processes: what a user runs, with real exit codes and stderr.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptProfile, loadProfileBytes } from '../../src/profile/index.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { addFriendNoRequest, buildSocialProfile, friendKeysHex, getSavedata, newRawTox, selfPublicKey, type SocialProfile } from '../support/profile-tox.js';
import { generateKeyPair } from '../../src/profile/keys.js';
import { spawn } from 'node:child_process';
import { CLI, cleanEnv, cli } from './cli.js';

let social: SocialProfile;
let dir: string;

beforeAll(async () => {
  social = buildSocialProfile();
  dir = await mkdtemp(join(tmpdir(), 'tp-e2e-profile-'));
  await writeFile(join(dir, 'alice.tox'), social.savedata);
  await writeFile(join(dir, 'alice-enc.tox'), encryptProfile(social.savedata, 'open sesame'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tox-persona profile (built CLI)', () => {
  it('inspect prints the profile; --json is machine-readable and has no secret key', async () => {
    const text = await cli(['profile', 'inspect', join(dir, 'alice.tox')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(bytesToHex(social.publicKey));
    const json = await cli(['profile', 'inspect', join(dir, 'alice.tox'), '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { publicKey: string; secretKey?: string; friends: unknown[] };
    expect(parsed.publicKey).toBe(bytesToHex(social.publicKey));
    expect(parsed.secretKey).toBeUndefined();
    expect(parsed.friends).toHaveLength(4);
  });

  it('a --json answer larger than a pipe holds arrives whole (the CLI exits only once its output is written out)', async () => {
    const t = newRawTox({ udp: false });
    try {
      for (let i = 0; i < 1500; i++) addFriendNoRequest(t.tox, generateKeyPair().publicKey);
      await writeFile(join(dir, 'many.tox'), getSavedata(t.tox));
    } finally {
      t.kill();
    }
    // A slow reader: nothing is read until the CLI exits, or for 3 s. A CLI that exits with output still queued
    // (more than the 64 KiB a pipe holds) loses it; one that waits for its output to be taken exits after we read.
    const child = spawn(process.execPath, [CLI, 'profile', 'inspect', join(dir, 'many.tox'), '--json'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    let out = '';
    for await (const chunk of child.stdout) out += (chunk as Buffer).toString();
    expect(await exited).toBe(0);
    expect(out.length).toBeGreaterThan(4 * 65536);
    expect((JSON.parse(out) as { friends: unknown[] }).friends).toHaveLength(1500);
  });

  it('an encrypted profile without a passphrase: exit 5 and a typed error on stderr; with TOX_PERSONA_PASSPHRASE it works', async () => {
    const refused = await cli(['profile', 'inspect', join(dir, 'alice-enc.tox'), '--json']);
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { code: 'ENCRYPTED' } });
    const ok = await cli(['profile', 'inspect', join(dir, 'alice-enc.tox')], { env: { TOX_PERSONA_PASSPHRASE: 'open sesame' } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Encrypted:       yes');
  });

  it('rekey writes a 0600 profile that libtoxcore loads with the printed key; it refuses to overwrite (5) and needs OUT (2)', async () => {
    const out = join(dir, 'laptop.tox');
    const r = await cli(['profile', 'rekey', join(dir, 'alice.tox'), out, '--name', 'laptop', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { publicKey: string; friendCount: number };
    expect(printed.friendCount).toBe(4);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const t = newRawTox({ savedata: loadProfileBytes(new Uint8Array(await readFile(out))).plain, udp: false });
    try {
      expect(bytesToHex(selfPublicKey(t.tox))).toBe(printed.publicKey);
      expect(friendKeysHex(t.tox)).toEqual(social.friendKeys);
    } finally {
      t.kill();
    }
    const again = await cli(['profile', 'rekey', join(dir, 'alice.tox'), out]);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('OUTPUT_EXISTS');
    const same = await cli(['profile', 'rekey', join(dir, 'alice.tox'), join(dir, 'alice.tox')]);
    expect(same.code).toBe(5);
    expect(same.stderr).toContain('SAME_FILE');
    expect((await cli(['profile', 'rekey', join(dir, 'alice.tox')])).code).toBe(2);
  });

  it('rekey of an encrypted profile keeps it encrypted', async () => {
    const passFile = join(dir, 'pass.txt');
    await writeFile(passFile, 'open sesame\n');
    const out = join(dir, 'laptop-enc.tox');
    const r = await cli(['profile', 'rekey', join(dir, 'alice-enc.tox'), out, '--passphrase-file', passFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { encrypted: boolean }).encrypted).toBe(true);
    expect(loadProfileBytes(new Uint8Array(await readFile(out)), { passphrase: 'open sesame' }).encrypted).toBe(true);
  });
});

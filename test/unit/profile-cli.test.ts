// The `profile inspect` / `profile rekey` commands: output, secrets hidden by default, passphrases, exit codes.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerProfileCommands, PASSPHRASE_ENV, type InspectOutput, type RekeyOutput } from '../../src/cli/profile.js';
import { main } from '../../src/cli/main.js';
import { ProfileError, decryptProfile, encryptProfile, readProfileFile, findSection, parseProfile, writeProfile } from '../../src/profile/index.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { buildSocialProfile, friendKeysHex, newRawTox, selfPublicKey, type SocialProfile } from '../support/profile-tox.js';

let social: SocialProfile;
let dir: string;
let n = 0;
const path = (name: string) => join(dir, `${++n}-${name}`);

beforeAll(async () => {
  social = buildSocialProfile();
  dir = await mkdtemp(join(tmpdir(), 'tp-profile-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env[PASSPHRASE_ENV];
});

/** Runs `profile ...` on a fresh local program and returns what it printed on stdout. */
async function run(args: string[]): Promise<string> {
  const program = new Command('tox-persona').exitOverride();
  registerProfileCommands(program);
  for (const c of program.commands) {
    c.exitOverride();
    c.commands.forEach((s) => s.exitOverride());
  }
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    await program.parseAsync(['profile', ...args], { from: 'user' });
  } finally {
    vi.restoreAllMocks();
  }
  return out;
}

async function runError(args: string[]): Promise<ProfileError> {
  const err = await run(args).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProfileError);
  return err as ProfileError;
}

describe('profile inspect', () => {
  it('shows the identity, name and friends, and never the secret key without --show-secrets', async () => {
    const file = path('alice.tox');
    await writeFile(file, social.savedata);
    const secret = bytesToHex(findSection((await readProfileFile(file)).profile, 'nospamKeys')!.secretKey);
    const text = await run(['inspect', file]);
    expect(text).toContain(bytesToHex(social.publicKey));
    expect(text).toContain(social.name);
    expect(text).toContain('Friends:         4');
    expect(text).not.toContain(secret);
    const json = JSON.parse(await run(['inspect', file, '--json'])) as InspectOutput;
    expect(json.publicKey).toBe(bytesToHex(social.publicKey));
    expect(json.friends.map((f) => f.publicKey)).toEqual(social.friendKeys);
    expect(JSON.stringify(json)).not.toContain(secret);
    const shown = JSON.parse(await run(['inspect', file, '--json', '--show-secrets'])) as InspectOutput;
    expect(shown.secretKey).toBe(secret);
    expect(await run(['inspect', file, '--show-secrets'])).toContain(secret);
  });

  it('an encrypted profile needs a passphrase: from --passphrase-file or $TOX_PERSONA_PASSPHRASE', async () => {
    const file = path('enc.tox');
    await writeFile(file, encryptProfile(social.savedata, 'secret words'));
    expect((await runError(['inspect', file])).code).toBe('ENCRYPTED');
    const passFile = path('pass.txt');
    await writeFile(passFile, 'secret words\n');
    expect((JSON.parse(await run(['inspect', file, '--json', '--passphrase-file', passFile])) as InspectOutput).encrypted).toBe(true);
    process.env[PASSPHRASE_ENV] = 'secret words';
    expect(await run(['inspect', file])).toContain(bytesToHex(social.publicKey));
    process.env[PASSPHRASE_ENV] = 'wrong words';
    expect((await runError(['inspect', file])).code).toBe('BAD_PASSPHRASE');
  });

  it("friends' names can't drive the terminal: control characters and bidi overrides are shown escaped", async () => {
    const p = parseProfile(social.savedata);
    findSection(p, 'friends')!.friends[0]!.name = new TextEncoder().encode('Eve\u001b[2J\u009b31m\u202eevil');
    const file = path('eve.tox');
    await writeFile(file, writeProfile(p));
    const text = await run(['inspect', file]);
    expect(text).toContain('"Eve\\u001b[2J\\u009b31m\\u202eevil"');
    expect(text).not.toMatch(/[\u001b\u009b\u202e]/);
  });

  it('a file that is not a profile gives a typed error', async () => {
    const file = path('junk.tox');
    await writeFile(file, 'hello');
    expect((await runError(['inspect', file])).code).toBe('BAD_MAGIC');
    expect((await runError(['inspect', path('missing.tox')])).code).toBe('READ_FAILED');
  });
});

describe('profile rekey', () => {
  it('writes a profile libtoxcore loads with the printed new key and the same friends', async () => {
    const input = path('in.tox');
    await writeFile(input, social.savedata);
    const out = path('laptop.tox');
    const r = JSON.parse(await run(['rekey', input, out, '--name', 'laptop', '--status-message', 'second device', '--json'])) as RekeyOutput;
    expect(r.previousPublicKey).toBe(bytesToHex(social.publicKey));
    expect(r.friendCount).toBe(4);
    const loaded = await readProfileFile(out);
    const t = newRawTox({ savedata: loaded.plain, udp: false });
    try {
      expect(bytesToHex(selfPublicKey(t.tox))).toBe(r.publicKey);
      expect(friendKeysHex(t.tox)).toEqual(social.friendKeys);
    } finally {
      t.kill();
    }
    const text = await run(['rekey', input, path('text.tox')]);
    expect(text).toMatch(/New Tox ID: +[0-9A-F]{76}/);
  });

  it('--new-passphrase-file encrypts the output; an encrypted input stays encrypted', async () => {
    const input = path('plain.tox');
    await writeFile(input, social.savedata);
    const passFile = path('new-pass.txt');
    await writeFile(passFile, 'fresh pass');
    const out = path('enc-out.tox');
    const r = JSON.parse(await run(['rekey', input, out, '--new-passphrase-file', passFile, '--json'])) as RekeyOutput;
    expect(r.encrypted).toBe(true);
    expect((await readProfileFile(out, { passphrase: 'fresh pass' })).encrypted).toBe(true);
    process.env[PASSPHRASE_ENV] = 'fresh pass';
    const out2 = path('enc-out2.tox');
    const r2 = JSON.parse(await run(['rekey', out, out2, '--json'])) as RekeyOutput;
    expect(r2.encrypted).toBe(true);
    const decrypted = decryptProfile(new Uint8Array(await readFile(out2)), 'fresh pass');
    expect(bytesToHex(findSection(parseProfile(decrypted), 'nospamKeys')!.publicKey)).toBe(r2.publicKey);
  });

  it('an empty passphrase file is a usage error and writes nothing', async () => {
    const input = path('in.tox');
    await writeFile(input, social.savedata);
    const empty = path('empty.txt');
    await writeFile(empty, '\n');
    const before = await readdir(dir);
    expect((await runError(['rekey', input, path('never.tox'), '--new-passphrase-file', empty])).code).toBe('BAD_ARGUMENT');
    expect(await readdir(dir)).toEqual(before);
  });
});

describe('exit codes through the real entry point', () => {
  it('0 on success, 2 on a usage error, 5 (refused) on a typed profile error', async () => {
    const input = path('main-in.tox');
    await writeFile(input, social.savedata);
    const out = path('main-out.tox');
    const silence = () => {
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    };
    silence();
    expect(await main(['profile', 'rekey', input, out])).toBe(0);
    silence();
    expect(await main(['profile', 'rekey', input, out])).toBe(5); // OUTPUT_EXISTS
    silence();
    expect(await main(['profile', 'rekey', input])).toBe(2); // missing OUT
    silence();
    expect(await main(['profile', 'inspect', input, '--bogus'])).toBe(2);
    vi.restoreAllMocks();
  });
});

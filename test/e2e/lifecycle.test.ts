// End to end: the data directory's lifecycle around the CLI: encrypted persona.key at init/import, signals during start-up, concurrent inits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliJson } from './cli.js';

/** Asserts that a persona.key file is the encrypted form: an `encrypted` object and no plain seed. */
function expectEncryptedKeyFile(path: string): void {
  const body = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  expect(body.encrypted).toBeTypeOf('object');
  expect(body.seed).toBeUndefined();
}

describe('data directory lifecycle', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-e2e-life-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('with TOX_PERSONA_KEY_PASSPHRASE set, init and persona import write persona.key encrypted; loading it needs the variable', async () => {
    const env = { TOX_PERSONA_KEY_PASSPHRASE: 'correct horse battery staple' };
    const dir = join(root, 'enc');
    const r = await cliJson<{ personaId: string }>(['init', '--dir', dir, '--name', 'phone'], { env });
    const keyFile = join(dir, 'persona.key');
    expectEncryptedKeyFile(keyFile);
    expect(readFileSync(keyFile, 'utf8')).not.toMatch(/"seed"/);

    const status = await cliJson<{ personaId: string }>(['status', '--dir', dir], { env });
    expect(status.personaId).toBe(r.personaId);
    const blob = await cli(['blob', '--dir', dir, '--blob-only'], { env });
    expect(blob.code).toBe(0);
    expect(blob.stdout.trim().length).toBeGreaterThan(0);

    const without = await cli(['status', '--dir', dir, '--json']);
    expect(without.code).toBe(5);
    expect(JSON.parse(without.stderr).error.code).toBe('PASSPHRASE_REQUIRED');
    const wrong = await cli(['blob', '--dir', dir], { env: { TOX_PERSONA_KEY_PASSPHRASE: 'wrong' } });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/WRONG_PASSPHRASE/);

    // persona import on a second device: the export is read from stdin, the new key file is encrypted too.
    const exported = await cliJson<{ export: string }>(['persona', 'export', '--dir', dir], { env });
    const dir2 = join(root, 'enc2');
    const imp = await cli(['persona', 'import', '-', '--dir', dir2, '--name', 'laptop', '--json'], { env, input: `${exported.export}\n` });
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout).personaId).toBe(r.personaId);
    expectEncryptedKeyFile(join(dir2, 'persona.key'));
    const shown = await cliJson<{ personaId: string }>(['persona', 'show', '--dir', dir2], { env });
    expect(shown.personaId).toBe(r.personaId);

    // Without the variable, init keeps writing the plain form (the documented default).
    const plain = join(root, 'plain');
    await cliJson(['init', '--dir', plain]);
    const body = JSON.parse(readFileSync(join(plain, 'persona.key'), 'utf8')) as Record<string, unknown>;
    expect(body.encrypted).toBeUndefined();
    expect(typeof body.seed).toBe('string');
  });
});

// The embedded tox-bootstrapd inherits none of the companion's secrets: both passphrases stay out of its environment.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startBootstrapd } from '../../src/tox/bootstrapd.js';
import { childEnv } from '../../src/util/env.js';

/** Environments of every process whose command line mentions `needle` (the daemon and its watchdog). */
function environsOf(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) out.push(readFileSync(`/proc/${pid}/environ`, 'utf8'));
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

describe('secrets and child processes', () => {
  it('childEnv drops passphrases, tokens and secrets and keeps the rest', () => {
    expect(childEnv({ TOX_PERSONA_PASSPHRASE: 'a', TOX_PERSONA_KEY_PASSPHRASE: 'b', SOME_TOKEN: 'c', PATH: '/bin', TOX_PERSONA_DIR: '/d' })).toEqual({ PATH: '/bin', TOX_PERSONA_DIR: '/d' });
  });

  it('tox-bootstrapd started with both passphrases set does not see them', async () => {
    const saved = { p: process.env.TOX_PERSONA_PASSPHRASE, k: process.env.TOX_PERSONA_KEY_PASSPHRASE };
    process.env.TOX_PERSONA_PASSPHRASE = 'profile-secret-1234';
    process.env.TOX_PERSONA_KEY_PASSPHRASE = 'key-secret-5678';
    const d = await startBootstrapd();
    try {
      const envs = environsOf(d.dir);
      expect(envs.length, 'the daemon\'s processes were found in /proc').toBeGreaterThan(0);
      for (const e of envs) {
        expect(e).not.toContain('profile-secret-1234');
        expect(e).not.toContain('key-secret-5678');
      }
    } finally {
      await d.close();
      if (saved.p === undefined) delete process.env.TOX_PERSONA_PASSPHRASE;
      else process.env.TOX_PERSONA_PASSPHRASE = saved.p;
      if (saved.k === undefined) delete process.env.TOX_PERSONA_KEY_PASSPHRASE;
      else process.env.TOX_PERSONA_KEY_PASSPHRASE = saved.k;
    }
  });
});

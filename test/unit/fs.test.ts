// The atomic writer leaves either the old or the new file, with mode 0600 by default; a multi-file commit is all or nothing across a SIGKILL at each step.
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, stat, readdir } from 'node:fs/promises';
import { existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JOURNAL_NAME, recoverDir, writeFileAtomic } from '../../src/util/fs.js';
import { FAULT_ENV } from '../../src/util/fault.js';

describe('writeFileAtomic', () => {
  it('writes the whole file with mode 0600 and leaves no temp file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-fs-'));
    const path = join(dir, 'sub', 'file.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, 'replaced');
    expect(await readFile(path, 'utf8')).toBe('replaced');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'sub'))).toEqual(['file.bin']);
  });
});

/** Runs commitFiles in a child process with a fault point armed; resolves with how it ended. */
function commitInChild(dir: string, files: Record<string, string>, fault?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../support/commit-child.ts'), dir, JSON.stringify(files)], {
    env: { ...process.env, ...(fault ? { [FAULT_ENV]: fault } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, out })));
}

describe('commitFiles: several files as one commit, across a SIGKILL at every step', () => {
  const OLD = { 'a.json': 'old a', 'b.json': 'old b', 'c.bin': 'old c' };
  const NEW = { 'a.json': 'new a', 'b.json': 'new b', 'c.bin': 'new c' };

  async function contents(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const n of Object.keys(OLD)) out[n] = await readFile(join(dir, n), 'utf8');
    return out;
  }

  for (const fault of ['after-journal', 'after-file:a.json', 'after-file:b.json', 'after-files']) {
    it(`killed at ${fault}: the restart repair makes it the whole new state, never a mix, with no temp file and every file 0600`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tp-commit-'));
      expect((await commitInChild(dir, OLD)).out).toContain('committed');
      const r = await commitInChild(dir, NEW, fault);
      expect(r.signal, 'the fault point killed the child').toBe('SIGKILL');
      expect(r.out).not.toContain('committed');
      // Before repair the files may be a mix; the journal makes the new state the committed one.
      expect(existsSync(join(dir, JOURNAL_NAME))).toBe(true);
      const report = await recoverDir(dir);
      expect(report.replayed.sort()).toEqual(Object.keys(NEW).sort());
      expect(await contents(dir)).toEqual(NEW);
      for (const n of await readdir(dir)) expect((await stat(join(dir, n))).mode & 0o777, n).toBe(0o600);
      expect((await readdir(dir)).sort()).toEqual(Object.keys(NEW).sort());
    });
  }

  it('a journal torn before the commit point is dropped and the old state stays whole; temp files, also write-file-atomic\'s, are removed; loose modes are tightened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-commit-'));
    await commitInChild(dir, OLD);
    writeFileSync(join(dir, JOURNAL_NAME), 'tox-persona commit journal v1\n0000\n{"files":[{"name":"a.json","data":"eA=="}]}', { mode: 0o600 });
    writeFileSync(join(dir, '.profile.tox.123.4.tmp'), 'secret copy', { mode: 0o600 });
    writeFileSync(join(dir, 'profile.tox.2837465'), 'secret copy', { mode: 0o600 });
    writeFileSync(join(dir, 'loose.json'), '{}', { mode: 0o644 });
    const report = await recoverDir(dir);
    expect(report.droppedTornJournal).toBe(true);
    expect(report.removedTemps.sort()).toEqual(['.profile.tox.123.4.tmp', 'profile.tox.2837465']);
    expect(report.tightened).toEqual(['loose.json']);
    expect(await contents(dir)).toEqual(OLD);
    expect((await readdir(dir)).sort()).toEqual([...Object.keys(OLD), 'loose.json'].sort());
  });

  it('a temp file is 0600 from its first byte, whatever the umask', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-commit-'));
    const old = process.umask(0);
    try {
      // Killed right after the journal: the journal (written through a temp file) and no other file exist.
      const r = await commitInChild(dir, NEW, 'after-journal');
      expect(r.signal).toBe('SIGKILL');
      expect((await stat(join(dir, JOURNAL_NAME))).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });
});

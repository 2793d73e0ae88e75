// The atomic writer leaves either the old or the new file, with mode 0600 by default.
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/fs.js';

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

// Drift check: regenerating the binding from the installed headers must reproduce the checked-in files byte for byte.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../scripts/gen-ffi.js';

const root = resolve(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'tp-gen-ffi-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('generated binding is up to date with /usr/include/tox', () => {
  const { parsed } = generate({ outDir: out, includeDir: '/usr/include/tox' });

  for (const file of ['src/ffi/generated.ts', 'native/constants.c']) {
    it(`${file} matches a fresh generation (run \`npm run gen:ffi\` if not)`, () => {
      const fresh = readFileSync(join(out, file), 'utf8');
      const committed = readFileSync(join(root, file), 'utf8');
      if (fresh !== committed) {
        const a = fresh.split('\n');
        const b = committed.split('\n');
        const i = a.findIndex((l, k) => l !== b[k]);
        expect.fail(`${file} drifted at line ${i + 1}:\n  fresh:     ${a[i]}\n  committed: ${b[i]}`);
      }
      expect(fresh.length).toBeGreaterThan(0);
    });
  }

  it('the headers yield the 0.2.18 API shape: 306 functions, toxav excluded', () => {
    expect(parsed.functions.length).toBe(306);
    expect(parsed.functions.filter((f) => f.name.startsWith('toxav'))).toEqual([]);
    expect(parsed.opaques).toContain('Tox_Options');
  });
});

// Drift check: the API descriptions must match each version's headers found here, and the binding must match the descriptions.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiDescriptionPath, generateFiles, parseHeaders, readApiDescriptions, serialiseApi } from '../../scripts/gen-ffi.js';
import { libtoxcoreInfo } from '../../src/ffi/index.js';
import { headerDirs } from '../support/libtoxcore.js';

const root = resolve(import.meta.dirname, '../..');

function sameText(file: string, fresh: string, committed: string): void {
  if (fresh === committed) return;
  const a = fresh.split('\n');
  const b = committed.split('\n');
  const i = a.findIndex((l, k) => l !== b[k]);
  expect.fail(`${file} drifted at line ${i + 1} (run \`npm run gen:ffi\`):\n  fresh:     ${a[i]}\n  committed: ${b[i]}`);
}

describe('generated binding is up to date', () => {
  const descs = readApiDescriptions(root);

  // The descriptions are checked in so that this machine needs only its own headers; every version whose headers are
  // here (the system's, the ones scripts/get-libtoxcore.sh fetched, the library under test's) is re-parsed.
  const found = headerDirs();
  for (const [version, dir] of found) {
    it(`native/api/${version}.json matches a fresh parse of ${dir}`, () => {
      const file = apiDescriptionPath(version);
      expect(existsSync(join(root, file)), `${file} exists (headers of a new version: run npm run gen:ffi)`).toBe(true);
      sameText(file, serialiseApi(parseHeaders(dir)), readFileSync(join(root, file), 'utf8'));
    });
  }

  it('the headers of the library under test are among them', () => {
    expect([...found.keys()], 'run scripts/get-libtoxcore.sh for the library under test').toContain(libtoxcoreInfo().version);
  });

  const files = generateFiles(descs);
  for (const [file, fresh] of files) {
    it(`${file} matches a fresh generation from native/api/*.json`, () => {
      sameText(file, fresh, readFileSync(join(root, file), 'utf8'));
    });
  }

  it('no stale generated C file is left over', () => {
    const have = readdirSync(join(root, 'native/constants')).map((f) => `native/constants/${f}`);
    expect(have.sort()).toEqual([...files.keys()].filter((f) => f.startsWith('native/constants/')).sort());
  });

  it('the descriptions have the API shapes of 0.2.18, 0.2.20 and 0.2.22 (functions, headers), toxav excluded', () => {
    const shape = Object.fromEntries(descs.map((d) => [d.version, { functions: d.functions.length, headers: d.headers.join(' ') }]));
    expect(shape).toEqual({
      '0.2.18': { functions: 306, headers: 'tox.h tox_events.h tox_dispatch.h toxencryptsave.h' },
      '0.2.20': { functions: 539, headers: 'tox.h tox_events.h tox_dispatch.h toxencryptsave.h' },
      '0.2.22': { functions: 327, headers: 'tox_log_level.h tox_options.h tox.h toxencryptsave.h' },
    });
    expect(descs.flatMap((d) => d.functions.filter((f) => f.name.startsWith('toxav')))).toEqual([]);
    expect(descs.find((d) => d.version === '0.2.22')!.functions.filter((f) => f.name.startsWith('tox_group_')).length).toBe(64);
  });
});

// Binding coverage per version: every tox_* / tox_pass_* function a libtoxcore build exports (toxav aside) is bound for that version.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ParsedHeaders } from '../../scripts/gen-ffi.js';
import { apiVersions, functionPrototypes, libtoxcoreInfo, loadToxcore } from '../../src/ffi/index.js';
import { exportedFunctions, libtoxcoreBuilds, loadedLibtoxcorePath } from '../support/libtoxcore.js';

const root = resolve(import.meta.dirname, '../..');
const toxFunctions = (lib: string): string[] => exportedFunctions(lib).filter((s) => s.startsWith('tox_'));
const described = (version: string): string[] =>
  (JSON.parse(readFileSync(resolve(root, `native/api/${version}.json`), 'utf8')) as ParsedHeaders).functions.map((f) => f.name).sort();

describe('binding coverage', () => {
  it('binds every exported tox_* and tox_pass_* function of the library under test (toxav_* excluded), and nothing else', () => {
    const ffi = loadToxcore();
    const info = libtoxcoreInfo(ffi);
    const lib = loadedLibtoxcorePath();
    const exported = toxFunctions(lib);
    const bound = [...info.bound].sort();
    const unbound = exported.filter((s) => !info.bound.has(s as never));
    console.log(`ffi coverage: libtoxcore ${info.version}: ${exported.length - unbound.length}/${exported.length} exported functions bound (${lib})`);
    expect(info.known, `libtoxcore ${info.version} is one of the generated versions ${apiVersions.join(', ')}`).toBe(true);
    expect(exported.length, 'libtoxcore exports tox_* functions').toBeGreaterThan(0);
    expect(unbound, `exported by ${lib} but not bound`).toEqual([]);
    expect(bound.filter((s) => !exported.includes(s)), 'bound but not exported').toEqual([]);
  });

  // Without loading them: each build on this machine exports exactly the functions its version's description declares,
  // and a known version binds exactly its description (so the same-version load above is the same check).
  for (const build of libtoxcoreBuilds()) {
    it(`libtoxcore ${build.version} (${build.lib}): nm -D equals native/api/${build.version}.json`, () => {
      expect(apiVersions as readonly string[], `native/api/${build.version}.json exists (run npm run gen:ffi)`).toContain(build.version);
      const exported = toxFunctions(build.lib);
      const declared = described(build.version);
      console.log(`ffi coverage: libtoxcore ${build.version}: ${declared.filter((f) => exported.includes(f)).length}/${exported.length} exported functions declared and bound (${build.lib})`);
      expect(exported.filter((s) => !declared.includes(s)), 'exported but not in the headers').toEqual([]);
      expect(declared.filter((s) => !exported.includes(s)), 'in the headers but not exported').toEqual([]);
    });
  }

  it('every declared function has a prototype for each version that declares it, and toxav is never bound', () => {
    for (const v of apiVersions) {
      const missing = described(v).filter((f) => !(functionPrototypes as Record<string, readonly (readonly string[])[]>)[f]?.some((x) => x.includes(v, 1)));
      expect(missing, `functions of ${v} without a ${v} prototype`).toEqual([]);
    }
    expect(Object.keys(functionPrototypes).filter((s) => s.startsWith('toxav'))).toEqual([]);
  });
});

// Binding coverage: every tox_* / tox_pass_* function exported by the real libtoxcore.so.2 (toxav aside) must have a binding.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { functionPrototypes, loadToxcore } from '../../src/ffi/index.js';

/** The file the dynamic loader actually mapped for libtoxcore, read from /proc/self/maps after loading it. */
function loadedLibtoxcorePath(): string {
  loadToxcore();
  const maps = readFileSync('/proc/self/maps', 'utf8');
  const m = /\s(\/\S*libtoxcore\.so[.\d]*)$/m.exec(maps);
  if (!m) throw new Error('libtoxcore is loaded but not found in /proc/self/maps');
  return m[1]!;
}

/** Defined function symbols of a shared library's dynamic symbol table, via binutils nm (installed by scripts/setup.sh). */
function exportedFunctions(lib: string): string[] {
  let out: string;
  try {
    out = execFileSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`nm -D failed on ${lib} (${(e as Error).message}); run scripts/setup.sh to install binutils`);
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && /^[TtWi]$/.test(f[1]!))
    .map((f) => f[2]!.replace(/@.*$/, ''));
}

describe('binding coverage against libtoxcore.so.2', () => {
  it('binds every exported tox_* and tox_pass_* function (toxav_* excluded)', () => {
    const lib = loadedLibtoxcorePath();
    const exported = [...new Set(exportedFunctions(lib).filter((s) => s.startsWith('tox_')))].sort();
    const bound = new Set(Object.keys(functionPrototypes));
    const unbound = exported.filter((s) => !bound.has(s));
    const boundExported = exported.filter((s) => bound.has(s));
    console.log(`ffi coverage: ${boundExported.length}/${exported.length} exported tox_* functions bound (${lib})`);
    expect(exported.length, 'libtoxcore exports tox_* functions').toBeGreaterThan(0);
    expect(unbound, `exported by ${lib} but not bound`).toEqual([]);
    // The other direction: a binding for a symbol the library lacks would fail at load time; name them here instead.
    expect([...bound].filter((s) => !exported.includes(s)), 'bound but not exported').toEqual([]);
  });

  it('never binds toxav', () => {
    expect(Object.keys(functionPrototypes).filter((s) => s.startsWith('toxav'))).toEqual([]);
  });
});

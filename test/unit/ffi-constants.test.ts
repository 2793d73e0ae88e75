// ABI check per version: constants and enum values in the binding must equal what the C compiler sees in that version's headers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ParsedHeaders } from '../../scripts/gen-ffi.js';
import { apiVersions, constants, constantsByVersion, enumNames, enums, libtoxcoreInfo, type ApiVersion } from '../../src/ffi/index.js';
import { headerDirs } from '../support/libtoxcore.js';

const root = resolve(import.meta.dirname, '../..');

interface CView {
  constants: Record<string, number>;
  enums: Record<string, Record<string, number>>;
  enumSizes: Record<string, number>;
}

const dir = mkdtempSync(join(tmpdir(), 'tp-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compiles native/constants/<v>.c against the include dir of that version and returns what it prints. */
function compileAndRun(version: string, includeDir: string): CView {
  const exe = join(dir, `constants-${version}`);
  // The C file says `#include <tox/tox.h>`: the include root is the folder above tox/.
  execFileSync('cc', ['-I', dirname(includeDir), '-Wall', '-Werror', join(root, `native/constants/${version}.c`), '-o', exe], { stdio: 'pipe' });
  return JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as CView;
}

const found = headerDirs();

describe('binding constants and enums against each version\'s C headers', () => {
  it('the headers of the library under test are on this machine (else this file would check nothing about it)', () => {
    const { version } = libtoxcoreInfo();
    expect(
      found.has(version),
      `headers of libtoxcore ${version} not found (looked in /usr/include/tox, .tmp/libtoxcore/*, next to TOX_PERSONA_LIBTOXCORE ` +
        'and TOX_PERSONA_LIBTOXCORE_INCLUDE); run scripts/get-libtoxcore.sh',
    ).toBe(true);
  });

  for (const [version, includeDir] of found) {
    if (!(apiVersions as readonly string[]).includes(version)) continue;
    const v = version as ApiVersion;
    describe(`libtoxcore ${version} (${includeDir})`, () => {
      let cached: CView | undefined;
      const c = (): CView => (cached ??= compileAndRun(version, includeDir));
      const desc = JSON.parse(readFileSync(join(root, `native/api/${version}.json`), 'utf8')) as ParsedHeaders;

      it('every #define constant matches, per version and in the shared table', () => {
        const byVersion: Record<string, number> = constantsByVersion[v];
        const mismatches = Object.entries(byVersion)
          .filter(([name, value]) => c().constants[name] !== value)
          .map(([name, value]) => `${name}: binding ${value}, C ${c().constants[name]}`);
        for (const [name, value] of Object.entries(constants)) {
          if (name in c().constants && c().constants[name] !== value) mismatches.push(`${name}: shared table ${value}, C ${c().constants[name]}`);
        }
        expect(mismatches, `mismatches:\n${mismatches.join('\n')}`).toEqual([]);
        expect(Object.keys(c().constants).sort()).toEqual(Object.keys(byVersion).sort());
        expect(c().constants.TOX_ADDRESS_SIZE).toBe(38);
      });

      it('every enum member value matches the binding, and the members are exactly the version\'s', () => {
        const mismatches: string[] = [];
        for (const e of desc.enums) {
          const cm = c().enums[e.name];
          const bound = (enums as Record<string, Record<string, number>>)[e.name];
          if (!cm || !bound) {
            mismatches.push(`${e.name}: ${cm ? 'not in the binding' : 'not in C output'}`);
            continue;
          }
          for (const m of e.members) if (cm[m.name] !== m.value) mismatches.push(`${e.name}.${m.name}: description ${m.value}, C ${cm[m.name]}`);
          for (const [m, value] of Object.entries(cm)) {
            if (bound[m] !== value) mismatches.push(`${e.name}.${m}: binding ${bound[m]}, C ${value}`);
            if (!e.members.some((x) => x.name === m)) mismatches.push(`${e.name}.${m}: in C, not in native/api/${version}.json`);
          }
        }
        expect(Object.keys(c().enums).sort()).toEqual(desc.enums.map((e) => e.name).sort());
        expect(mismatches, `mismatches:\n${mismatches.join('\n')}`).toEqual([]);
      });

      it('every enum is int-sized, as the koffi aliases declare', () => {
        const wrong = Object.entries(c().enumSizes).filter(([, s]) => s !== 4).map(([n, s]) => `${n}: sizeof ${s}`);
        expect(wrong, `mismatches:\n${wrong.join('\n')}`).toEqual([]);
      });
    });
  }

  it('name tables invert the value tables, full and short', () => {
    const wrong: string[] = [];
    for (const [enumName, members] of Object.entries(enums)) {
      const t = enumNames[enumName as keyof typeof enums];
      for (const [m, v] of Object.entries(members)) {
        if (t.full[v] !== m) wrong.push(`${enumName} ${v}: full ${t.full[v]} != ${m}`);
        if (t.prefix + t.short[v] !== m) wrong.push(`${enumName} ${v}: short ${t.short[v]} with prefix ${t.prefix} != ${m}`);
      }
    }
    expect(wrong, `mismatches:\n${wrong.join('\n')}`).toEqual([]);
    expect(enumNames.Tox_Err_Friend_Add.short[enums.Tox_Err_Friend_Add.TOX_ERR_FRIEND_ADD_ALREADY_SENT]).toBe('ALREADY_SENT');
  });
});

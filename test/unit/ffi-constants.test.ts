// ABI check: constants and enum values in the generated binding must equal what the C compiler sees in <tox/tox.h> and friends.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constants, enumNames, enums } from '../../src/ffi/index.js';

const root = resolve(import.meta.dirname, '../..');

interface CView {
  constants: Record<string, number>;
  enums: Record<string, Record<string, number>>;
  enumSizes: Record<string, number>;
}

let dir: string;
let c: CView;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tp-native-'));
  const exe = join(dir, 'constants');
  const cflags = execFileSync('pkg-config', ['--cflags', 'toxcore'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  execFileSync('cc', [...cflags, '-Wall', '-Werror', join(root, 'native/constants.c'), '-o', exe], { stdio: 'pipe' });
  c = JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as CView;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('binding constants and enums against the C headers', () => {
  it('every #define constant matches', () => {
    const mismatches = Object.entries(constants)
      .filter(([name, v]) => c.constants[name] !== v)
      .map(([name, v]) => `${name}: binding ${v}, C ${c.constants[name]}`);
    expect(mismatches, `mismatches:\n${mismatches.join('\n')}`).toEqual([]);
    expect(Object.keys(c.constants).sort()).toEqual(Object.keys(constants).sort());
    expect(constants.TOX_ADDRESS_SIZE).toBe(38);
  });

  it('every enum member value matches, and no member is missing on either side', () => {
    const mismatches: string[] = [];
    for (const [enumName, members] of Object.entries(enums)) {
      const cm = c.enums[enumName];
      if (!cm) {
        mismatches.push(`${enumName}: not in C output`);
        continue;
      }
      for (const [m, v] of Object.entries(members)) if (cm[m] !== v) mismatches.push(`${enumName}.${m}: binding ${v}, C ${cm[m]}`);
      for (const m of Object.keys(cm)) if (!(m in members)) mismatches.push(`${enumName}.${m}: in C, not in binding`);
    }
    expect(mismatches, `mismatches:\n${mismatches.join('\n')}`).toEqual([]);
  });

  it('every enum is int-sized, as the koffi aliases declare', () => {
    const wrong = Object.entries(c.enumSizes).filter(([, s]) => s !== 4).map(([n, s]) => `${n}: sizeof ${s}`);
    expect(wrong, `mismatches:\n${wrong.join('\n')}`).toEqual([]);
  });

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

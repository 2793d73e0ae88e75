// Which libtoxcore builds and headers this machine has, for the per-version FFI tests (the library under test comes from TOX_PERSONA_LIBTOXCORE).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findHeaderDirs, headerDirOfLibrary, headerVersion } from '../../scripts/gen-ffi.js';
import { loadToxcore } from '../../src/ffi/index.js';

const root = resolve(import.meta.dirname, '../..');
const TRIPLET: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/** One libtoxcore build on this machine: the .so, its headers and the version they declare. */
export interface LibtoxcoreBuild {
  lib: string;
  includeDir: string;
  version: string;
}

/** The file the dynamic loader actually mapped for the library under test, read from /proc/self/maps after loading it. */
export function loadedLibtoxcorePath(): string {
  loadToxcore();
  const maps = readFileSync('/proc/self/maps', 'utf8');
  const m = /\s(\/\S*libtoxcore\.so[.\d]*)$/m.exec(maps);
  if (!m) throw new Error('libtoxcore is loaded but not found in /proc/self/maps');
  return m[1]!;
}

/** Every libtoxcore build whose headers sit next to it: the system one and those scripts/get-libtoxcore.sh fetched. */
export function libtoxcoreBuilds(): LibtoxcoreBuild[] {
  const libs = [`/usr/lib/${TRIPLET[process.arch] ?? 'x86_64-linux-gnu'}/libtoxcore.so.2`];
  const fetched = join(root, '.tmp/libtoxcore');
  if (existsSync(fetched)) {
    for (const suite of readdirSync(fetched).sort()) {
      const dir = join(fetched, suite, 'usr/lib');
      if (!existsSync(dir)) continue;
      for (const t of readdirSync(dir)) libs.push(join(dir, t, 'libtoxcore.so.2'));
    }
  }
  if (process.env.TOX_PERSONA_LIBTOXCORE?.includes('/')) libs.push(resolve(process.env.TOX_PERSONA_LIBTOXCORE));
  const seen = new Set<string>();
  const builds: LibtoxcoreBuild[] = [];
  for (const lib of libs) {
    // The system library's headers are /usr/include/tox: Debian's layout, the same rule as for the fetched ones.
    const includeDir = headerDirOfLibrary(lib);
    const version = headerVersion(includeDir);
    if (!existsSync(lib) || version === undefined || seen.has(lib)) continue;
    seen.add(lib);
    builds.push({ lib, includeDir, version });
  }
  return builds;
}

/** Header dirs by version (see findHeaderDirs in scripts/gen-ffi.ts). */
export function headerDirs(): Map<string, string> {
  return findHeaderDirs();
}

/** Defined function symbols of a shared library's dynamic symbol table, via binutils nm (installed by scripts/setup.sh). */
export function exportedFunctions(lib: string): string[] {
  let out: string;
  try {
    out = execFileSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`nm -D failed on ${lib} (${(e as Error).message}); run scripts/setup.sh to install binutils`);
  }
  return [
    ...new Set(
      out
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length === 3 && /^[TtWi]$/.test(f[1]!))
        .map((f) => f[2]!.replace(/@.*$/, '')),
    ),
  ].sort();
}

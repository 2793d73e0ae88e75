// Runs every benchmark in bench/, each in its own process so one's heap and timers don't skew the next; `npm run bench [-- name...]`.
//
// `npm run bench -- --all-versions [name...]` runs the named benches (default ffi-call and tox-connect) once per
// libtoxcore version: the system's, then Debian trixie's and sid's from scripts/get-libtoxcore.sh, each child with
// TOX_PERSONA_LIBTOXCORE and LD_LIBRARY_PATH set (see docs/TOX.md, "Testing against one version").
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run-all.ts' && f !== 'lib.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const args = process.argv.slice(2);
const allVersions = args.includes('--all-versions');
const wanted = args.filter((a) => a !== '--all-versions');
if (allVersions && wanted.length === 0) wanted.push('ffi-call', 'tox-connect');
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
// Benches that drive the CLI need the build; npm run bench does not imply npm test.
const setup = spawnSync('bash', [join(here, '..', 'scripts', 'setup.sh')], { stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);

/** The libtoxcore builds to run against: the default (system) one, plus the fetched ones with --all-versions. */
function libraries(): Array<{ label: string; env: NodeJS.ProcessEnv }> {
  if (!allVersions) return [{ label: '', env: process.env }];
  const libs = [{ label: ' [system libtoxcore]', env: { ...process.env, TOX_PERSONA_LIBTOXCORE: '', LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ?? '' } }];
  for (const suite of ['trixie', 'sid']) {
    const got = spawnSync('bash', [join(here, '..', 'scripts', 'get-libtoxcore.sh'), suite], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const lib = got.stdout.trim();
    if (got.status !== 0 || lib === '') {
      console.error(`cannot get libtoxcore for ${suite}`);
      process.exit(1);
    }
    libs.push({ label: ` [libtoxcore from ${suite}]`, env: { ...process.env, TOX_PERSONA_LIBTOXCORE: lib, LD_LIBRARY_PATH: dirname(lib) } });
  }
  return libs;
}

const failed: string[] = [];
for (const { label, env } of libraries()) {
  for (const name of wanted.length > 0 ? wanted : all) {
    console.log(`\n=== bench/${name}.ts${label}`);
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], { stdio: 'inherit', env });
    console.log(`=== bench/${name}.ts${label} ${run.status === 0 ? 'done' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (run.status !== 0) failed.push(`${name}${label}`);
  }
}
if (failed.length > 0) {
  console.error(`\nfailed benchmarks: ${failed.join(', ')}`);
  process.exit(1);
}

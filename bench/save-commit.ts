// The cost of one save: the journaled multi-file commit (commitFiles) against the previous way, each file written atomically on its own, on the same files in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { commitFiles, writeFileAtomic } from '../src/util/fs.js';

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'tp-bench-save-'));
// Sizes of a companion with a few dozen friends: profile ~20 KB, table ~30 KB, own list and requests small.
const files = [
  { name: 'profile.tox', data: randomBytes(20_000) },
  { name: 'personas.json', data: randomBytes(15_000).toString('hex') },
  { name: 'devices.json', data: randomBytes(200).toString('hex') },
  { name: 'requests.json', data: randomBytes(100).toString('hex') },
];
const N = Number(process.env.SAVES ?? 200);

async function time(label: string, fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 10; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / N;
  console.log(`${label.padEnd(52)} ${ms.toFixed(3)} ms/save`);
  return ms;
}

console.log(`${N} saves of ${files.length} files (${files.reduce((n, f) => n + f.data.length, 0)} bytes) in ${dir}`);
const rounds: Array<[number, number, number]> = [];
for (let r = 0; r < 3; r++) {
  const separate = await time('separate atomic writes (before: 4x temp+fsync+rename+dir fsync)', async () => {
    for (const f of files) await writeFileAtomic(join(dir, f.name), f.data);
  });
  const journal = await time('journaled commit, all 4 files (commitFiles)', () => commitFiles(dir, files));
  const changed = await time('journaled commit, only the changed file (devices.json)', () => commitFiles(dir, [files[2]!]));
  rounds.push([separate, journal, changed]);
}
const median = (i: number) => rounds.map((r) => r[i]!).sort((a, b) => a - b)[1]!;
console.log(`median ms/save: separate ${median(0).toFixed(3)}, journaled ${median(1).toFixed(3)} (ratio ${(median(1) / median(0)).toFixed(2)}), journaled changed-only ${median(2).toFixed(3)} (ratio ${(median(2) / median(0)).toFixed(2)})`);
rmSync(dir, { recursive: true, force: true });

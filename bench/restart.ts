// Restart after SIGKILL, broken down: a real daemon (`tox-persona run`) over a real local tox-bootstrapd is SIGKILLed
// and restarted on the same directory N times; from each restart's own log line ("daemon started", each phase's end in
// ms since its process started) and the outside clock it prints the median of every start-up phase, of "answering"
// (/healthz of the new pid) and of "DHT-connected". Baselines measured in the same run: a bare libtoxcore node (ToxNode,
// fresh, in this process) from start to connected on the same bootstrap node, which is toxcore's own floor; and
// `tox-persona --version` (Node plus every module, no work).
//
// Run: npx tsx bench/restart.ts [N=10]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd } from '../src/tox/bootstrapd.js';
import { ToxNode } from '../src/tox/node.js';
import { CLI, cleanEnv, healthOf, median, p95, spawnDaemon, until, type Daemon } from './daemon.js';

const N = Number(process.argv[2] ?? 10);

interface Run {
  phases: Record<string, number>;
  connectedSinceStart?: number;
  answerMs: number;
  connectedMs: number;
}

const root = mkdtempSync(join(tmpdir(), 'tp-restart-'));
const A = join(root, 'a');
const bootstrapd = await startBootstrapd();
try {
  spawnSync(process.execPath, [CLI, 'init', '--dir', A, '--name', 'phone'], { env: cleanEnv(), stdio: 'ignore' });

  const start = (): Daemon => spawnDaemon(A, ['--bootstrap', bootstrapd.nodeString(), '--log-level', 'info']);
  const health = (d: Daemon) => healthOf(A, d.child);

  let daemon = start();
  await until('the first daemon to connect', async () => (await health(daemon))?.connection !== 'none' || undefined);
  const runs: Run[] = [];
  for (let i = 0; i < N; i++) {
    daemon.child.kill('SIGKILL');
    await new Promise((r) => daemon.child.once('exit', r));
    const t0 = Date.now();
    daemon = start();
    await until('the restarted daemon to answer', async () => (await health(daemon)) ?? undefined, 120_000, 20);
    const answerMs = Date.now() - t0;
    await until('the restarted daemon to connect', async () => (await health(daemon))?.connection !== 'none' || undefined, 120_000, 20);
    const connectedMs = Date.now() - t0;
    const phases = await until('the start-up log line', () => (daemon.start.phases?.answering !== undefined ? daemon.start.phases : undefined), 10_000);
    const connectedSinceStart = daemon.start.connectedMs;
    runs.push({ phases, answerMs, connectedMs, ...(connectedSinceStart !== undefined ? { connectedSinceStart } : {}) });
    console.log(`restart ${i + 1}/${N}: answering ${answerMs} ms, DHT-connected ${connectedMs} ms; phases ${JSON.stringify(phases)}`);
  }
  daemon.child.kill('SIGTERM');
  await new Promise((r) => daemon.child.once('exit', r));

  // Baseline 1: toxcore's own floor, a fresh bare node from start to connected on the same bootstrap node.
  const bare: number[] = [];
  for (let i = 0; i < N; i++) {
    const node = await ToxNode.create({ ipv6: false, localDiscovery: false });
    try {
      const t0 = Date.now();
      node.bootstrap([bootstrapd.node()]);
      node.start();
      await until('a bare node to connect', () => (node.connectionStatus !== 'none' ? true : undefined), 120_000, 20);
      bare.push(Date.now() - t0);
    } finally {
      node.close();
    }
  }
  // Baseline 2: Node plus every module of the CLI, doing nothing.
  const version: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = Date.now();
    spawnSync(process.execPath, [CLI, '--version'], { stdio: 'ignore' });
    version.push(Date.now() - t0);
  }

  const names = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
  console.log(`restart bench: ${N} restarts after SIGKILL`);
  console.log(`  start-up phases, median ms since the process started: ${names.map((n) => `${n} ${median(runs.flatMap((r) => (r.phases[n] !== undefined ? [r.phases[n]!] : [])))}`).join(', ')}`);
  const toxcore = runs.flatMap((r) => (r.connectedSinceStart !== undefined && r.phases.toxNew !== undefined ? [r.connectedSinceStart - r.phases.toxNew] : []));
  console.log(`  tox_new to first connection inside the daemon: median ${Math.round(median(toxcore))} ms, p95 ${Math.round(p95(toxcore))} ms`);
  console.log(`  restart to answering: median ${median(runs.map((r) => r.answerMs))} ms, p95 ${p95(runs.map((r) => r.answerMs))} ms`);
  console.log(`  restart to answering + DHT-connected: median ${median(runs.map((r) => r.connectedMs))} ms, p95 ${p95(runs.map((r) => r.connectedMs))} ms`);
  console.log(`  baseline, bare toxcore node start to connected: median ${median(bare)} ms, p95 ${p95(bare)} ms`);
  console.log(`  baseline, tox-persona --version (Node + modules): median ${median(version)} ms`);
  console.log(`  ratio restart-to-connected / bare toxcore start-to-connected: ${(median(runs.map((r) => r.connectedMs)) / median(bare)).toFixed(2)}x`);
} finally {
  await bootstrapd.close();
  rmSync(root, { recursive: true, force: true });
}

// Long-running churn: F friends re-sign their persona lists every INTERVAL ms for MINUTES minutes against one companion
// daemon, while a second companion in the same run, with as many friends that published once and stay quiet, is the
// baseline. Both daemons run the real startDaemon in their own process (bench/churn-child.ts) over a real local
// tox-bootstrapd with real Tox friends; each is sampled every 10 s for RSS, CPU and saves, and every minute for the JS
// heap after a forced GC. Prints, after the warm-up: the heap-after-GC slope (goal < 1 MiB/h), RSS against its value at
// the end of the warm-up (goal within 10%), saves per second (goal at most 1), bytes written per save, CPU, and whether
// every list was processed; each against the idle companion.
//
// Run: npx tsx bench/churn.ts [--minutes 30] [--friends 8] [--interval-ms 500] [--warmup-minutes 5]
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalNetwork } from '../test/support/network.js';
import * as P from '../src/companion/persona-port.js';
import { buildStatusMessage } from '../src/persona/index.js';
import type { ToxNode } from '../src/tox/node.js';

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    friends: { type: 'string', default: '8' },
    'interval-ms': { type: 'string', default: '500' },
    'warmup-minutes': { type: 'string', default: '5' },
  },
});
const MINUTES = Number(opts.minutes);
const FRIENDS = Number(opts.friends);
const INTERVAL_MS = Number(opts['interval-ms']);
const WARMUP_MIN = Math.min(Number(opts['warmup-minutes']), MINUTES / 2);
const SAMPLE_MS = 10_000;
const MiB = 1024 * 1024;

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  cpuSeconds: number;
  saves: number;
  bytesWritten: number;
  friendsOnline: number;
  outcomes: Record<string, number>;
  /** Shortest gap between two save starts since the previous sample, null without two saves. */
  minSaveGapMs: number | null;
  gc: boolean;
}

/** A companion daemon in a child process, driven over IPC. */
class Child {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<{ publicKey: string; toxId: string }>;
  readonly samples: Sample[] = [];

  constructor(readonly name: string, readonly proc: ChildProcess) {
    this.ready = new Promise((resolveReady, rejectReady) => {
      this.waiting.set(0, { resolve: resolveReady as (v: unknown) => void, reject: rejectReady });
      proc.once('exit', (code) => rejectReady(new Error(`${name}: the companion process exited (${code}) before it started`)));
    });
    proc.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(`${name}: ${m.error}`));
      else w?.resolve(m.result);
    });
  }

  call<T>(req: Record<string, unknown>, timeoutMs = 60_000): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`${this.name}: no answer to ${String(req.op)} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(id, { resolve: (v) => (clearTimeout(timer), res(v as T)), reject: (e) => (clearTimeout(timer), rej(e)) });
      this.proc.send({ id, ...req });
    });
  }

  async sample(forceGc: boolean): Promise<Sample> {
    const s = { ...(await this.call<Omit<Sample, 'gc'>>({ op: 'sample', forceGc })), gc: forceGc };
    this.samples.push(s);
    return s;
  }
}

/** A friend's persona: re-signs a list naming the friend's node, issued now (seq one above the last). */
class Publisher {
  private prev: P.DeviceList | undefined;
  sent = 0;
  constructor(readonly node: ToxNode, readonly key: P.PersonaKey) {}

  get id(): string {
    return P.personaIdHex(this.key);
  }

  get seq(): number {
    return this.prev?.seq ?? 0;
  }

  publish(): void {
    const s = P.signNext(this.prev, [{ publicKey: this.node.publicKeyHex.toUpperCase(), name: 'phone' }], this.key.pair, Math.floor(Date.now() / 1000), 3600);
    this.prev = s.list;
    this.node.setStatusMessage(buildStatusMessage(s, 'churn'));
    this.sent++;
  }
}

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`churn: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const fmt = (x: number, d = 2) => x.toFixed(d);

/** The figures of one companion after the warm-up. */
function report(c: Child, t0: number): Record<string, number> {
  const warm = t0 + WARMUP_MIN * 60_000;
  const after = c.samples.filter((s) => s.at >= warm);
  const gcs = after.filter((s) => s.gc);
  const first = after[0]!;
  const last = after[after.length - 1]!;
  const hours = (s: Sample) => (s.at - t0) / 3_600_000;
  const rss = after.map((s) => s.rss);
  // Saves per 10-second window, to show the busiest one as well as the mean.
  let maxWindow = 0;
  for (let i = 1; i < after.length; i++) maxWindow = Math.max(maxWindow, (after[i]!.saves - after[i - 1]!.saves) / ((after[i]!.at - after[i - 1]!.at) / 1000));
  const seconds = (last.at - first.at) / 1000;
  const gaps = after.slice(1).flatMap((s) => (s.minSaveGapMs === null ? [] : [s.minSaveGapMs]));
  const saves = last.saves - first.saves;
  return {
    heapSlopeMiBPerHour: slope(gcs.map(hours), gcs.map((s) => s.heapUsed / MiB)),
    heapAfterGcMinMiB: Math.min(...gcs.map((s) => s.heapUsed)) / MiB,
    heapAfterGcMaxMiB: Math.max(...gcs.map((s) => s.heapUsed)) / MiB,
    rssAtWarmupMiB: first.rss / MiB,
    rssMinMiB: Math.min(...rss) / MiB,
    rssMaxMiB: Math.max(...rss) / MiB,
    rssLastMiB: last.rss / MiB,
    rssMaxDeviationPct: (100 * Math.max(...rss.map((r) => Math.abs(r - first.rss)))) / first.rss,
    rssSlopeMiBPerHour: slope(after.map(hours), rss.map((r) => r / MiB)),
    savesPerSecond: saves / seconds,
    maxSavesPerSecondIn10s: maxWindow,
    minSaveGapMs: gaps.length === 0 ? NaN : Math.min(...gaps),
    bytesPerSave: saves === 0 ? 0 : (last.bytesWritten - first.bytesWritten) / saves,
    cpuPctOfOneCore: (100 * (last.cpuSeconds - first.cpuSeconds)) / seconds,
  };
}

async function main(): Promise<void> {
  const net = await startLocalNetwork();
  const root = mkdtempSync(join(tmpdir(), 'tp-churn-'));
  const children: Child[] = [];
  try {
    const spawnChild = (name: string) =>
      new Child(name, fork(resolve(import.meta.dirname, 'churn-child.ts'), [join(root, name), net.bootstrapd.nodeString()], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const churned = spawnChild('churned');
    const idle = spawnChild('idle');
    children.push(churned, idle);
    const [cInfo, iInfo] = await Promise.all([churned.ready, idle.ready]);
    const nodes = await net.addNodes(2 * FRIENDS);
    await P.ready();
    const pubs: Publisher[] = [];
    for (let i = 0; i < nodes.length; i++) pubs.push(new Publisher(nodes[i]!, await P.newPersonaKey()));
    const groups: Array<[Child, Publisher[], string]> = [
      [churned, pubs.slice(0, FRIENDS), cInfo.publicKey],
      [idle, pubs.slice(FRIENDS), iInfo.publicKey],
    ];
    for (const [child, ps, pk] of groups) {
      for (const p of ps) {
        await child.call({ op: 'friendAdd', toxId: p.node.addressHex.toUpperCase() });
        p.node.friendAddNorequest(pk);
        p.publish();
      }
    }
    for (const [child, ps] of groups) {
      await until(`${child.name}: all ${FRIENDS} friends online`, async () => (await child.call<Sample>({ op: 'sample', forceGc: false })).friendsOnline === FRIENDS, 180_000);
      const want = new Map(ps.map((p) => [p.id, p.seq]));
      await until(`${child.name}: every friend's first list verified`, async () => (await child.call<Array<{ personaId: string; seq: number | null }>>({ op: 'personas' })).filter((v) => want.get(v.personaId) === v.seq).length === FRIENDS, 120_000);
    }
    console.log(`churn: ${FRIENDS} friends re-sign every ${INTERVAL_MS} ms for ${MINUTES} min against one companion; ${FRIENDS} quiet friends on the idle one; warm-up ${WARMUP_MIN} min`);

    const t0 = Date.now();
    const end = t0 + MINUTES * 60_000;
    // Re-signing, staggered over the interval so the friends do not publish in lockstep.
    const churners = pubs.slice(0, FRIENDS);
    const timers = churners.map((p, i) => {
      let t: NodeJS.Timeout | undefined;
      const start = setTimeout(() => {
        t = setInterval(() => p.publish(), INTERVAL_MS);
      }, (i * INTERVAL_MS) / FRIENDS);
      return () => {
        clearTimeout(start);
        if (t) clearInterval(t);
      };
    });
    let lastGc = 0;
    while (Date.now() < end) {
      const forceGc = Date.now() - lastGc >= 60_000;
      if (forceGc) lastGc = Date.now();
      const [c, i] = await Promise.all([churned.sample(forceGc), idle.sample(forceGc)]);
      const min = (Date.now() - t0) / 60_000;
      if (forceGc) console.log(`churn: ${fmt(min, 1)} min: churned rss ${fmt(c.rss / MiB, 1)} MiB heap(gc) ${fmt(c.heapUsed / MiB, 1)} MiB saves ${c.saves}; idle rss ${fmt(i.rss / MiB, 1)} MiB heap(gc) ${fmt(i.heapUsed / MiB, 1)} MiB saves ${i.saves}; lists sent ${churners.reduce((a, p) => a + p.sent, 0)}`);
      await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, Math.max(0, end - Date.now()))));
    }
    for (const stop of timers) stop();
    const final = await Promise.all([churned.sample(true), idle.sample(true)]);
    void final;
    // Every list processed: the churned companion reaches each friend's last seq.
    const want = new Map(churners.map((p) => [p.id, p.seq]));
    let processed = true;
    try {
      await until('the churned companion to hold every friend\'s last list', async () => (await churned.call<Array<{ personaId: string; seq: number | null }>>({ op: 'personas' })).filter((v) => want.get(v.personaId) === v.seq).length === FRIENDS, 60_000);
    } catch (err) {
      processed = false;
      console.log(`churn: ${(err as Error).message}`);
    }
    const sent = churners.reduce((a, p) => a + p.sent, 0);
    const outcomes = churned.samples[churned.samples.length - 1]!.outcomes;
    const rc = report(churned, t0);
    const ri = report(idle, t0);
    console.log(`churn: lists sent ${sent} (${fmt(sent / (MINUTES * 60), 1)}/s); churned companion outcomes ${JSON.stringify(outcomes)}; last list of every friend held: ${processed ? 'yes' : 'NO'}`);
    console.log(`churn: after the ${WARMUP_MIN}-min warm-up, churned vs idle (ratio):`);
    const row = (label: string, k: string, d = 2) => console.log(`  ${label.padEnd(34)} ${fmt(rc[k]!, d).padStart(10)} ${fmt(ri[k]!, d).padStart(10)}   ${ri[k] ? `${fmt(rc[k]! / ri[k]!, 2)}x` : '-'}`);
    console.log(`  ${''.padEnd(34)} ${'churned'.padStart(10)} ${'idle'.padStart(10)}`);
    row('JS heap after GC, slope MiB/h', 'heapSlopeMiBPerHour', 3);
    row('JS heap after GC, min MiB', 'heapAfterGcMinMiB');
    row('JS heap after GC, max MiB', 'heapAfterGcMaxMiB');
    row('RSS at end of warm-up MiB', 'rssAtWarmupMiB', 1);
    row('RSS min MiB', 'rssMinMiB', 1);
    row('RSS max MiB', 'rssMaxMiB', 1);
    row('RSS last MiB', 'rssLastMiB', 1);
    row('RSS max deviation from warm-up %', 'rssMaxDeviationPct', 1);
    row('RSS slope MiB/h', 'rssSlopeMiBPerHour', 2);
    row('saves per second', 'savesPerSecond', 3);
    row('saves per second, busiest 10 s', 'maxSavesPerSecondIn10s', 2);
    row('shortest gap between saves ms', 'minSaveGapMs', 0);
    row('bytes written per save', 'bytesPerSave', 0);
    row('CPU % of one core', 'cpuPctOfOneCore', 2);
    // At most one save per second: no two saves start less than a second apart, within 10 ms of timer granularity (a 10-s window can hold 11 saves 1 s apart).
    const ok = processed && rc.heapSlopeMiBPerHour! < 1 && rc.rssMaxDeviationPct! <= 10 && rc.savesPerSecond! <= 1 && rc.minSaveGapMs! >= 990;
    console.log(`churn: goals (heap-after-GC slope < 1 MiB/h, RSS within 10% of warm-up, no two saves < 1 s apart, every list processed): ${ok ? 'met' : 'NOT met'}`);
  } finally {
    for (const c of children) {
      await c.call({ op: 'stop' }, 30_000).catch(() => c.proc.kill('SIGKILL'));
    }
    await net.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();

// One companion daemon for bench/churn.ts, in its own process (started with --expose-gc): the real startDaemon on a
// fresh data directory, answering the parent's IPC requests (add a friend, sample memory/CPU/saves, report the table).
//
// Run by bench/churn.ts only: node --expose-gc --import tsx bench/churn-child.ts DIR HOST:PORT:KEY
import { readFileSync } from 'node:fs';
import { initDataDir, startDaemon } from '../src/companion/open.js';
import { loadConfig } from '../src/companion/config.js';
import { createLogger } from '../src/companion/log.js';
import { CompanionMetrics } from '../src/companion/metrics.js';
import { runOperation } from '../src/companion/ops.js';

const [dir, bootstrap] = process.argv.slice(2) as [string, string];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('churn-child: run with --expose-gc');

await initDataDir(dir);
const config = loadConfig({ dir, env: {}, readFile: false, flags: { bootstrap: [bootstrap], localDiscovery: false, ipv6: false, admin: { enabled: false } } });
const metrics = new CompanionMetrics();
const daemon = await startDaemon(config, createLogger({ level: 'warn' }), { metrics });
const c = daemon.companion;
const outcomes: Record<string, number> = {};
c.on('statusProcessed', (e) => {
  outcomes[e.outcome.kind] = (outcomes[e.outcome.kind] ?? 0) + 1;
});
// The shortest gap between the starts of two saves since the last sample (the coalescing promises at least 1 s).
let lastSaveStart = 0;
let minSaveGapMs = Infinity;
c.on('saved', (e) => {
  if (lastSaveStart) minSaveGapMs = Math.min(minSaveGapMs, e.startedAt - lastSaveStart);
  lastSaveStart = e.startedAt;
});

/** Counter value from the registry (prom-client's get() is async). */
async function counter(name: string): Promise<number> {
  const m = (await metrics.registry.getSingleMetric(name)?.get()) as { values: Array<{ value: number }> } | undefined;
  return m?.values.reduce((a, v) => a + v.value, 0) ?? 0;
}

/** Bytes this process passed to write(2) (/proc/self/io wchar): every save of the companion goes through it. */
function bytesWritten(): number {
  return Number(/wchar:\s+(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

type Request = { id: number; op: 'friendAdd'; toxId: string } | { id: number; op: 'sample'; forceGc: boolean } | { id: number; op: 'personas' } | { id: number; op: 'stop' };

process.on('message', (m: Request) => {
  void (async () => {
    try {
      let result: unknown;
      if (m.op === 'friendAdd') result = await runOperation(c, 'friendAdd', { toxId: m.toxId });
      else if (m.op === 'sample') {
        if (m.forceGc) gc();
        const mem = process.memoryUsage();
        const cpu = process.cpuUsage();
        result = {
          at: Date.now(),
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          saves: await counter('tox_persona_saves_total'),
          bytesWritten: bytesWritten(),
          friendsOnline: c.node.friendCounts().online,
          outcomes: { ...outcomes },
          minSaveGapMs: Number.isFinite(minSaveGapMs) ? minSaveGapMs : null,
        };
        minSaveGapMs = Infinity;
      } else if (m.op === 'personas') result = c.personas().map((p) => ({ personaId: p.personaId, seq: p.seq, state: p.state }));
      else {
        await daemon.stop();
        result = null;
      }
      process.send!({ id: m.id, result });
      if (m.op === 'stop') process.disconnect();
    } catch (err) {
      process.send!({ id: m.id, error: (err as Error).message });
    }
  })();
});
process.send!({ id: 0, result: { publicKey: c.node.publicKey, toxId: c.node.address } });

// Propagation on loopback: Alice's publish → Bob's table updated (median/p95 over N changes), and publish → new device connected.
// Real tox-bootstrapd, real libtoxcore nodes, the real companion code path. Run: npx tsx bench/propagation.ts [changes=30] [enrolls=3]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startBootstrapd } from '../src/tox/bootstrapd.js';
import { loadConfig } from '../src/companion/config.js';
import { createLogger } from '../src/companion/log.js';
import { initDataDir, startDaemon, type Daemon } from '../src/companion/open.js';
import { openNode, type ToxNodePort } from '../src/companion/node-adapter.js';
import type { Companion } from '../src/companion/companion.js';
import { until } from '../src/cli/demo.js';

const CHANGES = Number(process.argv[2] ?? 30);
const ENROLLS = Number(process.argv[3] ?? 3);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `n=${s.length} median ${pct(s, 50).toFixed(1)} ms, p95 ${pct(s, 95).toFixed(1)} ms, min ${s[0]!.toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tp-bench-prop-'));
  const bd = await startBootstrapd();
  const daemons: Daemon[] = [];
  const laptops: ToxNodePort[] = [];
  const log = createLogger({ level: 'warn' });
  try {
    const open = async (name: string): Promise<Companion> => {
      const dir = join(root, name);
      await initDataDir(dir, { deviceName: name });
      const d = await startDaemon(loadConfig({ dir, env: {}, flags: { bootstrap: [bd.nodeString()], admin: { enabled: false }, statusText: '', logLevel: 'warn' } }), log);
      daemons.push(d);
      return d.companion;
    };
    const alice = await open('alice');
    const bob = await open('bob');
    alice.node.friendAddNorequest(bob.node.publicKey);
    bob.node.friendAddNorequest(alice.node.publicKey);
    const tConnect = Date.now();
    await until(() => bob.node.friend(alice.node.publicKey)?.connection !== 'none', 'Alice and Bob to connect', 90_000);
    await until(() => bob.personas().find((p) => p.personaId === alice.personaId && p.state === 'verified'), 'Bob to verify Alice', 30_000);
    console.log(`friends connected and Alice verified after ${Date.now() - tConnect} ms`);

    // 0. Baseline in the same run: a bare status-message change, Alice's node → Bob's node event (no persona work).
    const raw: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const text = `baseline ${i} ${Math.random()}`;
      let t1 = 0;
      const seen = new Promise<void>((resolveSeen, rejectSeen) => {
        const timer = setTimeout(() => rejectSeen(new Error(`timed out waiting for Bob's node to see status "${text}"`)), 30_000);
        const onStatus = (e: { message: string | Uint8Array }) => {
          if (Buffer.from(e.message as Uint8Array).toString() !== text) return;
          t1 = performance.now();
          clearTimeout(timer);
          bob.node.off('friendStatusMessage', onStatus);
          resolveSeen();
        };
        bob.node.on('friendStatusMessage', onStatus);
      });
      const t0 = performance.now();
      alice.node.setStatusMessage(text);
      await seen;
      raw.push(t1 - t0);
    }
    alice.node.setStatusMessage(alice.statusMessage());
    console.log(`baseline: bare status message Alice -> Bob's node: ${summary(raw)}`);

    // 1. publish → Bob's table holds the new list. Alternate add/remove of a device so the list stays small.
    const samples: number[] = [];
    const extraBytes = randomBytes(32);
    extraBytes[31]! &= 0x7f; // toxcore refuses keys with the top bit set (not a valid X25519 public key)
    const extra = extraBytes.toString('hex').toUpperCase();
    for (let i = 0; i < CHANGES; i++) {
      // Timed by Bob's own event (not by polling), so the figure is not rounded up to a poll period.
      let seq = -1;
      let t1 = 0;
      const applied = new Promise<void>((resolveApplied, rejectApplied) => {
        const timer = setTimeout(() => rejectApplied(new Error(`timed out waiting for Bob to apply Alice's list seq ${seq}`)), 30_000);
        const onProcessed = () => {
          if (bob.personas().find((p) => p.personaId === alice.personaId)?.seq !== seq) return;
          t1 = performance.now();
          clearTimeout(timer);
          bob.off('statusProcessed', onProcessed);
          resolveApplied();
        };
        bob.on('statusProcessed', onProcessed);
      });
      const t0 = performance.now();
      if (i % 2 === 0) alice.deviceAdd(extra, 'x');
      else alice.deviceRemove(extra);
      seq = alice.ownList.list.seq;
      await applied;
      samples.push(t1 - t0);
    }
    console.log(`publish -> Bob's table updated: ${summary(samples)}`);
    const med = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
    console.log(`ratio (median publish->table / median bare status message): ${(med(samples) / med(raw)).toFixed(2)}`);

    // 2. enroll → Bob added the laptop by himself → connected → laptop confirmed (laptop started right after enroll).
    const added: number[] = [];
    const connected: number[] = [];
    const confirmed: number[] = [];
    for (let i = 0; i < ENROLLS; i++) {
      const t0 = performance.now();
      const r = await alice.enroll(join(root, `laptop-${i}.tox`), `laptop${i}`);
      const laptop = await openNode({ profilePath: r.out });
      laptops.push(laptop);
      laptop.bootstrap([bd.node()]);
      laptop.start();
      await until(() => bob.node.friend(r.publicKey), 'Bob to add the laptop', 30_000);
      added.push(performance.now() - t0);
      await until(() => bob.node.friend(r.publicKey)?.connection !== 'none', 'Bob and the laptop to connect', 120_000);
      connected.push(performance.now() - t0);
      await until(() => bob.personas().find((p) => p.personaId === alice.personaId)?.devices.find((d) => d.publicKey === r.publicKey)?.confirmed, 'the laptop to confirm', 30_000);
      confirmed.push(performance.now() - t0);
      console.log(`  enroll ${i + 1}: added ${added[i]!.toFixed(0)} ms, connected ${connected[i]!.toFixed(0)} ms, confirmed ${confirmed[i]!.toFixed(0)} ms`);
    }
    console.log(`enroll/publish -> Bob added the new device: ${summary(added)}`);
    console.log(`enroll/publish -> new device connected to Bob: ${summary(connected)}`);
    console.log(`enroll/publish -> new device confirmed in Bob's table: ${summary(confirmed)}`);
  } finally {
    for (const l of laptops) await l.close();
    for (const d of daemons) await d.stop();
    await bd.close();
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

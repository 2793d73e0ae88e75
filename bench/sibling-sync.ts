// Sibling convergence on loopback: Alice's phone (companion) and two devices she enrolled (companions, her persona key)
// are online friends; a change made on the phone is timed until every sibling holds it (median/p95 over N changes).
// Two kinds of change: a block (friend remove; only sibling sync carries it) and an own-list change (device activate;
// the phone's status message and sibling sync both carry it). Baseline in the same run: a bare status message, phone's
// node → laptop's node event. Real tox-bootstrapd, real libtoxcore nodes, the real companion code path.
// Run: npx tsx bench/sibling-sync.ts [changes=10]
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd } from '../src/tox/bootstrapd.js';
import { Companion, loadCompanionState } from '../src/companion/companion.js';
import { loadConfig } from '../src/companion/config.js';
import { createLogger } from '../src/companion/log.js';
import { openNode } from '../src/companion/node-adapter.js';
import { initDataDir } from '../src/companion/open.js';
import * as P from '../src/companion/persona-port.js';
import { generateKeyPair, toxAddress } from '../src/profile/keys.js';
import { bytesToHex } from '../src/util/bytes.js';
import { until } from '../src/cli/demo.js';

const CHANGES = Number(process.argv[2] ?? 10);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
function stats(ms: number[]): { median: number; p95: number; text: string } {
  const s = [...ms].sort((a, b) => a - b);
  const median = pct(s, 50);
  const p95 = pct(s, 95);
  return { median, p95, text: `n=${s.length} median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, min ${s[0]!.toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms` };
}

/** Resolves at the first poll (every ms) where `cond` holds; the time is taken then. */
async function timeUntil(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (cond()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tp-bench-sibling-'));
  const bd = await startBootstrapd();
  const log = createLogger({ level: 'silent' });
  const companions: Companion[] = [];
  const flags = { localDiscovery: false, ipv6: false, statusText: '' };
  const start = async (dir: string): Promise<Companion> => {
    const config = loadConfig({ dir, env: {}, readFile: false, flags });
    const node = await openNode({ profilePath: join(dir, 'profile.tox'), ipv6: false, localDiscovery: false });
    const state = await loadCompanionState(dir, node.publicKey, config.ttlSeconds, undefined, { selfStatusMessage: node.statusMessage() });
    const c = new Companion(config, state, { node, log });
    await c.start([bd.node()]);
    companions.push(c);
    return c;
  };
  try {
    const phoneDir = join(root, 'phone');
    await initDataDir(phoneDir, { deviceName: 'phone' });
    const phone = await start(phoneDir);
    const enrolled: string[] = [];
    for (const name of ['laptop', 'tablet']) {
      const dir = join(root, name);
      await mkdir(dir, { recursive: true });
      await phone.enroll(join(dir, 'profile.tox'), name);
      await copyFile(join(phoneDir, 'persona.key'), join(dir, 'persona.key'));
      enrolled.push(dir);
    }
    const laptop = await start(enrolled[0]!);
    const tablet = await start(enrolled[1]!);
    const all = [phone, laptop, tablet];
    const t0 = Date.now();
    await until(() => all.every((a) => all.every((b) => a === b || (a.node.friend(b.node.publicKey)?.connection ?? 'none') !== 'none')), 'the three siblings to be online friends', 120_000);
    console.log(`siblings connected after ${Date.now() - t0} ms (libtoxcore ${phone.node.libtoxcoreVersion})`);
    const siblings = [laptop, tablet];

    // Baseline: a bare status message, phone's node → laptop's node event (no persona work, no sync).
    const raw: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const text = `baseline ${i} ${Math.random()}`;
      let t1 = 0;
      const seen = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for the laptop's node to see "${text}"`)), 30_000);
        const on = (e: { publicKey: string; message: string | Uint8Array }) => {
          if (Buffer.from(e.message as Uint8Array).toString() !== text) return;
          t1 = performance.now();
          clearTimeout(timer);
          laptop.node.off('friendStatusMessage', on);
          resolve();
        };
        laptop.node.on('friendStatusMessage', on);
      });
      const ts = performance.now();
      phone.node.setStatusMessage(text);
      await seen;
      raw.push(t1 - ts);
    }
    phone.node.setStatusMessage(phone.statusMessage());
    const base = stats(raw);
    console.log(`baseline: bare status message phone -> laptop node: ${base.text}`);

    // A block made on the phone (friend remove): carried by sibling sync alone, until both siblings block the key.
    const blocks: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const pair = generateKeyPair();
      const pk = bytesToHex(pair.publicKey);
      phone.friendAdd(bytesToHex(toxAddress(pair.publicKey, 0x12345678)), 'bench');
      await phone.flush();
      await until(() => siblings.every((s) => !s.current.blocked.includes(pk)), 'nothing blocked yet', 5_000);
      const ts = performance.now();
      phone.friendRemove(pk);
      const t1 = await timeUntil(() => siblings.every((s) => s.current.blocked.includes(pk)), `both siblings to block ${pk.slice(0, 8)}`);
      blocks.push(t1 - ts);
    }
    const block = stats(blocks);
    console.log(`block on the phone -> held on every sibling: ${block.text}`);

    // An own-list change on the phone (device activate): every sibling holds the new list.
    const lists: number[] = [];
    const order = [laptop.node.publicKey, phone.node.publicKey];
    for (let i = 0; i < CHANGES; i++) {
      const ts = performance.now();
      phone.deviceActivate(order[i % 2]!);
      const seq = phone.ownList.list.seq;
      const t1 = await timeUntil(() => siblings.every((s) => s.ownList.list.seq === seq), `both siblings to hold seq ${seq}`);
      lists.push(t1 - ts);
      await phone.flush();
    }
    const list = stats(lists);
    console.log(`own-list change on the phone -> held on every sibling: ${list.text}`);
    console.log('');
    console.log('| change | median ms | p95 ms | median / baseline |');
    console.log('|---|---:|---:|---:|');
    console.log(`| bare status message (baseline) | ${base.median.toFixed(1)} | ${base.p95.toFixed(1)} | 1.0 |`);
    console.log(`| block, to both siblings | ${block.median.toFixed(1)} | ${block.p95.toFixed(1)} | ${(block.median / base.median).toFixed(1)} |`);
    console.log(`| own list, to both siblings | ${list.median.toFixed(1)} | ${list.p95.toFixed(1)} | ${(list.median / base.median).toFixed(1)} |`);
    console.log(`sibling packets: phone sent ${phone.siblings.stats.packetsOut} packets in ${phone.siblings.stats.messagesOut} messages; laptop received ${laptop.siblings.stats.messagesIn}, dropped ${JSON.stringify(laptop.siblings.stats.dropped)}`);
  } finally {
    for (const c of companions.reverse()) await c.close().catch(() => undefined);
    await bd.close();
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

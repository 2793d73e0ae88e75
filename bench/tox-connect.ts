// Wall time from ToxNode start to "online on the local DHT" and to "friend connected", against a real local tox-bootstrapd.
//
// Run: npx tsx bench/tox-connect.ts [runs]   (default 10; loopback only, IPv6 and LAN discovery off).
import { libtoxcoreInfo } from '../src/ffi/index.js';
import { startBootstrapd } from '../src/tox/bootstrapd.js';
import { ToxNode, type ToxNodeOptions } from '../src/tox/node.js';

/** Per-run figures in ms. */
export interface ConnectRun {
  /**
   * start() until `tox_self_get_connection_status` leaves NONE, i.e. toxcore considers itself connected to the DHT
   * network. On a 3-node loopback network this shows as TCP: onion paths over UDP need more DHT nodes than exist here.
   */
  online: number;
  /** start() of two pre-arranged friends until both see each other online. */
  friend: number;
}

/** Summary statistics in ms. */
export interface Stats {
  median: number;
  p95: number;
  min: number;
  max: number;
}

const RUN_TIMEOUT_MS = 120_000;

/** Runs the measurement `runs` times (fresh nodes each run, one daemon for all) and prints median and p95. */
export async function runToxConnectBench(runs = 10): Promise<{ runs: ConnectRun[]; online: Stats; friend: Stats }> {
  const daemon = await startBootstrapd();
  const options: ToxNodeOptions = { ipv6: false, localDiscovery: false, startPort: 33445, endPort: 34445 };
  const results: ConnectRun[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const a = ToxNode.createSync(options);
      const b = ToxNode.createSync(options);
      try {
        // Pre-arranged friends (each adds the other's key), so "friend connected" measures DHT + onion lookup, not a request.
        const aToB = a.friendAddNorequest(b.publicKey);
        const bToA = b.friendAddNorequest(a.publicKey);
        const t0 = performance.now();
        for (const n of [a, b]) {
          n.bootstrap([daemon.node()]);
          n.start();
        }
        let online = NaN;
        let friend = NaN;
        await poll(() => {
          const now = performance.now() - t0;
          if (Number.isNaN(online) && a.connectionStatus !== 'none') online = now;
          if (Number.isNaN(friend) && a.friendConnectionStatus(aToB) !== 'none' && b.friendConnectionStatus(bToA) !== 'none') friend = now;
          return !Number.isNaN(online) && !Number.isNaN(friend);
        }, `run ${r + 1}: node online and friend connection`);
        results.push({ online, friend });
        console.log(`  run ${String(r + 1).padStart(2)}: online ${fmt(online)} (${a.connectionStatus})  friend ${fmt(friend)}`);
      } finally {
        a.close();
        b.close();
      }
    }
  } finally {
    await daemon.close();
  }
  const online = stats(results.map((x) => x.online));
  const friend = stats(results.map((x) => x.friend));
  console.log(
    `tox-connect: libtoxcore ${libtoxcoreInfo().version} (${libtoxcoreInfo().path}), ${runs} runs, fresh node pair per run, ` +
      'one local tox-bootstrapd (loopback, IPv6/LAN off)',
  );
  console.log(`  ${'milestone'.padEnd(28)} ${'median'.padStart(9)} ${'p95'.padStart(9)} ${'min'.padStart(9)} ${'max'.padStart(9)}`);
  for (const [label, s] of [['start -> DHT connected', online], ['start -> friend connected', friend]] as const) {
    console.log(`  ${label.padEnd(28)} ${fmt(s.median).padStart(9)} ${fmt(s.p95).padStart(9)} ${fmt(s.min).padStart(9)} ${fmt(s.max).padStart(9)}`);
  }
  return { runs: results, online, friend };
}

/** Median and nearest-rank p95 of a sample. */
export function stats(xs: number[]): Stats {
  const s = [...xs].sort((p, q) => p - q);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median, p95: at(0.95), min: s[0]!, max: s[s.length - 1]! };
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function poll(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + RUN_TIMEOUT_MS;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${RUN_TIMEOUT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  await runToxConnectBench(n);
}

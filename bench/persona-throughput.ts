// Decode + verify throughput of v2 persona status messages (certificates cached) against a bare crypto_sign_verify_detached of the same signatures, in one run.
//
// Run: npx tsx bench/persona-throughput.ts [iterations-per-round] [rounds]
import { certifySigner, decodeStatusMessage, encodeStatusMessage, nextDeviceList, personaCrypto, personaKeyFromSeed, signDeviceList, signingInput } from '../src/persona/index.js';
import { sodium } from '../src/persona/sodium.js';
import { formatRatioTable, type Row } from './lib.js';
import { useNativeCrypto } from '../src/crypto/native-sodium.js';

interface Sample {
  text: string;
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * 32 different messages of one shape (32 personas, each with a certified signer), so neither path benefits from
 * verifying the same list bytes again and again. Each persona's certificate is verified once before measuring, as a
 * companion has after the first list of each signer.
 */
function samples(devices: number, named: boolean, human: string): Sample[] {
  return Array.from({ length: 32 }, (_, s) => {
    const key = personaKeyFromSeed(sodium.crypto_generichash(32, `throughput-persona-${s}`, null));
    const signer = personaKeyFromSeed(sodium.crypto_generichash(32, `throughput-signer-${s}`, null));
    const list = nextDeviceList(
      undefined,
      Array.from({ length: devices }, (_, i) => ({ publicKey: sodium.crypto_generichash(32, `throughput-device-${s}-${i}`, null), name: named ? `device${i}` : '' })),
      { now: 1_767_225_600 + s, personaId: key.publicKey, epoch: 1 },
    );
    const signed = signDeviceList(list, signer, certifySigner(key, 1, signer.publicKey));
    const text = encodeStatusMessage(signed, human);
    if (!decodeStatusMessage(text).ok) throw new Error('bench sample rejected');
    // The bare path gets exactly what libsodium needs, prepared in advance: that is the baseline we must approach.
    return { text, signature: signed.signature, message: signingInput(signed.payload), publicKey: signer.publicKey };
  });
}

function paths(set: Sample[]): { label: string; fn: () => unknown }[] {
  // The same crypto_sign_verify_detached the persona layer uses (native libsodium when it loads), called directly.
  const { verify } = personaCrypto();
  let a = 0;
  let b = 0;
  return [
    {
      label: 'bare verify',
      fn: () => {
        const x = set[a++ & 31] as Sample;
        return verify(x.signature, x.message, x.publicKey);
      },
    },
    {
      label: 'decode+verify',
      fn: () => {
        const d = decodeStatusMessage((set[b++ & 31] as Sample).text);
        if (!d.ok) throw new Error(`bench sample rejected: ${d.reason}`);
        return d;
      },
    },
  ];
}

/** Median of a list of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

let sink: unknown;

/**
 * Both paths measured in interleaved rounds (A B A B ...), each round timed by wall clock and by this process's CPU
 * time (process.cpuUsage), so load from other processes on a busy machine (which stretches wall time while we are
 * descheduled) shows up as the gap between the two instead of as a wrong ratio. Rows carry the median of each.
 */
function compareWallAndCpu(list: { label: string; fn: () => unknown }[], iterations: number, rounds: number): { wall: Row[]; cpu: Row[] } {
  for (const p of list) for (let i = 0; i < iterations; i++) sink = p.fn();
  const wall: number[][] = list.map(() => []);
  const cpu: number[][] = list.map(() => []);
  for (let r = 0; r < rounds; r++) {
    list.forEach((p, k) => {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) sink = p.fn();
      const t1 = process.hrtime.bigint();
      const c = process.cpuUsage(c0);
      wall[k]!.push(Number(t1 - t0) / iterations);
      cpu[k]!.push(((c.user + c.system) * 1000) / iterations);
    });
  }
  void sink;
  const rows = (per: number[][]): Row[] => list.map((p, k) => ({ label: p.label, m: { nsPerCall: median(per[k]!), rounds: per[k]! } }));
  return { wall: rows(wall), cpu: rows(cpu) };
}

/** Measures and prints both shapes (wall and CPU time); returns the wall-time rows for bench/run-all.ts. */
export function runPersonaThroughputBench(iterations = 1000, rounds = 21): { typical: Row[]; full: Row[] } {
  // What the companion uses: the system's libsodium when it loads (TOX_PERSONA_CRYPTO=wasm measures libsodium-wrappers).
  useNativeCrypto();
  const typical = compareWallAndCpu(paths(samples(3, true, 'at work')), iterations, rounds);
  const full = compareWallAndCpu(paths(samples(16, false, '')), iterations, rounds);
  console.log(`persona-throughput: crypto ${personaCrypto().name}; ${iterations} messages per round, median of ${rounds} interleaved rounds, 32 distinct messages per shape; wall and CPU time`);
  for (const [title, m] of [['v2, 3 named devices + human text, certified signer', typical], ['v2, 16 unnamed devices + certificate (full message)', full]] as const) {
    for (const [clock, rows] of [['wall', m.wall], ['cpu', m.cpu]] as const) {
      console.log(formatRatioTable(`${title} [${clock} time]`, rows, 'bare verify'));
      const bare = rows[0]!.m.nsPerCall;
      const ours = rows[1]!.m.nsPerCall;
      console.log(`  throughput (${clock}): bare ${(1e9 / bare).toFixed(0)}/s, decode+verify ${(1e9 / ours).toFixed(0)}/s = ${((100 * bare) / ours).toFixed(1)}% of bare (goal >= 85%)`);
    }
  }
  return { typical: typical.wall, full: full.wall };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runPersonaThroughputBench(process.argv[2] ? Number(process.argv[2]) : undefined, process.argv[3] ? Number(process.argv[3]) : undefined);
}

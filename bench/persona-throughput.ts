// Decode + verify throughput of persona status messages against bare libsodium verification of the same signatures, in one run.
//
// Run: npx tsx bench/persona-throughput.ts [iterations-per-round]
import { decodeStatusMessage, encodeStatusMessage, nextDeviceList, personaKeyFromSeed, signDeviceList, signingInput } from '../src/persona/index.js';
import { sodium } from '../src/persona/sodium.js';
import { compareNsPerCall, formatRatioTable, type Row } from './lib.js';

interface Sample {
  text: string;
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/** 32 different messages of one shape, so neither path benefits from verifying the same bytes again and again. */
function samples(devices: number, named: boolean, human: string): Sample[] {
  return Array.from({ length: 32 }, (_, s) => {
    const key = personaKeyFromSeed(sodium.crypto_generichash(32, `throughput-persona-${s}`, null));
    const list = nextDeviceList(
      undefined,
      Array.from({ length: devices }, (_, i) => ({ publicKey: sodium.crypto_generichash(32, `throughput-device-${s}-${i}`, null), name: named ? `device${i}` : '' })),
      { now: 1_767_225_600 + s, personaId: key.publicKey },
    );
    const signed = signDeviceList(list, key);
    // The bare path gets exactly what libsodium needs, prepared in advance: that is the baseline we must approach.
    return { text: encodeStatusMessage(signed, human), signature: signed.signature, message: signingInput(signed.payload), publicKey: key.publicKey };
  });
}

function paths(set: Sample[]): { label: string; fn: () => unknown }[] {
  let a = 0;
  let b = 0;
  return [
    {
      label: 'bare verify',
      fn: () => {
        const x = set[a++ & 31] as Sample;
        return sodium.crypto_sign_verify_detached(x.signature, x.message, x.publicKey);
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

/** Measures and prints both shapes; returns rows for bench/run-all.ts. */
export function runPersonaThroughputBench(iterations = 2000): { typical: Row[]; full: Row[] } {
  const typical = compareNsPerCall(paths(samples(3, true, 'at work')), iterations);
  const full = compareNsPerCall(paths(samples(19, false, '')), iterations);
  console.log(`persona-throughput: ${iterations} messages per round, median of 9 interleaved rounds, 32 distinct messages per shape`);
  for (const [title, rows] of [['3 named devices + human text', typical], ['19 unnamed devices (full message)', full]] as const) {
    console.log(formatRatioTable(title, rows, 'bare verify'));
    const bare = rows[0]!.m.nsPerCall;
    const ours = rows[1]!.m.nsPerCall;
    console.log(`  throughput: bare ${(1e9 / bare).toFixed(0)}/s, decode+verify ${(1e9 / ours).toFixed(0)}/s = ${((100 * bare) / ours).toFixed(1)}% of bare (target >= 80%)`);
  }
  return { typical, full };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runPersonaThroughputBench(process.argv[2] ? Number(process.argv[2]) : undefined);
}

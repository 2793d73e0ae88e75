// Long fuzz run of the persona decoders and table update (npm run fuzz -- [iterations] [seed]); exits non-zero on the first failure.
import { applyStatusMessage, decodeSeedStatusMessage, decodeStatusMessage, emptyTable, observeFriend } from '../src/persona/index.js';
import { bytesEqual } from '../src/util/bytes.js';
import { corpus, fuzzInput, prng } from '../test/support/persona-fuzz.js';

const iterations = Number(process.argv[2] ?? 2_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 32);
const base = corpus();
const rand = prng(seed);
const from = new Uint8Array(32).fill(1);
const table = observeFriend(emptyTable(), from);
const reasons = new Map<string, number>();
const started = performance.now();
console.log(`persona fuzz: ${iterations} inputs, seed ${seed}`);
for (let i = 0; i < iterations; i++) {
  const { input, from: origin } = fuzzInput(rand, base);
  let label: string;
  try {
    decodeSeedStatusMessage(input);
    const d = decodeStatusMessage(input);
    if (d.ok) {
      const original = base[origin];
      if (!original || !bytesEqual(d.signed.payload, original.signed.payload) || !bytesEqual(d.signed.signature, original.signed.signature)) {
        throw new Error('accepted a list that is not its original');
      }
      label = 'OK';
    } else {
      if (d.detail.startsWith('internal')) throw new Error(d.detail);
      label = d.reason;
    }
    if (i % 20 === 0) applyStatusMessage(table, { from, text: input, now: 1_767_225_600, policy: 'auto' });
  } catch (error) {
    console.error(`FAIL at input ${i} (seed ${seed}):`, error);
    console.error('input:', typeof input === 'string' ? JSON.stringify(input) : Buffer.from(input).toString('hex'));
    process.exit(1);
  }
  reasons.set(label, (reasons.get(label) ?? 0) + 1);
  if ((i + 1) % 500_000 === 0) console.log(`  ${i + 1} inputs, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
console.log(`done: ${iterations} inputs in ${((performance.now() - started) / 1000).toFixed(1)} s, no throw`);
console.log([...reasons.entries()].sort((a, b) => b[1] - a[1]).map(([r, n]) => `  ${r.padEnd(20)} ${n}`).join('\n'));

// In-suite fuzz: 100,000 random and mutated status messages through the decoder and the table, none may throw.
import { describe, expect, it } from 'vitest';
import { applyStatusMessage, decodeStatusMessage, decodeSeedStatusMessage, emptyTable, observeFriend } from '../../src/persona/index.js';
import { bytesEqual } from '../../src/util/bytes.js';
import { corpus, fuzzInput, prng } from '../support/persona-fuzz.js';
import { yieldToEventLoop } from '../support/wait.js';

const KNOWN = new Set([
  'TOO_LONG', 'INVALID_UTF8', 'NO_BLOB', 'BAD_BASE64', 'BAD_ENVELOPE', 'INFLATE_TOO_LARGE', 'INFLATE_FAILED', 'TRUNCATED', 'TRAILING_BYTES',
  'UNSUPPORTED_VERSION', 'BAD_FLAGS', 'BAD_FIELD', 'BAD_NAME', 'NON_CANONICAL', 'DUPLICATE_DEVICE', 'PERSONA_IS_DEVICE', 'BAD_SIGNATURE',
  'BAD_CHAIN', 'BAD_CERT', 'SIGNER_NOT_CERTIFIED', 'SEQ_AHEAD', 'TTL_TOO_LONG',
]);

describe('persona decoder fuzz', () => {
  it('100,000 random and mutated inputs: no throw, only known reasons, and anything accepted is an original list', async () => {
    const base = corpus();
    const rand = prng(0x7e57);
    const reasons = new Map<string, number>();
    let accepted = 0;
    const failures: string[] = [];
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      // A long synchronous loop starves vitest's worker RPC on a loaded machine ("Timeout calling onTaskUpdate").
      if (i % 5000 === 0) await yieldToEventLoop();
      const { input, from } = fuzzInput(rand, base);
      // The seed decoder sees the same inputs; it must not throw either.
      decodeSeedStatusMessage(input);
      const d = decodeStatusMessage(input);
      if (d.ok) {
        accepted++;
        const original = base[from];
        // Plain checks in the hot loop (expect() per iteration costs more than the decoder); failures are collected.
        if (!original || !bytesEqual(d.signed.payload, original.signed.payload) || !bytesEqual(d.signed.signature, original.signed.signature)) {
          failures.push(`input ${i}: accepted a list that is not its original`);
        }
      } else {
        if (!KNOWN.has(d.reason)) failures.push(`input ${i}: unknown reason ${d.reason}`);
        if (d.detail.startsWith('internal')) failures.push(`input ${i}: ${d.detail}`);
        reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
    // The generator must reach deep into the decoder, not just bounce off the marker search.
    for (const r of ['NO_BLOB', 'BAD_BASE64', 'TRUNCATED', 'BAD_SIGNATURE', 'INFLATE_FAILED', 'INVALID_UTF8', 'TOO_LONG']) {
      expect(reasons.get(r) ?? 0, `fuzz never produced ${r}`).toBeGreaterThan(0);
    }
    expect(accepted, 'mutations of the human text keep the list valid').toBeGreaterThan(0);
  });

  it('applyStatusMessage never throws on 5,000 fuzzed messages', () => {
    const base = corpus();
    const rand = prng(0xbeef);
    const from = new Uint8Array(32).fill(1);
    const table = observeFriend(emptyTable(), from);
    for (let i = 0; i < 5000; i++) {
      const { input } = fuzzInput(rand, base);
      const r = applyStatusMessage(table, { from, text: input, now: 1_767_225_600, policy: 'auto' });
      expect(['none', 'rejected', 'ignored', 'applied', 'pending', 'unchanged']).toContain(r.outcome.kind);
    }
  });
});

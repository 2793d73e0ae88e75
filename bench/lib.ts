// Shared micro-benchmark helpers: ns per call with warm-up and the median of several rounds, and a ratio table printer.

/** Options for {@link measureNsPerCall}. */
export interface MeasureOptions {
  /** Timed rounds; the median is reported (default 7). */
  rounds?: number;
  /** Untimed calls before the first round, so the JIT and koffi's call path are warm (default: iterations). */
  warmup?: number;
}

/** One measurement: the median ns per call over the rounds, and every round's figure. */
export interface Measurement {
  nsPerCall: number;
  rounds: number[];
}

/** Sink that keeps call results observable, so the JIT cannot drop the calls being measured. */
let sink: unknown;

/** Times `iterations` calls of `fn` per round and returns the median ns/call over the rounds. */
export function measureNsPerCall(fn: () => unknown, iterations: number, options: MeasureOptions = {}): Measurement {
  const rounds = options.rounds ?? 7;
  const warmup = options.warmup ?? iterations;
  for (let i = 0; i < warmup; i++) sink = fn();
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn();
    const t1 = process.hrtime.bigint();
    results.push(Number(t1 - t0) / iterations);
  }
  void sink;
  const sorted = [...results].sort((a, b) => a - b);
  return { nsPerCall: sorted[Math.floor(sorted.length / 2)]!, rounds: results };
}

/** A call path to compare: a label and a zero-argument function making one call. */
export interface Path {
  label: string;
  fn: () => unknown;
}

/**
 * Measures several paths with their rounds interleaved (A B C A B C ...), so drift in CPU frequency or load from
 * other processes hits every path alike; each row is the median ns/call over its rounds.
 */
export function compareNsPerCall(paths: Path[], iterations: number, options: MeasureOptions = {}): Row[] {
  const rounds = options.rounds ?? 9;
  const warmup = options.warmup ?? iterations;
  for (const p of paths) measureNsPerCall(p.fn, warmup, { rounds: 1, warmup: 0 });
  const per: number[][] = paths.map(() => []);
  for (let r = 0; r < rounds; r++) {
    paths.forEach((p, k) => per[k]!.push(measureNsPerCall(p.fn, iterations, { rounds: 1, warmup: 0 }).nsPerCall));
  }
  return paths.map((p, k) => {
    const sorted = [...per[k]!].sort((a, b) => a - b);
    return { label: p.label, m: { nsPerCall: sorted[Math.floor(sorted.length / 2)]!, rounds: per[k]! } };
  });
}

/** One row of a comparison table: a label and its measurement. */
export interface Row {
  label: string;
  m: Measurement;
}

/** Formats rows as `label  ns/call  ratio`, the ratio against the row labelled `baseline` (measured in the same run). */
export function formatRatioTable(title: string, rows: Row[], baseline: string): string {
  const base = rows.find((r) => r.label === baseline);
  if (!base) throw new Error(`baseline row '${baseline}' missing`);
  const w = Math.max(...rows.map((r) => r.label.length), 10);
  const lines = [title, `  ${'path'.padEnd(w)}  ${'ns/call'.padStart(9)}  ${'ratio'.padStart(6)}`];
  for (const r of rows) {
    const ratio = r.m.nsPerCall / base.m.nsPerCall;
    lines.push(`  ${r.label.padEnd(w)}  ${r.m.nsPerCall.toFixed(1).padStart(9)}  ${ratio.toFixed(2).padStart(6)}x`);
  }
  return lines.join('\n');
}

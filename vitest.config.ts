// Test runner configuration: unit, integration (real libtoxcore + tox-bootstrapd) and e2e (CLI child processes).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Real Tox nodes are CPU-light but timing-sensitive; the machine has 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
    // The JSON report lets .ci/run print one 'N passed, N failed' line that CI can read.
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
  },
});

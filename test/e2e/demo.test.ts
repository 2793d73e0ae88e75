// End to end: `tox-persona demo` (what `npm run demo` runs) tells the four steps and exits 0.
import { describe, expect, it } from 'vitest';
import { cli } from './cli.js';

describe('tox-persona demo', () => {
  it('runs the story on a private loopback network and prints the final table', async () => {
    const r = await cli(['demo'], { timeoutMs: 110_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout;
    expect(lines).toContain('Bob verified Alice\'s signed list and mapped her persona');
    expect(lines).toContain('Bob\'s companion saw the new list and added the laptop by itself');
    expect(lines).toContain('Bob and the laptop are connected');
    expect(lines).toContain('Bob\'s companion removed the laptop');
    expect(lines).toMatch(/outcome: ignored \(ROLLBACK\)/);
    expect(lines).toMatch(/== Bob's table at the end ==\n.*PERSONA\s+STATE/);
    // PERSONA  STATE  EPOCH  SEQ  DEVICES: the active device starred.
    expect(lines).toMatch(/verified\s+\d+\s+\d+\s+phone\*/);
  }, 120_000);
});

// The daemon's terminal QR code holds the tox: URI of the Tox ID, the form Tox clients' scanners read.
import { describe, expect, it } from 'vitest';
import { qrPayload, qrText } from '../../src/cli/run.js';

const ID = '2844EE1843313385A3B411D15A3D57DC10E006C988E142CE14450DE52790201C2057760B9D1A';

describe('Tox ID QR code', () => {
  it('encodes the tox: URI and renders a square block of QR characters', async () => {
    expect(qrPayload(ID)).toBe(`tox:${ID}`);
    const lines = (await qrText(ID)).split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThan(10);
    expect(new Set(lines.map((l) => l.length)).size, 'all rows the same width').toBe(1);
    expect(lines.join('')).toMatch(/^[ ▀▄█]+$/);
  });
});

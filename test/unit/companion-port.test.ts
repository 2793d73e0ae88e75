// The companion's adapter over the persona layer: which pending updates a reference names (an ambiguous prefix is refused).
import { describe, expect, it } from 'vitest';
import * as P from '../../src/companion/persona-port.js';
import { buildStatusMessage, emptyTable, type PersonaTable } from '../../src/persona/index.js';
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS } from '../../src/persona/table.js';

/** A table holding pending updates; pendingFor only reads id and personaId, the rest is filler of the right shape. */
function tableWith(pending: Array<{ id: string; personaId: string }>): PersonaTable {
  const t = emptyTable();
  for (const p of pending) t.pending.push({ ...p, from: 'F'.repeat(64), seq: 1, record: '', receivedAt: 0, reason: 'MANUAL_POLICY' } as (typeof t.pending)[number]);
  return t;
}

describe('pendingFor', () => {
  const a = `ABCDEF01${'1'.repeat(56)}`;
  const b = `ABCDEF01${'2'.repeat(56)}`;
  const t = tableWith([
    { id: '00000000000000a1', personaId: a },
    { id: '00000000000000a2', personaId: a },
    { id: '00000000000000b1', personaId: b },
  ]);

  it('finds a persona\'s updates by full PersonaID, by a prefix naming one persona, or one update by its id', () => {
    expect(P.pendingFor(t, a).map((p) => p.id)).toEqual(['00000000000000a1', '00000000000000a2']);
    expect(P.pendingFor(t, b.toLowerCase()).map((p) => p.id)).toEqual(['00000000000000b1']);
    expect(P.pendingFor(t, 'ABCDEF012').map((p) => p.id)).toEqual(['00000000000000b1']);
    expect(P.pendingFor(t, 'abcdef0111').map((p) => p.id)).toEqual(['00000000000000a1', '00000000000000a2']);
    expect(P.pendingFor(t, '00000000000000B1').map((p) => p.id)).toEqual(['00000000000000b1']);
    expect(P.pendingFor(t, 'ABCDEF0')).toEqual([]); // under 8 characters is not a prefix
    expect(P.pendingFor(t, 'FFFFFFFF')).toEqual([]);
  });

  it('refuses a prefix that names pending updates of several personas (AMBIGUOUS), rather than acting on all', () => {
    expect(() => P.pendingFor(t, 'ABCDEF01')).toThrow(expect.objectContaining({ code: 'AMBIGUOUS', message: expect.stringMatching(/2 personas/) }));
    expect(() => P.pendingFor(t, 'abcdef01')).toThrow(expect.objectContaining({ code: 'AMBIGUOUS' }));
  });
});

describe('verifyStatus: clock skew', () => {
  it('reports a list issued more than DEFAULT_MAX_CLOCK_SKEW_SECONDS ahead as FUTURE_DATED, as the table does', async () => {
    await P.ready();
    const key = await P.newPersonaKey();
    const now = Math.floor(Date.now() / 1000);
    const device = [{ publicKey: 'A'.repeat(64), name: 'phone' }];
    const at = (issued: number) => buildStatusMessage(P.signNext(undefined, device, key.pair, issued, 3600), 'hi');
    expect(P.verifyStatus(at(now), now)).toMatchObject({ ok: true });
    expect(P.verifyStatus(at(now + DEFAULT_MAX_CLOCK_SKEW_SECONDS), now)).toMatchObject({ ok: true });
    expect(P.verifyStatus(at(now + DEFAULT_MAX_CLOCK_SKEW_SECONDS + 1), now)).toMatchObject({ ok: false, reason: 'FUTURE_DATED' });
    expect(P.verifyStatus(at(now + 365 * 24 * 3600), now)).toMatchObject({ ok: false, reason: 'FUTURE_DATED', detail: expect.stringMatching(/300s after now/) });
  });
});

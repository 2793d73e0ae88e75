// device enroll's write-ahead intent: a start after a crash finishes the enrollment only when the new profile is complete
// and our list is still the one it extended (or already the intended one); otherwise it drops it. The temp copy of the
// new profile (it holds the new device's secret key) never survives.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as P from '../../src/companion/persona-port.js';
import { createProfileFile, enrollTempPath, isIntentBase, resolveEnrollIntent, sha256Hex, type EnrollIntent } from '../../src/companion/enroll.js';
import { ProfileError } from '../../src/profile/errors.js';
import { useTempDir } from '../support/tmp.js';

const dev = (): P.DeviceView => {
  const b = randomBytes(32);
  b[31]! &= 0x7f;
  return { publicKey: b.toString('hex').toUpperCase(), name: '' };
};

describe('device enroll intent', () => {
  const tmp = useTempDir('tp-enroll-');

  /** Our list, the list the enrollment intends (ours plus a laptop), the profile bytes, and the intent for `out`. */
  async function setup(name: string) {
    const key = await P.newPersonaKey();
    const phone = dev();
    const laptop = dev();
    const base = P.signNext(undefined, [phone], key.pair, 1_800_000_000, 3600);
    const next = P.signNext(base.list, [phone, laptop], key.pair, 1_800_000_001, 3600);
    const bytes = randomBytes(700);
    const out = tmp(`${name}.tox`);
    const intent: EnrollIntent = { out, tmp: enrollTempPath(out, `req-${name}`), sha256: sha256Hex(bytes), list: P.ownListToJson(next), base: P.ownListToJson(base), publicKey: laptop.publicKey };
    return { key, phone, laptop, base, next, bytes, out, intent };
  }

  it('profile complete and our list the one it extended: finish, adopting the intended list exactly as signed', async () => {
    const s = await setup('complete');
    await createProfileFile(s.out, s.intent.tmp, s.bytes);
    const r = await resolveEnrollIntent(s.intent, s.base);
    expect(r.finish).toBe(true);
    if (r.finish) {
      expect(P.ownListToJson(r.signed)).toEqual(P.ownListToJson(s.next));
      expect(r.publicKey).toBe(s.laptop.publicKey);
    }
    // A save after adopting the list and before the final outcome: the list is the intended one already.
    expect((await resolveEnrollIntent(s.intent, s.next)).finish).toBe(true);
  });

  it('profile never written, or a crash left only its temp copy: drop, and the temp copy (the secret key) is removed', async () => {
    const s = await setup('missing');
    writeFileSync(s.intent.tmp, s.bytes.subarray(0, 100), { mode: 0o600 });
    const r = await resolveEnrollIntent(s.intent, s.base);
    expect(r).toMatchObject({ finish: false, why: expect.stringContaining('never written') });
    expect(existsSync(s.intent.tmp)).toBe(false);
  });

  it('another file at the output path (not the bytes this enrollment wrote): drop, the file is left alone', async () => {
    const s = await setup('foreign');
    writeFileSync(s.out, randomBytes(700), { mode: 0o600 });
    expect(await resolveEnrollIntent(s.intent, s.base)).toMatchObject({ finish: false, why: expect.stringContaining('not the profile') });
    expect(existsSync(s.out)).toBe(true);
  });

  it('our list moved on from the one the enrollment extended: drop (adopting it would fork our list)', async () => {
    const s = await setup('moved');
    await createProfileFile(s.out, s.intent.tmp, s.bytes);
    const other = P.signNext(s.base.list, [s.phone, dev()], s.key.pair, 1_800_000_002, 3600);
    expect(isIntentBase(s.intent, other)).toBe(false);
    expect(await resolveEnrollIntent(s.intent, other)).toMatchObject({ finish: false, why: expect.stringContaining('not the one the enrollment extended') });
  });

  it('an intended list not signed by our persona (a tampered outcomes.json): drop', async () => {
    const s = await setup('tampered');
    await createProfileFile(s.out, s.intent.tmp, s.bytes);
    const mallory = await P.newPersonaKey();
    const forged = P.signNext(undefined, [s.phone, s.laptop], mallory.pair, 1_800_000_001, 3600);
    expect(await resolveEnrollIntent({ ...s.intent, list: P.ownListToJson(forged) }, s.base)).toMatchObject({ finish: false });
  });

  it('createProfileFile: OUTPUT_EXISTS for an existing path, which it leaves untouched; the file is 0600; no temp file stays', async () => {
    const s = await setup('exists');
    writeFileSync(s.out, 'theirs');
    await expect(createProfileFile(s.out, s.intent.tmp, s.bytes)).rejects.toSatisfy((e) => e instanceof ProfileError && e.code === 'OUTPUT_EXISTS');
    expect(existsSync(s.intent.tmp)).toBe(false);
    const t = await setup('fresh');
    await createProfileFile(t.out, t.intent.tmp, t.bytes);
    expect(statSync(t.out).mode & 0o777).toBe(0o600);
    expect(sha256Hex(readFileSync(t.out))).toBe(t.intent.sha256);
    expect(existsSync(t.intent.tmp)).toBe(false);
  });
});

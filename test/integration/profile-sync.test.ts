// profile sync against profiles libtoxcore wrote: what it adds, removes and keeps, checked by loading the result back into libtoxcore.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProfile, writeProfile, planProfileSync, profileInUse, joinStatusMessage, humanTextOf, SectionType, type SyncSource } from '../../src/profile/index.js';
import * as P from '../../src/companion/persona-port.js';
import { encodeStatusMessage } from '../../src/persona/index.js';
import { generateKeyPair } from '../../src/profile/keys.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { acquireKernelLock } from '../../src/util/lock.js';
import { buildSocialProfile, friendKeysHex, newRawTox, type SocialProfile } from '../support/profile-tox.js';
import { waitFor } from '../support/wait.js';

const hex = () => bytesToHex(generateKeyPair().publicKey);

/** Alice's persona as a companion would report it: devices [phone, laptop], the laptop confirmed or not. */
async function aliceSource(opts: { laptopConfirmed?: boolean; laptop?: string; phone?: string; blocked?: string[]; state?: string } = {}) {
  await P.ready();
  const key = await P.newPersonaKey();
  const bobKey = await P.newPersonaKey();
  const phone = opts.phone ?? hex();
  const laptop = opts.laptop ?? hex();
  const own = P.signNext(undefined, [{ publicKey: hex(), name: 'bob' }], bobKey.pair, Math.floor(Date.now() / 1000), 3600);
  const source: SyncSource = {
    personaId: P.personaIdHex(bobKey),
    ownDevices: P.devicesOf(own.list),
    blob: encodeStatusMessage(own),
    expiresAt: own.list.issuedAt + own.list.ttl,
    personas: [
      {
        personaId: P.personaIdHex(key),
        state: opts.state ?? 'verified',
        devices: [
          { publicKey: phone, name: 'phone', confirmed: true },
          { publicKey: laptop, name: 'laptop', confirmed: opts.laptopConfirmed ?? true },
        ],
      },
    ],
    blocked: opts.blocked ?? [],
  };
  return { source, phone, laptop, alicePersona: P.personaIdHex(key) };
}

function sectionBytes(save: Uint8Array): Map<number, string> {
  const out = new Map<number, string>();
  let at = 8;
  const v = new DataView(save.buffer, save.byteOffset, save.byteLength);
  while (at + 8 <= save.length) {
    const len = v.getUint32(at, true);
    const type = v.getUint16(at + 4, true);
    out.set(type, Buffer.from(save.subarray(at + 8, at + 8 + len)).toString('hex'));
    at += 8 + len;
    if (type === SectionType.END) break;
  }
  return out;
}

describe('profile sync on a profile libtoxcore wrote', () => {
  const social: SocialProfile = buildSocialProfile();

  it('adds the confirmed devices of a verified persona, puts the list after the client\'s text, and keeps every other section byte for byte', async () => {
    const { source, phone } = await aliceSource({ laptopConfirmed: false });
    const plan = planProfileSync(parseProfile(social.savedata), source, undefined);
    expect(plan.added.map((a) => a.publicKey)).toEqual([phone]); // the unconfirmed laptop waits for its own confirmation
    expect(plan.status.after).toBe(`${social.statusMessage} ${source.blob}`);
    const out = writeProfile(plan.profile);
    const before = sectionBytes(social.savedata);
    const after = sectionBytes(out);
    for (const [type, bytes] of before) if (type !== SectionType.FRIENDS && type !== SectionType.STATUSMESSAGE) expect(after.get(type), `section ${type}`).toBe(bytes);
    expect(after.get(SectionType.FRIENDS)!.startsWith(before.get(SectionType.FRIENDS)!)).toBe(true); // old records untouched, new one appended
    const t = newRawTox({ savedata: out, udp: false });
    try {
      expect(friendKeysHex(t.tox)).toEqual([...social.friendKeys, phone]);
      expect(P.verifyStatus(plan.status.after, Date.now() / 1000)).toMatchObject({ ok: true, human: `${social.statusMessage} ` });
    } finally {
      t.kill();
    }
  });

  it('a second sync replaces the old blob, keeps the text, and removes only the devices it added that the persona dropped', async () => {
    const { source, phone, laptop } = await aliceSource();
    const first = planProfileSync(parseProfile(social.savedata), source, undefined);
    expect(first.added.map((a) => a.publicKey).sort()).toEqual([phone, laptop].sort());
    const synced = writeProfile(first.profile);
    // Alice drops the laptop; one of the client's own friends (never added by sync) is also not in any list.
    const dropped: SyncSource = { ...source, personas: [{ ...source.personas[0]!, devices: source.personas[0]!.devices.filter((d) => d.publicKey !== laptop) }] };
    const second = planProfileSync(parseProfile(synced), dropped, first.recordAfter);
    expect(second.removed.map((r) => r.publicKey)).toEqual([laptop]);
    expect(second.added).toEqual([]);
    expect(second.status.after).toBe(first.status.after);
    expect(humanTextOf(second.status.after)).toBe(social.statusMessage);
    const t = newRawTox({ savedata: writeProfile(second.profile), udp: false });
    try {
      expect(friendKeysHex(t.tox)).toEqual([...social.friendKeys, phone]);
    } finally {
      t.kill();
    }
    // Nothing changed since: a third sync is a no-op.
    const third = planProfileSync(second.profile, dropped, second.recordAfter);
    expect(third.changed).toBe(false);
  });

  it('never adds a stranger, a stale or blocked persona\'s device, or one the user removed in the client after sync added it', async () => {
    const stale = await aliceSource({ state: 'stale' });
    expect(planProfileSync(parseProfile(social.savedata), stale.source, undefined).added).toEqual([]);
    const blocked = await aliceSource();
    const b = planProfileSync(parseProfile(social.savedata), { ...blocked.source, blocked: [blocked.phone] }, undefined);
    expect(b.added.map((a) => a.publicKey)).toEqual([blocked.laptop]);
    // A record written for another profile, naming one of this client's own friends as "added by sync", is ignored.
    const foreign = { version: 1 as const, profile: hex(), added: { [social.friendKeys[0]!]: blocked.alicePersona }, pending: {}, declined: [] };
    expect(planProfileSync(parseProfile(social.savedata), blocked.source, foreign).removed).toEqual([]);
    // The user removes the synced phone in the client: the next sync records that and does not add it back.
    const first = planProfileSync(parseProfile(social.savedata), blocked.source, undefined);
    const p = first.profile;
    const friends = p.sections.find((s) => s.kind === 'friends') as { friends: Array<{ publicKey: Uint8Array }> };
    friends.friends = friends.friends.filter((f) => bytesToHex(f.publicKey) !== blocked.phone);
    const after = planProfileSync(p, blocked.source, first.recordAfter);
    expect(after.declined).toEqual([blocked.phone]);
    expect(after.added).toEqual([]);
    expect(after.recordAfter.declined).toContain(blocked.phone);
  });

  it('refuses human text that no longer fits next to the list, with the byte budget', async () => {
    const { source } = await aliceSource();
    const p = parseProfile(social.savedata);
    const idx = p.sections.findIndex((s) => s.kind === 'statusMessage');
    p.sections[idx] = { kind: 'statusMessage', statusMessage: new TextEncoder().encode('x'.repeat(1000)) };
    expect(() => planProfileSync(p, source, undefined)).toThrow(expect.objectContaining({ code: 'TOO_LONG' }));
  });

  it('joins human text with one space and reads it back', () => {
    expect(joinStatusMessage('', '~tp1:AA')).toBe('~tp1:AA');
    expect(joinStatusMessage('hi', '~tp1:AA')).toBe('hi ~tp1:AA');
    expect(joinStatusMessage('hi\n', '~tp1:AA')).toBe('hi\n~tp1:AA');
    expect(humanTextOf('hi ~tp1:AA')).toBe('hi');
    expect(humanTextOf('a ~tp1: b ~tp1:AA')).toBe('a ~tp1: b');
    expect(humanTextOf('plain')).toBe('plain');
  });
});

describe('a profile in use is left alone', () => {
  it('sees a live or flocked qTox lock file, and a process naming the profile; not a stale qTox lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tp-inuse-'));
    try {
      const profile = join(dir, 'alice.tox');
      await writeFile(profile, buildSocialProfile().savedata);
      expect(profileInUse(profile)).toBeUndefined();

      // qTox: NAME.lock next to NAME.tox holding "pid\napp\nhost".
      const lock = join(dir, 'alice.lock');
      await writeFile(lock, `${process.pid}\nqTox\n\n`);
      expect(profileInUse(profile)).toMatch(/alice\.lock names the live process/);
      const dead = spawn(process.execPath, ['-e', '0']);
      const deadPid = dead.pid!;
      await new Promise((r) => dead.on('exit', r));
      await writeFile(lock, `${deadPid}\nqTox\n\n`);
      expect(profileInUse(profile)).toBeUndefined();
      const held = await acquireKernelLock(lock);
      try {
        expect(profileInUse(profile)).toMatch(/locked/);
      } finally {
        held.release();
      }
      await rm(lock);

      // toxic takes no lock: a process that names the profile on its command line (toxic -f FILE) is seen.
      const client = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', profile], { stdio: 'ignore' });
      try {
        await waitFor(() => profileInUse(profile), { what: 'the stand-in client process to be seen using the profile', timeoutMs: 10_000 });
      } finally {
        client.kill('SIGKILL');
      }
      await new Promise((r) => client.on('exit', r));
      expect(profileInUse(profile)).toBeUndefined();
      expect(await readFile(profile)).toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Fuzzing the savedata parser with mutated real profiles: a typed ProfileError or a clean parse, never a crash.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd } from '../../src/tox/bootstrapd.js';
import {
  ProfileError,
  decryptProfile,
  encryptProfile,
  inspectProfile,
  parseProfile,
  writeProfile,
  type PackedNode,
  type Profile,
  type ProfileSection,
  type SavedFriend,
} from '../../src/profile/index.js';
import { mutate, prng } from '../support/profile-mutate.js';
import { buildNetworkedProfile, buildSocialProfile, getSavedata, newRawTox, selfPublicKey, RawToxNewError, type RawTox } from '../support/profile-tox.js';
import { yieldToEventLoop } from '../support/wait.js';

/** The fuzz property: a typed error, or a profile that writes back the same bytes, re-parses to the same structure, and inspects. */
function checkOne(input: Uint8Array, label: string): 'parsed' | string {
  let p: Profile;
  try {
    p = parseProfile(input);
  } catch (err) {
    if (err instanceof ProfileError) return err.code;
    throw new Error(`${label}: parseProfile threw a non-ProfileError: ${String(err)}`);
  }
  const written = writeProfile(p);
  // Byte-exact: what we write is the input itself, less zero padding after END.
  const rest = input.subarray(written.length);
  expect(Buffer.from(input.subarray(0, written.length)).equals(Buffer.from(written)) && rest.every((b) => b === 0), `${label}: write(parse(b)) is not b`).toBe(true);
  const again = parseProfile(written);
  expect(again, `${label}: parse(write(p)) differs from p`).toEqual(p);
  expect(Buffer.from(writeProfile(again)).equals(Buffer.from(written)), `${label}: write is not stable`).toBe(true);
  JSON.stringify(inspectProfile(p, { showSecrets: true }));
  return 'parsed';
}

let bases: { name: string; bytes: Uint8Array }[];
/** The GROUPS section of a profile libtoxcore 0.2.22 wrote (see test/unit/profile-groups.test.ts). */
const realGroups = (() => {
  const s = parseProfile(new Uint8Array(readFileSync(new URL('../vectors/profile-groups-0.2.22.tox', import.meta.url)))).sections.find((x) => x.kind === 'groups');
  if (s?.kind !== 'groups') throw new Error('test/vectors/profile-groups-0.2.22.tox has no GROUPS section');
  return s.data;
})();

beforeAll(async () => {
  const t = newRawTox({ udp: false });
  const fresh = getSavedata(t.tox);
  t.kill();
  const bd = await startBootstrapd();
  try {
    bases = [
      { name: 'fresh', bytes: fresh },
      { name: 'social', bytes: buildSocialProfile().savedata },
      { name: 'networked', bytes: (await buildNetworkedProfile(bd)).savedata },
    ];
  } finally {
    await bd.close();
  }
}, 90_000);

describe('mutated real profiles', () => {
  it('4000 mutations: typed errors or clean parses, never a crash', async () => {
    const outcomes = new Map<string, number>();
    const seed = Number(process.env.PROFILE_FUZZ_SEED ?? 20261125);
    const rand = prng(seed);
    for (let i = 0; i < 4000; i++) {
      // A long synchronous loop starves vitest's worker RPC on a loaded machine ("Timeout calling onTaskUpdate").
      if (i % 250 === 0) await yieldToEventLoop();
      const base = bases[i % bases.length]!;
      const input = mutate(base.bytes, rand);
      const outcome = checkOne(input, `seed ${seed}, iteration ${i}, base ${base.name}`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    if (process.env.PROFILE_FUZZ_REPORT) console.log(`profile fuzz outcomes (seed ${seed}):`, Object.fromEntries(outcomes));
    // The mutations must reach both sides: many inputs still parse, and several distinct error codes come up.
    expect(outcomes.get('parsed') ?? 0).toBeGreaterThan(200);
    expect([...outcomes.keys()].filter((k) => k !== 'parsed').length).toBeGreaterThanOrEqual(4);
  });

  it('differential against libtoxcore (500 mutations): whatever libtoxcore refuses, we refuse; what we accept loads with our key', () => {
    const seed = Number(process.env.PROFILE_FUZZ_SEED ?? 20261125) + 1;
    const rand = prng(seed);
    let bothAccepted = 0;
    for (let i = 0; i < 500; i++) {
      const base = bases[i % bases.length]!;
      const input = mutate(base.bytes, rand);
      const label = `seed ${seed}, iteration ${i}, base ${base.name}`;
      let ours: Profile | ProfileError;
      try {
        ours = parseProfile(input);
      } catch (err) {
        if (!(err instanceof ProfileError)) throw err;
        ours = err;
      }
      let tox: RawTox | undefined;
      let theirs: string;
      try {
        tox = newRawTox({ savedata: input, udp: false });
        theirs = 'OK';
      } catch (err) {
        if (!(err instanceof RawToxNewError)) throw err;
        theirs = err.code;
      }
      try {
        if (theirs !== 'OK' && !(ours instanceof ProfileError)) {
          // Keep the input for replay: the message names the file.
          const file = join(tmpdir(), `profile-fuzz-${seed}-${i}.tox`);
          writeFileSync(file, input);
          expect(ours instanceof ProfileError ? 'refused' : 'accepted', `${label}: libtoxcore says ${theirs} (input saved to ${file})`).toBe('refused');
        } else if (!(ours instanceof ProfileError)) {
          bothAccepted++;
          const keys = ours.sections.filter((s) => s.kind === 'nospamKeys').at(-1);
          if (keys) expect(Buffer.from(selfPublicKey(tox!.tox)).equals(Buffer.from(keys.publicKey)), `${label}: public key`).toBe(true);
        }
      } finally {
        tox?.kill();
      }
    }
    expect(bothAccepted).toBeGreaterThan(50);
  });

  it('mutated encrypted profiles give BAD_PASSPHRASE / TRUNCATED / BAD_MAGIC, never a crash', () => {
    const enc = encryptProfile(bases[1]!.bytes, 'fuzz');
    const rand = prng(7);
    for (let i = 0; i < 12; i++) {
      const input = mutate(enc, rand);
      try {
        decryptProfile(input, 'fuzz');
      } catch (err) {
        expect(err, `iteration ${i}`).toBeInstanceOf(ProfileError);
        expect(['BAD_PASSPHRASE', 'TRUNCATED', 'BAD_MAGIC']).toContain((err as ProfileError).code);
      }
    }
  });
});

describe('generated profiles (fast-check)', () => {
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const node: fc.Arbitrary<PackedNode> = fc.oneof(
    fc.record({ family: fc.constantFrom(2 as const, 130 as const), ip: fc.uint8Array({ minLength: 4, maxLength: 4 }), port: fc.integer({ min: 0, max: 65535 }), publicKey: key }),
    fc.record({ family: fc.constantFrom(10 as const, 138 as const), ip: fc.uint8Array({ minLength: 16, maxLength: 16 }), port: fc.integer({ min: 0, max: 65535 }), publicKey: key }),
  );
  const friend: fc.Arbitrary<SavedFriend> = fc.record({
    status: fc.integer({ min: 0, max: 255 }),
    publicKey: key,
    requestMessage: bytes(1024),
    name: bytes(128),
    statusMessage: bytes(1007),
    userStatus: fc.integer({ min: 0, max: 255 }),
    requestNospam: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    lastSeen: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  });
  const section: fc.Arbitrary<ProfileSection> = fc.oneof(
    fc.record({ kind: fc.constant('dht' as const), subsections: fc.array(fc.oneof(fc.record({ type: fc.constant(4 as const), nodes: fc.array(node, { maxLength: 5 }) }), fc.record({ type: fc.integer({ min: 0, max: 65535 }).filter((t) => t !== 4), data: bytes(40) })), { maxLength: 3 }), trailing: fc.constant(new Uint8Array(0)) }),
    fc.record({ kind: fc.constant('friends' as const), friends: fc.array(friend, { maxLength: 3 }) }),
    fc.record({ kind: fc.constant('name' as const), name: bytes(200) }),
    fc.record({ kind: fc.constant('statusMessage' as const), statusMessage: bytes(1100) }),
    fc.record({ kind: fc.constant('status' as const), userStatus: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('tcpRelays' as const), nodes: fc.array(node, { maxLength: 9 }) }),
    fc.record({ kind: fc.constant('pathNodes' as const), nodes: fc.array(node, { maxLength: 9 }) }),
    fc.record({ kind: fc.constant('conferences' as const), data: bytes(300) }),
    // GROUPS: an empty list, or the groups libtoxcore 0.2.22 wrote (test/vectors); its bytes are kept, not re-encoded.
    fc.record({ kind: fc.constant('groups' as const), data: fc.constantFrom(Uint8Array.of(0x90), realGroups) }),
    fc.record({ kind: fc.constant('unknown' as const), type: fc.constantFrom(0, 8, 9, 12, 19, 21, 254, 1000), data: bytes(100) }),
  );

  it('write then parse gives the same structure', () => {
    const keys = parseProfile(bases[0]!.bytes).sections[0]!;
    fc.assert(
      fc.property(fc.array(section, { maxLength: 8 }), fc.boolean(), (middle, withEnd) => {
        const p: Profile = { sections: [keys, ...middle, ...(withEnd ? [{ kind: 'end' as const }] : [])], trailing: new Uint8Array(0) };
        expect(parseProfile(writeProfile(p))).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });
});

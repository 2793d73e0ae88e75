// The GROUPS section (NGC, libtoxcore 0.2.19+) against a profile libtoxcore 0.2.22 wrote: typed view, byte-exact keeping,
// secrets only on request, typed errors for damaged groups, and rekey dropping the old device's group identities.
//
// test/vectors/profile-groups-0.2.22.tox was written by Debian sid's libtoxcore 0.2.22 with
// experimental_groups_persistence on, after tox_group_new twice: "public room" (public, self name "alice", topic
// "the topic") and "private room" (private, self name "alice-2", password "hunter2"). The keys below are what that
// library's tox_group_self_get_public_key and tox_group_get_chat_id returned for them. test/integration/groups-rekey.test.ts
// does the same live against libtoxcore 0.2.22 and checks what a rekeyed profile loads as.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decode, encode } from '@msgpack/msgpack';
import {
  decodeGroups,
  findSection,
  formatProfileSummary,
  groupChatId,
  groupSelfPublicKey,
  inspectProfile,
  isGroupFounder,
  parseProfile,
  rekeyProfile,
  withSection,
  writeProfile,
  type Profile,
} from '../../src/profile/index.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { expectProfileError } from '../support/profile-errors.js';

const fixture = new Uint8Array(readFileSync(new URL('../vectors/profile-groups-0.2.22.tox', import.meta.url)));
const GROUPS = [
  { name: 'public room', privacy: 'public', nick: 'alice', topic: 'the topic', password: '', self: '183DBA64517774F268C1C911ABEE27E9FEB828109E45E99D0B4CAB3CCE1EF137', chat: '21DF4CBFE6BA17C11616749785666BADC5726AACAC23CD067E7EF88B0D513B3A' },
  { name: 'private room', privacy: 'private', nick: 'alice-2', topic: '', password: 'hunter2', self: '3E10B440C8429B58FEB51F6177D06E9D5BB23873CBBA11AB62793A203D103F3D', chat: '79C8E1769F6A7EA1BDD33EBA5BBDFEB29850529A144FFED9BDFEC5BB466257C0' },
];

function groupsData(p: Profile): Uint8Array {
  const s = findSection(p, 'groups');
  if (!s) throw new Error('no GROUPS section');
  return s.data;
}

/** The fixture with its GROUPS section replaced by `data`. */
function withGroups(data: Uint8Array): Uint8Array {
  const p = parseProfile(fixture);
  return writeProfile({ ...p, sections: withSection(p.sections, { kind: 'groups', data }) });
}

/** The fixture's groups as plain MessagePack values, to damage one field and encode again. */
function rawGroups(): unknown[][] {
  return decode(groupsData(parseProfile(fixture))) as unknown[][];
}

describe('GROUPS written by libtoxcore 0.2.22', () => {
  it('parses as a typed section and writes back byte for byte', () => {
    const p = parseProfile(fixture);
    expect(p.sections.map((s) => s.kind)).toContain('groups');
    let end = fixture.length;
    while (fixture[end - 1] === 0) end--;
    expect(Buffer.from(writeProfile(p)).equals(Buffer.from(fixture.subarray(0, end)))).toBe(true);
  });

  it('decodes each group: chat ID, own per-group key, names, privacy, founder', () => {
    const groups = decodeGroups(groupsData(parseProfile(fixture)));
    expect(groups.map((g) => ({
      name: new TextDecoder().decode(g.name),
      privacy: g.privacy,
      nick: new TextDecoder().decode(g.selfNick),
      topic: new TextDecoder().decode(g.topic.topic),
      password: new TextDecoder().decode(g.password),
      self: bytesToHex(groupSelfPublicKey(g)),
      chat: bytesToHex(groupChatId(g)),
    }))).toEqual(GROUPS);
    for (const g of groups) {
      expect(g.selfRole).toBe('founder');
      expect(isGroupFounder(g)).toBe(true);
      // The founder key saved in the shared state is this device's own extended key.
      expect(bytesToHex(g.founderPublicKey)).toBe(bytesToHex(g.selfPublicKey));
    }
  });

  it('inspect lists the groups without secrets; --show-secrets adds the per-group secret keys and the password', () => {
    const p = parseProfile(fixture);
    const plain = inspectProfile(p);
    expect(plain.groups.map((g) => ({ chatId: g.chatId, name: g.name, selfPublicKey: g.selfPublicKey, role: g.role, founder: g.founder, hasPassword: g.hasPassword }))).toEqual(
      GROUPS.map((g) => ({ chatId: g.chat, name: g.name, selfPublicKey: g.self, role: 'founder', founder: true, hasPassword: g.password !== '' })),
    );
    const groups = decodeGroups(groupsData(p));
    const secrets = groups.flatMap((g) => [bytesToHex(g.selfSecretKey), bytesToHex(g.chatSecretKey)]);
    const plainText = JSON.stringify(plain) + formatProfileSummary(plain);
    for (const s of [...secrets, 'hunter2']) expect(plainText).not.toContain(s);
    expect(plainText).toContain('Groups (NGC):    2');

    const shown = inspectProfile(p, { showSecrets: true });
    expect(shown.groups.map((g) => [g.selfSecretKey, g.chatSecretKey, g.password])).toEqual(groups.map((g, i) => [bytesToHex(g.selfSecretKey), bytesToHex(g.chatSecretKey), GROUPS[i]!.password]));
    expect(formatProfileSummary(shown)).toContain(bytesToHex(groups[0]!.selfSecretKey));
  });
});

describe('damaged GROUPS: a typed error, never a crash', () => {
  const cases: [string, () => Uint8Array][] = [
    ['not MessagePack at all', () => Uint8Array.of(0xc1)],
    ['empty section', () => new Uint8Array(0)],
    ['a map instead of the list', () => encode({ a: 1 })],
    ['cut short', () => groupsData(parseProfile(fixture)).subarray(0, 300)],
    ['a group with 6 parts', () => encode(rawGroups().map((g) => g.slice(0, 6)))],
    ['a group name over 48 bytes', () => encode(rawGroups().map((g) => { (g[1] as unknown[])[2] = new Uint8Array(49); return g; }))],
    ['an own secret key of the wrong size', () => encode(rawGroups().map((g) => { (g[4] as unknown[])[3] = new Uint8Array(95); return g; }))],
    ['a nick length that does not match the nick', () => encode(rawGroups().map((g) => { (g[5] as unknown[])[0] = 4; return g; }))],
    ['a string where bytes belong', () => encode(rawGroups().map((g) => { (g[1] as unknown[])[2] = 'public room'; return g; }))],
    ['a moderator list of the wrong size', () => encode(rawGroups().map((g) => { (g[3] as unknown[])[0] = 2; (g[3] as unknown[])[1] = new Uint8Array(32); return g; }))],
    ['a huge array length over a few bytes', () => Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0x90)],
  ];
  for (const [what, make] of cases) {
    it(`${what}: BAD_SECTION`, () => {
      expectProfileError(() => parseProfile(withGroups(make())), 'BAD_SECTION');
    });
  }

  it('an empty list and bytes after the list are accepted, as libtoxcore accepts them', () => {
    expect(decodeGroups(Uint8Array.of(0x90))).toEqual([]);
    const data = groupsData(parseProfile(fixture));
    expect(decodeGroups(Uint8Array.from([...data, 1, 2, 3]))).toHaveLength(2);
  });
});

describe('rekey and NGC groups', () => {
  it('drops every group, even with keepGroupChats, and says which', () => {
    for (const keepGroupChats of [false, true]) {
      const r = rekeyProfile(fixture, { keepGroupChats });
      expect(r.profile.sections.some((s) => s.kind === 'groups')).toBe(false);
      expect(r.droppedGroups).toEqual(GROUPS.map((g) => ({ chatId: g.chat, name: g.name })));
      const out = Buffer.from(r.bytes).toString('hex').toUpperCase();
      // Nothing of the old device's group identities is in the new file.
      for (const g of decodeGroups(groupsData(parseProfile(fixture)))) {
        for (const k of [g.selfPublicKey, g.selfSecretKey, g.chatSecretKey.subarray(0, 32)]) expect(out).not.toContain(bytesToHex(k));
      }
    }
  });

  it('drops a section it does not know and says so; parse and write keep it', () => {
    const p = parseProfile(fixture);
    const odd = writeProfile({ ...p, sections: withSection(p.sections, { kind: 'unknown', type: 300, data: Uint8Array.of(9, 9, 9) }) });
    expect(writeProfile(parseProfile(odd))).toEqual(odd);
    expect(inspectProfile(parseProfile(odd)).unknownSections).toEqual([{ type: 300, bytes: 3 }]);
    const r = rekeyProfile(odd);
    expect(r.droppedUnknownSections).toEqual([{ type: 300, bytes: 3 }]);
    expect(r.profile.sections.some((s) => s.kind === 'unknown')).toBe(false);
  });
});

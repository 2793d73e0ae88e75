// Rekeying against libtoxcore: the new profile loads with the new key and the same friends; files are never clobbered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, link } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd } from '../../src/tox/bootstrapd.js';
import { ToxNode } from '../../src/tox/node.js';
import { bytesToHex } from '../../src/util/bytes.js';
import {
  decryptProfile,
  encryptProfile,
  findSection,
  generateKeyPair,
  inspectProfile,
  isEncryptedProfile,
  parseProfile,
  readProfileFile,
  rekeyProfile,
  rekeyProfileFile,
  type ProfileErrorCode,
} from '../../src/profile/index.js';
import { buildNetworkedProfile, buildSocialProfile, friendKeysHex, newRawTox, selfAddress, selfNospam, selfPublicKey, type SocialProfile } from '../support/profile-tox.js';
import { expectProfileError, expectProfileErrorAsync } from '../support/profile-errors.js';

let social: SocialProfile;
let networked: Uint8Array;
let dir: string;

beforeAll(async () => {
  social = buildSocialProfile();
  const bd = await startBootstrapd();
  try {
    networked = (await buildNetworkedProfile(bd)).savedata;
  } finally {
    await bd.close();
  }
  dir = await mkdtemp(join(tmpdir(), 'tp-rekey-'));
}, 90_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rekeyProfile, checked by libtoxcore', () => {
  it('the rekeyed profile loads with the new public key and nospam and the same friend list', () => {
    const r = rekeyProfile(social.savedata);
    expect(bytesToHex(r.publicKey)).not.toBe(bytesToHex(social.publicKey));
    expect(bytesToHex(r.previousPublicKey!)).toBe(bytesToHex(social.publicKey));
    expect(r.friendCount).toBe(4);
    const t = newRawTox({ savedata: r.bytes, udp: false });
    try {
      expect(bytesToHex(selfPublicKey(t.tox))).toBe(bytesToHex(r.publicKey));
      expect(selfNospam(t.tox)).toBe(r.nospam);
      expect(bytesToHex(selfAddress(t.tox))).toBe(bytesToHex(r.address));
      expect(friendKeysHex(t.tox)).toEqual(social.friendKeys);
    } finally {
      t.kill();
    }
  });

  it('every friend becomes confirmed (the pending request too), with no request data left', () => {
    const friends = findSection(rekeyProfile(social.savedata).profile, 'friends')!.friends;
    expect(friends.map((f) => f.status)).toEqual([3, 3, 3, 3]);
    expect(friends.every((f) => f.requestMessage.length === 0 && f.requestNospam.every((b) => b === 0))).toBe(true);
  });

  it('name and status message: kept by default, replaced when given, and libtoxcore loads them', () => {
    const kept = inspectProfile(rekeyProfile(social.savedata).profile);
    expect([kept.name, kept.statusMessage]).toEqual([social.name, social.statusMessage]);
    const r = rekeyProfile(social.savedata, { name: 'Alice laptop', statusMessage: 'x'.repeat(1007) });
    const s = inspectProfile(parseProfile(r.bytes));
    expect([s.name, s.statusMessage.length]).toEqual(['Alice laptop', 1007]);
  });

  it('names and status messages longer than libtoxcore accepts are refused', () => {
    expectProfileError(() => rekeyProfile(social.savedata, { name: 'n'.repeat(129) }), 'TOO_LONG');
    expectProfileError(() => rekeyProfile(social.savedata, { name: 'é'.repeat(65) }), 'TOO_LONG'); // 130 bytes of UTF-8
    expectProfileError(() => rekeyProfile(social.savedata, { statusMessage: 's'.repeat(1008) }), 'TOO_LONG');
  });

  it('DHT nodes, TCP relays and path nodes are cleared by default and kept with keepRelays', () => {
    const cleared = inspectProfile(rekeyProfile(networked).profile);
    expect([cleared.dhtNodes.length, cleared.tcpRelays.length, cleared.pathNodes.length]).toEqual([0, 0, 0]);
    const before = inspectProfile(parseProfile(networked));
    const kept = inspectProfile(rekeyProfile(networked, { keepRelays: true }).profile);
    expect(kept.dhtNodes).toEqual(before.dhtNodes);
    expect(kept.tcpRelays).toEqual(before.tcpRelays);
    expect(kept.pathNodes).toEqual(before.pathNodes);
    expect(before.tcpRelays.length).toBeGreaterThan(0);
  });

  it('conferences are dropped by default (per-chat identities) and kept with keepGroupChats', () => {
    expect(inspectProfile(rekeyProfile(social.savedata).profile).conferencesBytes).toBe(0);
    expect(inspectProfile(rekeyProfile(social.savedata, { keepGroupChats: true }).profile).conferencesBytes).toBeGreaterThan(0);
  });

  it('a given keypair is used if it is a valid pair and refused otherwise', () => {
    const kp = generateKeyPair();
    expect(bytesToHex(rekeyProfile(social.savedata, { keyPair: kp, nospam: 0x01020304 }).address)).toMatch(new RegExp(`^${bytesToHex(kp.publicKey)}01020304`));
    const bad = { publicKey: generateKeyPair().publicKey, secretKey: kp.secretKey };
    expectProfileError(() => rekeyProfile(social.savedata, { keyPair: bad }), 'BAD_KEYPAIR');
  });

  it('a duplicate NOSPAMKEYS or NAME section cannot bring the old identity back (libtoxcore applies the last one)', () => {
    const p = parseProfile(social.savedata);
    const oldKeys = findSection(p, 'nospamKeys')!;
    const endAt = p.sections.findIndex((s) => s.kind === 'end');
    p.sections.splice(endAt, 0, { ...oldKeys }, { kind: 'name', name: new TextEncoder().encode('old name') });
    const r = rekeyProfile(p, { name: 'new name' });
    expect(r.profile.sections.filter((s) => s.kind === 'nospamKeys').length).toBe(1);
    expect(r.profile.sections.filter((s) => s.kind === 'name').length).toBe(1);
    const t = newRawTox({ savedata: r.bytes, udp: false });
    try {
      expect(bytesToHex(selfPublicKey(t.tox))).toBe(bytesToHex(r.publicKey));
    } finally {
      t.kill();
    }
  });

  it('addOriginalAsFriend: the new device has the old one as a confirmed friend too', () => {
    const r = rekeyProfile(social.savedata, { addOriginalAsFriend: true });
    expect(r.friendCount).toBe(5);
    const t = newRawTox({ savedata: r.bytes, udp: false });
    try {
      expect(friendKeysHex(t.tox)).toEqual([...social.friendKeys, bytesToHex(social.publicKey)]);
    } finally {
      t.kill();
    }
  });

  it('a parsed profile is accepted as input, and two rekeys give two different keys', () => {
    const p = parseProfile(social.savedata);
    const a = rekeyProfile(p);
    const b = rekeyProfile(p);
    expect(bytesToHex(a.publicKey)).not.toBe(bytesToHex(b.publicKey));
    expect(findSection(p, 'nospamKeys')!.publicKey).toEqual(social.publicKey); // input untouched
  });
});

describe('encrypted profiles', () => {
  it('encrypt then decrypt gives the plain bytes back, and libtoxcore refuses the encrypted bytes as encrypted', () => {
    const enc = encryptProfile(social.savedata, 'correct horse');
    expect(isEncryptedProfile(enc)).toBe(true);
    expect(enc.length).toBe(social.savedata.length + 80);
    expect(bytesToHex(decryptProfile(enc, 'correct horse'))).toBe(bytesToHex(social.savedata));
    expect(() => newRawTox({ savedata: enc, udp: false })).toThrow(/LOAD_ENCRYPTED/);
  });

  it('a wrong passphrase, a damaged file, a cut-short file give typed errors', () => {
    const enc = encryptProfile(social.savedata, 'correct horse');
    expectProfileError(() => decryptProfile(enc, 'wrong horse'), 'BAD_PASSPHRASE');
    const damaged = Uint8Array.from(enc);
    damaged[200] = damaged[200]! ^ 1;
    expectProfileError(() => decryptProfile(damaged, 'correct horse'), 'BAD_PASSPHRASE');
    expectProfileError(() => decryptProfile(enc.subarray(0, 60), 'correct horse'), 'TRUNCATED');
    expectProfileError(() => decryptProfile(social.savedata, 'correct horse'), 'BAD_MAGIC');
    expectProfileError(() => decryptProfile(enc, ''), 'BAD_ARGUMENT');
  });

  it('rekeying an encrypted profile keeps it encrypted with the same passphrase, or a new one', () => {
    const enc = encryptProfile(social.savedata, 'old pass');
    expectProfileError(() => rekeyProfile(enc), 'ENCRYPTED');
    const same = rekeyProfile(enc, { passphrase: 'old pass' });
    expect(same.encrypted).toBe(true);
    const t = newRawTox({ savedata: decryptProfile(same.bytes, 'old pass'), udp: false });
    try {
      expect(bytesToHex(selfPublicKey(t.tox))).toBe(bytesToHex(same.publicKey));
      expect(friendKeysHex(t.tox)).toEqual(social.friendKeys);
    } finally {
      t.kill();
    }
    const renewed = rekeyProfile(enc, { passphrase: 'old pass', newPassphrase: 'new pass' });
    expectProfileError(() => decryptProfile(renewed.bytes, 'old pass'), 'BAD_PASSPHRASE');
    expect(findSection(parseProfile(decryptProfile(renewed.bytes, 'new pass')), 'nospamKeys')!.publicKey).toEqual(renewed.publicKey);
  });
});

describe('through ToxNode', () => {
  it('a rekeyed, encrypted profile opens in ToxNode with the passphrase, with the new key and the same friends', async () => {
    const r = rekeyProfile(social.savedata, { newPassphrase: 'node pass' });
    const node = await ToxNode.create({ savedata: r.bytes, passphrase: 'node pass', udp: false, localDiscovery: false, ipv6: false });
    try {
      expect(node.publicKeyHex).toBe(bytesToHex(r.publicKey));
      expect(node.nospam).toBe(r.nospam);
      expect(node.friendList().map((f) => bytesToHex(node.friendPublicKey(f)))).toEqual(social.friendKeys);
    } finally {
      node.close();
    }
  });
});

describe('rekeyProfileFile', () => {
  let n = 0;
  const fresh = (name: string) => join(dir, `${++n}-${name}`);

  it('writes a new 0600 file that libtoxcore loads, and reports the new identity', async () => {
    const input = fresh('in.tox');
    await writeFile(input, social.savedata);
    const out = fresh('out.tox');
    const r = await rekeyProfileFile(input, out, { name: 'laptop' });
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const loaded = await readProfileFile(out);
    expect(loaded.encrypted).toBe(false);
    expect(findSection(loaded.profile, 'nospamKeys')!.publicKey).toEqual(r.publicKey);
    expect(r.outPath).toBe(out);
    expect(await readFile(input)).toEqual(Buffer.from(social.savedata)); // input untouched
  });

  it('refuses to write over its input, also through a symlink or a hard link', async () => {
    const input = fresh('self.tox');
    await writeFile(input, social.savedata);
    await expectProfileErrorAsync(rekeyProfileFile(input, input), 'SAME_FILE');
    await expectProfileErrorAsync(rekeyProfileFile(input, join(dir, '.', `${n}-self.tox`)), 'SAME_FILE');
    const sym = fresh('sym.tox');
    await symlink(input, sym);
    await expectProfileErrorAsync(rekeyProfileFile(input, sym), 'SAME_FILE');
    const hard = fresh('hard.tox');
    await link(input, hard);
    await expectProfileErrorAsync(rekeyProfileFile(input, hard), 'SAME_FILE');
    expect(await readFile(input)).toEqual(Buffer.from(social.savedata));
  });

  it('refuses an output that exists and leaves it untouched', async () => {
    const input = fresh('in.tox');
    await writeFile(input, social.savedata);
    const out = fresh('taken.tox');
    await writeFile(out, 'precious');
    await expectProfileErrorAsync(rekeyProfileFile(input, out), 'OUTPUT_EXISTS');
    expect(await readFile(out, 'utf8')).toBe('precious');
  });

  it('an encrypted input stays encrypted; a wrong or missing passphrase writes nothing', async () => {
    const input = fresh('enc.tox');
    await writeFile(input, encryptProfile(social.savedata, 'pw one'));
    const before = await readdir(dir);
    await expectProfileErrorAsync(rekeyProfileFile(input, fresh('nopass.tox')), 'ENCRYPTED');
    await expectProfileErrorAsync(rekeyProfileFile(input, fresh('wrong.tox'), { passphrase: 'pw two' }), 'BAD_PASSPHRASE');
    expect(await readdir(dir)).toEqual(before);
    const out = fresh('enc-out.tox');
    const r = await rekeyProfileFile(input, out, { passphrase: 'pw one' });
    expect(r.encrypted).toBe(true);
    await expectProfileErrorAsync(readProfileFile(out), 'ENCRYPTED');
    expect(findSection((await readProfileFile(out, { passphrase: 'pw one' })).profile, 'nospamKeys')!.publicKey).toEqual(r.publicKey);
  });

  it('bad inputs write nothing: wrong magic, truncated, overflowing section, bad key pair, missing file', async () => {
    const base = Uint8Array.from(social.savedata);
    const wrongMagic = Uint8Array.from(base);
    wrongMagic[5] = 0;
    const badKeys = Uint8Array.from(base);
    badKeys[8 + 8 + 4] = badKeys[8 + 8 + 4]! ^ 1;
    const overflow = Uint8Array.from(base);
    new DataView(overflow.buffer).setUint32(8, 1_000_000, true);
    const cases: [string, Uint8Array, ProfileErrorCode][] = [
      ['magic.tox', wrongMagic, 'BAD_MAGIC'],
      ['trunc.tox', base.subarray(0, 20), 'SECTION_OVERFLOW'],
      ['short.tox', base.subarray(0, 6), 'TRUNCATED'],
      ['overflow.tox', overflow, 'SECTION_OVERFLOW'],
      ['keys.tox', badKeys, 'BAD_KEYPAIR'],
    ];
    for (const [name, bytes, code] of cases) {
      const input = fresh(name);
      await writeFile(input, bytes);
      const before = await readdir(dir);
      await expectProfileErrorAsync(rekeyProfileFile(input, fresh(`out-${name}`)), code);
      expect(await readdir(dir), `no file written for ${name}`).toEqual(before);
    }
    await expectProfileErrorAsync(rekeyProfileFile(join(dir, 'missing.tox'), fresh('x.tox')), 'READ_FAILED');
  });
});

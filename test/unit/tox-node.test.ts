// ToxNode without a network: argument checks before C, ToxError codes, use after close, loop idempotence, savedata.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToxNode, savedataProblem } from '../../src/tox/node.js';
import { ToxError } from '../../src/tox/errors.js';
import { waitFor } from '../support/wait.js';

const offline = { ipv6: false, localDiscovery: false } as const;

function toxError(fn: () => unknown): { op: string; code: string } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ToxError)) throw new Error(`expected a ToxError, got ${String(err)}`);
    return { op: err.op, code: err.code };
  }
  throw new Error('expected a ToxError, but the call returned');
}

describe('ToxNode argument checks (before any C call)', () => {
  let node: ToxNode;
  let other: ToxNode;
  beforeAll(() => {
    node = ToxNode.createSync(offline);
    other = ToxNode.createSync(offline);
  });
  afterAll(() => {
    node.close();
    other.close();
  });

  it('has a 32-byte key and a 38-byte address whose first 32 bytes are the key', () => {
    expect(node.publicKey).toHaveLength(32);
    expect(node.address).toHaveLength(38);
    expect(Buffer.from(node.address.subarray(0, 32)).equals(Buffer.from(node.publicKey))).toBe(true);
    expect(node.addressHex).toMatch(/^[0-9A-F]{76}$/);
    expect(node.connectionStatus).toBe('none');
  });

  const cases: Array<[string, () => unknown, { op: string; code: string }]> = [
    ['friendAdd with a 37-byte address', () => node.friendAdd(new Uint8Array(37), 'hi'), { op: 'friendAdd', code: 'BAD_ARGUMENT' }],
    ['friendAdd with non-hex', () => node.friendAdd('Z'.repeat(76), 'hi'), { op: 'friendAdd', code: 'BAD_ARGUMENT' }],
    ['friendAdd with an empty message', () => node.friendAdd(other.address, ''), { op: 'friendAdd', code: 'NO_MESSAGE' }],
    ['friendAdd with a 1017-byte message', () => node.friendAdd(other.address, 'x'.repeat(1017)), { op: 'friendAdd', code: 'TOO_LONG' }],
    ['friendAdd with a message that is not text', () => node.friendAdd(other.address, 42 as unknown as string), { op: 'friendAdd', code: 'BAD_ARGUMENT' }],
    ['friendAdd with a bad checksum', () => node.friendAdd(Buffer.from(other.address).fill(1, 36), 'hi'), { op: 'friendAdd', code: 'BAD_CHECKSUM' }],
    ['friendAdd to ourselves', () => node.friendAdd(node.address, 'hi'), { op: 'friendAdd', code: 'OWN_KEY' }],
    ['friendAddNorequest with a 31-byte key', () => node.friendAddNorequest(new Uint8Array(31)), { op: 'friendAddNorequest', code: 'BAD_ARGUMENT' }],
    ['friendByPublicKey with a string of the wrong length', () => node.friendByPublicKey('ABCD'), { op: 'friendByPublicKey', code: 'BAD_ARGUMENT' }],
    // The friend does not exist: if the length were left to C the code would be FRIEND_NOT_FOUND.
    ['sendMessage over 1372 bytes', () => node.sendMessage(12345, 'é'.repeat(687)), { op: 'sendMessage', code: 'TOO_LONG' }],
    ['sendMessage empty', () => node.sendMessage(12345, ''), { op: 'sendMessage', code: 'EMPTY' }],
    ['sendMessage with a bad type', () => node.sendMessage(0, 'x', 'shout' as 'normal'), { op: 'sendMessage', code: 'BAD_ARGUMENT' }],
    ['sendMessage to a negative friend number', () => node.sendMessage(-1, 'x'), { op: 'sendMessage', code: 'BAD_ARGUMENT' }],
    ['sendMessage to a fractional friend number', () => node.sendMessage(1.5, 'x'), { op: 'sendMessage', code: 'BAD_ARGUMENT' }],
    ['sendMessage to a friend that does not exist', () => node.sendMessage(12345, 'x'), { op: 'sendMessage', code: 'FRIEND_NOT_FOUND' }],
    ['sendLosslessPacket with a lossy id', () => node.sendLosslessPacket(12345, Uint8Array.of(200)), { op: 'sendLosslessPacket', code: 'INVALID' }],
    ['sendLossyPacket with a lossless id', () => node.sendLossyPacket(12345, Uint8Array.of(160)), { op: 'sendLossyPacket', code: 'INVALID' }],
    ['sendLossyPacket of 1374 bytes', () => node.sendLossyPacket(12345, new Uint8Array(1374).fill(200)), { op: 'sendLossyPacket', code: 'TOO_LONG' }],
    ['sendLosslessPacket empty', () => node.sendLosslessPacket(12345, new Uint8Array(0)), { op: 'sendLosslessPacket', code: 'EMPTY' }],
    ['sendLosslessPacket with a string', () => node.sendLosslessPacket(12345, 'x' as unknown as Uint8Array), { op: 'sendLosslessPacket', code: 'BAD_ARGUMENT' }],
    ['setName over 128 bytes', () => node.setName('n'.repeat(129)), { op: 'setName', code: 'TOO_LONG' }],
    ['setStatusMessage over 1007 bytes', () => node.setStatusMessage(new Uint8Array(1008)), { op: 'setStatusMessage', code: 'TOO_LONG' }],
    ['setStatus with an unknown status', () => node.setStatus('dnd' as 'busy'), { op: 'setStatus', code: 'BAD_ARGUMENT' }],
    ['setPassphrase with an empty passphrase', () => node.setPassphrase(''), { op: 'setPassphrase', code: 'BAD_ARGUMENT' }],
    ['setNospam out of range', () => node.setNospam(2 ** 32), { op: 'setNospam', code: 'BAD_ARGUMENT' }],
    ['friendName of an unknown friend', () => node.friendName(77), { op: 'friendName', code: 'FRIEND_NOT_FOUND' }],
    ['friendPublicKey of an unknown friend', () => node.friendPublicKey(77), { op: 'friendPublicKey', code: 'FRIEND_NOT_FOUND' }],
    ['friendDelete of an unknown friend', () => node.friendDelete(77), { op: 'friendDelete', code: 'FRIEND_NOT_FOUND' }],
    ['bootstrap with a bad port', () => node.bootstrap([{ host: '127.0.0.1', port: 0, publicKey: 'AB'.repeat(32) }]), { op: 'bootstrap', code: 'BAD_ARGUMENT' }],
    ['bootstrap with a short key', () => node.bootstrap([{ host: '127.0.0.1', port: 33445, publicKey: 'AB' }]), { op: 'bootstrap', code: 'BAD_ARGUMENT' }],
    ['bootstrap with an empty host', () => node.bootstrap([{ host: '', port: 33445, publicKey: 'AB'.repeat(32) }]), { op: 'bootstrap', code: 'BAD_ARGUMENT' }],
    ['bootstrap with a host that does not resolve', () => node.bootstrap([{ host: 'no-such-host.invalid', port: 33445, publicKey: 'AB'.repeat(32) }]), { op: 'bootstrap', code: 'BAD_HOST' }],
    ['bootstrap with a non-array', () => node.bootstrap('127.0.0.1' as unknown as []), { op: 'bootstrap', code: 'BAD_ARGUMENT' }],
  ];
  for (const [name, call, expected] of cases) {
    it(`${name} → ${expected.op}/${expected.code}`, () => {
      expect(toxError(call)).toEqual(expected);
    });
  }

  it('bootstrap reports a bad node but accepts the good ones', () => {
    const report = node.bootstrap([
      { host: 'no-such-host.invalid', port: 33445, publicKey: 'AB'.repeat(32) },
      { host: '127.0.0.1', port: 9, publicKey: 'AB'.repeat(32), tcpPorts: [9] },
    ]);
    expect(report.accepted.map((n) => n.host)).toEqual(['127.0.0.1']);
    expect(report.failed.map((f) => f.error.code)).toEqual(['BAD_HOST']);
  });

  it('round-trips name, status message, status, nospam and friends through the getters', () => {
    node.setName('Zoë');
    node.setStatusMessage(Uint8Array.of(0, 1, 2, 255));
    node.setStatus('away');
    node.setNospam(0xdeadbeef);
    expect(node.name).toBe('Zoë');
    expect(Array.from(node.statusMessage)).toEqual([0, 1, 2, 255]);
    expect(node.status).toBe('away');
    expect(node.nospam).toBe(0xdeadbeef);
    node.setName('');
    node.setStatusMessage('');
    expect(node.name).toBe('');
    expect(node.statusMessage).toHaveLength(0);
    node.setName('Zoë');
    const f = node.friendAddNorequest(other.publicKeyHex);
    expect(node.friendByPublicKey(other.publicKey)).toBe(f);
    expect(node.friendByPublicKey(new Uint8Array(32).fill(3))).toBeUndefined();
    expect(node.friendList()).toContain(f);
    expect(Buffer.from(node.friendPublicKey(f)).equals(Buffer.from(other.publicKey))).toBe(true);
    expect(node.friendConnectionStatus(f)).toBe('none');
    // Never heard from: empty name and status message (an empty Buffer reaches C as NULL, so these must not call C).
    expect(node.friendName(f)).toBe('');
    expect(Array.from(node.friendStatusMessage(f))).toEqual([]);
    expect(node.friendLastOnline(f)).toBeUndefined();
    expect(toxError(() => node.friendAddNorequest(other.publicKey))).toEqual({ op: 'friendAddNorequest', code: 'ALREADY_SENT' });
    node.friendDelete(f);
    expect(node.friendExists(f)).toBe(false);
  });
});

describe('ToxNode groupsPersistence', () => {
  it('is refused unless a boolean, and accepted on any library (ignored where libtoxcore lacks the option)', () => {
    expect(toxError(() => ToxNode.createSync({ ...offline, groupsPersistence: 'yes' as unknown as boolean }))).toEqual({ op: 'create', code: 'BAD_ARGUMENT' });
    const node = ToxNode.createSync({ ...offline, groupsPersistence: true });
    try {
      expect(node.groupNumbers()).toEqual([]);
    } finally {
      node.close();
    }
  });
});

describe('ToxNode lifecycle', () => {
  it('start and stop are idempotent, and iterateOnce runs without a loop', () => {
    const node = ToxNode.createSync(offline);
    try {
      node.start();
      node.start();
      expect(node.running).toBe(true);
      node.stop();
      node.stop();
      expect(node.running).toBe(false);
      expect(node.iterateOnce()).toBeGreaterThanOrEqual(0);
      expect(node.iterationInterval()).toBeGreaterThan(0);
    } finally {
      node.close();
    }
  });

  it('the loop reports each turn with its lag and duration to iterate listeners', async () => {
    const node = ToxNode.createSync(offline);
    try {
      const turns: Array<{ lagMs: number; durationMs: number; events: number }> = [];
      node.on('iterate', (t) => turns.push(t));
      node.start();
      await waitFor(() => turns.length >= 3, { what: 'three iterate events from the running loop', timeoutMs: 10_000 });
      for (const t of turns) {
        expect(t.lagMs).toBeGreaterThanOrEqual(0);
        expect(t.durationMs).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(t.events)).toBe(true);
      }
    } finally {
      node.close();
    }
  });

  it('every call after close throws ToxError CLOSED instead of touching freed memory; close and stop stay no-ops', async () => {
    const node = ToxNode.createSync(offline);
    const closed = new Promise<void>((resolve) => node.once('close', resolve));
    node.start();
    node.close();
    await closed;
    node.close();
    node.stop();
    expect(node.closed).toBe(true);
    expect(node.running).toBe(false);
    const calls: Array<[string, () => unknown]> = [
      ['publicKey', () => node.publicKey],
      ['address', () => node.address],
      ['name', () => node.name],
      ['setName', () => node.setName('x')],
      ['friendList', () => node.friendList()],
      ['friendAdd', () => node.friendAdd(new Uint8Array(38), 'x')],
      ['sendMessage', () => node.sendMessage(0, 'x')],
      ['iterate', () => node.iterateOnce()],
      ['start', () => node.start()],
      ['savedata', () => node.savedata()],
      ['bootstrap', () => node.bootstrap([])],
      ['connectionStatus', () => node.connectionStatus],
    ];
    for (const [op, call] of calls) expect(toxError(call)).toEqual({ op, code: 'CLOSED' });
    await expect(node.save('/tmp/never')).rejects.toMatchObject({ op: 'save', code: 'CLOSED' });
  });

  it('save without a path is NO_PATH; save with a path writes mode 0600 and the file loads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toxnode-unit-'));
    try {
      const node = ToxNode.createSync(offline);
      await expect(node.save()).rejects.toMatchObject({ op: 'save', code: 'NO_PATH' });
      const path = join(dir, 'p.tox');
      await node.save(path);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const pk = node.publicKeyHex;
      node.close();
      const back = await ToxNode.create({ ...offline, profilePath: path });
      expect(back.publicKeyHex).toBe(pk);
      back.close();
      // A missing profile file means a fresh identity, an unreadable one a typed error.
      const fresh = await ToxNode.create({ ...offline, profilePath: join(dir, 'absent.tox') });
      expect(fresh.publicKeyHex).not.toBe(pk);
      fresh.close();
      await expect(ToxNode.create({ ...offline, profilePath: dir })).rejects.toMatchObject({ code: 'PROFILE_UNREADABLE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects contradictory or ill-typed options before creating anything', () => {
    expect(toxError(() => ToxNode.createSync({ ...offline, secretKey: new Uint8Array(32), savedata: new Uint8Array(10) }))).toEqual({ op: 'create', code: 'BAD_ARGUMENT' });
    expect(toxError(() => ToxNode.createSync({ ...offline, secretKey: new Uint8Array(31) }))).toEqual({ op: 'create', code: 'BAD_ARGUMENT' });
    expect(toxError(() => ToxNode.createSync({ ...offline, startPort: 70000 }))).toEqual({ op: 'create', code: 'BAD_ARGUMENT' });
    expect(toxError(() => ToxNode.createSync({ ...offline, passphrase: '' }))).toEqual({ op: 'create', code: 'BAD_ARGUMENT' });
    expect(toxError(() => ToxNode.createSync({ ...offline, udp: 'yes' as unknown as boolean }))).toEqual({ op: 'create', code: 'BAD_ARGUMENT' });
    expect(toxError(() => ToxNode.createSync({ ...offline, proxy: { type: 'gopher' as 'http', host: 'h', port: 1 } }))).toEqual({ op: 'create', code: 'PROXY_BAD_TYPE' });
    expect(toxError(() => ToxNode.createSync({ ...offline, savedata: 'abc' as unknown as Uint8Array }))).toEqual({ op: 'create', code: 'BAD_ARGUMENT' });
  });

  it('savedataProblem names what is wrong with a profile', () => {
    const node = ToxNode.createSync(offline);
    const good = Buffer.from(node.savedata());
    node.close();
    expect(savedataProblem(good)).toBeUndefined();
    expect(savedataProblem(good.subarray(0, 8))).toMatch(/END/);
    expect(savedataProblem(new Uint8Array(8))).toMatch(/header/);
    expect(savedataProblem(good.subarray(0, 20))).toMatch(/truncated/);
  });
});

describe('ToxNode event dispatch', () => {
  // The re-bootstrap event is raised by our own loop after tox_events_iterate returns, so it exercises the same
  // dispatch path as network events without needing a network (the only node is 127.0.0.1:9, which never answers).
  const unreachable = [{ host: '127.0.0.1', port: 9, publicKey: 'AB'.repeat(32) }];

  it("a throwing handler becomes an 'error' event, later handlers still run, and the node keeps iterating", () => {
    const node = ToxNode.createSync({ ...offline, rebootstrap: { initialDelayMs: 0, maxDelayMs: 0 } });
    try {
      node.bootstrap(unreachable);
      const boom = new Error('handler bug');
      const errors: Error[] = [];
      const seen: number[] = [];
      node.on('error', (e) => errors.push(e));
      node.on('rebootstrap', () => {
        throw boom;
      });
      node.on('rebootstrap', (e) => seen.push(e.attempt));
      expect(() => node.iterateOnce()).not.toThrow();
      expect(() => node.iterateOnce()).not.toThrow();
      expect(errors).toEqual([boom, boom]);
      expect(seen).toEqual([1, 2]);
    } finally {
      node.close();
    }
  });

  it("without an 'error' listener a throwing handler is a process warning, not a crash", async () => {
    const node = ToxNode.createSync({ ...offline, rebootstrap: { initialDelayMs: 0, maxDelayMs: 0 } });
    let onWarning: (w: Error) => void = () => undefined;
    const warned = new Promise<Error>((resolve) => {
      onWarning = (w) => {
        if (w.name === 'ToxNodeWarning') resolve(w);
      };
      process.on('warning', onWarning);
    });
    try {
      node.bootstrap(unreachable);
      node.on('rebootstrap', () => {
        throw new Error('nobody listens for this');
      });
      expect(() => node.iterateOnce()).not.toThrow();
      const warning = await warned;
      expect(warning.name).toBe('ToxNodeWarning');
      expect(warning.message).toMatch(/nobody listens for this/);
    } finally {
      process.off('warning', onWarning);
      node.close();
    }
  });

  it('the re-bootstrap backoff doubles up to its maximum while offline, and can be turned off', async () => {
    const node = ToxNode.createSync({ ...offline, rebootstrap: { initialDelayMs: 2, maxDelayMs: 16 } });
    try {
      node.bootstrap(unreachable);
      const delays: number[] = [];
      node.on('rebootstrap', (e) => delays.push(e.nextDelayMs));
      await waitFor(
        () => {
          node.iterateOnce();
          return delays.length >= 5;
        },
        { what: 'five re-bootstrap attempts of an offline node', timeoutMs: 10_000, intervalMs: 1 },
      );
      expect(delays.slice(0, 5)).toEqual([4, 8, 16, 16, 16]);
    } finally {
      node.close();
    }
    const slow = ToxNode.createSync({ ...offline, rebootstrap: false });
    try {
      slow.bootstrap(unreachable);
      let fired = 0;
      slow.on('rebootstrap', () => fired++);
      slow.iterateOnce();
      expect(fired).toBe(0);
    } finally {
      slow.close();
    }
  });
});

describe('ToxNode passphrase changes', () => {
  it('setPassphrase turns encryption on and off for later saves', () => {
    const node = ToxNode.createSync(offline);
    try {
      expect(node.encrypted).toBe(false);
      node.setPassphrase('s3cret');
      expect(node.encrypted).toBe(true);
      const enc = node.savedata();
      expect(Buffer.from(enc.subarray(0, 8)).toString('latin1')).toBe('toxEsave');
      const back = ToxNode.createSync({ ...offline, savedata: enc, passphrase: 's3cret' });
      expect(back.publicKeyHex).toBe(node.publicKeyHex);
      back.close();
      expect(Buffer.from(node.savedata({ plain: true }).subarray(4, 8)).readUInt32LE(0)).toBe(0x15ed1b1f);
      node.setPassphrase(null);
      expect(node.encrypted).toBe(false);
      expect(Buffer.from(node.savedata().subarray(4, 8)).readUInt32LE(0)).toBe(0x15ed1b1f);
    } finally {
      node.close();
    }
  });
});

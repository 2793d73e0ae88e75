// The status-message codec and the seed format: capacity targets, the byte budget, compression, and hostile blobs.
import pako from 'pako';
import { describe, expect, it } from 'vitest';
import {
  decodeSeedStatusMessage,
  decodeStatusMessage,
  encodeSeedStatusMessage,
  encodeStatusMessage,
  InvalidDeviceList,
  nextDeviceList,
  personaKeyFromSeed,
  signDeviceList,
  statusMessageBudget,
  StatusMessageTooLong,
  STATUS_MARKER,
  verifySignedList,
  type Device,
} from '../../src/persona/index.js';
import { sodium } from '../../src/persona/sodium.js';
import { bytesToHex } from '../../src/util/bytes.js';

const key = personaKeyFromSeed(new Uint8Array(32).fill(9));
const randomDevice = (i: number, name = ''): Device => ({ publicKey: sodium.crypto_generichash(32, `codec-device-${i}`, null), name });
const NOW = 1_767_225_600;
const sign = (devices: Device[]) => signDeviceList(nextDeviceList(undefined, devices, { now: NOW, personaId: key.publicKey }), key);

describe('capacity targets', () => {
  it('19 unnamed devices fit with no human text', () => {
    const signed = sign(Array.from({ length: 19 }, (_, i) => randomDevice(i)));
    const text = encodeStatusMessage(signed);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1007);
    expect(decodeStatusMessage(text).ok).toBe(true);
  });
  it('8 named devices leave at least 400 bytes for human text', () => {
    const names = ['laptop', 'phone', 'tablet', 'desktop', 'work-pc', 'rpi', 'tv-box', 'watch'];
    const signed = sign(names.map((n, i) => randomDevice(i, n)));
    const budget = statusMessageBudget(signed);
    expect(budget.humanBytes).toBeGreaterThanOrEqual(400);
    const text = encodeStatusMessage(signed, 'h'.repeat(budget.humanBytes));
    expect(Buffer.byteLength(text)).toBe(1007);
    expect(decodeStatusMessage(text).ok).toBe(true);
  });
});

describe('encoder refusals', () => {
  it('oversize: one byte too many human text gives StatusMessageTooLong with the budget', () => {
    const signed = sign([randomDevice(1), randomDevice(2)]);
    const { humanBytes, blobBytes } = statusMessageBudget(signed);
    expect(() => encodeStatusMessage(signed, 'a'.repeat(humanBytes))).not.toThrow();
    try {
      encodeStatusMessage(signed, 'a'.repeat(humanBytes + 1));
      expect.unreachable('encoder accepted 1008 bytes');
    } catch (error) {
      expect(error).toBeInstanceOf(StatusMessageTooLong);
      expect((error as StatusMessageTooLong).code).toBe('STATUS_MESSAGE_TOO_LONG');
      expect((error as StatusMessageTooLong).needed).toBe(1008);
      expect((error as StatusMessageTooLong).blobBytes).toBe(blobBytes);
    }
    expect(() => encodeStatusMessage(sign(Array.from({ length: 20 }, (_, i) => randomDevice(i))))).toThrow(StatusMessageTooLong);
  });
  it('lists that break a rule are refused before signing', () => {
    const d = randomDevice(1);
    const make = (devices: Device[]) => () => sign(devices);
    expect(make([d, d])).toThrow(InvalidDeviceList);
    expect(make([{ publicKey: key.publicKey, name: '' }])).toThrow(InvalidDeviceList);
    expect(make([randomDevice(2, 'x'.repeat(33))])).toThrow(InvalidDeviceList);
    expect(make([randomDevice(2, 'a\nb')])).toThrow(InvalidDeviceList);
    expect(make([])).toThrow(InvalidDeviceList);
    const other = personaKeyFromSeed(new Uint8Array(32).fill(10));
    expect(() => signDeviceList(nextDeviceList(undefined, [d], { now: NOW, personaId: key.publicKey }), other)).toThrow(InvalidDeviceList);
  });
});

describe('compression only where it shrinks', () => {
  it('random keys stay raw; long repetitive names deflate', () => {
    expect(statusMessageBudget(sign(Array.from({ length: 5 }, (_, i) => randomDevice(i)))).envelope).toBe('raw');
    expect(statusMessageBudget(sign(Array.from({ length: 6 }, (_, i) => randomDevice(i, `workstation-office-${i}`)))).envelope).toBe('deflate');
  });
});

describe('adversarial blobs', () => {
  const good = encodeStatusMessage(sign([randomDevice(1, 'a'), randomDevice(2)]), 'hi');
  const blob = (bytes: Uint8Array) => STATUS_MARKER + Buffer.from(bytes).toString('base64url');
  it('truncated at every length: rejected, never thrown', () => {
    for (let n = 0; n < good.length; n++) {
      const d = decodeStatusMessage(good.slice(0, n));
      expect(d.ok, `prefix of ${n} characters accepted`).toBe(false);
    }
  });
  it('deflate bomb: refused once the output passes the cap', () => {
    const bomb = pako.deflateRaw(new Uint8Array(200_000));
    expect(decodeStatusMessage(blob(Uint8Array.from([2, ...bomb])))).toMatchObject({ ok: false, reason: 'INFLATE_TOO_LARGE' });
  });
  it('invalid UTF-8 and lone surrogates are refused', () => {
    expect(decodeStatusMessage(Uint8Array.from([0xc3, ...Buffer.from(good)]))).toMatchObject({ ok: false, reason: 'INVALID_UTF8' });
    expect(decodeStatusMessage('\ud800' + good)).toMatchObject({ ok: false, reason: 'INVALID_UTF8' });
  });
  it('oversize input is refused before any decoding', () => {
    expect(decodeStatusMessage(new Uint8Array(5000))).toMatchObject({ ok: false, reason: 'TOO_LONG' });
    expect(decodeStatusMessage('x'.repeat(100_000) + good)).toMatchObject({ ok: false, reason: 'TOO_LONG' });
  });
  it('wrong context: a signature over the bare payload does not verify', () => {
    const signed = sign([randomDevice(1)]);
    const bare = { ...signed, signature: sodium.crypto_sign_detached(signed.payload, key.secretKey) };
    expect(verifySignedList(bare)).toBe(false);
    expect(verifySignedList(signed)).toBe(true);
  });
  it('non-string input is a rejection, not a throw', () => {
    expect(decodeStatusMessage(42 as unknown as string).ok).toBe(false);
  });
});

describe('seed format (2022 sketch)', () => {
  const devices = [randomDevice(1, 'laptop'), randomDevice(2, 'phone')];
  it('round-trips with human text', () => {
    const text = encodeSeedStatusMessage(devices, key, 'at home ');
    const d = decodeSeedStatusMessage(text);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.human).toBe('at home ');
    expect(bytesToHex(d.personaId)).toBe(bytesToHex(key.publicKey));
    expect(d.devices.map((x) => [x.name, bytesToHex(x.publicKey)])).toEqual(devices.map((x) => [x.name, bytesToHex(x.publicKey)]));
  });
  it('a deflate bomb is refused by the capped inflate', () => {
    const body = Buffer.from(pako.deflate(new Uint8Array(500_000).fill(0x20))).toString('base64');
    const sig = sodium.crypto_sign_detached(new TextEncoder().encode(body), key.secretKey);
    const text = `${bytesToHex(key.publicKey)}:${body}:${bytesToHex(sig)}`;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1007);
    expect(decodeSeedStatusMessage(text)).toMatchObject({ ok: false, reason: 'INFLATE_TOO_LARGE' });
  });
  it('a tampered signature, a non-object and a plain status are refused', () => {
    const text = encodeSeedStatusMessage(devices, key);
    const flipped = text.slice(0, -1) + (text.endsWith('0') ? '1' : '0');
    expect(decodeSeedStatusMessage(flipped)).toMatchObject({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(decodeSeedStatusMessage('hello')).toMatchObject({ ok: false, reason: 'NO_BLOB' });
    const body = Buffer.from(pako.deflate(new TextEncoder().encode('[1,2]'))).toString('base64');
    const sig = sodium.crypto_sign_detached(new TextEncoder().encode(body), key.secretKey);
    expect(decodeSeedStatusMessage(`${bytesToHex(key.publicKey)}:${body}:${bytesToHex(sig)}`)).toMatchObject({ ok: false, reason: 'BAD_JSON' });
  });
  it('holds far fewer devices than the binary format', () => {
    const fits = (n: number) => {
      try {
        encodeSeedStatusMessage(Array.from({ length: n }, (_, i) => randomDevice(i, String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(i) : ''))), key);
        return true;
      } catch {
        return false;
      }
    };
    expect(fits(8)).toBe(true);
    expect(fits(19)).toBe(false);
  });
});

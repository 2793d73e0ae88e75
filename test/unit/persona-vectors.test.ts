// Runs the checked-in persona test vectors: fixed seeds must give the exact status messages, and every invalid one its reason.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeStatusMessage,
  encodeStatusMessage,
  personaKeyFromSeed,
  signDeviceList,
  certifySigner,
  versionHash,
  type DeviceList,
} from '../../src/persona/index.js';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.js';

interface ValidVector {
  name: string;
  personaSeed: string;
  signerSeed?: string;
  certSignature?: string;
  list: { version: number; personaId: string; epoch?: number; prev?: { seq: number; hash: string }; seq: number; issuedAt: number; ttl: number; devices: { publicKey: string; name: string }[] };
  versionHash: string;
  human: string;
  payload: string;
  signature: string;
  envelope: string;
  statusMessage: string;
  statusMessageBytes: number;
}
interface InvalidVector {
  name: string;
  expectedReason: string;
  statusMessage?: string;
  statusMessageHex?: string;
}

const valid = JSON.parse(readFileSync(new URL('../vectors/persona-valid.json', import.meta.url), 'utf8')).vectors as ValidVector[];
const invalid = JSON.parse(readFileSync(new URL('../vectors/persona-invalid.json', import.meta.url), 'utf8')).vectors as InvalidVector[];

function toList(v: ValidVector): DeviceList {
  return {
    version: v.list.version,
    personaId: hexToBytes(v.list.personaId, 32, 'personaId'),
    ...(v.list.version === 2 ? { epoch: v.list.epoch, prev: { seq: v.list.prev!.seq, hash: hexToBytes(v.list.prev!.hash, 4, 'prev.hash') } } : {}),
    seq: v.list.seq,
    issuedAt: v.list.issuedAt,
    ttl: v.list.ttl,
    devices: v.list.devices.map((d) => ({ publicKey: hexToBytes(d.publicKey, 32, 'device'), name: d.name })),
  };
}

describe('persona valid vectors', () => {
  it('has vectors', () => expect(valid.length).toBeGreaterThanOrEqual(10));
  for (const v of valid) {
    it(`${v.name}: signing from the seed gives the exact status message`, () => {
      const key = personaKeyFromSeed(hexToBytes(v.personaSeed, 32, 'seed'));
      expect(bytesToHex(key.publicKey), `${v.name}: PersonaID from seed`).toBe(v.list.personaId);
      let signed;
      if (v.signerSeed) {
        const signer = personaKeyFromSeed(hexToBytes(v.signerSeed, 32, 'signerSeed'));
        const cert = certifySigner(key, v.list.epoch ?? 0, signer.publicKey);
        expect(bytesToHex(cert.signature, false), `${v.name}: certificate`).toBe(v.certSignature);
        signed = signDeviceList(toList(v), signer, cert);
      } else {
        signed = signDeviceList(toList(v), key);
      }
      expect(bytesToHex(versionHash(toList(v)), false), `${v.name}: version hash`).toBe(v.versionHash);
      expect(bytesToHex(signed.payload, false), `${v.name}: payload`).toBe(v.payload);
      expect(bytesToHex(signed.signature, false), `${v.name}: signature`).toBe(v.signature);
      const text = encodeStatusMessage(signed, v.human);
      expect(text, `${v.name}: status message`).toBe(v.statusMessage);
      expect(Buffer.byteLength(text), `${v.name}: byte length`).toBe(v.statusMessageBytes);
    });
    it(`${v.name}: decoding gives back the list and the human text`, () => {
      const d = decodeStatusMessage(v.statusMessage);
      expect(d.ok, `${v.name}: ${d.ok ? '' : `${d.reason} ${d.detail}`}`).toBe(true);
      if (!d.ok) return;
      expect(d.human, `${v.name}: human`).toBe(v.human);
      expect(d.envelope, `${v.name}: envelope`).toBe(v.envelope);
      const l = d.signed.list;
      expect(
        {
          version: l.version,
          personaId: bytesToHex(l.personaId),
          ...(l.version === 2 ? { epoch: l.epoch, prev: { seq: l.prev!.seq, hash: bytesToHex(l.prev!.hash, false) } } : {}),
          seq: l.seq,
          issuedAt: l.issuedAt,
          ttl: l.ttl,
          devices: l.devices.map((x) => ({ publicKey: bytesToHex(x.publicKey), name: x.name })),
        },
        `${v.name}: list`,
      ).toEqual(v.list);
      // The same bytes as Tox would deliver them decode the same way.
      const fromBytes = decodeStatusMessage(new TextEncoder().encode(v.statusMessage));
      expect(fromBytes.ok && bytesToHex(fromBytes.signed.signature, false), `${v.name}: from bytes`).toBe(v.signature);
    });
  }
});

describe('persona invalid vectors', () => {
  it('has vectors', () => expect(invalid.length).toBeGreaterThanOrEqual(30));
  for (const v of invalid) {
    it(`${v.name}: rejected with ${v.expectedReason}`, () => {
      const input = v.statusMessageHex !== undefined ? hexToBytes(v.statusMessageHex, undefined, 'statusMessageHex') : (v.statusMessage as string);
      const d = decodeStatusMessage(input);
      expect(d.ok ? 'accepted' : d.reason, `${v.name}: ${d.ok ? 'accepted' : d.detail}`).toBe(v.expectedReason);
    });
  }
});

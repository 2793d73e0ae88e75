// Deterministic input generator for the persona decoder fuzz (shared by the in-suite fuzz test and scripts/fuzz.ts).
import pako from 'pako';
import { certifySigner, encodeStatusMessage, nextDeviceList, personaKeyFromSeed, signDeviceList, STATUS_MARKER, type SignedDeviceList } from '../../src/persona/index.js';
import { prng } from './prng.js';

export { prng };


const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Valid status messages the mutators start from, with the signed lists they carry. */
export function corpus(): { text: string; signed: SignedDeviceList }[] {
  const key = personaKeyFromSeed(new Uint8Array(32).fill(42));
  const out: { text: string; signed: SignedDeviceList }[] = [];
  const shapes: [number, boolean, string][] = [[1, false, ''], [2, true, 'at work'], [8, true, 'x'.repeat(400)], [19, false, ''], [6, true, 'é']];
  // Version 2 signed by a certified signer (the usual case), by the root itself, and version 1.
  const signer = personaKeyFromSeed(new Uint8Array(32).fill(43));
  const cert = certifySigner(key, 3, signer.publicKey);
  shapes.forEach(([n, named, human], s) => {
    const devices = Array.from({ length: n }, (_, i) => ({ publicKey: Uint8Array.from({ length: 32 }, (_, j) => (i * 37 + j * 11 + n) & 0xff), name: named ? `workstation-${i}` : '' }));
    const kind = s % 3;
    const list = nextDeviceList(undefined, devices, { now: 1_767_225_600 + n, personaId: key.publicKey, version: kind === 2 ? 1 : 2, ...(kind === 0 ? { epoch: 3 } : {}) });
    const signed = kind === 0 ? signDeviceList(list, signer, cert) : signDeviceList(list, key);
    try {
      out.push({ text: encodeStatusMessage(signed, human), signed });
    } catch {
      // a certificate takes 96 bytes: the biggest shapes don't fit with one
    }
  });
  return out;
}

const deflatePool: Uint8Array[] = [];
const baseBytes = new WeakMap<object, Uint8Array>();

/** The i-th fuzz input: random bytes, random marker-prefixed base64url, random DEFLATE envelopes, or a mutated valid message. */
export function fuzzInput(rand: () => number, base: readonly { text: string }[]): { input: string | Uint8Array; from: number } {
  const kind = Math.floor(rand() * 5);
  const int = (n: number): number => Math.floor(rand() * n);
  if (kind === 0) {
    const out = new Uint8Array(int(1100));
    for (let i = 0; i < out.length; i++) out[i] = int(256);
    return { input: out, from: -1 };
  }
  if (kind === 1) {
    const n = int(1010);
    const chars = Buffer.allocUnsafe(STATUS_MARKER.length + n);
    chars.write(STATUS_MARKER, 0, 'latin1');
    for (let i = 0; i < n; i++) chars[STATUS_MARKER.length + i] = B64URL.charCodeAt(int(64));
    return { input: chars.toString('latin1'), from: -1 };
  }
  if (kind === 2) {
    // pako's setup cost dominates for tiny inputs, so DEFLATE streams come from a pool, mutated per input.
    if (deflatePool.length < 64) {
      const raw = new Uint8Array(int(300));
      for (let i = 0; i < raw.length; i++) raw[i] = rand() < 0.7 ? 0 : int(256);
      deflatePool.push(pako.deflateRaw(raw));
    }
    const packed = Uint8Array.from(deflatePool[int(deflatePool.length)] as Uint8Array);
    if (packed.length && rand() < 0.5) {
      const at = int(packed.length);
      packed[at] = (packed[at] as number) ^ (1 << int(8));
    }
    const body = rand() < 0.8 ? packed : packed.subarray(0, int(packed.length + 1));
    return { input: STATUS_MARKER + Buffer.concat([Buffer.from([2]), body]).toString('base64url'), from: -1 };
  }
  const which = int(base.length);
  const original = base[which] as { text: string };
  let source = baseBytes.get(original);
  if (!source) {
    source = Uint8Array.from(Buffer.from(original.text, 'utf8'));
    baseBytes.set(original, source);
  }
  let bytes = Uint8Array.from(source);
  const edits = 1 + int(3);
  for (let e = 0; e < edits; e++) {
    const op = int(4);
    const at = int(bytes.length + 1);
    if (op === 0 && bytes.length) {
      bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ (1 << int(8));
    } else if (op === 1) {
      const next = new Uint8Array(bytes.length + 1);
      next.set(bytes.subarray(0, at), 0);
      next[at] = rand() < 0.5 ? int(256) : B64URL.charCodeAt(int(64));
      next.set(bytes.subarray(at), at + 1);
      bytes = next;
    } else if (op === 2 && at < bytes.length) {
      const next = new Uint8Array(bytes.length - 1);
      next.set(bytes.subarray(0, at), 0);
      next.set(bytes.subarray(at + 1), at);
      bytes = next;
    } else if (op === 3) {
      bytes = bytes.slice(0, at);
    }
  }
  return { input: rand() < 0.5 ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'), from: which };
}

// Deterministic input generator for the persona decoder fuzz (shared by the in-suite fuzz test and scripts/fuzz.ts).
import pako from 'pako';
import { encodeStatusMessage, nextDeviceList, personaKeyFromSeed, signDeviceList, STATUS_MARKER, type SignedDeviceList } from '../../src/persona/index.js';

/** A small, fast, seedable PRNG (mulberry32), so a failing input can be replayed from its seed and index. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Valid status messages the mutators start from, with the signed lists they carry. */
export function corpus(): { text: string; signed: SignedDeviceList }[] {
  const key = personaKeyFromSeed(new Uint8Array(32).fill(42));
  const out: { text: string; signed: SignedDeviceList }[] = [];
  const shapes: [number, boolean, string][] = [[1, false, ''], [2, true, 'at work'], [8, true, 'x'.repeat(400)], [19, false, ''], [6, true, 'é']];
  for (const [n, named, human] of shapes) {
    const devices = Array.from({ length: n }, (_, i) => ({ publicKey: Uint8Array.from({ length: 32 }, (_, j) => (i * 37 + j * 11 + n) & 0xff), name: named ? `workstation-${i}` : '' }));
    const signed = signDeviceList(nextDeviceList(undefined, devices, { now: 1_767_225_600 + n, personaId: key.publicKey }), key);
    out.push({ text: encodeStatusMessage(signed, human), signed });
  }
  return out;
}

/** The i-th fuzz input: random bytes, random marker-prefixed base64url, random DEFLATE envelopes, or a mutated valid message. */
export function fuzzInput(rand: () => number, base: readonly { text: string }[]): { input: string | Uint8Array; from: number } {
  const kind = Math.floor(rand() * 5);
  const int = (n: number): number => Math.floor(rand() * n);
  if (kind === 0) {
    return { input: Uint8Array.from({ length: int(1100) }, () => int(256)), from: -1 };
  }
  if (kind === 1) {
    let s = STATUS_MARKER;
    const n = int(1010);
    for (let i = 0; i < n; i++) s += B64URL[int(64)];
    return { input: s, from: -1 };
  }
  if (kind === 2) {
    const raw = Uint8Array.from({ length: int(300) }, () => (rand() < 0.7 ? 0 : int(256)));
    const packed = rand() < 0.5 ? pako.deflateRaw(raw) : Uint8Array.from({ length: int(200) }, () => int(256));
    return { input: STATUS_MARKER + Buffer.from([2, ...packed]).toString('base64url'), from: -1 };
  }
  const which = int(base.length);
  const bytes = Array.from(Buffer.from((base[which] as { text: string }).text, 'utf8'));
  const edits = 1 + int(3);
  for (let e = 0; e < edits; e++) {
    const op = int(4);
    const at = int(bytes.length + 1);
    if (op === 0 && bytes.length) bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ (1 << int(8));
    else if (op === 1) bytes.splice(at, 0, rand() < 0.5 ? int(256) : B64URL.charCodeAt(int(64)));
    else if (op === 2) bytes.splice(at, 1);
    else bytes.length = Math.min(bytes.length, at);
  }
  return { input: rand() < 0.5 ? Uint8Array.from(bytes) : Buffer.from(bytes).toString('utf8'), from: which };
}

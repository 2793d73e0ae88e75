// Seeded mutations of Tox savedata for the profile fuzz tests (and for replaying a failure from its seed by hand).
import { prng } from './prng.js';

export { prng };


/** Offsets of the top-level section headers (where length fields live), found without our parser. */
export function headerOffsets(save: Uint8Array): number[] {
  const view = new DataView(save.buffer, save.byteOffset, save.byteLength);
  const out: number[] = [];
  let at = 8;
  while (at + 8 <= save.length) {
    out.push(at);
    if (view.getUint16(at + 4, true) === 255) break;
    at += 8 + view.getUint32(at, true);
  }
  return out;
}

/** One random mutation of `base`: bit flips, random bytes, truncation, a section length or type rewritten, an insertion, or a duplicated chunk. */
export function mutate(base: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  const headers = headerOffsets(base);
  const b = Uint8Array.from(base);
  switch (pick(7)) {
    case 0: {
      // flip a few random bits
      for (let i = 0, n = 1 + pick(8); i < n; i++) {
        const at = pick(b.length);
        b[at] = b[at]! ^ (1 << pick(8));
      }
      return b;
    }
    case 1: {
      // random bytes somewhere
      const at = pick(b.length);
      for (let i = at; i < Math.min(b.length, at + 1 + pick(16)); i++) b[i] = pick(256);
      return b;
    }
    case 2:
      return b.subarray(0, pick(b.length + 1)); // truncate
    case 3: {
      // a section length set to something interesting
      const at = headers[pick(headers.length)] ?? 8;
      const values = [0, 1, 0xffffffff, 0x7fffffff, b.length, pick(b.length), new DataView(b.buffer).getUint32(at, true) + 1 - pick(3)];
      new DataView(b.buffer).setUint32(at, values[pick(values.length)]! >>> 0, true);
      return b;
    }
    case 4: {
      // a section type set to something else
      const at = headers[pick(headers.length)] ?? 8;
      const types = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 20, 255, pick(65536)];
      new DataView(b.buffer).setUint16(at + 4, types[pick(types.length)]!, true);
      return b;
    }
    case 5: {
      // insert random bytes
      const at = pick(b.length);
      const extra = Uint8Array.from({ length: 1 + pick(64) }, () => pick(256));
      return new Uint8Array([...b.subarray(0, at), ...extra, ...b.subarray(at)]);
    }
    default: {
      // duplicate a chunk (repeats sections, friend records, nodes)
      const at = pick(b.length);
      const len = 1 + pick(Math.min(3000, b.length - at));
      return new Uint8Array([...b.subarray(0, at + len), ...b.subarray(at, at + len), ...b.subarray(at + len)]);
    }
  }
}


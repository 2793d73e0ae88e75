// How many devices fit in one 1007-byte status message, for the tox-persona format and the 2022 seed format, with 0/100/400 bytes of human text.
//
// Run: npx tsx bench/persona-capacity.ts
import { encodeSeedStatusMessage, encodeStatusMessage, nextDeviceList, personaKeyFromSeed, signDeviceList, type Device } from '../src/persona/index.js';
import { sodium } from '../src/persona/sodium.js';

const key = personaKeyFromSeed(sodium.crypto_generichash(32, 'capacity-bench-persona', null));
// Real Tox keys are uniformly random, so the devices here are too (BLAKE2b of a label): no compression gain to exploit.
const device = (i: number, name: string): Device => ({ publicKey: sodium.crypto_generichash(32, `capacity-bench-device-${i}`, null), name });
/** Short, realistic device names (4-8 bytes). */
const NAMES = ['laptop', 'phone', 'tablet', 'desktop', 'work', 'rpi', 'tv', 'watch', 'server', 'backup', 'car', 'home', 'office', 'old-pc', 'nas', 'kiosk'];
const realName = (i: number): string => (NAMES[i % NAMES.length] as string) + (i >= NAMES.length ? String(Math.floor(i / NAMES.length)) : '');
// The seed format's dictionary keys are the names, so "unnamed" there means the shortest unique keys (a, b, ..., z, a1, ...).
const shortKey = (i: number): string => String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : '');

function fitsPersona(n: number, named: boolean, human: number): boolean {
  const devices = Array.from({ length: n }, (_, i) => device(i, named ? realName(i) : ''));
  const signed = signDeviceList(nextDeviceList(undefined, devices, { now: 1_767_225_600, personaId: key.publicKey }), key);
  try {
    encodeStatusMessage(signed, 'h'.repeat(human));
    return true;
  } catch {
    return false;
  }
}

function fitsSeed(n: number, named: boolean, human: number): boolean {
  const devices = Array.from({ length: n }, (_, i) => device(i, named ? realName(i) : shortKey(i)));
  try {
    encodeSeedStatusMessage(devices, key, 'h'.repeat(human));
    return true;
  } catch {
    return false;
  }
}

function maxFit(fits: (n: number) => boolean): number {
  let n = 0;
  while (n < 255 && fits(n + 1)) n++;
  return n;
}

/** One row of the capacity table. */
export interface CapacityRow {
  format: string;
  names: string;
  human0: number;
  human100: number;
  human400: number;
}

/** Computes and prints the capacity table; returns its rows for bench/run-all.ts. */
export function runPersonaCapacityBench(): CapacityRow[] {
  const rows: CapacityRow[] = [];
  for (const [format, fits] of [['tox-persona v1 (binary, base64url)', fitsPersona], ['seed 2022 (JSON, zlib, base64, hex)', fitsSeed]] as const) {
    for (const named of [false, true]) {
      const row = { format, names: named ? 'named (4-8 B)' : format.startsWith('seed') ? 'shortest keys' : 'unnamed' } as CapacityRow;
      row.human0 = maxFit((n) => fits(n, named, 0));
      row.human100 = maxFit((n) => fits(n, named, 100));
      row.human400 = maxFit((n) => fits(n, named, 400));
      rows.push(row);
    }
  }
  console.log('persona-capacity: most devices in one 1007-byte status message (random 32-byte keys)');
  console.log(`  ${'format'.padEnd(36)}  ${'names'.padEnd(14)}  ${'0 B human'.padStart(9)}  ${'100 B'.padStart(6)}  ${'400 B'.padStart(6)}`);
  for (const r of rows) {
    console.log(`  ${r.format.padEnd(36)}  ${r.names.padEnd(14)}  ${String(r.human0).padStart(9)}  ${String(r.human100).padStart(6)}  ${String(r.human400).padStart(6)}`);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) runPersonaCapacityBench();

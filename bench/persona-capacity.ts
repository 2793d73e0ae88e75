// How many devices fit in one 1007-byte status message: protocol v2 with a signer certificate and chain reference (the usual case), v2 signed by the root, v1, and the 2022 seed format, with 0/100/400 bytes of human text.
//
// Run: npx tsx bench/persona-capacity.ts
import { certifySigner, chainRef, encodeSeedStatusMessage, encodeStatusMessage, nextDeviceList, personaKeyFromSeed, signDeviceList, type Device, type DeviceList } from '../src/persona/index.js';
import { sodium } from '../src/persona/sodium.js';

const key = personaKeyFromSeed(sodium.crypto_generichash(32, 'capacity-bench-persona', null));
const signer = personaKeyFromSeed(sodium.crypto_generichash(32, 'capacity-bench-signer', null));
const cert = certifySigner(key, 1, signer.publicKey);
/** The list the measured ones are built from, so they carry a real chain reference. */
const base: DeviceList = nextDeviceList(undefined, [{ publicKey: new Uint8Array(32).fill(7), name: '' }], { now: 1_767_139_200, personaId: key.publicKey, epoch: 1 });
// Real Tox keys are uniformly random, so the devices here are too (BLAKE2b of a label): no compression gain to exploit.
const device = (i: number, name: string): Device => ({ publicKey: sodium.crypto_generichash(32, `capacity-bench-device-${i}`, null), name });
/** Short, realistic device names (4-8 bytes). */
const NAMES = ['laptop', 'phone', 'tablet', 'desktop', 'work', 'rpi', 'tv', 'watch', 'server', 'backup', 'car', 'home', 'office', 'old-pc', 'nas', 'kiosk'];
const realName = (i: number): string => (NAMES[i % NAMES.length] as string) + (i >= NAMES.length ? String(Math.floor(i / NAMES.length)) : '');
// The seed format's dictionary keys are the names, so "unnamed" there means the shortest unique keys (a, b, ..., z, a1, ...).
const shortKey = (i: number): string => String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : '');

type Shape = 'certified' | 'root' | 'v1';

function fitsPersona(shape: Shape, n: number, named: boolean, human: number): boolean {
  const devices = Array.from({ length: n }, (_, i) => device(i, named ? realName(i) : ''));
  const list = nextDeviceList(shape === 'v1' ? undefined : base, devices, { now: 1_767_225_600, personaId: key.publicKey, version: shape === 'v1' ? 1 : 2 });
  if (shape !== 'v1' && chainRef(base).seq !== list.prev?.seq) throw new Error('bench list is not chained');
  const signed = shape === 'certified' ? signDeviceList(list, signer, cert) : signDeviceList(list, key);
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
  const formats: [string, (n: number, named: boolean, human: number) => boolean][] = [
    ['v2, certified signer + chain', (n, named, human) => fitsPersona('certified', n, named, human)],
    ['v2, root-signed + chain', (n, named, human) => fitsPersona('root', n, named, human)],
    ['v1 (root-signed, no chain)', (n, named, human) => fitsPersona('v1', n, named, human)],
    ['seed 2022 (JSON, zlib, base64, hex)', fitsSeed],
  ];
  for (const [format, fits] of formats) {
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
  const floor = rows[0]!;
  const named = rows[1]!;
  console.log(`  floor (issue 9): >= 14 unnamed with no text -> ${floor.human0} ${floor.human0 >= 14 ? 'ok' : 'BELOW'}; >= 6 named with 400 B -> ${named.human400} ${named.human400 >= 6 ? 'ok' : 'BELOW'}`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) runPersonaCapacityBench();

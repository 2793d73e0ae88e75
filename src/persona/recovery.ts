// Texts people copy between machines for the root/signer scheme: the printable recovery key (the root seed with a
// checksum), a device's signer request, and the root's answer that installs a certified signer. Pure: no I/O.
import { personaCrypto as crypto } from './sodium.js';
import { personaKeyFromSeed, type PersonaKeyPair } from './keys.js';
import { base64urlDecodeStrict, base64urlEncode } from './base64url.js';
import { checkName, parseSignedRecord, verifyCert, verifyFailure, MAX_EPOCH, type SignedDeviceList, type SignerCert } from './list.js';
import { abytes, bytesEqual } from '../util/bytes.js';
import { ToxPersonaError } from '../util/errors.js';

/** Codes of {@link RecoveryTextError}. */
export type RecoveryTextErrorCode =
  /** The text is not a recovery key at all (prefix, length or a character outside Crockford base32). */
  | 'RECOVERY_KEY_CORRUPT'
  /** The text has the shape of a recovery key but its checksum does not match: a typo (the message names the group when one character is off). */
  | 'RECOVERY_KEY_MISTYPED'
  /** A signer request or a signer certificate text is damaged, incomplete, or does not verify. */
  | 'SIGNER_TEXT_CORRUPT';

/** A copied text (recovery key, signer request, signer certificate) can't be used; the message never contains secret material. */
export class RecoveryTextError extends ToxPersonaError {
  declare readonly code: RecoveryTextErrorCode;

  constructor(code: RecoveryTextErrorCode, message: string) {
    super(code, message);
  }
}

// ------------------------------------------------------------------------------------------------ the recovery key

/** Leading group of a recovery key: names the format, so a later one can coexist. */
export const RECOVERY_PREFIX = 'TPR1';
/** Domain separation of the recovery-key checksum. */
const RECOVERY_CONTEXT = new TextEncoder().encode('tox-persona/recovery-key/v1\0');
/** Checksum bytes: 40 bits, so a random typo passes one time in 10^12 and one character can be located. */
const RECOVERY_SUM_BYTES = 5;
/** Characters per group. */
const GROUP = 5;
/** Crockford's base32 alphabet: no I, L, O, U, so what is read aloud or handwritten has one reading. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CROCKFORD_DECODE = new Map<string, number>([...CROCKFORD].map((c, i) => [c, i]));
for (const [alias, to] of [['O', 0], ['I', 1], ['L', 1]] as const) CROCKFORD_DECODE.set(alias, to);
/** Characters of the body: 32 seed bytes + 5 checksum bytes = 296 bits → 60 characters (the last 4 bits zero). */
const RECOVERY_CHARS = Math.ceil(((32 + RECOVERY_SUM_BYTES) * 8) / 5);

function recoverySum(seed: Uint8Array): Uint8Array {
  const msg = new Uint8Array(RECOVERY_CONTEXT.length + 32);
  msg.set(RECOVERY_CONTEXT, 0);
  msg.set(seed, RECOVERY_CONTEXT.length);
  return crypto().hash(msg).slice(0, RECOVERY_SUM_BYTES);
}

function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(acc << (5 - bits)) & 31];
  return out;
}

/** Decodes `chars` (already mapped to 0..31) into `n` bytes; undefined when the unused trailing bits are not zero. */
function base32Decode(values: readonly number[], n: number): Uint8Array | undefined {
  const out = new Uint8Array(n);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const v of values) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      if (o < n) out[o++] = (acc >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  return acc === 0 ? out : undefined;
}

/**
 * The root's recovery key: `TPR1-` then 12 groups of 5 Crockford base32 characters holding the 32-byte seed and a
 * 40-bit checksum. Whoever holds it holds the persona: print it, keep it offline.
 */
export function encodeRecoveryKey(root: PersonaKeyPair): string {
  const seed = abytes(root.secretKey, 64, 'secretKey').slice(0, 32);
  const all = new Uint8Array(32 + RECOVERY_SUM_BYTES);
  all.set(seed, 0);
  all.set(recoverySum(seed), 32);
  seed.fill(0);
  const body = base32Encode(all);
  all.fill(0);
  const groups = body.match(new RegExp(`.{1,${GROUP}}`, 'g')) ?? [];
  return [RECOVERY_PREFIX, ...groups].join('-');
}

/** True when `text` looks like a recovery key (its prefix), so a command can tell it from an export string. */
export function isRecoveryKeyText(text: string): boolean {
  return text.trim().toUpperCase().replace(/[\s-]/g, '').startsWith(RECOVERY_PREFIX);
}

/**
 * Reads a recovery key back: case, spaces and hyphens are ignored, O reads as 0 and I/L as 1. A wrong checksum is
 * `RECOVERY_KEY_MISTYPED`, naming the group and position when changing one character would fix it (never the
 * character itself); anything else malformed is `RECOVERY_KEY_CORRUPT`.
 */
export function decodeRecoveryKey(text: string): PersonaKeyPair {
  const t = (typeof text === 'string' ? text : '').toUpperCase().replace(/[\s-]/g, '');
  if (!t.startsWith(RECOVERY_PREFIX)) throw new RecoveryTextError('RECOVERY_KEY_CORRUPT', `a recovery key starts with ${RECOVERY_PREFIX}-`);
  const body = t.slice(RECOVERY_PREFIX.length);
  if (body.length !== RECOVERY_CHARS) {
    throw new RecoveryTextError('RECOVERY_KEY_CORRUPT', `a recovery key has ${RECOVERY_CHARS} characters after ${RECOVERY_PREFIX} (12 groups of ${GROUP}), this one has ${body.length}`);
  }
  const values: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const v = CROCKFORD_DECODE.get(body[i] as string);
    if (v === undefined) throw new RecoveryTextError('RECOVERY_KEY_CORRUPT', `group ${Math.floor(i / GROUP) + 1}, character ${(i % GROUP) + 1} is not a recovery-key character (0-9 and A-Z without U)`);
    values.push(v);
  }
  const ok = (vals: readonly number[]): Uint8Array | undefined => {
    const all = base32Decode(vals, 32 + RECOVERY_SUM_BYTES);
    if (!all) return undefined;
    const seed = all.slice(0, 32);
    if (bytesEqual(recoverySum(seed), all.subarray(32))) return seed;
    seed.fill(0);
    return undefined;
  };
  const seed = ok(values);
  if (!seed) {
    // Locate a single wrong character: 60 x 31 candidates, cheap; a false hit needs a 40-bit collision.
    const hits: number[] = [];
    for (let i = 0; i < values.length && hits.length < 2; i++) {
      const orig = values[i] as number;
      for (let v = 0; v < 32; v++) {
        if (v === orig) continue;
        values[i] = v;
        const s = ok(values);
        if (s) {
          s.fill(0);
          hits.push(i);
          break;
        }
      }
      values[i] = orig;
    }
    const where = hits.length === 1 ? `; group ${Math.floor(hits[0]! / GROUP) + 1}, character ${(hits[0]! % GROUP) + 1} looks mistyped` : '';
    throw new RecoveryTextError('RECOVERY_KEY_MISTYPED', `the recovery key's checksum does not match: it was mistyped or copied incompletely${where}`);
  }
  const kp = personaKeyFromSeed(seed);
  seed.fill(0);
  return kp;
}

// ------------------------------------------------------------------------------------------------ signer request

/** Prefix of a signer request (a new device asks the root to certify its signer key). */
export const SIGNER_REQUEST_PREFIX = 'toxpersona-request-1.';
/** Prefix of a signer certificate text (the root's answer: the certificate and the list the device starts from). */
export const SIGNER_CERT_PREFIX = 'toxpersona-signer-1.';

/** What a new device asks the root for: certify `signerKey`, and list `device` (its Tox public key) under `name`. */
export interface SignerRequest {
  readonly signerKey: Uint8Array;
  readonly device: Uint8Array;
  readonly name: string;
}

function withSum(prefix: string, body: Uint8Array): string {
  const all = new Uint8Array(body.length + 4);
  all.set(body, 0);
  all.set(crypto().hash(body, 4), body.length);
  return prefix + base64urlEncode(all);
}

function withoutSum(prefix: string, text: string, what: string): Uint8Array {
  const t = typeof text === 'string' ? text.replace(/\s+/g, '') : '';
  if (!t.startsWith(prefix)) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', `a ${what} starts with ${prefix}`);
  const all = base64urlDecodeStrict(t, prefix.length);
  if (!all || all.length < 5) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', `the ${what} is not valid base64url`);
  const body = all.subarray(0, all.length - 4);
  if (!bytesEqual(crypto().hash(body, 4), all.subarray(all.length - 4))) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', `checksum mismatch: the ${what} was not copied completely`);
  return body;
}

/** One line of text: `toxpersona-request-1.` + base64url(signerKey 32 || device 32 || name length u8 || name || checksum 4). */
export function encodeSignerRequest(r: SignerRequest): string {
  const name = new TextEncoder().encode(r.name);
  const bad = checkName(r.name);
  if (bad) throw new RangeError(`device name ${bad}`);
  const body = new Uint8Array(65 + name.length);
  body.set(abytes(r.signerKey, 32, 'signerKey'), 0);
  body.set(abytes(r.device, 32, 'device'), 32);
  body[64] = name.length;
  body.set(name, 65);
  return withSum(SIGNER_REQUEST_PREFIX, body);
}

/** Reads a signer request; `SIGNER_TEXT_CORRUPT` for anything damaged. */
export function decodeSignerRequest(text: string): SignerRequest {
  const body = withoutSum(SIGNER_REQUEST_PREFIX, text, 'signer request');
  if (body.length < 65 || body.length !== 65 + (body[64] as number)) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', 'the signer request has the wrong length');
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(65));
  } catch {
    throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', 'the device name in the signer request is not valid UTF-8');
  }
  const bad = checkName(name);
  if (bad) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', `the device name in the signer request ${bad}`);
  return { signerKey: body.slice(0, 32), device: body.slice(32, 64), name };
}

// ------------------------------------------------------------------------------------------------ signer certificate

/** The root's answer to a request: the certificate of the device's signer for `epoch`, and the newest list (which names the device). */
export interface SignerGrant {
  readonly epoch: number;
  readonly cert: SignerCert;
  /** The persona's newest list, naming the device; the device starts from it. */
  readonly list: SignedDeviceList;
}

/** `toxpersona-signer-1.` + base64url(epoch u16 || signerKey 32 || certSignature 64 || signed list record || checksum 4). */
export function encodeSignerGrant(g: SignerGrant, record: Uint8Array): string {
  const body = new Uint8Array(2 + 96 + record.length);
  new DataView(body.buffer).setUint16(0, g.epoch);
  body.set(abytes(g.cert.signerKey, 32, 'signerKey'), 2);
  body.set(abytes(g.cert.signature, 64, 'signature'), 34);
  body.set(record, 98);
  return withSum(SIGNER_CERT_PREFIX, body);
}

/**
 * Reads and checks a certificate text: the list parses and verifies, and the certificate verifies under the list's
 * PersonaID for `epoch`. Whether it is for this device (its signer key, its Tox key) the caller checks.
 */
export function decodeSignerGrant(text: string): SignerGrant {
  const body = withoutSum(SIGNER_CERT_PREFIX, text, 'signer certificate');
  if (body.length < 98 + 1) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', 'the signer certificate is too short');
  const epoch = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint16(0);
  if (epoch > MAX_EPOCH) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', 'bad epoch');
  const cert: SignerCert = { signerKey: body.slice(2, 34), signature: body.slice(34, 98) };
  const parsed = parseSignedRecord(body.slice(98));
  if (!parsed.ok) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', `the list in the signer certificate does not parse (${parsed.reason})`);
  const bad = verifyFailure(parsed.value);
  if (bad) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', `the list in the signer certificate does not verify (${bad.reason})`);
  if (!verifyCert(parsed.value.list.personaId, epoch, cert)) throw new RecoveryTextError('SIGNER_TEXT_CORRUPT', 'the certificate is not the root\'s signature for this signer and epoch');
  return { epoch, cert, list: parsed.value };
}

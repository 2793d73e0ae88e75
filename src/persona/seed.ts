// The 2022 seed format, kept as a legacy reader and a capacity baseline: JSON {nickname: hex ToxPk}, zlib-deflated, base64, with hex key and signature.
import { sodium } from './sodium.js';
import { deflateZlib, inflateCapped } from './inflate.js';
import { StatusMessageTooLong } from './errors.js';
import { MAX_STATUS_MESSAGE_BYTES } from './codec.js';
import { isWellFormed, type Device } from './list.js';
import { abytes, bytesEqual, bytesToHex, hexToBytes } from '../util/bytes.js';

/** Largest JSON document the seed decoder inflates; more is refused as a deflate bomb. */
export const SEED_MAX_INFLATED_BYTES = 16 * 1024;

/** Reasons the seed decoder refuses a status message. */
export type SeedRejectReason = 'TOO_LONG' | 'INVALID_UTF8' | 'NO_BLOB' | 'BAD_BASE64' | 'INFLATE_TOO_LARGE' | 'INFLATE_FAILED' | 'BAD_JSON' | 'DUPLICATE_DEVICE' | 'PERSONA_IS_DEVICE' | 'BAD_SIGNATURE';

/** A decoded seed-format status message. */
export interface SeedDecoded {
  readonly ok: true;
  /** Text in front of the blob. */
  readonly human: string;
  /** The signing public key. */
  readonly personaId: Uint8Array;
  /** Devices in dictionary order (JSON objects order integer-like names first: a flaw of the seed format). */
  readonly devices: Device[];
}

/** The result of {@link decodeSeedStatusMessage}. */
export type SeedDecodeResult = SeedDecoded | { readonly ok: false; readonly reason: SeedRejectReason; readonly detail: string };

// <human><signing pk, 64 hex>:<base64 of zlib(JSON)>:<signature, 128 hex>, anchored at the end of the text.
const SEED_RE = /([0-9A-Fa-f]{64}):([A-Za-z0-9+/]+={0,2}):([0-9A-Fa-f]{128})$/;

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The seed-format blob for these devices (names must be unique and non-empty: they are the dictionary keys). */
export function encodeSeedBlob(devices: readonly Device[], key: { publicKey: Uint8Array; secretKey: Uint8Array }): string {
  const dict: Record<string, string> = {};
  for (const d of devices) {
    if (!d.name || d.name in dict) throw new TypeError(`seed format needs unique, non-empty nicknames (got ${JSON.stringify(d.name)})`);
    dict[d.name] = bytesToHex(abytes(d.publicKey, 32, 'publicKey'));
  }
  const body = b64(deflateZlib(new TextEncoder().encode(JSON.stringify(dict))));
  // The sketch signs what it sends ("compress and base64 encode the blob, sign it"), with no context string.
  const sig = sodium.crypto_sign_detached(new TextEncoder().encode(body), abytes(key.secretKey, 64, 'secretKey'));
  return `${bytesToHex(key.publicKey)}:${body}:${bytesToHex(sig)}`;
}

/** `humanText + seed blob`; throws StatusMessageTooLong past 1007 bytes. */
export function encodeSeedStatusMessage(devices: readonly Device[], key: { publicKey: Uint8Array; secretKey: Uint8Array }, humanText = ''): string {
  const blob = encodeSeedBlob(devices, key);
  const needed = Buffer.byteLength(humanText, 'utf8') + blob.length;
  if (needed > MAX_STATUS_MESSAGE_BYTES) throw new StatusMessageTooLong(needed, MAX_STATUS_MESSAGE_BYTES, blob.length);
  return humanText + blob;
}

/** Reads a seed-format status message; never throws, inflate is capped at 16 KiB. */
export function decodeSeedStatusMessage(input: string | Uint8Array): SeedDecodeResult {
  const fail = (reason: SeedRejectReason, detail: string): SeedDecodeResult => ({ ok: false, reason, detail });
  try {
    let text: string;
    if (input instanceof Uint8Array) {
      if (input.length > MAX_STATUS_MESSAGE_BYTES) return fail('TOO_LONG', `${input.length} bytes`);
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
      } catch {
        return fail('INVALID_UTF8', 'not valid UTF-8');
      }
    } else {
      if (typeof input !== 'string' || !isWellFormed(input)) return fail('INVALID_UTF8', 'not a well-formed string');
      if (Buffer.byteLength(input, 'utf8') > MAX_STATUS_MESSAGE_BYTES) return fail('TOO_LONG', 'over 1007 bytes');
      text = input;
    }
    const m = SEED_RE.exec(text);
    if (!m) return fail('NO_BLOB', 'no seed-format blob at the end of the text');
    const [, pkHex, body, sigHex] = m as unknown as [string, string, string, string];
    const personaId = hexToBytes(pkHex, 32, 'signing key');
    const compressed = Uint8Array.from(Buffer.from(body, 'base64'));
    if (b64(compressed) !== body) return fail('BAD_BASE64', 'non-canonical base64');
    const sig = hexToBytes(sigHex, 64, 'signature');
    let ok = false;
    try {
      ok = sodium.crypto_sign_verify_detached(sig, new TextEncoder().encode(body), personaId);
    } catch {
      ok = false;
    }
    if (!ok) return fail('BAD_SIGNATURE', 'signature does not verify');
    const inflated = inflateCapped(compressed, SEED_MAX_INFLATED_BYTES, false);
    if (!inflated.ok) return fail(inflated.reason, inflated.reason === 'INFLATE_TOO_LARGE' ? `inflates past ${SEED_MAX_INFLATED_BYTES} bytes` : 'corrupt zlib stream');
    let dict: unknown;
    try {
      dict = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(inflated.bytes));
    } catch {
      return fail('BAD_JSON', 'the inflated blob is not UTF-8 JSON');
    }
    if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) return fail('BAD_JSON', 'not a JSON object');
    const devices: Device[] = [];
    for (const [name, value] of Object.entries(dict as Record<string, unknown>)) {
      if (typeof value !== 'string' || !/^[0-9A-Fa-f]{64}$/.test(value)) return fail('BAD_JSON', `device ${JSON.stringify(name)} is not a 64-hex key`);
      const publicKey = hexToBytes(value, 32, 'device');
      if (bytesEqual(publicKey, personaId)) return fail('PERSONA_IS_DEVICE', 'the signing key is listed as a device');
      if (devices.some((d) => bytesEqual(d.publicKey, publicKey))) return fail('DUPLICATE_DEVICE', 'a key appears twice');
      devices.push({ publicKey, name });
    }
    if (devices.length === 0) return fail('BAD_JSON', 'no devices');
    return { ok: true, human: text.slice(0, m.index), personaId, devices };
  } catch (error) {
    return fail('BAD_JSON', `internal decoder error: ${error instanceof Error ? error.name : 'unknown'}`);
  }
}

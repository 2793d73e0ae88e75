// The status-message codec: `<human text><marker><base64url blob>`, at most 1007 UTF-8 bytes, decoded strictly and without throwing.
import { base64urlDecodeStrict, base64urlEncode, base64urlLength } from './base64url.js';
import { deflateRaw, inflateRawInto } from './inflate.js';
import { StatusMessageTooLong } from './errors.js';
import { isWellFormed, parseSignedRecordInPlace, policyFailure, SIGNING_CONTEXT_LENGTH, reject, signedRecord, verifyFailure, type Rejection, type SignedDeviceList } from './list.js';

/** Tox's TOX_MAX_STATUS_MESSAGE_LENGTH: the whole status message, in UTF-8 bytes. */
export const MAX_STATUS_MESSAGE_BYTES = 1007;
/** Separates the human text from the blob; '~' and ':' are outside the base64url alphabet, so the last marker is always the real one. */
export const STATUS_MARKER = '~tp1:';
/** Envelope byte: the signed record follows as is. */
export const ENVELOPE_RAW = 0x01;
/** Envelope byte: the signed record follows compressed with raw DEFLATE (RFC 1951). */
export const ENVELOPE_DEFLATE = 0x02;
/** Largest record a DEFLATE envelope may inflate to; anything bigger is refused as a deflate bomb. */
export const MAX_INFLATED_RECORD_BYTES = 4096;

/** How the record travelled inside the blob. */
export type Envelope = 'raw' | 'deflate';

/** A successfully decoded and verified status message. */
export interface DecodedStatusMessage {
  readonly ok: true;
  /** The human text in front of the marker (may be ''). */
  readonly human: string;
  /** The verified signed list. */
  readonly signed: SignedDeviceList;
  /** Whether the blob was compressed. */
  readonly envelope: Envelope;
}

/** The result of {@link decodeStatusMessage}: a verified list or a rejection value. */
export type DecodeResult = DecodedStatusMessage | Rejection;

/** Options for {@link decodeStatusMessage}. */
export interface DecodeOptions {
  /** Check the certificate, the signature and the stateless receiver rules (default true); false only parses, for tools that inspect broken blobs. */
  verify?: boolean;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The blob text (marker included) for a signed list, compressed only when that is strictly shorter. */
export function encodeBlob(signed: SignedDeviceList): { text: string; envelope: Envelope } {
  const record = signedRecord(signed);
  const packed = deflateRaw(record);
  const envelope: Envelope = packed.length < record.length ? 'deflate' : 'raw';
  const body = envelope === 'deflate' ? packed : record;
  const blob = new Uint8Array(1 + body.length);
  blob[0] = envelope === 'deflate' ? ENVELOPE_DEFLATE : ENVELOPE_RAW;
  blob.set(body, 1);
  return { text: STATUS_MARKER + base64urlEncode(blob), envelope };
}

/** How the 1007 bytes split for this list: bytes taken by the blob (marker included) and bytes left for human text (negative when the list alone is too big). */
export function statusMessageBudget(signed: SignedDeviceList): { blobBytes: number; humanBytes: number; envelope: Envelope } {
  const { text, envelope } = encodeBlob(signed);
  return { blobBytes: text.length, humanBytes: MAX_STATUS_MESSAGE_BYTES - text.length, envelope };
}

/** Bytes the blob of a raw record of `recordBytes` bytes takes, marker included (a quick capacity estimate without signing). */
export function rawBlobBytes(recordBytes: number): number {
  return STATUS_MARKER.length + base64urlLength(1 + recordBytes);
}

/**
 * Human text as it goes in front of the marker: non-empty text that does not already end in white space gets one
 * space, so a client that shows the raw status message shows the text apart from the blob (docs/PROTOCOL.md section 5).
 */
export function separateHumanText(human: string): string {
  return human === '' || /\s$/u.test(human) ? human : `${human} `;
}

/** The status message a device publishes: its human text, separated by {@link separateHumanText}, then the list's blob; throws StatusMessageTooLong when it does not fit. */
export function buildStatusMessage(signed: SignedDeviceList, humanText: string): string {
  return encodeStatusMessage(signed, separateHumanText(humanText));
}

/** Builds the status message `humanText + marker + blob`; throws StatusMessageTooLong (with the byte budget) when it would pass 1007 bytes. */
export function encodeStatusMessage(signed: SignedDeviceList, humanText = ''): string {
  if (typeof humanText !== 'string' || !isWellFormed(humanText)) throw new TypeError('humanText must be a well-formed string');
  const { text } = encodeBlob(signed);
  const needed = utf8.encode(humanText).length + text.length;
  if (needed > MAX_STATUS_MESSAGE_BYTES) throw new StatusMessageTooLong(needed, MAX_STATUS_MESSAGE_BYTES, text.length);
  return humanText + text;
}

/** Decodes and verifies a status message (string or the raw bytes Tox delivered); never throws, every failure is a rejection value. */
export function decodeStatusMessage(text: string | Uint8Array, options: DecodeOptions = {}): DecodeResult {
  try {
    return decodeUnsafe(text, options.verify ?? true);
  } catch (error) {
    // Unreachable by design (the fuzz tests check it); kept so a bug can never turn hostile input into a crash.
    return reject('BAD_ENVELOPE', `internal decoder error: ${error instanceof Error ? error.name : 'unknown'}`);
  }
}

function decodeUnsafe(input: string | Uint8Array, verify: boolean): DecodeResult {
  let text: string;
  if (input instanceof Uint8Array) {
    if (input.length > MAX_STATUS_MESSAGE_BYTES) return reject('TOO_LONG', `${input.length} bytes, the limit is ${MAX_STATUS_MESSAGE_BYTES}`);
    try {
      text = utf8Strict.decode(input);
    } catch {
      return reject('INVALID_UTF8', 'status message is not valid UTF-8');
    }
  } else if (typeof input === 'string') {
    // A UTF-16 code unit never takes fewer UTF-8 bytes than one, so this cap is safe before measuring exactly.
    if (input.length > MAX_STATUS_MESSAGE_BYTES) return reject('TOO_LONG', `${input.length} characters, the limit is ${MAX_STATUS_MESSAGE_BYTES} bytes`);
    if (!isWellFormed(input)) return reject('INVALID_UTF8', 'status message has a lone surrogate');
    const bytes = Buffer.byteLength(input, 'utf8');
    if (bytes > MAX_STATUS_MESSAGE_BYTES) return reject('TOO_LONG', `${bytes} bytes, the limit is ${MAX_STATUS_MESSAGE_BYTES}`);
    text = input;
  } else {
    return reject('INVALID_UTF8', 'status message is neither a string nor bytes');
  }
  const at = text.lastIndexOf(STATUS_MARKER);
  if (at < 0) return reject('NO_BLOB', 'no persona marker in the status message');
  // One byte less than the context: the envelope byte's place is taken by the context's last byte once it was read.
  const blob = base64urlDecodeStrict(text, at + STATUS_MARKER.length, text.length, SIGNING_CONTEXT_LENGTH - 1);
  if (!blob) return reject('BAD_BASE64', 'the text after the marker is not canonical unpadded base64url');
  if (blob.length < 1) return reject('TRUNCATED', 'empty blob after the marker');
  // `record` sits in a buffer of its own with SIGNING_CONTEXT_LENGTH free bytes before it: parsed without copies, and
  // verified over context || payload in place.
  let record: Uint8Array;
  let envelope: Envelope;
  if (blob[0] === ENVELOPE_RAW) {
    record = blob.subarray(1);
    envelope = 'raw';
  } else if (blob[0] === ENVELOPE_DEFLATE) {
    const inflated = inflateRawInto(blob.subarray(1), MAX_INFLATED_RECORD_BYTES, SIGNING_CONTEXT_LENGTH);
    if (!inflated.ok) return reject(inflated.reason, inflated.reason === 'INFLATE_TOO_LARGE' ? `inflates past ${MAX_INFLATED_RECORD_BYTES} bytes` : 'corrupt DEFLATE stream');
    record = inflated.bytes;
    envelope = 'deflate';
  } else {
    return reject('BAD_ENVELOPE', `unknown envelope byte 0x${(blob[0] as number).toString(16).padStart(2, '0')}`);
  }
  const parsed = parseSignedRecordInPlace(new Uint8Array(record.buffer, record.byteOffset - SIGNING_CONTEXT_LENGTH, record.length + SIGNING_CONTEXT_LENGTH));
  if (!parsed.ok) return parsed;
  if (verify) {
    const bad = verifyFailure(parsed.value) ?? policyFailure(parsed.value.list);
    if (bad) return bad;
  }
  return { ok: true, human: text.slice(0, at), signed: parsed.value, envelope };
}

// The wire format of sibling sync (docs/SIBLING-SYNC.md), pure: messages cut into lossless custom packets and put
// back together with bounded memory, and the msgpack bodies of the two core messages (HELLO, STATE) with their checks.
// Nothing here trusts its input: every decoder returns a value or a reason, never throws for bad bytes.
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import { ToxPersonaError } from '../util/errors.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';

/** A message that cannot be sent as asked. Codes: `SIBLING_MESSAGE_TOO_LARGE`, `SIBLING_BAD_TYPE`, `SIBLING_TYPE_TAKEN`. */
export class SiblingSyncError extends ToxPersonaError {}

/** First byte of every sibling-sync packet (lossless custom packets use 160-191; 0xA5 = 165). */
export const SIBLING_PACKET_ID = 0xa5;
/** Version of the frame layout; a frame of another version is dropped. */
export const FRAME_VERSION = 1;
/** Bytes before a chunk's data: packet id, frame version, message type, message id (u32), chunk index (u16), chunk count (u16). */
export const FRAME_HEADER_BYTES = 11;
/** TOX_MAX_CUSTOM_PACKET_SIZE. */
export const MAX_PACKET_BYTES = 1373;
/** Data bytes per chunk; every chunk but the last carries exactly this many. */
export const MAX_CHUNK_BYTES = MAX_PACKET_BYTES - FRAME_HEADER_BYTES;
/** Largest message body; a bigger STATE is sent as several messages (STATE merges item by item). */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Most chunks of one message. */
export const MAX_CHUNKS = Math.ceil(MAX_MESSAGE_BYTES / MAX_CHUNK_BYTES);
/** Version of the core message bodies (the `v` field); a body of another version is ignored. */
export const SYNC_VERSION = 1;

/** Core message types; 3-15 are reserved for later core messages, 16-255 belong to extensions (registerSiblingMessage). */
export const MESSAGE_TYPE = Object.freeze({ HELLO: 1, STATE: 2 });
/** Lowest message type an extension may register. */
export const FIRST_EXTENSION_TYPE = 16;

/** Bounds on the items of one STATE message (a bigger state is split by the sender). */
export const MAX_ITEMS = Object.freeze({ registers: 4096, decisions: 512, vouched: 1024, lists: 1024, held: 256, personasPerRegister: 8, confirmed: 255 });
/** Largest signed record accepted in a STATE (a list that fits a status message is below 760 bytes). */
export const MAX_RECORD_BYTES = 1024;

// ------------------------------------------------------------------------------------------------ frames

/** One decoded packet. */
export interface Frame {
  type: number;
  id: number;
  index: number;
  count: number;
  data: Uint8Array;
}

/** Why a packet was dropped. */
export type FrameReject = 'NOT_SIBLING_PACKET' | 'BAD_VERSION' | 'TRUNCATED' | 'BAD_COUNT' | 'BAD_INDEX' | 'BAD_LENGTH' | 'TOO_LONG';

/** Cuts `body` into packets of message `type` with id `id` (u32); SIBLING_MESSAGE_TOO_LARGE above MAX_MESSAGE_BYTES. */
export function encodeFrames(type: number, id: number, body: Uint8Array): Uint8Array[] {
  if (!Number.isInteger(type) || type < 1 || type > 255) throw new SiblingSyncError('SIBLING_BAD_TYPE', `message type ${type} is not 1..255`);
  if (body.length > MAX_MESSAGE_BYTES) throw new SiblingSyncError('SIBLING_MESSAGE_TOO_LARGE', `message of ${body.length} bytes, at most ${MAX_MESSAGE_BYTES}`);
  const count = Math.max(1, Math.ceil(body.length / MAX_CHUNK_BYTES));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const data = body.subarray(i * MAX_CHUNK_BYTES, Math.min(body.length, (i + 1) * MAX_CHUNK_BYTES));
    const p = new Uint8Array(FRAME_HEADER_BYTES + data.length);
    const v = new DataView(p.buffer);
    p[0] = SIBLING_PACKET_ID;
    p[1] = FRAME_VERSION;
    p[2] = type;
    v.setUint32(3, id >>> 0);
    v.setUint16(7, i);
    v.setUint16(9, count);
    p.set(data, FRAME_HEADER_BYTES);
    out.push(p);
  }
  return out;
}

/** Decodes one packet's header; checks everything that does not need the earlier chunks. */
export function decodeFrame(packet: Uint8Array): { ok: true; frame: Frame } | { ok: false; reason: FrameReject } {
  if (packet.length === 0 || packet[0] !== SIBLING_PACKET_ID) return { ok: false, reason: 'NOT_SIBLING_PACKET' };
  if (packet.length > MAX_PACKET_BYTES) return { ok: false, reason: 'TOO_LONG' };
  if (packet.length < 2) return { ok: false, reason: 'TRUNCATED' };
  if (packet[1] !== FRAME_VERSION) return { ok: false, reason: 'BAD_VERSION' };
  if (packet.length < FRAME_HEADER_BYTES) return { ok: false, reason: 'TRUNCATED' };
  const v = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const type = packet[2]!;
  const id = v.getUint32(3);
  const index = v.getUint16(7);
  const count = v.getUint16(9);
  if (count < 1 || count > MAX_CHUNKS || type === 0) return { ok: false, reason: 'BAD_COUNT' };
  if (index >= count) return { ok: false, reason: 'BAD_INDEX' };
  const data = packet.subarray(FRAME_HEADER_BYTES);
  // Only the last chunk may be short, and only a message of one empty chunk may be empty.
  if (index < count - 1 ? data.length !== MAX_CHUNK_BYTES : data.length === 0 && count > 1) return { ok: false, reason: 'BAD_LENGTH' };
  return { ok: true, frame: { type, id, index, count, data } };
}

/** What {@link Reassembler.push} made of one packet. */
export type PushResult =
  | { kind: 'message'; type: number; body: Uint8Array }
  | { kind: 'partial' }
  | { kind: 'dropped'; reason: FrameReject | 'OUT_OF_ORDER' | 'SUPERSEDED' };

/**
 * Puts messages back together per sender. Lossless packets of one friend arrive in order, so each sender has at most
 * one message in progress: a chunk that is not the next one drops it, a new message replaces it. Memory is at most
 * MAX_MESSAGE_BYTES per sender; the caller only feeds packets of senders it accepts (siblings) and calls `forget`.
 */
export class Reassembler {
  private readonly partial = new Map<string, { type: number; id: number; count: number; next: number; chunks: Uint8Array[]; bytes: number }>();

  /** Feeds one packet from `from`. */
  push(from: string, packet: Uint8Array): PushResult {
    const d = decodeFrame(packet);
    if (!d.ok) return { kind: 'dropped', reason: d.reason };
    const f = d.frame;
    const cur = this.partial.get(from);
    if (f.index === 0) {
      const superseded = cur !== undefined;
      this.partial.delete(from);
      if (f.count === 1) return { kind: 'message', type: f.type, body: f.data.slice() };
      this.partial.set(from, { type: f.type, id: f.id, count: f.count, next: 1, chunks: [f.data.slice()], bytes: f.data.length });
      return superseded ? { kind: 'dropped', reason: 'SUPERSEDED' } : { kind: 'partial' };
    }
    if (!cur || cur.id !== f.id || cur.type !== f.type || cur.count !== f.count || cur.next !== f.index) {
      this.partial.delete(from);
      return { kind: 'dropped', reason: 'OUT_OF_ORDER' };
    }
    cur.chunks.push(f.data.slice());
    cur.bytes += f.data.length;
    cur.next++;
    if (cur.next < cur.count) return { kind: 'partial' };
    this.partial.delete(from);
    const body = new Uint8Array(cur.bytes);
    let at = 0;
    for (const c of cur.chunks) {
      body.set(c, at);
      at += c.length;
    }
    return { kind: 'message', type: cur.type, body };
  }

  /** Drops what `from` had in progress (it went offline or stopped being a sibling). */
  forget(from: string): void {
    this.partial.delete(from);
  }

  /** Bytes held in unfinished messages, over all senders. */
  get bufferedBytes(): number {
    let n = 0;
    for (const p of this.partial.values()) n += p.bytes;
    return n;
  }

  /** Senders with a message in progress. */
  get senders(): number {
    return this.partial.size;
  }
}

// ------------------------------------------------------------------------------------------------ core bodies

/** A stamped register: the user's (or the persona machinery's) last word about one friend key, replicated last-writer-wins. */
export interface SyncRegister {
  /** The friend key, 64 uppercase hex. */
  key: string;
  /** blocked: the user removed it; user: the user added or accepted it; auto: added on behalf of the personas listed. */
  kind: 'blocked' | 'user' | 'auto';
  /** When, Unix milliseconds (the stamp's first part). */
  t: number;
  /** The device that made the decision, 64 uppercase hex (the stamp's tie-breaker). */
  by: string;
  /** For `auto`: the personas it was added for. */
  personas: string[];
}

/** The user's approve/reject of one held version of a persona's list. */
export interface SyncDecision {
  personaId: string;
  /** The list's version hash, 64 lowercase hex (the table's spelling). */
  version: string;
  decision: 'approve' | 'reject';
  t: number;
  by: string;
}

/** A persona's applied list as the sender holds it: the signed record, the device it came from, the devices that confirmed it. */
export interface SyncList {
  record: Uint8Array;
  from: string;
  confirmed: string[];
}

/** A list the sender holds for the user (pending). */
export interface SyncHeld {
  record: Uint8Array;
  from: string;
}

/** HELLO: the sender's own list and a digest of its replicated state; a receiver whose digest differs answers with its STATE. */
export interface HelloMessage {
  kind: 'hello';
  own: Uint8Array;
  digest: Uint8Array;
}

/** STATE: the sender's own list and replicated items; `full` when it answers a HELLO, else a delta of what just changed. */
export interface StateMessage {
  kind: 'state';
  full: boolean;
  own: Uint8Array;
  registers: SyncRegister[];
  decisions: SyncDecision[];
  vouched: string[];
  lists: SyncList[];
  held: SyncHeld[];
}

/** A core message. */
export type CoreMessage = HelloMessage | StateMessage;

const KIND_CODE = { blocked: 0, user: 1, auto: 2 } as const;
const KIND_OF = ['blocked', 'user', 'auto'] as const;

const k32 = (hex: string) => hexToBytes(hex, 32, 'key');

/** Encodes a core message body (msgpack). */
export function encodeCore(m: CoreMessage): { type: number; body: Uint8Array } {
  if (m.kind === 'hello') return { type: MESSAGE_TYPE.HELLO, body: msgpackEncode({ v: SYNC_VERSION, own: m.own, digest: m.digest }) };
  return {
    type: MESSAGE_TYPE.STATE,
    body: msgpackEncode({
      v: SYNC_VERSION,
      full: m.full,
      own: m.own,
      reg: m.registers.map((r) => [k32(r.key), KIND_CODE[r.kind], r.t, k32(r.by), r.personas.map(k32)]),
      dec: m.decisions.map((d) => [k32(d.personaId), hexToBytes(d.version, 32, 'version'), d.decision === 'approve' ? 1 : 0, d.t, k32(d.by)]),
      vouch: m.vouched.map(k32),
      lists: m.lists.map((l) => [l.record, k32(l.from), l.confirmed.map(k32)]),
      held: m.held.map((h) => [h.record, k32(h.from)]),
    }),
  };
}

/** Why a body was refused. */
export type BodyReject = 'UNKNOWN_TYPE' | 'BAD_MSGPACK' | 'BAD_VERSION' | 'BAD_SHAPE' | 'TOO_MANY';

const isBin = (x: unknown, len?: number): x is Uint8Array => x instanceof Uint8Array && (len === undefined || x.length === len);
const isStamp = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
const hex = (b: Uint8Array) => bytesToHex(b);

/** msgpack decoding bounded by the body's size: no string, binary, array or map longer than the limits. */
function unpack(body: Uint8Array): unknown {
  return msgpackDecode(body, { maxStrLength: 256, maxBinLength: MAX_RECORD_BYTES, maxArrayLength: MAX_ITEMS.registers, maxMapLength: 32, maxExtLength: 0 });
}

/** Decodes a core message body of `type`; never throws. */
export function decodeCore(type: number, body: Uint8Array): { ok: true; message: CoreMessage } | { ok: false; reason: BodyReject } {
  if (type !== MESSAGE_TYPE.HELLO && type !== MESSAGE_TYPE.STATE) return { ok: false, reason: 'UNKNOWN_TYPE' };
  let raw: unknown;
  try {
    raw = unpack(body);
  } catch {
    return { ok: false, reason: 'BAD_MSGPACK' };
  }
  if (!isObj(raw)) return { ok: false, reason: 'BAD_SHAPE' };
  if (raw.v !== SYNC_VERSION) return { ok: false, reason: 'BAD_VERSION' };
  if (!isBin(raw.own) || raw.own.length === 0) return { ok: false, reason: 'BAD_SHAPE' };
  if (type === MESSAGE_TYPE.HELLO) {
    if (!isBin(raw.digest, 32)) return { ok: false, reason: 'BAD_SHAPE' };
    return { ok: true, message: { kind: 'hello', own: raw.own, digest: raw.digest } };
  }
  const arr = (x: unknown, max: number): unknown[] | 'bad' | 'many' => (x === undefined ? [] : !Array.isArray(x) ? 'bad' : x.length > max ? 'many' : x);
  const reg = arr(raw.reg, MAX_ITEMS.registers);
  const dec = arr(raw.dec, MAX_ITEMS.decisions);
  const vouch = arr(raw.vouch, MAX_ITEMS.vouched);
  const lists = arr(raw.lists, MAX_ITEMS.lists);
  const held = arr(raw.held, MAX_ITEMS.held);
  const all = [reg, dec, vouch, lists, held];
  if (all.includes('many')) return { ok: false, reason: 'TOO_MANY' };
  if (all.includes('bad') || typeof raw.full !== 'boolean') return { ok: false, reason: 'BAD_SHAPE' };
  const m: StateMessage = { kind: 'state', full: raw.full, own: raw.own, registers: [], decisions: [], vouched: [], lists: [], held: [] };
  for (const r of reg as unknown[]) {
    if (!Array.isArray(r) || r.length !== 5 || !isBin(r[0], 32) || typeof r[1] !== 'number' || !KIND_OF[r[1]] || !isStamp(r[2]) || !isBin(r[3], 32) || !Array.isArray(r[4])) return { ok: false, reason: 'BAD_SHAPE' };
    if (r[4].length > MAX_ITEMS.personasPerRegister) return { ok: false, reason: 'TOO_MANY' };
    if (!r[4].every((p) => isBin(p, 32))) return { ok: false, reason: 'BAD_SHAPE' };
    m.registers.push({ key: hex(r[0]), kind: KIND_OF[r[1]]!, t: r[2], by: hex(r[3]), personas: (r[4] as Uint8Array[]).map(hex) });
  }
  for (const d of dec as unknown[]) {
    if (!Array.isArray(d) || d.length !== 5 || !isBin(d[0], 32) || !isBin(d[1], 32) || (d[2] !== 0 && d[2] !== 1) || !isStamp(d[3]) || !isBin(d[4], 32)) return { ok: false, reason: 'BAD_SHAPE' };
    m.decisions.push({ personaId: hex(d[0]), version: bytesToHex(d[1], false), decision: d[2] === 1 ? 'approve' : 'reject', t: d[3], by: hex(d[4]) });
  }
  for (const v of vouch as unknown[]) {
    if (!isBin(v, 32)) return { ok: false, reason: 'BAD_SHAPE' };
    m.vouched.push(hex(v));
  }
  for (const l of lists as unknown[]) {
    if (!Array.isArray(l) || l.length !== 3 || !isBin(l[0]) || l[0].length === 0 || !isBin(l[1], 32) || !Array.isArray(l[2])) return { ok: false, reason: 'BAD_SHAPE' };
    if (l[2].length > MAX_ITEMS.confirmed) return { ok: false, reason: 'TOO_MANY' };
    if (!l[2].every((c) => isBin(c, 32))) return { ok: false, reason: 'BAD_SHAPE' };
    m.lists.push({ record: l[0], from: hex(l[1]), confirmed: (l[2] as Uint8Array[]).map(hex) });
  }
  for (const h of held as unknown[]) {
    if (!Array.isArray(h) || h.length !== 2 || !isBin(h[0]) || h[0].length === 0 || !isBin(h[1], 32)) return { ok: false, reason: 'BAD_SHAPE' };
    m.held.push({ record: h[0], from: hex(h[1]) });
  }
  return { ok: true, message: m };
}

/**
 * Encodes a STATE as one or more bodies of at most MAX_MESSAGE_BYTES: items are halved until each part fits (STATE
 * merges item by item, so parts are as good as the whole). Every part carries the own list.
 */
export function encodeState(m: StateMessage): Uint8Array[] {
  const body = encodeCore(m).body;
  const counted = m.registers.length <= MAX_ITEMS.registers && m.decisions.length <= MAX_ITEMS.decisions && m.vouched.length <= MAX_ITEMS.vouched && m.lists.length <= MAX_ITEMS.lists && m.held.length <= MAX_ITEMS.held;
  if (body.length <= MAX_MESSAGE_BYTES && counted) return [body];
  const items = m.registers.length + m.decisions.length + m.vouched.length + m.lists.length + m.held.length;
  if (items <= 1) throw new SiblingSyncError('SIBLING_MESSAGE_TOO_LARGE', `one STATE item takes ${body.length} bytes, at most ${MAX_MESSAGE_BYTES}`);
  const half = <T>(xs: T[]): [T[], T[]] => [xs.slice(0, Math.ceil(xs.length / 2)), xs.slice(Math.ceil(xs.length / 2))];
  const [r1, r2] = half(m.registers);
  const [d1, d2] = half(m.decisions);
  const [v1, v2] = half(m.vouched);
  const [l1, l2] = half(m.lists);
  const [h1, h2] = half(m.held);
  return [
    ...encodeState({ ...m, registers: r1, decisions: d1, vouched: v1, lists: l1, held: h1 }),
    ...encodeState({ ...m, registers: r2, decisions: d2, vouched: v2, lists: l2, held: h2 }),
  ];
}

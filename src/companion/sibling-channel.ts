// The sibling channel: typed messages between the devices of one persona over lossless custom packets
// (docs/SIBLING-SYNC.md). A registry maps message types to codecs and handlers; the core types (HELLO, STATE) carry
// sibling sync, extensions (types 16-255) ride on the same framing. Only friends our own signed list names get past
// the first byte check: a packet of anyone else is dropped before any buffering, and each sibling's messages are
// rate-limited, so no friend can make this channel hold more than one message's bytes per sibling or work without end.
import type { Logger } from './log.js';
import type { NodePort } from './node-port.js';
import {
  FIRST_EXTENSION_TYPE, MESSAGE_TYPE, Reassembler, SIBLING_PACKET_ID, SiblingSyncError, decodeCore, encodeCore, encodeFrames, encodeState,
  type CoreMessage,
} from './sibling-codec.js';

/** How an extension's values become message bodies and back; `decode` returns undefined for a body it refuses (never throws). */
export interface SiblingMessageCodec<T> {
  encode(value: T): Uint8Array;
  decode(body: Uint8Array): T | undefined;
}

/** Called with a decoded message from a sibling (a device of our own current list). */
export type SiblingHandler<T> = (from: string, value: T) => void;

/** Completed messages a sibling may send in a burst, and per second after it; more are dropped (the next HELLO catches up). */
export const SIBLING_RATE = Object.freeze({ burst: 64, perSecond: 8 });

/** Least time between two full states sent to one sibling, ms. */
export const FULL_STATE_INTERVAL_MS = 1000;

/** Dependencies of a {@link SiblingChannel}. */
export interface SiblingChannelComponents {
  node: Pick<NodePort, 'sendLosslessPacket' | 'friend'>;
  /** True when the friend is another device of our own current signed list. */
  isSibling(publicKey: string): boolean;
  /** Every other device of our own current list. */
  siblings(): string[];
  /** Receives decoded core messages (the reducer's `sibling` event). */
  onCore(from: string, message: CoreMessage): void;
  log: Logger;
  /** Clock in ms (tests). */
  nowMs?: () => number;
}

/** Counters for tests, benches and metrics. */
export interface SiblingChannelStats {
  packetsIn: number;
  messagesIn: number;
  messagesOut: number;
  packetsOut: number;
  sendFailures: number;
  /** Dropped packets or messages by reason (NOT_SIBLING, RATE_LIMITED, frame and body reasons, UNKNOWN_TYPE, HANDLER_FAILED; FULL_STATE_SUPPRESSED on the sending side). */
  dropped: Record<string, number>;
}

interface Entry {
  codec: SiblingMessageCodec<unknown>;
  handler: SiblingHandler<unknown>;
}

/** The channel of one companion. */
export class SiblingChannel {
  readonly stats: SiblingChannelStats = { packetsIn: 0, messagesIn: 0, messagesOut: 0, packetsOut: 0, sendFailures: 0, dropped: {} };
  private readonly reassembler = new Reassembler();
  private readonly registry = new Map<number, Entry>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly fullSentAt = new Map<string, number>();
  private nextId = 1;
  private readonly nowMs: () => number;

  constructor(private readonly c: SiblingChannelComponents) {
    this.nowMs = c.nowMs ?? Date.now;
  }

  /**
   * Registers an extension message type (16-255) with its codec and handler; SIBLING_BAD_TYPE for a core or
   * out-of-range type, SIBLING_TYPE_TAKEN when registered already. The handler only ever sees messages of siblings.
   */
  register<T>(type: number, codec: SiblingMessageCodec<T>, handler: SiblingHandler<T>): void {
    if (!Number.isInteger(type) || type < FIRST_EXTENSION_TYPE || type > 255) throw new SiblingSyncError('SIBLING_BAD_TYPE', `extension message types are ${FIRST_EXTENSION_TYPE}..255, not ${type}`);
    if (this.registry.has(type)) throw new SiblingSyncError('SIBLING_TYPE_TAKEN', `message type ${type} is registered already`);
    this.registry.set(type, { codec: codec as SiblingMessageCodec<unknown>, handler: handler as SiblingHandler<unknown> });
  }

  /** Sends an extension message to `to` (one key or several), or to every online sibling; returns how many it went to. */
  send<T>(type: number, value: T, to?: string | readonly string[]): number {
    const e = this.registry.get(type);
    if (!e) throw new SiblingSyncError('SIBLING_BAD_TYPE', `message type ${type} is not registered`);
    return this.sendBodies(type, [e.codec.encode(value)], this.targets(to ?? null));
  }

  /** Sends a core message (an effect of the reducer): to one sibling, or to every online sibling but `except`. */
  sendCore(message: CoreMessage, to: string | null, except?: string): number {
    let targets = this.targets(to).filter((pk) => pk !== except);
    if (message.kind === 'state' && message.full) {
      // A full state answers a HELLO: at most one per sibling per FULL_STATE_INTERVAL_MS, so a sibling's HELLOs cannot
      // make us send our whole state many times a second (changes meanwhile travel as deltas).
      const now = this.nowMs();
      targets = targets.filter((pk) => {
        const last = this.fullSentAt.get(pk);
        if (last !== undefined && now - last < FULL_STATE_INTERVAL_MS) {
          this.drop('FULL_STATE_SUPPRESSED');
          return false;
        }
        this.fullSentAt.set(pk, now);
        return true;
      });
    }
    if (targets.length === 0) return 0;
    const bodies = message.kind === 'state' ? encodeState(message) : [encodeCore(message).body];
    return this.sendBodies(message.kind === 'state' ? MESSAGE_TYPE.STATE : MESSAGE_TYPE.HELLO, bodies, targets);
  }

  private targets(to: string | readonly string[] | null): string[] {
    const list = to === null ? this.c.siblings() : typeof to === 'string' ? [to] : [...to];
    return list.filter((pk) => this.c.isSibling(pk) && (this.c.node.friend(pk)?.connection ?? 'none') !== 'none');
  }

  private sendBodies(type: number, bodies: Uint8Array[], targets: string[]): number {
    let sent = 0;
    for (const pk of targets) {
      let ok = true;
      for (const body of bodies) {
        const frames = encodeFrames(type, this.nextId++ >>> 0, body);
        try {
          for (const f of frames) {
            this.c.node.sendLosslessPacket(pk, f);
            this.stats.packetsOut++;
          }
          this.stats.messagesOut++;
        } catch (err) {
          // A full send queue or a friend that just went offline: the next HELLO (connect, timer) catches up.
          ok = false;
          this.stats.sendFailures++;
          this.c.log.debug({ to: pk, type, err: (err as Error).message }, 'sibling message not sent');
          break;
        }
      }
      if (ok) sent++;
    }
    return sent;
  }

  private drop(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }

  /** One lossless packet from friend `from`. Packets of other protocols (another first byte) are left alone. */
  receive(from: string, packet: Uint8Array): void {
    if (packet.length === 0 || packet[0] !== SIBLING_PACKET_ID) return;
    this.stats.packetsIn++;
    if (!this.c.isSibling(from)) {
      // Not a device of our list (any more): nothing is buffered, whatever it sends.
      this.reassembler.forget(from);
      this.buckets.delete(from);
      this.drop('NOT_SIBLING');
      return;
    }
    const r = this.reassembler.push(from, packet);
    if (r.kind === 'partial') return;
    if (r.kind === 'dropped') {
      this.drop(r.reason);
      return;
    }
    if (!this.take(from)) {
      this.drop('RATE_LIMITED');
      return;
    }
    this.stats.messagesIn++;
    try {
      if (r.type === MESSAGE_TYPE.HELLO || r.type === MESSAGE_TYPE.STATE) {
        const d = decodeCore(r.type, r.body);
        if (!d.ok) return this.drop(d.reason);
        this.c.onCore(from, d.message);
        return;
      }
      const e = this.registry.get(r.type);
      if (!e) return this.drop('UNKNOWN_TYPE');
      const value = e.codec.decode(r.body);
      if (value === undefined) return this.drop('BAD_BODY');
      e.handler(from, value);
    } catch (err) {
      this.drop('HANDLER_FAILED');
      this.c.log.warn({ from, type: r.type, err: (err as Error).message }, 'sibling message handler failed');
    }
  }

  /** Token bucket per sibling over completed messages. */
  private take(from: string): boolean {
    const now = this.nowMs();
    const b = this.buckets.get(from) ?? { tokens: SIBLING_RATE.burst, at: now };
    b.tokens = Math.min(SIBLING_RATE.burst, b.tokens + ((now - b.at) / 1000) * SIBLING_RATE.perSecond);
    b.at = now;
    this.buckets.set(from, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets what a friend had in progress (it went offline). */
  forget(from: string): void {
    this.reassembler.forget(from);
  }

  /** Bytes held in unfinished messages (bounded by MAX_MESSAGE_BYTES per sibling). */
  get bufferedBytes(): number {
    return this.reassembler.bufferedBytes;
  }
}

/** Registers an extension message type on a companion's sibling channel (see {@link SiblingChannel.register}). */
export function registerSiblingMessage<T>(channel: SiblingChannel, type: number, codec: SiblingMessageCodec<T>, handler: SiblingHandler<T>): void {
  channel.register(type, codec, handler);
}

/** Sends an extension message to every online sibling, or to `to`; returns how many siblings it went to. */
export function sendToSiblings<T>(channel: SiblingChannel, type: number, value: T, to?: string | readonly string[]): number {
  return channel.send(type, value, to);
}

// What ToxNode's event path (tox_callback_* → JS queue → dispatch after tox_iterate) costs against the tox_events API it
// replaced, on libtoxcore 0.2.18 (the only version with the per-type tox_events getters ToxNode used to read).
//
// One sender and two receivers on a local tox-bootstrapd, in one process: "callbacks" is a real ToxNode; "tox_events"
// is a raw instance read as ToxNode read it up to 0.2.18 (tox_events_iterate, the 11 per-type size/getter loops, copy,
// tox_events_free, then dispatch). The sender sends the same lossless packets to both, so each receiver's time in
// iterate + read + dispatch, divided by the events it got, is its cost per event, network work included; the same
// run also times idle turns (no events), where the events API still makes its per-type size calls.
//
// Run: npx tsx bench/tox-events.ts [packets]   (default 20000 per receiver; loopback only, IPv6 and LAN off)
import { EventEmitter } from 'node:events';
import { constants, isAvailable, libtoxcoreInfo, loadToxcore, readBytes, Tox_Message_Type, type Ptr, type ToxFfi } from '../src/ffi/index.js';
import { startBootstrapd } from '../src/tox/bootstrapd.js';
import { ToxNode } from '../src/tox/node.js';

const RUN_TIMEOUT_MS = 120_000;
const utf8 = new TextDecoder('utf-8');

/** Time spent and events seen by one receiver. */
interface Tally {
  ns: bigint;
  turns: number;
  events: number;
}

/** A raw instance read through tox_events_iterate and the 0.2.18 per-type getters, as ToxNode did before. */
class EventsApiReceiver extends EventEmitter {
  constructor(
    private readonly ffi: ToxFfi,
    readonly tox: Ptr<'Tox'>,
  ) {
    super();
    ffi.tox_events_init(tox);
  }

  /** One turn: iterate, read every event type into a batch, free, dispatch; returns the events dispatched. */
  iterateOnce(): number {
    const f = this.ffi;
    const err = [0];
    const ev = f.tox_events_iterate(this.tox, false, err);
    const out: Array<[string, unknown]> = [];
    if (ev !== null) {
      try {
        for (let i = 0, n = f.tox_events_get_self_connection_status_size(ev); i < n; i++) {
          const e = f.tox_events_get_self_connection_status(ev, i);
          if (e) out.push(['selfConnection', { status: f.tox_event_self_connection_status_get_connection_status(e) }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_request_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_request(ev, i);
          if (!e) continue;
          const bytes = readBytes(f.tox_event_friend_request_get_message(e), f.tox_event_friend_request_get_message_length(e));
          out.push(['friendRequest', { publicKey: readBytes(f.tox_event_friend_request_get_public_key(e), 32), message: utf8.decode(bytes), bytes }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_connection_status_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_connection_status(ev, i);
          if (e) out.push(['friendConnection', { friend: f.tox_event_friend_connection_status_get_friend_number(e), status: f.tox_event_friend_connection_status_get_connection_status(e) }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_name_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_name(ev, i);
          if (!e) continue;
          const bytes = readBytes(f.tox_event_friend_name_get_name(e), f.tox_event_friend_name_get_name_length(e));
          out.push(['friendName', { friend: f.tox_event_friend_name_get_friend_number(e), name: utf8.decode(bytes), bytes }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_status_message_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_status_message(ev, i);
          if (!e) continue;
          const bytes = readBytes(f.tox_event_friend_status_message_get_message(e), f.tox_event_friend_status_message_get_message_length(e));
          out.push(['friendStatusMessage', { friend: f.tox_event_friend_status_message_get_friend_number(e), message: utf8.decode(bytes), bytes }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_status_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_status(ev, i);
          if (e) out.push(['friendStatus', { friend: f.tox_event_friend_status_get_friend_number(e), status: f.tox_event_friend_status_get_status(e) }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_typing_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_typing(ev, i);
          if (e) out.push(['friendTyping', { friend: f.tox_event_friend_typing_get_friend_number(e), typing: f.tox_event_friend_typing_get_typing(e) }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_message_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_message(ev, i);
          if (!e) continue;
          const bytes = readBytes(f.tox_event_friend_message_get_message(e), f.tox_event_friend_message_get_message_length(e));
          const type = f.tox_event_friend_message_get_type(e) === Tox_Message_Type.TOX_MESSAGE_TYPE_ACTION ? 'action' : 'normal';
          out.push(['friendMessage', { friend: f.tox_event_friend_message_get_friend_number(e), type, message: utf8.decode(bytes), bytes }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_read_receipt_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_read_receipt(ev, i);
          if (e) out.push(['friendReadReceipt', { friend: f.tox_event_friend_read_receipt_get_friend_number(e), messageId: f.tox_event_friend_read_receipt_get_message_id(e) }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_lossless_packet_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_lossless_packet(ev, i);
          if (!e) continue;
          const data = readBytes(f.tox_event_friend_lossless_packet_get_data(e), f.tox_event_friend_lossless_packet_get_data_length(e));
          out.push(['friendLosslessPacket', { friend: f.tox_event_friend_lossless_packet_get_friend_number(e), data }]);
        }
        for (let i = 0, n = f.tox_events_get_friend_lossy_packet_size(ev); i < n; i++) {
          const e = f.tox_events_get_friend_lossy_packet(ev, i);
          if (!e) continue;
          const data = readBytes(f.tox_event_friend_lossy_packet_get_data(e), f.tox_event_friend_lossy_packet_get_data_length(e));
          out.push(['friendLossyPacket', { friend: f.tox_event_friend_lossy_packet_get_friend_number(e), data }]);
        }
      } finally {
        f.tox_events_free(ev);
      }
    }
    for (const [name, payload] of out) this.emit(name, payload);
    return out.length;
  }
}

function timed(t: Tally, turn: () => number): number {
  const t0 = process.hrtime.bigint();
  const n = turn();
  t.ns += process.hrtime.bigint() - t0;
  t.turns += 1;
  t.events += n;
  return n;
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

/** Runs the comparison and prints ns per event and per idle turn for both paths, with the ratio callbacks / tox_events. */
export async function runToxEventsBench(packets = 20_000): Promise<{ callbacksNsPerEvent: number; eventsNsPerEvent: number } | undefined> {
  const ffi = loadToxcore();
  const info = libtoxcoreInfo(ffi);
  if (!isAvailable('tox_events_get_friend_lossless_packet_size', ffi)) {
    console.log(`tox-events: skipped on libtoxcore ${info.version}: the tox_events per-type getters exist only in 0.2.18`);
    return undefined;
  }
  const daemon = await startBootstrapd();
  const opts = { ipv6: false, localDiscovery: false, startPort: 33445, endPort: 34445, bootstrapNodes: [daemon.node()] };
  const sender = ToxNode.createSync(opts);
  const viaCallbacks = ToxNode.createSync(opts);
  // The raw receiver: created and bootstrapped through the binding directly (ToxNode would install callbacks).
  const o = ffi.tox_options_new(null)!;
  ffi.tox_options_set_ipv6_enabled(o, false);
  ffi.tox_options_set_local_discovery_enabled(o, false);
  ffi.tox_options_set_start_port(o, 33445);
  ffi.tox_options_set_end_port(o, 34445);
  const err = [0];
  const rawTox = ffi.tox_new(o, err);
  ffi.tox_options_free(o);
  if (rawTox === null) throw new Error(`tox_new failed: ${err[0]}`);
  const viaEvents = new EventsApiReceiver(ffi, rawTox);
  try {
    const d = daemon.node();
    const host = Buffer.from(`${d.host}\0`);
    const dkey = Buffer.from(d.publicKey, 'hex');
    ffi.tox_bootstrap(rawTox, host, d.port, dkey, null);
    for (const p of d.tcpPorts ?? []) ffi.tox_add_tcp_relay(rawTox, host, p, dkey, null);
    const rawPk = Buffer.alloc(constants.TOX_PUBLIC_KEY_SIZE);
    ffi.tox_self_get_public_key(rawTox, rawPk);
    const toCb = sender.friendAddNorequest(viaCallbacks.publicKey);
    const toEv = sender.friendAddNorequest(rawPk);
    viaCallbacks.friendAddNorequest(sender.publicKey);
    ffi.tox_friend_add_norequest(rawTox, Buffer.from(sender.publicKey), null);

    const cb: Tally = { ns: 0n, turns: 0, events: 0 };
    const ev: Tally = { ns: 0n, turns: 0, events: 0 };
    let gotCb = 0;
    let gotEv = 0;
    viaCallbacks.on('friendLosslessPacket', () => void gotCb++);
    viaEvents.on('friendLosslessPacket', () => void gotEv++);
    const turn = (measure: boolean): void => {
      sender.iterateOnce();
      if (measure) {
        timed(cb, () => viaCallbacks.iterateOnce());
        timed(ev, () => viaEvents.iterateOnce());
      } else {
        viaCallbacks.iterateOnce();
        viaEvents.iterateOnce();
      }
    };
    const until = async (done: () => boolean, what: string, measure: boolean, each?: () => void): Promise<void> => {
      const deadline = performance.now() + RUN_TIMEOUT_MS;
      while (!done()) {
        if (performance.now() > deadline) throw new Error(`timed out after ${RUN_TIMEOUT_MS} ms waiting for ${what}`);
        each?.();
        turn(measure);
        await tick();
      }
    };
    await until(
      () => sender.friendConnectionStatus(toCb) !== 'none' && sender.friendConnectionStatus(toEv) !== 'none',
      'both receivers to connect to the sender',
      false,
    );

    // Idle turns: nothing arrives, so this is the fixed cost per iteration of each path.
    const idleTurns = 2_000;
    let idle = 0;
    await until(() => idle++ >= idleTurns, 'idle turns', true);
    const idleCb = Number(cb.ns) / cb.turns;
    const idleEv = Number(ev.ns) / ev.turns;
    Object.assign(cb, { ns: 0n, turns: 0, events: 0 });
    Object.assign(ev, { ns: 0n, turns: 0, events: 0 });

    // Loaded turns: the same packets to both receivers, as fast as the send queues take them.
    const packet = Buffer.alloc(100, 0xa0);
    let sentCb = 0;
    let sentEv = 0;
    const send = (): void => {
      for (let i = 0; i < 64 && sentCb < packets; i++) {
        try {
          sender.sendLosslessPacket(toCb, packet);
          sentCb++;
        } catch {
          break; // SENDQ full: try again next turn
        }
      }
      for (let i = 0; i < 64 && sentEv < packets; i++) {
        try {
          sender.sendLosslessPacket(toEv, packet);
          sentEv++;
        } catch {
          break;
        }
      }
    };
    const t0 = performance.now();
    await until(() => gotCb >= packets && gotEv >= packets, `${packets} packets at both receivers (have ${gotCb}, ${gotEv})`, true, send);
    const wall = (performance.now() - t0) / 1000;

    const nsCb = Number(cb.ns) / cb.events;
    const nsEv = Number(ev.ns) / ev.events;
    console.log(`tox-events: libtoxcore ${info.version}, ${packets} lossless packets (100 B) to each receiver, ${wall.toFixed(1)} s wall, one process`);
    console.log(`  ${'path'.padEnd(34)} ${'events'.padStart(7)} ${'ns/event'.padStart(10)} ${'events/s'.padStart(10)} ${'idle turn'.padStart(11)}`);
    for (const [label, t, ns, idleNs] of [
      ['tox_events_iterate (0.2.18 getters)', ev, nsEv, idleEv],
      ['tox_callback_* queue (ToxNode)', cb, nsCb, idleCb],
    ] as const) {
      console.log(`  ${label.padEnd(34)} ${String(t.events).padStart(7)} ${ns.toFixed(0).padStart(10)} ${(1e9 / ns).toFixed(0).padStart(10)} ${`${(idleNs / 1000).toFixed(1)} µs`.padStart(11)}`);
    }
    console.log(`  ratio callbacks / tox_events: ${(nsCb / nsEv).toFixed(2)}x per event (receiver time in iterate + read + dispatch), ${(idleCb / idleEv).toFixed(2)}x per idle turn`);
    return { callbacksNsPerEvent: nsCb, eventsNsPerEvent: nsEv };
  } finally {
    sender.close();
    viaCallbacks.close();
    ffi.tox_kill(rawTox);
    await daemon.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  await runToxEventsBench(n);
}

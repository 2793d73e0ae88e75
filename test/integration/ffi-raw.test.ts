// The raw binding end to end on loopback: two real nodes, one read through C callbacks and one through the events API
// this libtoxcore has (0.2.18 per-type getters, 0.2.20 generic tox_events_get, none on 0.2.22: callbacks), exchange a
// friend request and a message.
import { afterEach, describe, expect, it } from 'vitest';
import {
  enumNames,
  isAvailable,
  libtoxcoreInfo,
  loadToxcore,
  readBytes,
  registerCallback,
  Tox_Event_Type,
  unregisterCallback,
  type Ptr,
} from '../../src/ffi/index.js';
import { waitFor } from '../support/wait.js';

const ffi = loadToxcore();
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A node with LAN discovery and IPv6 off, killed after the test. */
function node(): Ptr<'Tox'> {
  const opts = ffi.tox_options_new(null);
  if (opts === null) throw new Error('tox_options_new returned NULL');
  ffi.tox_options_set_ipv6_enabled(opts, false);
  ffi.tox_options_set_local_discovery_enabled(opts, false);
  const err = [-1];
  const tox = ffi.tox_new(opts, err);
  ffi.tox_options_free(opts);
  if (tox === null || err[0] !== 0) throw new Error(`tox_new failed: ${enumNames.Tox_Err_New.full[err[0]!]}`);
  cleanups.push(() => ffi.tox_kill(tox));
  return tox;
}

describe('raw binding on a two-node loopback network', () => {
  const bobReads = isAvailable('tox_events_get_friend_connection_status_size')
    ? '0.2.18 tox_events getters'
    : isAvailable('tox_events_get')
      ? '0.2.19+ tox_events_get'
      : 'callbacks (no tox_events_*)';

  it(`Alice (callbacks) accepts Bob (${bobReads}) and receives his message; all bytes read back intact`, async () => {
    const alice = node();
    const bob = node();
    console.log(`ffi-raw: libtoxcore ${libtoxcoreInfo().version}, Bob reads ${bobReads}`);
    let bobSeesAliceOnline = false;
    if (isAvailable('tox_events_init')) {
      ffi.tox_events_init(bob);
    } else {
      const onConnection = registerCallback('tox_friend_connection_status_cb', (_tox, _friend, status) => {
        if (status !== 0) bobSeesAliceOnline = true;
      });
      ffi.tox_callback_friend_connection_status(bob, onConnection);
      cleanups.push(() => unregisterCallback(onConnection));
    }

    // Bob bootstraps off Alice's own DHT node on loopback: no public network, no tox-bootstrapd needed here.
    const dhtId = Buffer.alloc(32);
    ffi.tox_self_get_dht_id(alice, dhtId);
    const port = ffi.tox_self_get_udp_port(alice, null);
    expect(ffi.tox_bootstrap(bob, '127.0.0.1', port, dhtId, null)).toBe(true);

    const bobPk = Buffer.alloc(32);
    ffi.tox_self_get_public_key(bob, bobPk);
    const requests: { pk: Buffer; message: string }[] = [];
    const messages: { friend: number; type: number; text: string }[] = [];
    const onRequest = registerCallback('tox_friend_request_cb', (_tox, pk, msg, len) => {
      requests.push({ pk: readBytes(pk, 32), message: readBytes(msg, len).toString('utf8') });
    });
    const onMessage = registerCallback('tox_friend_message_cb', (_tox, friend, type, msg, len) => {
      messages.push({ friend, type, text: readBytes(msg, len).toString('utf8') });
    });
    ffi.tox_callback_friend_request(alice, onRequest);
    ffi.tox_callback_friend_message(alice, onMessage);
    cleanups.push(() => {
      ffi.tox_callback_friend_request(alice, null);
      ffi.tox_callback_friend_message(alice, null);
      unregisterCallback(onRequest);
      unregisterCallback(onMessage);
    });

    const aliceAddress = Buffer.alloc(38);
    ffi.tox_self_get_address(alice, aliceAddress);
    const hello = Buffer.from('hello Alice, it is Bob ✓');
    const addErr = [-1];
    expect(ffi.tox_friend_add(bob, aliceAddress, hello, hello.length, addErr)).toBe(0);
    expect(enumNames.Tox_Err_Friend_Add.short[addErr[0]!]).toBe('OK');

    const step = (): void => {
      ffi.tox_iterate(alice, null);
      if (!isAvailable('tox_events_iterate')) {
        ffi.tox_iterate(bob, null);
        return;
      }
      const err = [-1];
      const events = ffi.tox_events_iterate(bob, false, err);
      if (events === null) return;
      try {
        if (isAvailable('tox_events_get_friend_connection_status_size')) {
          for (let i = 0; i < ffi.tox_events_get_friend_connection_status_size(events); i++) {
            const e = ffi.tox_events_get_friend_connection_status(events, i);
            if (e !== null && ffi.tox_event_friend_connection_status_get_connection_status(e) !== 0) bobSeesAliceOnline = true;
          }
        } else {
          for (let i = 0; i < ffi.tox_events_get_size(events); i++) {
            const ev = ffi.tox_events_get(events, i);
            if (ev === null || ffi.tox_event_get_type(ev) !== Tox_Event_Type.TOX_EVENT_FRIEND_CONNECTION_STATUS) continue;
            const e = ffi.tox_event_get_friend_connection_status(ev);
            if (e !== null && ffi.tox_event_friend_connection_status_get_connection_status(e) !== 0) bobSeesAliceOnline = true;
          }
        }
      } finally {
        ffi.tox_events_free(events);
      }
    };

    await waitFor(
      () => {
        step();
        if (requests.length > 0 && ffi.tox_friend_exists(alice, 0) === false) {
          ffi.tox_friend_add_norequest(alice, requests[0]!.pk, null);
        }
        return requests.length > 0;
      },
      { what: "Bob's friend request reaching Alice's tox_friend_request_cb", timeoutMs: 60_000, intervalMs: 20 },
    );
    expect(requests[0]!.pk.equals(bobPk), 'request carries Bob public key').toBe(true);
    expect(requests[0]!.message).toBe('hello Alice, it is Bob ✓');

    await waitFor(
      () => {
        step();
        return bobSeesAliceOnline;
      },
      { what: `a friend connection (online) event for Alice in Bob’s ${bobReads}`, timeoutMs: 60_000, intervalMs: 20 },
    );
    const text = Buffer.from('a message with a \u0000 NUL inside');
    const sendErr = [-1];
    ffi.tox_friend_send_message(bob, 0, 0, text, text.length, sendErr);
    expect(enumNames.Tox_Err_Friend_Send_Message.short[sendErr[0]!]).toBe('OK');
    await waitFor(
      () => {
        step();
        return messages.length > 0;
      },
      { what: "Bob's message reaching Alice's tox_friend_message_cb", timeoutMs: 30_000, intervalMs: 20 },
    );
    expect(messages[0]).toEqual({ friend: 0, type: 0, text: 'a message with a \u0000 NUL inside' });
  });
});

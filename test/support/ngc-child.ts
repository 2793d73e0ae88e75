// A child process for the NGC profile tests: makes or loads a profile with NGC groups through the raw binding, on the
// libtoxcore TOX_PERSONA_LIBTOXCORE names (0.2.19+), and prints one JSON line with what libtoxcore reports.
//
//   node --import tsx test/support/ngc-child.ts make OUT BOOTSTRAP_JSON
//     Alice founds a private group; Bob founds a public group and Alice joins it by its chat ID, over the local
//     network (BOOTSTRAP_JSON: {host, port, tcpPort, publicKey}); Alice's profile, saved with group persistence, goes
//     to OUT. Prints {version, publicKey, groups}.
//   node --import tsx test/support/ngc-child.ts load IN
//     Loads IN with group persistence on and prints {version, publicKey, groups} as libtoxcore sees them.
// groups: [{chatId, selfPublicKey, role, name}] (hex uppercase), in group-number order.
import { readFileSync, writeFileSync } from 'node:fs';
import { libtoxcoreInfo, loadToxcore, Tox_Group_Privacy_State, type Ptr } from '../../src/ffi/index.js';
import { bootstrapRaw, getSavedata, iterateUntil, newRawTox, selfPublicKey, type LocalBootstrap } from './profile-tox.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

function check(what: string, err: number[]): void {
  if (err[0] !== 0) throw new Error(`${what} failed with error ${err[0]}`);
}

function groupsOf(tox: Ptr<'Tox'>): { chatId: string; selfPublicKey: string; role: number; name: string }[] {
  const ffi = loadToxcore();
  const count = ffi.tox_group_get_number_groups(tox);
  const out = [];
  for (let g = 0; g < count; g++) {
    const err = [0];
    const chatId = Buffer.alloc(32);
    ffi.tox_group_get_chat_id(tox, g, chatId, err);
    check(`tox_group_get_chat_id(${g})`, err);
    const self = Buffer.alloc(32);
    ffi.tox_group_self_get_public_key(tox, g, self, err);
    check(`tox_group_self_get_public_key(${g})`, err);
    const role = ffi.tox_group_self_get_role(tox, g, err);
    check(`tox_group_self_get_role(${g})`, err);
    const name = Buffer.alloc(ffi.tox_group_get_name_size(tox, g, err));
    if (name.length > 0) ffi.tox_group_get_name(tox, g, name, err);
    out.push({ chatId: hex(chatId), selfPublicKey: hex(self), role, name: name.toString() });
  }
  return out;
}

function newGroup(tox: Ptr<'Tox'>, privacy: Tox_Group_Privacy_State, groupName: string, selfName: string): number {
  const ffi = loadToxcore();
  const err = [0];
  const g = Buffer.from(groupName);
  const n = Buffer.from(selfName);
  const num = ffi.tox_group_new(tox, privacy, g, g.length, n, n.length, err);
  check('tox_group_new', err);
  return num;
}

async function make(out: string, node: LocalBootstrap): Promise<unknown> {
  const ffi = loadToxcore();
  const alice = newRawTox({ groupsPersistence: true });
  const bob = newRawTox();
  try {
    bootstrapRaw(alice, node);
    bootstrapRaw(bob, node);
    newGroup(alice.tox, Tox_Group_Privacy_State.TOX_GROUP_PRIVACY_STATE_PRIVATE, 'alice private', 'alice');
    const bobGroup = newGroup(bob.tox, Tox_Group_Privacy_State.TOX_GROUP_PRIVACY_STATE_PUBLIC, 'bob public', 'bob');
    const chatId = Buffer.alloc(32);
    const err = [0];
    ffi.tox_group_get_chat_id(bob.tox, bobGroup, chatId, err);
    check('tox_group_get_chat_id', err);
    await iterateUntil([alice, bob], () => ffi.tox_self_get_connection_status(alice.tox) !== 0 && ffi.tox_self_get_connection_status(bob.tox) !== 0, 'Alice and Bob to be online', 60_000);
    const name = Buffer.from('alice');
    const joined = ffi.tox_group_join(alice.tox, chatId, name, name.length, null, 0, err);
    check('tox_group_join', err);
    // libtoxcore saves a joined group only once the founder's shared state reached us (its name is then known).
    await iterateUntil(
      [alice, bob],
      () => {
        const e = [0];
        return ffi.tox_group_is_connected(alice.tox, joined, e) && ffi.tox_group_get_name_size(alice.tox, joined, e) === 'bob public'.length;
      },
      "Alice to join Bob's public group and receive its state",
      90_000,
    );
    writeFileSync(out, getSavedata(alice.tox));
    return { version: libtoxcoreInfo().version, publicKey: hex(selfPublicKey(alice.tox)), groups: groupsOf(alice.tox) };
  } finally {
    alice.kill();
    bob.kill();
  }
}

function load(file: string): unknown {
  const t = newRawTox({ savedata: new Uint8Array(readFileSync(file)), udp: false, groupsPersistence: true });
  try {
    return { version: libtoxcoreInfo().version, publicKey: hex(selfPublicKey(t.tox)), groups: groupsOf(t.tox) };
  } finally {
    t.kill();
  }
}

const [mode, file, arg] = process.argv.slice(2);
if (mode === 'make' && file && arg) console.log(JSON.stringify(await make(file, JSON.parse(arg) as LocalBootstrap)));
else if (mode === 'load' && file) console.log(JSON.stringify(load(file)));
else {
  console.error('usage: ngc-child.ts make OUT BOOTSTRAP_JSON | load IN');
  process.exit(2);
}

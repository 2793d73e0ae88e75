// Profile parse / write / rekey cost against libtoxcore loading and saving the same profile, measured in one run.
//
// Run: npx tsx bench/profile-rekey.ts [friends]
import { loadToxcore } from '../src/ffi/index.js';
import { decryptProfile, encryptProfile, parseProfile, rekeyProfile, writeProfile } from '../src/profile/index.js';
import { addFriendNoRequest, getSavedata, newRawTox, selfPublicKey, setSelfInfo } from '../test/support/profile-tox.js';
import { compareNsPerCall, formatRatioTable } from './lib.js';

const friends = Number(process.argv[2] ?? 100);

/** A libtoxcore-written profile with `friends` confirmed friends, a name and a status message. */
function makeProfile(): Uint8Array {
  const alice = newRawTox({ udp: false });
  const other = newRawTox({ udp: false });
  try {
    setSelfInfo(alice.tox, { name: 'Alice', statusMessage: 'bench' });
    for (let i = 0; i < friends; i++) {
      // Distinct valid-looking keys; libtoxcore only checks they are not ours.
      const pk = Uint8Array.from(selfPublicKey(other.tox));
      pk[0] = i & 0xff;
      pk[1] = i >> 8;
      addFriendNoRequest(alice.tox, pk);
    }
    return getSavedata(alice.tox);
  } finally {
    alice.kill();
    other.kill();
  }
}

const save = makeProfile();
const ffi = loadToxcore();
console.log(`profile: ${friends} friends, ${save.length} bytes of savedata`);

const rows = compareNsPerCall(
  [
    {
      label: 'libtoxcore load+save',
      fn: () => {
        const t = newRawTox({ savedata: save, udp: false });
        const out = Buffer.alloc(ffi.tox_get_savedata_size(t.tox));
        ffi.tox_get_savedata(t.tox, out);
        t.kill();
        return out;
      },
    },
    { label: 'parse', fn: () => parseProfile(save) },
    { label: 'parse+write', fn: () => writeProfile(parseProfile(save)) },
    { label: 'rekey (plain)', fn: () => rekeyProfile(save) },
  ],
  20,
  { rounds: 7, warmup: 10 },
);
console.log(formatRatioTable('plain profile (ratio against libtoxcore load+save)', rows, 'libtoxcore load+save'));

const enc = encryptProfile(save, 'bench passphrase');
const encRows = compareNsPerCall(
  [
    { label: 'tox_pass_decrypt', fn: () => decryptProfile(enc, 'bench passphrase') },
    { label: 'rekey (encrypted)', fn: () => rekeyProfile(enc, { passphrase: 'bench passphrase' }) },
  ],
  2,
  { rounds: 5, warmup: 1 },
);
console.log(formatRatioTable('encrypted profile (ratio against one tox_pass_decrypt; rekey decrypts and re-encrypts)', encRows, 'tox_pass_decrypt'));

// A read-only view of the CONFERENCES section (old-style group chats), with the checks libtoxcore makes when it loads one.
// The section itself stays bytes in a parsed profile; this view is for validation and for `inspect`.
import { bytesEqual } from '../util/bytes.js';
import { ProfileError } from './errors.js';
import { MAX_NAME_LENGTH } from './format.js';

/** Fixed part of a saved conference: type 1, id 32, message number 4, lossy number 2, peer number 2, frozen count 4, title length 1. */
const CONFERENCE_FIXED = 46;
/** Fixed part of a saved frozen peer: real key 32, temp key 32, peer number 2, last active 8, nick length 1. */
const PEER_FIXED = 75;

/** A peer of a conference that was not online when the profile was saved. */
export interface FrozenPeer {
  /** The peer's long-term public key. */
  publicKey: Uint8Array;
  /** The peer's DHT key at the time. */
  tempPublicKey: Uint8Array;
  /** The peer's number in the conference. */
  peerNumber: number;
  /** Last activity (libtoxcore monotonic seconds). */
  lastActive: bigint;
  nick: Uint8Array;
}

/** One saved conference. */
export interface SavedConference {
  /** 0 text, 1 audio/video. */
  type: number;
  /** The 32-byte conference id. */
  id: Uint8Array;
  /** Our own peer number in it: a per-device identity, which is why rekey drops conferences by default. */
  peerNumber: number;
  title: Uint8Array;
  frozenPeers: FrozenPeer[];
}

/**
 * Decodes the CONFERENCES section the way libtoxcore 0.2.18 loads it (group.c load_conferences), throwing
 * {@link ProfileError} BAD_SECTION where libtoxcore would refuse the whole profile: a title or nick over 128 bytes,
 * a conference or peer cut short, or a frozen peer holding our own peer number under another key (`ownPublicKey` is
 * the key libtoxcore has when it reaches this section; undefined means a random one). Fewer than 46 bytes left over
 * are ignored, as libtoxcore ignores them.
 */
export function decodeConferences(data: Uint8Array, ownPublicKey: Uint8Array | undefined, where = 'CONFERENCES'): SavedConference[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: SavedConference[] = [];
  let at = 0;
  while (data.length - at >= CONFERENCE_FIXED) {
    const here = `${where}, conference ${out.length}`;
    const type = data[at]!;
    const id = data.slice(at + 1, at + 33);
    const peerNumber = view.getUint16(at + 39, true);
    const frozenCount = view.getUint32(at + 41, true);
    const titleLength = data[at + 45]!;
    at += CONFERENCE_FIXED;
    if (titleLength > MAX_NAME_LENGTH) throw new ProfileError('BAD_SECTION', `${here}: title length ${titleLength} > ${MAX_NAME_LENGTH}`);
    if (data.length - at < titleLength) throw new ProfileError('BAD_SECTION', `${here}: the title is cut short`);
    const title = data.slice(at, at + titleLength);
    at += titleLength;
    if (frozenCount > (data.length - at) / PEER_FIXED) throw new ProfileError('BAD_SECTION', `${here}: ${frozenCount} frozen peers can't fit in ${data.length - at} bytes`);
    const frozenPeers: FrozenPeer[] = [];
    for (let j = 0; j < frozenCount; j++) {
      if (data.length - at < PEER_FIXED) throw new ProfileError('BAD_SECTION', `${here}, peer ${j}: cut short`);
      const nickLength = data[at + 74]!;
      if (nickLength > MAX_NAME_LENGTH) throw new ProfileError('BAD_SECTION', `${here}, peer ${j}: nick length ${nickLength} > ${MAX_NAME_LENGTH}`);
      if (data.length - at - PEER_FIXED < nickLength) throw new ProfileError('BAD_SECTION', `${here}, peer ${j}: the nick is cut short`);
      frozenPeers.push({
        publicKey: data.slice(at, at + 32),
        tempPublicKey: data.slice(at + 32, at + 64),
        peerNumber: view.getUint16(at + 64, true),
        lastActive: view.getBigUint64(at + 66, true),
        nick: data.slice(at + PEER_FIXED, at + PEER_FIXED + nickLength),
      });
      at += PEER_FIXED + nickLength;
    }
    // On load libtoxcore re-adds itself under its saved peer number; a frozen peer with that number is thawed
    // into that slot, and if its key is not ours the load fails.
    const clash = frozenPeers.find((p) => p.peerNumber === peerNumber);
    if (clash && !(ownPublicKey && bytesEqual(clash.publicKey, ownPublicKey))) {
      throw new ProfileError('BAD_SECTION', `${here}: a frozen peer holds our own peer number ${peerNumber} under another key`);
    }
    out.push({ type, id, peerNumber, title, frozenPeers });
  }
  return out;
}

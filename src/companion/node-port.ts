// The slice of the Tox node the companion uses, as an interface: the companion is written against this, and an adapter maps it onto ToxNode.
import type { ToxNodeEvents } from '../tox/node.js';

/** Own DHT connection: none, over a TCP relay, or direct UDP. */
export type SelfConnection = 'none' | 'tcp' | 'udp';

/**
 * A ToxNode event payload as the companion sees it: the friend named by its public key (64 uppercase hex) instead of
 * its friend number (`friend`) or key bytes (`publicKey`); everything else as the node sends it.
 */
export type ByKey<T> = T extends { friend: number }
  ? Omit<T, 'friend'> & { publicKey: string }
  : T extends { publicKey: Uint8Array }
    ? Omit<T, 'publicKey'> & { publicKey: string }
    : T;

/** The node's events the companion listens to. */
export type NodePortEventName = 'selfConnection' | 'friendConnection' | 'friendStatusMessage' | 'friendRequest' | 'friendLosslessPacket' | 'error' | 'iterate';

/** Events the companion listens to: ToxNode's own event map (src/tox/node.ts), with friends named by public key. */
export type NodePortEvents = { [K in NodePortEventName]: ByKey<ToxNodeEvents[K][0]> };

/** One friend as the companion sees it. */
export interface FriendInfo {
  friendNumber: number;
  publicKey: string;
  name: string;
  /** The status message as received (bytes, so that bad UTF-8 is judged by the persona decoder, not replaced). */
  statusMessage: Uint8Array;
  connection: SelfConnection;
}

/** A bootstrap node handed to {@link NodePort.bootstrap}. */
export interface NodePortBootstrap {
  host: string;
  port: number;
  publicKey: string;
  tcpPorts?: number[];
}

/** What the companion needs from a Tox node. */
export interface NodePort {
  /** Own Tox public key, 64 uppercase hex. */
  readonly publicKey: string;
  /** Own Tox ID (address), 76 uppercase hex. */
  readonly address: string;
  /** The version of the libtoxcore this node runs on, "major.minor.patch" (shown by status, /healthz and a metric). */
  readonly libtoxcoreVersion: string;
  on<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void;
  off<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void;
  selfConnection(): SelfConnection;
  setStatusMessage(text: string): void;
  statusMessage(): string;
  setName(name: string): void;
  friends(): FriendInfo[];
  /** Friends online and in total (cheaper than {@link NodePort.friends}: no names or status messages copied). */
  friendCounts(): { online: number; total: number };
  friend(publicKey: string): FriendInfo | undefined;
  /** Adds a friend without a request (both sides must add each other); returns its friend number. */
  friendAddNorequest(publicKey: string): number;
  /** Sends a friend request to a Tox ID; returns its friend number. */
  friendAdd(address: string, message: string): number;
  friendDelete(publicKey: string): void;
  /** Sends a lossless custom packet (1-1373 bytes, first byte 160-191) to an online friend; throws a ToxError when it cannot. */
  sendLosslessPacket(publicKey: string, data: Uint8Array): void;
  bootstrap(nodes: readonly NodePortBootstrap[]): void;
  /** Current savedata (plaintext), e.g. to rekey it for a new device. */
  savedata(): Uint8Array;
  /** Writes the profile atomically to the path it was opened from. */
  save(): Promise<void>;
  /** The profile file's bytes as save() would write them (encrypted when a passphrase is set), for a multi-file commit. */
  profileBytes(): Uint8Array;
  /** Starts the iterate loop (networking). */
  start(): void;
  /** Stops the iterate loop; idempotent. */
  stop(): Promise<void>;
  /** Frees the node; idempotent. */
  close(): Promise<void>;
}

/** Options for opening a node. */
export interface NodePortOptions {
  /** Profile path; created when missing and `create` is set. */
  profilePath: string;
  create?: boolean;
  udp?: boolean;
  ipv6?: boolean;
  localDiscovery?: boolean;
  /** Keep NGC groups in the profile across restarts (default true; ignored on a libtoxcore without the option). */
  groupsPersistence?: boolean;
  passphrase?: string;
  /** UDP port range (default 33445-34445: wider than toxcore's 100, because tests and demos run many nodes). */
  startPort?: number;
  endPort?: number;
}

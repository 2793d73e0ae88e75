// The slice of the Tox node the companion uses, as an interface: the companion is written against this, and an adapter maps it onto ToxNode.

/** Own DHT connection: none, over a TCP relay, or direct UDP. */
export type SelfConnection = 'none' | 'tcp' | 'udp';

/** Events the companion listens to. Public keys are 64 uppercase hex characters throughout the companion. */
export interface NodePortEvents {
  selfConnection: { connection: SelfConnection };
  friendConnection: { friendNumber: number; publicKey: string; connection: SelfConnection };
  friendStatusMessage: { friendNumber: number; publicKey: string; message: string | Uint8Array };
  friendRequest: { publicKey: string; message: string };
  /** A lossless custom packet from a friend (`data[0]` is its packet id, 160-191). */
  friendLosslessPacket: { friendNumber: number; publicKey: string; data: Uint8Array };
  error: { error: Error };
  /** One turn of the node's iterate loop: how late it began and how long it took, in ms. */
  iterate: { lagMs: number; durationMs: number };
}

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
  passphrase?: string;
  /** UDP port range (default 33445-34445: wider than toxcore's 100, because tests and demos run many nodes). */
  startPort?: number;
  endPort?: number;
}

// Maps the companion's NodePort onto ToxNode (src/tox): hex keys, events with the friend's public key, save to the profile path.
import { ToxNode, type ConnectionStatus, type ToxNodeEvents } from '../tox/node.js';
import { ToxError } from '../tox/errors.js';
import { bytesToHex } from '../util/bytes.js';
import type { ByKey, FriendInfo, NodePort, NodePortEvents, NodePortOptions, NodePortBootstrap } from './node-port.js';

type Listener = (payload: never) => void;

/** A ToxNode: payload with the friend named by public key: `friend` (a number) or `publicKey` (bytes) become hex. */
function byKey<T>(payload: T, keyOf: (friend: number) => string): ByKey<T> {
  if (payload === null || typeof payload !== 'object' || payload instanceof Error) return payload as ByKey<T>;
  const { friend, publicKey, ...rest } = payload as { friend?: unknown; publicKey?: unknown };
  if (typeof friend === 'number') return { ...rest, publicKey: keyOf(friend) } as ByKey<T>;
  if (publicKey instanceof Uint8Array) return { ...rest, publicKey: bytesToHex(publicKey) } as ByKey<T>;
  return payload as ByKey<T>;
}

/** A NodePort backed by a real ToxNode. */
export class ToxNodePort implements NodePort {
  /** The underlying node (for tests and the demo). */
  readonly tox: ToxNode;
  private readonly wrapped = new Map<Listener, (payload: never) => void>();

  constructor(tox: ToxNode) {
    this.tox = tox;
  }

  get publicKey(): string {
    return this.tox.publicKeyHex.toUpperCase();
  }

  get address(): string {
    return this.tox.addressHex.toUpperCase();
  }

  get libtoxcoreVersion(): string {
    return this.tox.libtoxcore.version;
  }

  /** Listens to the node's event of the same name, the friend named by its key (a deleted friend's is ''). */
  on<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void {
    const keyOf = (friend: number) => {
      try {
        return bytesToHex(this.tox.friendPublicKey(friend));
      } catch {
        return '';
      }
    };
    const fn = (payload: ToxNodeEvents[K][0]) => listener(byKey(payload, keyOf) as NodePortEvents[K]);
    // TypeScript cannot match a generic K against EventEmitter's conditional listener type; fn's own type is exact.
    this.tox.on(event, fn as never);
    this.wrapped.set(listener as Listener, fn as (payload: never) => void);
  }

  off<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void {
    const fn = this.wrapped.get(listener as Listener);
    if (!fn) return;
    this.wrapped.delete(listener as Listener);
    this.tox.off(event, fn as never);
  }

  selfConnection(): ConnectionStatus {
    return this.tox.closed ? 'none' : this.tox.connectionStatus;
  }

  setStatusMessage(text: string): void {
    this.tox.setStatusMessage(text);
  }

  statusMessage(): string {
    return Buffer.from(this.tox.statusMessage).toString('utf8');
  }

  setName(name: string): void {
    this.tox.setName(name);
  }

  private info(friend: number): FriendInfo {
    const t = this.tox;
    return {
      friendNumber: friend,
      publicKey: bytesToHex(t.friendPublicKey(friend)),
      name: t.friendName(friend),
      statusMessage: t.friendStatusMessage(friend),
      connection: t.friendConnectionStatus(friend),
    };
  }

  friends(): FriendInfo[] {
    return this.tox.friendList().map((f) => this.info(f));
  }

  friendCounts(): { online: number; total: number } {
    const list = this.tox.friendList();
    let online = 0;
    for (const f of list) if (this.tox.friendConnectionStatus(f) !== 'none') online++;
    return { online, total: list.length };
  }

  friend(publicKey: string): FriendInfo | undefined {
    const n = this.tox.friendByPublicKey(publicKey);
    return n === undefined ? undefined : this.info(n);
  }

  friendAddNorequest(publicKey: string): number {
    return this.tox.friendAddNorequest(publicKey);
  }

  friendAdd(address: string, message: string): number {
    return this.tox.friendAdd(address, message);
  }

  friendDelete(publicKey: string): void {
    const n = this.tox.friendByPublicKey(publicKey);
    if (n !== undefined) this.tox.friendDelete(n);
  }

  sendLosslessPacket(publicKey: string, data: Uint8Array): void {
    const n = this.tox.friendByPublicKey(publicKey);
    if (n === undefined) throw new ToxError('sendLosslessPacket', 'FRIEND_NOT_FOUND', `no friend ${publicKey.slice(0, 8)}…`);
    this.tox.sendLosslessPacket(n, data);
  }

  bootstrap(nodes: readonly NodePortBootstrap[]): void {
    if (nodes.length > 0) this.tox.bootstrap(nodes);
  }

  savedata(): Uint8Array {
    return this.tox.savedata({ plain: true });
  }

  async save(): Promise<void> {
    await this.tox.save();
  }

  profileBytes(): Uint8Array {
    return this.tox.savedata();
  }

  start(): void {
    this.tox.start();
  }

  async stop(): Promise<void> {
    if (!this.tox.closed) this.tox.stop();
  }

  async close(): Promise<void> {
    if (!this.tox.closed) this.tox.close();
  }
}

/** Opens (or with `create`, creates) the profile at `profilePath` as a NodePort. The profile is only written by `save()`. */
export async function openNode(options: NodePortOptions): Promise<ToxNodePort> {
  const tox = await ToxNode.create({
    profilePath: options.profilePath,
    udp: options.udp ?? true,
    ipv6: options.ipv6 ?? false,
    localDiscovery: options.localDiscovery ?? false,
    // On by default: any tool that saves the profile without it would drop the groups kept in it.
    groupsPersistence: options.groupsPersistence ?? true,
    startPort: options.startPort ?? 33445,
    endPort: options.endPort ?? 34445,
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
  });
  return new ToxNodePort(tox);
}

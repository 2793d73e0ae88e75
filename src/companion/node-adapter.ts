// Maps the companion's NodePort onto ToxNode (src/tox): hex keys, events with the friend's public key, save to the profile path.
import { ToxNode, type ConnectionStatus } from '../tox/node.js';
import { ToxError } from '../tox/errors.js';
import { bytesToHex } from '../util/bytes.js';
import type { FriendInfo, NodePort, NodePortEvents, NodePortOptions, NodePortBootstrap } from './node-port.js';

type Listener = (payload: never) => void;

/** A NodePort backed by a real ToxNode. */
export class ToxNodePort implements NodePort {
  /** The underlying node (for tests and the demo). */
  readonly tox: ToxNode;
  private readonly wrapped = new Map<Listener, (...args: never[]) => void>();

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

  on<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void {
    const t = this.tox;
    const pkOf = (friend: number) => {
      try {
        return bytesToHex(t.friendPublicKey(friend));
      } catch {
        return '';
      }
    };
    let fn: (...args: never[]) => void;
    switch (event) {
      case 'selfConnection':
        fn = ((e: { status: ConnectionStatus }) => listener({ connection: e.status } as NodePortEvents[K])) as never;
        t.on('selfConnection', fn as never);
        break;
      case 'friendConnection':
        fn = ((e: { friend: number; status: ConnectionStatus }) => listener({ friendNumber: e.friend, publicKey: pkOf(e.friend), connection: e.status } as NodePortEvents[K])) as never;
        t.on('friendConnection', fn as never);
        break;
      case 'friendStatusMessage':
        fn = ((e: { friend: number; bytes: Uint8Array }) => listener({ friendNumber: e.friend, publicKey: pkOf(e.friend), message: e.bytes } as NodePortEvents[K])) as never;
        t.on('friendStatusMessage', fn as never);
        break;
      case 'friendLosslessPacket':
        fn = ((e: { friend: number; data: Uint8Array }) => listener({ friendNumber: e.friend, publicKey: pkOf(e.friend), data: e.data } as NodePortEvents[K])) as never;
        t.on('friendLosslessPacket', fn as never);
        break;
      case 'friendRequest':
        fn = ((e: { publicKey: Uint8Array; message: string }) => listener({ publicKey: bytesToHex(e.publicKey), message: e.message } as NodePortEvents[K])) as never;
        t.on('friendRequest', fn as never);
        break;
      case 'error':
        fn = ((e: Error) => listener({ error: e } as NodePortEvents[K])) as never;
        t.on('error', fn as never);
        break;
      case 'iterate':
        fn = ((e: { lagMs: number; durationMs: number }) => listener({ lagMs: e.lagMs, durationMs: e.durationMs } as NodePortEvents[K])) as never;
        t.on('iterate', fn as never);
        break;
      default:
        return;
    }
    this.wrapped.set(listener as Listener, fn);
  }

  off<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void {
    const fn = this.wrapped.get(listener as Listener);
    if (!fn) return;
    this.wrapped.delete(listener as Listener);
    this.tox.off(event as never, fn as never);
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
    startPort: options.startPort ?? 33445,
    endPort: options.endPort ?? 34445,
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
  });
  return new ToxNodePort(tox);
}

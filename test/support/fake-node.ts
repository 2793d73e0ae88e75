// An in-memory NodePort for unit tests of the companion's logic (policies, actions, persistence); no network involved.
import { EventEmitter } from 'node:events';
import type { FriendInfo, NodePort, NodePortBootstrap, NodePortEvents, SelfConnection } from '../../src/companion/node-port.js';

/** A NodePort whose friends and status message live in memory; tests drive its events with `emitEvent`. */
export class FakeNode implements NodePort {
  readonly publicKey: string;
  readonly address: string;
  libtoxcoreVersion = '0.2.18';
  readonly events = new EventEmitter();
  readonly friendMap = new Map<string, FriendInfo>();
  readonly calls: string[] = [];
  status = '';
  connection: SelfConnection = 'none';
  saves = 0;
  private next = 0;

  constructor(publicKey: string) {
    this.publicKey = publicKey;
    this.address = `${publicKey}00000000` + '0000';
  }
  on<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void {
    this.events.on(event, listener);
  }
  off<K extends keyof NodePortEvents>(event: K, listener: (payload: NodePortEvents[K]) => void): void {
    this.events.off(event, listener);
  }
  emitEvent<K extends keyof NodePortEvents>(event: K, payload: NodePortEvents[K]): void {
    this.events.emit(event, payload);
  }
  /** `from` (a friend) sends `text` as its status message, as the node delivers it. */
  deliverStatus(from: string, text: string | Uint8Array): void {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    this.emitEvent('friendStatusMessage', { publicKey: from, message: new TextDecoder().decode(bytes), bytes });
  }
  /** `from` sends a friend request with `message`. */
  request(from: string, message = ''): void {
    this.emitEvent('friendRequest', { publicKey: from, message, bytes: new TextEncoder().encode(message) });
  }
  selfConnection(): SelfConnection {
    return this.connection;
  }
  setStatusMessage(text: string): void {
    this.status = text;
  }
  statusMessage(): string {
    return this.status;
  }
  setName(): void {}
  friends(): FriendInfo[] {
    return [...this.friendMap.values()];
  }
  friendCounts(): { online: number; total: number } {
    const all = this.friends();
    return { online: all.filter((f) => f.connection !== 'none').length, total: all.length };
  }
  friend(publicKey: string): FriendInfo | undefined {
    return this.friendMap.get(publicKey);
  }
  addFriend(publicKey: string, statusMessage = '', connection: SelfConnection = 'udp'): FriendInfo {
    const f: FriendInfo = { friendNumber: this.next++, publicKey, name: '', statusMessage: new TextEncoder().encode(statusMessage), connection };
    this.friendMap.set(publicKey, f);
    return f;
  }
  friendAddNorequest(publicKey: string): number {
    this.calls.push(`addNorequest ${publicKey}`);
    return this.addFriend(publicKey, '', 'none').friendNumber;
  }
  friendAdd(address: string): number {
    this.calls.push(`add ${address}`);
    return this.addFriend(address.slice(0, 64), '', 'none').friendNumber;
  }
  friendDelete(publicKey: string): void {
    this.calls.push(`delete ${publicKey}`);
    this.friendMap.delete(publicKey);
  }
  /** Lossless packets sent, in order. */
  readonly packets: Array<{ to: string; data: Uint8Array }> = [];
  sendLosslessPacket(publicKey: string, data: Uint8Array): void {
    if (!this.friendMap.has(publicKey)) throw new Error(`no friend ${publicKey}`);
    this.packets.push({ to: publicKey, data: data.slice() });
  }
  bootstrap(_nodes: readonly NodePortBootstrap[]): void {}
  savedata(): Uint8Array {
    return new Uint8Array(0);
  }
  async save(): Promise<void> {
    this.saves++;
  }
  profileBytes(): Uint8Array {
    this.saves++;
    return new TextEncoder().encode(`fake profile of ${this.publicKey}\n`);
  }
  start(): void {}
  async stop(): Promise<void> {}
  async close(): Promise<void> {}
}

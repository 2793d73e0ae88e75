// The one shared local Tox network for integration tests: a real tox-bootstrapd plus N real ToxNodes on loopback.
//
// Usage (one network per test file; everything is torn down in afterAll, also when a test failed):
//
//   const net = useLocalNetwork();                       // registers beforeAll/afterAll
//   it('...', async () => {
//     const [alice, bob] = await net.get().addNodes(2);   // started, bootstrapped, waited online
//     const { aToB, bToA } = await befriend(alice, bob);   // mutual, waited until connected both ways
//   });
//
// Or by hand: `const net = await startLocalNetwork(); try { ... } finally { await net.close(); }`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { ToxNode, type ConnectionStatus, type FriendNumber, type ToxNodeOptions } from '../../src/tox/node.js';
import { waitFor } from './wait.js';

// Imported only under vitest, so that benches and scripts can use this fixture with plain tsx.
const vitest = process.env.VITEST ? await import('vitest') : undefined;

/** Default bound for "node is online" (DHT or TCP relay) on loopback. */
export const ONLINE_TIMEOUT_MS = 30_000;
/** Default bound for "two friends see each other online" (DHT + onion lookup takes ~7-10 s on loopback). */
export const FRIEND_TIMEOUT_MS = 60_000;

/** A running local network: the daemon, the nodes made through it, and a temp dir for profiles. */
export interface LocalNetwork {
  /** The real tox-bootstrapd every node bootstraps from. */
  readonly bootstrapd: Bootstrapd;
  /** Temp directory (removed by `close()`) for profiles and other files of the test. */
  readonly dir: string;
  /** Every node created through this network and not yet closed. */
  readonly nodes: ToxNode[];
  /** Test-friendly options (loopback-only: IPv6 and LAN discovery off, quick re-bootstrap) merged with `overrides`. */
  nodeOptions(overrides?: ToxNodeOptions): ToxNodeOptions;
  /** Creates a node with {@link LocalNetwork.nodeOptions}, bootstraps it off the daemon, starts its loop; tracked for teardown. */
  addNode(overrides?: ToxNodeOptions, opts?: { waitOnline?: boolean }): Promise<ToxNode>;
  /** `addNode` n times, then waits until all of them are online. */
  addNodes(n: number, overrides?: ToxNodeOptions): Promise<ToxNode[]>;
  /** Closes one node now and stops tracking it (for save/reload tests). */
  closeNode(node: ToxNode): void;
  /** A path inside the network's temp dir. */
  path(name: string): string;
  /** Closes every node, stops the daemon and removes the temp dirs; idempotent; never throws for an already-dead part. */
  close(): Promise<void>;
}

/** Starts a tox-bootstrapd and returns an empty {@link LocalNetwork}. Call `close()` in a finally/afterAll. */
export async function startLocalNetwork(): Promise<LocalNetwork> {
  const bootstrapd = await startBootstrapd();
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), 'tox-net-'));
  } catch (err) {
    await bootstrapd.close();
    throw err;
  }
  const nodes: ToxNode[] = [];
  let closed = false;

  const net: LocalNetwork = {
    bootstrapd,
    dir,
    nodes,
    nodeOptions(overrides = {}) {
      return {
        ipv6: false,
        localDiscovery: false,
        // Wider than toxcore's default 100 ports: several test files (and engineers) run nodes at once.
        startPort: 33445,
        endPort: 34445,
        rebootstrap: { initialDelayMs: 1000, maxDelayMs: 4000 },
        ...overrides,
      };
    },
    async addNode(overrides = {}, opts = {}) {
      if (closed) throw new Error('LocalNetwork: addNode after close');
      const node = await ToxNode.create(net.nodeOptions(overrides));
      nodes.push(node);
      node.bootstrap([bootstrapd.node()]);
      node.start();
      if (opts.waitOnline ?? true) await waitOnline(node);
      return node;
    },
    async addNodes(n, overrides = {}) {
      const made: ToxNode[] = [];
      for (let i = 0; i < n; i++) made.push(await net.addNode(overrides, { waitOnline: false }));
      await Promise.all(made.map((node, i) => waitOnline(node, { what: `node ${i} of ${n} to come online via the local bootstrap node` })));
      return made;
    },
    closeNode(node) {
      const i = nodes.indexOf(node);
      if (i >= 0) nodes.splice(i, 1);
      node.close();
    },
    path(name) {
      return join(dir, name);
    },
    async close() {
      if (closed) return;
      closed = true;
      const errors: unknown[] = [];
      for (const node of nodes.splice(0)) {
        try {
          node.close();
        } catch (err) {
          errors.push(err);
        }
      }
      await bootstrapd.close().catch((err: unknown) => errors.push(err));
      await rm(dir, { recursive: true, force: true }).catch((err: unknown) => errors.push(err));
      if (errors.length > 0) throw new AggregateError(errors, 'LocalNetwork.close: some parts failed to stop');
    },
  };
  return net;
}

/** Registers beforeAll/afterAll for one {@link LocalNetwork} per test file; `get()` returns it inside tests. */
export function useLocalNetwork(): { get(): LocalNetwork } {
  if (!vitest) throw new Error('useLocalNetwork: only available inside vitest; use startLocalNetwork() elsewhere');
  let net: LocalNetwork | undefined;
  vitest.beforeAll(async () => {
    net = await startLocalNetwork();
  });
  vitest.afterAll(async () => {
    await net?.close();
  });
  return {
    get() {
      if (!net) throw new Error('useLocalNetwork: the network is not up (beforeAll failed or has not run)');
      return net;
    },
  };
}

/** Waits until `node` reports a connection to the network (DHT or TCP relay). */
export async function waitOnline(node: ToxNode, opts: { what?: string; timeoutMs?: number } = {}): Promise<ConnectionStatus> {
  return waitFor(() => (node.connectionStatus !== 'none' ? node.connectionStatus : undefined), {
    what: opts.what ?? `node ${node.publicKeyHex.slice(0, 8)} to come online via the local bootstrap node`,
    timeoutMs: opts.timeoutMs ?? ONLINE_TIMEOUT_MS,
  });
}

/** Waits until `node` sees `friend` online (any transport). */
export async function waitFriendOnline(node: ToxNode, friend: FriendNumber, opts: { what?: string; timeoutMs?: number } = {}): Promise<ConnectionStatus> {
  return waitFor(() => (node.friendConnectionStatus(friend) !== 'none' ? node.friendConnectionStatus(friend) : undefined), {
    what: opts.what ?? `node ${node.publicKeyHex.slice(0, 8)} to see friend ${friend} online`,
    timeoutMs: opts.timeoutMs ?? FRIEND_TIMEOUT_MS,
  });
}

/**
 * Makes `a` and `b` friends without a request round trip (each adds the other's key, as toxcore allows) and waits until
 * both see each other online. Returns `aToB` (b's friend number at a) and `bToA`.
 */
export async function befriend(a: ToxNode, b: ToxNode, opts: { timeoutMs?: number } = {}): Promise<{ aToB: FriendNumber; bToA: FriendNumber }> {
  const aToB = a.friendByPublicKey(b.publicKey) ?? a.friendAddNorequest(b.publicKey);
  const bToA = b.friendByPublicKey(a.publicKey) ?? b.friendAddNorequest(a.publicKey);
  await Promise.all([
    waitFriendOnline(a, aToB, { what: 'a to see b online after mutual norequest add', ...opts }),
    waitFriendOnline(b, bToA, { what: 'b to see a online after mutual norequest add', ...opts }),
  ]);
  return { aToB, bToA };
}

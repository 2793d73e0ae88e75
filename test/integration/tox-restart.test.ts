// A restart of the bootstrap node is survived: nodes reconnect by themselves, and a node that started too early retries.
import { describe, expect, it } from 'vitest';
import { bootstrapdHealthCheck } from '../../src/tox/bootstrapd.js';
import type { FriendMessageEvent, RebootstrapEvent } from '../../src/tox/node.js';
import { befriend, useLocalNetwork, waitOnline } from '../support/network.js';
import { waitFor, waitForEvent } from '../support/wait.js';

describe('bootstrap node restart', () => {
  const net = useLocalNetwork();

  it('TCP-only friends, whose only path is the daemon relay, talk again after the daemon restarts', async () => {
    const n = net.get();
    // UDP off: the daemon's TCP relay is the only way between them, so a message after the restart proves reconnection.
    const [alice, bob] = await n.addNodes(2, { udp: false });
    const { aToB, bToA } = await befriend(alice!, bob!);
    expect(alice!.friendConnectionStatus(aToB)).toBe('tcp');

    await n.bootstrapd.stop();
    await expect(bootstrapdHealthCheck(n.bootstrapd.host, n.bootstrapd.port, 300)).rejects.toMatchObject({ code: 'BOOTSTRAPD_TIMEOUT' });
    // The daemon process is gone, and with it every TCP connection the nodes had to it.
    await n.bootstrapd.start();

    const got = waitForEvent<FriendMessageEvent>(bob!, 'friendMessage', { what: "Alice's message through the restarted relay", timeoutMs: 120_000 });
    // Queued by toxcore and delivered once the relay path is back; if Alice already saw Bob drop, send once he is back.
    await waitFor(
      () => {
        if (alice!.friendConnectionStatus(aToB) === 'none') return false;
        alice!.sendMessage(aToB, 'still here');
        return true;
      },
      { what: 'Alice to be able to send to Bob after the restart', timeoutMs: 120_000, intervalMs: 200 },
    );
    expect((await got).message).toBe('still here');
    expect(alice!.friendConnectionStatus(aToB)).toBe('tcp');
    expect(bob!.friendConnectionStatus(bToA)).toBe('tcp');
  }, 240_000); // about 30 s of toxcore timeouts after the restart, more on a loaded machine

  it('a node that bootstrapped while the daemon was down re-bootstraps with backoff and comes online once it is back', async () => {
    const n = net.get();
    await n.bootstrapd.stop();
    const late = await n.addNode({ rebootstrap: { initialDelayMs: 500, maxDelayMs: 2000 } }, { waitOnline: false });
    const retries: RebootstrapEvent[] = [];
    late.on('rebootstrap', (e) => retries.push(e));
    await waitFor(() => retries.length >= 2, { what: 'two re-bootstrap attempts while the daemon is down', timeoutMs: 20_000 });
    expect(late.connectionStatus).toBe('none');
    expect(retries[1]!.attempt).toBe(2);
    expect(retries[1]!.nextDelayMs).toBeGreaterThan(retries[0]!.nextDelayMs);
    await n.bootstrapd.start();
    await waitOnline(late, { what: 'the late node to come online by itself after the daemon came back' });
  });
});

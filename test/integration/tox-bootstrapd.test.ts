// The local tox-bootstrapd launcher: real daemon, key from its log, health check, restart keeps the node, teardown.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapdHealthCheck, startBootstrapd, type Bootstrapd } from '../../src/tox/bootstrapd.js';
import { BootstrapdError } from '../../src/tox/errors.js';
import { waitFor } from '../support/wait.js';

describe('tox-bootstrapd launcher', () => {
  let daemon: Bootstrapd | undefined;
  afterAll(async () => {
    await daemon?.close();
  });

  it('starts on free loopback ports, reads its key and answers the health check with version and MOTD', async () => {
    daemon = await startBootstrapd({ motd: 'rig test' });
    expect(daemon.host).toBe('127.0.0.1');
    expect(daemon.publicKey).toMatch(/^[0-9A-F]{64}$/);
    expect(daemon.port).not.toBe(daemon.tcpPort);
    const info = await daemon.healthCheck();
    expect(info).toEqual({ version: 1000002018, motd: 'rig test' });
    expect(daemon.node()).toEqual({ host: '127.0.0.1', port: daemon.port, publicKey: daemon.publicKey, tcpPorts: [daemon.tcpPort] });
  });

  it('stops idempotently, then restarts as the same node on the same ports', async () => {
    const d = daemon!;
    const { publicKey, port, tcpPort } = d;
    await d.stop();
    await d.stop();
    expect(d.running).toBe(false);
    await expect(bootstrapdHealthCheck(d.host, port, 300)).rejects.toMatchObject({ code: 'BOOTSTRAPD_TIMEOUT' });
    await d.restart();
    expect(d.running).toBe(true);
    expect([d.publicKey, d.port, d.tcpPort]).toEqual([publicKey, port, tcpPort]);
    expect((await d.healthCheck()).version).toBe(1000002018);
  });

  it('close() removes its temp dir and refuses to start again', async () => {
    const d = daemon!;
    await d.close();
    await d.close();
    expect(existsSync(d.dir)).toBe(false);
    await expect(d.start()).rejects.toMatchObject({ code: 'BOOTSTRAPD_CLOSED' });
  });

  it('bootstrapNodes joins daemons into one local network: the second one adds the first and connects to it', async () => {
    const first = await startBootstrapd();
    const lines: string[] = [];
    try {
      const second = await startBootstrapd({ bootstrapNodes: [first.node()], onLog: (l) => lines.push(l) });
      try {
        await waitFor(() => lines.some((l) => l.includes('Connected to another bootstrap node successfully')), { timeoutMs: 30_000, what: 'the second daemon to log its connection to the first' });
        expect(lines.some((l) => l.includes(`Successfully added bootstrap node #0: 127.0.0.1:${first.port} ${first.publicKey}`))).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });

  it('a missing binary is a typed BOOTSTRAPD_NOT_FOUND error', async () => {
    const err = await startBootstrapd({ binary: '/nonexistent/tox-bootstrapd' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootstrapdError);
    expect((err as BootstrapdError).code).toBe('BOOTSTRAPD_NOT_FOUND');
  });

  it('a port already taken by another daemon is refused with BOOTSTRAPD_PORT_IN_USE (the daemon would silently move)', async () => {
    const first = await startBootstrapd();
    try {
      const second = await startBootstrapd({ port: first.port, startTimeoutMs: 5000 }).catch((e: unknown) => e);
      if (!(second instanceof Error)) await (second as Bootstrapd).close();
      expect(second).toBeInstanceOf(BootstrapdError);
      expect((second as BootstrapdError).code).toBe('BOOTSTRAPD_PORT_IN_USE');
    } finally {
      await first.close();
    }
  });

  it('the daemon does not outlive an owner process that is SIGKILLed (no stop(), no exit hook)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootstrapd-owner-'));
    const script = join(dir, 'owner.mts');
    const launcher = pathToFileURL(resolve('src/tox/bootstrapd.ts')).href;
    writeFileSync(script, `import { startBootstrapd } from ${JSON.stringify(launcher)};\nconst d = await startBootstrapd();\nconsole.log('READY ' + d.port + ' ' + d.dir);\nsetInterval(() => {}, 1000);\n`);
    const owner = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      owner.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const ready = await waitFor(() => /READY (\d+) (\S+)/.exec(out), { what: 'the owner process to start its daemon', timeoutMs: 30_000 });
      const port = Number(ready[1]);
      expect((await bootstrapdHealthCheck('127.0.0.1', port, 1000)).version).toBe(1000002018);
      owner.kill('SIGKILL');
      await waitFor(
        async () => {
          try {
            await bootstrapdHealthCheck('127.0.0.1', port, 200);
            return false;
          } catch {
            return true;
          }
        },
        { what: 'the orphaned tox-bootstrapd to exit after its owner was SIGKILLed', timeoutMs: 10_000 },
      );
      rmSync(ready[2]!, { recursive: true, force: true });
    } finally {
      owner.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// "At most one save per second" on an uneven disk: a save that takes longer than the interval must not let the saves
// queued behind it start back to back when the next commit is quick. commitFiles is slowed here (every other commit takes
// 1.3 s, longer than the interval; the others 20 ms), nothing else is stubbed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import * as P from '../../src/companion/persona-port.js';
import { FakeNode } from '../support/fake-node.js';
import { randomKey } from '../support/hostile.js';
import { waitFor } from '../support/wait.js';

const SLOW_COMMIT_MS = 1300;
vi.mock(import('../../src/util/fs.js'), async (original) => {
  const fs = await original();
  let commits = 0;
  return {
    ...fs,
    commitFiles: async (...args: Parameters<typeof fs.commitFiles>) => {
      await new Promise((r) => setTimeout(r, commits++ % 2 === 0 ? SLOW_COMMIT_MS : 20));
      return fs.commitFiles(...args);
    },
  };
});

describe('save spacing on an uneven disk (stub node)', () => {
  let dir: string;
  let bob: Companion | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-spacing-'));
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
  });
  afterEach(async () => {
    await bob?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('Mallory\'s stream of changes during slow saves: each save begins at least a second after the one before', async () => {
    const node = new FakeNode(randomKey());
    const config = loadConfig({ dir, env: {}, readFile: false, flags: { acceptRequests: 'none' } });
    bob = new Companion(config, await loadCompanionState(dir, node.publicKey, 3600), { node, log: createLogger({ level: 'silent' }) });
    await bob.start([]);
    const starts: number[] = [];
    bob.on('saved', (e) => starts.push(e.startedAt));
    // New requests from fresh keys, each a change that asks for a save, for about 4 seconds.
    for (const end = Date.now() + 4000; Date.now() < end; ) {
      node.request(randomKey(), 'let me in');
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = starts.length;
    // The last requests are saved by a save that begins after the stream ended.
    await waitFor(() => starts.length > before, { what: 'a save of the last changes of the stream', timeoutMs: 30_000 });
    expect(starts.length, 'too few saves during and after the stream to judge their spacing').toBeGreaterThan(2);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(Math.min(...gaps), `saves began ${gaps.join(', ')} ms apart`).toBeGreaterThanOrEqual(1000);
  });
});

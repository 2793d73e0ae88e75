// The libtoxcore version the node runs on reaches every view of the companion: status, /healthz's body and a Prometheus info metric.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Companion, loadCompanionState } from '../../src/companion/companion.js';
import { loadConfig } from '../../src/companion/config.js';
import { createLogger } from '../../src/companion/log.js';
import * as P from '../../src/companion/persona-port.js';
import { FakeNode } from '../support/fake-node.js';

describe('libtoxcore version in the companion views (stub node)', () => {
  let dir: string;
  let companion: Companion | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-version-'));
    await P.ready();
    await P.writePersonaKey(join(dir, 'persona.key'), await P.newPersonaKey());
  });
  afterEach(async () => {
    await companion?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('status, /healthz body and tox_persona_libtoxcore_info carry the node\'s version', async () => {
    const node = new FakeNode(randomBytes(32).toString('hex').toUpperCase());
    node.libtoxcoreVersion = '0.2.22';
    const state = await loadCompanionState(dir, node.publicKey, 3600);
    companion = new Companion(loadConfig({ dir, env: {}, readFile: false, flags: {} }), state, { node, log: createLogger({ level: 'silent' }) });
    await companion.start([]);
    expect(companion.status().libtoxcore).toBe('0.2.22');
    expect(companion.health().body).toMatchObject({ libtoxcore: '0.2.22' });
    const metrics = await companion.metrics.render();
    expect(metrics).toMatch(/^tox_persona_libtoxcore_info\{version="0\.2\.22"\} 1$/m);
    // One series only: the info metric never lists a second version.
    expect(metrics.match(/^tox_persona_libtoxcore_info\{/gm)).toHaveLength(1);
  });
});

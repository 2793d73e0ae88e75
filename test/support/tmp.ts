// A per-describe temporary directory for tests: created before the first test, removed after the last, even on failure.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Registers beforeAll/afterAll hooks for a fresh temp directory; the returned function gives a path inside it. */
export function useTempDir(prefix: string): (name: string) => string {
  let root: string | undefined;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });
  return (name) => {
    if (!root) throw new Error(`useTempDir(${prefix}): used outside a test`);
    return join(root, name);
  };
}

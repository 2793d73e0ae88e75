// Crash-safe file writes shared by every layer that persists state: temp file, fsync, rename, fsync the directory.
import { open, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/** Options for {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode of the result; defaults to 0o600 because most of what we write holds secrets or private state. */
  mode?: number;
}

/** Writes `data` to `path` so that readers see either the old file or the whole new one, never a torn write, and the rename is durable. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // write-file-atomic writes a uniquely named temp file, fsyncs it, chmods it and renames it over the target.
  await writeFileAtomicLib(path, typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), { mode, fsync: true });
  await fsyncDir(dirname(path));
}

/** Fsyncs a directory so that a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

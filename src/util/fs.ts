// Crash-safe file writes shared by every layer that persists state: one file (temp 0600, fsync, rename, fsync the directory), several files as one commit (a redo journal), and the start-up repair that finishes or drops an interrupted commit and removes temp files.
import { chmod, lstat, mkdir, open, readFile, readdir, rename, rm, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { faultPoint } from './fault.js';
import { ToxPersonaError } from './errors.js';

/** Options for {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode of the result; defaults to 0o600 because most of what we write holds secrets or private state. */
  mode?: number;
}

let tempCounter = 0;

/** Temp files we create: `.<name>.<pid>.<n>.tmp`, next to their target, so start-up repair can recognize and remove them. */
const TEMP_RE = /^\..+\.\d+\.\d+\.tmp$/;

/** write-file-atomic's temp names (`<name>.<number>`) of the files older versions wrote with it. */
const LEGACY_TEMP_RE = /^(profile\.tox|personas\.json|personas\.json\.bak|devices\.json|requests\.json|config\.json|admin\.token|daemon\.json|persona\.key)\.\d+$/;

/** The temp path for `path`, unique within this process. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
}

/** Writes and fsyncs `data` into a new temp file next to `path`, created 0600 (exclusive) before its first byte; returns its path. */
async function writeTemp(path: string, data: Uint8Array | string, mode: number): Promise<string> {
  const tmp = tempPathFor(path);
  // 'wx': O_CREAT|O_EXCL, never through a symlink someone planted; 0600 from creation, so no secret byte is ever readable by others.
  const handle = await open(tmp, 'wx', 0o600);
  try {
    if (mode !== 0o600) await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  return tmp;
}

/** Writes `data` to `path` so that readers see either the old file or the whole new one, never a torn write, and the rename is durable. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = await writeTemp(path, data, options.mode ?? 0o600);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
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

/** One file of a {@link commitFiles} commit: a name inside the directory and its whole new content. */
export interface CommitFile {
  name: string;
  data: Uint8Array | string;
}

/** The journal of a commit in progress; present only between "journal durable" and "every file replaced". */
export const JOURNAL_NAME = 'commit.journal';

const JOURNAL_MAGIC = 'tox-persona commit journal v1';

/** A failed save. Codes: `SAVE_FAILED` (the message carries the file-system error, e.g. ENOSPC, EROFS). */
export class SaveError extends ToxPersonaError {}

/**
 * Replaces several files of `dir` as one commit: either all of them change or none does, even across a crash at any
 * point. A redo journal (the new contents and a SHA-256) is made durable first; then each file is replaced atomically;
 * then the journal is removed. {@link recoverDir} at the next start re-applies a complete journal (the crash hit while
 * files were being replaced) or drops an incomplete one (the crash hit before the commit point, so no file changed).
 */
export async function commitFiles(dir: string, files: readonly CommitFile[], options: { generation?: number } = {}): Promise<void> {
  if (files.length === 0) return;
  // A journal left by a commit whose files could not all be replaced (ENOSPC, EROFS) is finished first: overwriting it
  // with this commit's journal would forget the files that one still had to replace.
  await replayJournal(dir);
  const journal = encodeJournal(files, options.generation ?? 0);
  // Commit point: once the journal's rename is durable, the new state is the state.
  await writeFileAtomic(join(dir, JOURNAL_NAME), journal);
  faultPoint('after-journal');
  await applyFiles(dir, files);
  faultPoint('after-files');
  // Not fsynced: a journal whose removal is lost is re-applied at start, rewriting the same bytes.
  await unlink(join(dir, JOURNAL_NAME));
}

/** Replaces each file (temp, fsync, rename), then fsyncs the directory once for all the renames. */
async function applyFiles(dir: string, files: readonly CommitFile[]): Promise<void> {
  for (const f of files) {
    const target = join(dir, f.name);
    const tmp = await writeTemp(target, f.data, 0o600);
    try {
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    faultPoint(`after-file:${f.name}`);
  }
  await fsyncDir(dir);
}

function encodeJournal(files: readonly CommitFile[], generation: number): Buffer {
  const body = JSON.stringify({
    generation,
    files: files.map((f) => ({ name: f.name, data: Buffer.from(typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data).toString('base64') })),
  });
  const sum = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`${JOURNAL_MAGIC}\n${sum}\n${body}`, 'utf8');
}

/** The files of a complete journal, or undefined for a torn or foreign one. */
function decodeJournal(bytes: Buffer): { generation: number; files: CommitFile[] } | undefined {
  const text = bytes.toString('utf8');
  const a = text.indexOf('\n');
  const b = text.indexOf('\n', a + 1);
  if (a < 0 || b < 0 || text.slice(0, a) !== JOURNAL_MAGIC) return undefined;
  const body = text.slice(b + 1);
  if (createHash('sha256').update(body).digest('hex') !== text.slice(a + 1, b)) return undefined;
  try {
    const parsed = JSON.parse(body) as { generation: number; files: Array<{ name: string; data: string }> };
    // Names are plain file names inside the directory; anything else is not a journal we wrote.
    if (!parsed.files.every((f) => typeof f.name === 'string' && f.name === basename(f.name) && !f.name.startsWith('.'))) return undefined;
    return { generation: parsed.generation, files: parsed.files.map((f) => ({ name: f.name, data: Buffer.from(f.data, 'base64') })) };
  } catch {
    return undefined;
  }
}

/** Re-applies a complete journal left in `dir` and removes it: the names it replaced, 'torn' for a dropped incomplete one, undefined when there was none. */
async function replayJournal(dir: string): Promise<string[] | 'torn' | undefined> {
  const journalPath = join(dir, JOURNAL_NAME);
  let journal: Buffer;
  try {
    journal = await readFile(journalPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const j = decodeJournal(journal);
  if (j) await applyFiles(dir, j.files);
  await unlink(journalPath);
  await fsyncDir(dir);
  return j ? j.files.map((f) => f.name) : 'torn';
}

/** What {@link recoverDir} did. */
export interface RecoveryReport {
  /** A complete journal was re-applied: the last commit had not finished replacing its files. */
  replayed: string[];
  /** A journal that was never completed (the crash hit before the commit point) was dropped. */
  droppedTornJournal: boolean;
  /** Temp files removed (ours and older versions'). */
  removedTemps: string[];
  /** Files whose mode was tightened to 0600. */
  tightened: string[];
}

/**
 * Start-up repair of a directory written by {@link commitFiles} and {@link writeFileAtomic}; call it under the
 * directory's lock, before reading any state. Finishes or drops an interrupted commit, removes temp files (which may
 * hold secrets, such as a copy of the profile), and makes every regular file 0600.
 */
export async function recoverDir(dir: string): Promise<RecoveryReport> {
  const report: RecoveryReport = { replayed: [], droppedTornJournal: false, removedTemps: [], tightened: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return report;
    throw err;
  }
  for (const name of names) {
    if (TEMP_RE.test(name) || LEGACY_TEMP_RE.test(name)) {
      await rm(join(dir, name), { force: true });
      report.removedTemps.push(name);
    }
  }
  const r = await replayJournal(dir);
  if (r === 'torn') report.droppedTornJournal = true;
  else if (r) report.replayed = r;
  for (const name of await readdir(dir)) {
    const st = await lstat(join(dir, name));
    if (st.isFile() && (st.mode & 0o077) !== 0) {
      await chmod(join(dir, name), 0o600);
      report.tightened.push(name);
    }
  }
  return report;
}

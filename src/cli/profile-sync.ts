// `tox-persona profile sync CLIENT.tox`: bring a stopped ordinary client's profile up to date from the companion's data directory.
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fs.js';
import { ProfileError } from '../profile/errors.js';
import { encryptProfile } from '../profile/encrypted.js';
import { writeProfile } from '../profile/codec.js';
import { loadProfileBytes } from '../profile/rekey.js';
import { profileInUse } from '../profile/in-use.js';
import { humanTextOf, planProfileSync, type SyncChange, type SyncRecord, type SyncSource } from '../profile/sync.js';
import { common, callOperation, type CommonOptions } from './context.js';
import { print, shortKey } from './output.js';

/** The sidecar next to a synced profile: `CLIENT.tox.persona-sync.json` (see docs/PROFILE.md "profile sync"). */
export function syncRecordPath(profile: string): string {
  return `${profile}.persona-sync.json`;
}

const Hex64 = z.string().regex(/^[0-9A-F]{64}$/);
const RecordSchema = z.object({
  version: z.literal(1),
  profile: Hex64,
  added: z.record(Hex64, Hex64),
  pending: z.record(Hex64, Hex64),
  declined: z.array(Hex64),
});

async function readSyncRecord(path: string): Promise<SyncRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ProfileError('READ_FAILED', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const r = RecordSchema.safeParse(parsed);
  if (!r.success) throw new ProfileError('BAD_SECTION', `${path} is not a profile sync record; move it away to start a new one (sync then removes no friend it added before)`);
  return r.data;
}

/** JSON output of `profile sync`. */
export interface ProfileSyncOutput {
  file: string;
  record: string;
  changed: boolean;
  encrypted: boolean;
  added: SyncChange[];
  removed: SyncChange[];
  /** Friends sync had added and the user removed in the client since: never added again. */
  declined: string[];
  statusMessage: { changed: boolean; humanText: string };
  /** When the signed list now in the status message stops being fresh (ISO time). */
  listExpiresAt: string;
  /** The companion re-signed its list (past half its lifetime) before the sync. */
  listRefreshed: boolean;
}

function syncText(o: ProfileSyncOutput): string {
  const line = (c: SyncChange) => `  ${c.publicKey} ${c.name ? JSON.stringify(c.name) : '-'} (persona ${shortKey(c.personaId)})`;
  return [
    o.changed ? `updated ${o.file} (${o.encrypted ? 'encrypted' : 'not encrypted'}, mode 0600)` : `${o.file} is up to date; nothing written`,
    `added:   ${o.added.length}`,
    ...o.added.map(line),
    `removed: ${o.removed.length}`,
    ...o.removed.map(line),
    ...(o.declined.length > 0 ? [`removed by you in the client since the last sync (not added again): ${o.declined.join(', ')}`] : []),
    `status message: ${o.statusMessage.changed ? 'signed list updated' : 'unchanged'}${o.listRefreshed ? ' (the companion re-signed it first)' : ''}; the list expires ${o.listExpiresAt}${
      Date.parse(o.listExpiresAt) < Date.now() ? ' (EXPIRED: this device could not re-sign it; see `status`)' : ': sync again before then'
    }`,
    `record of what sync added: ${o.record}`,
  ].join('\n');
}

/** Adds `profile sync` to the `profile` command. */
export function registerProfileSyncCommand(profile: Command, inputPassphrase: (file: string | undefined) => Promise<string | undefined>, passphraseHelp: string): void {
  common(profile.command('sync'))
    .description('update a STOPPED ordinary client\'s profile from the companion: add friends\' verified devices, remove the ones their personas dropped (only ones sync added), put the signed list in its status')
    .argument('<CLIENT>', 'the client\'s profile (.tox); the client must not be running')
    .option('--passphrase-file <F>', passphraseHelp)
    .action(async (file: string, o: CommonOptions & { passphraseFile?: string }) => {
      const path = resolve(file);
      const busy = profileInUse(path);
      if (busy) throw new ProfileError('IN_USE', `${file} looks in use: ${busy}. Quit the client first (it would overwrite the changes on its next save)`);
      // Stat first: a write that lands after it changes mtime, so the check before writing sees it.
      const fail = (cause: NodeJS.ErrnoException): never => {
        throw new ProfileError('READ_FAILED', `cannot read ${file}: ${cause.code ?? cause.message}`, { cause });
      };
      const before = await stat(path).catch(fail);
      const raw = new Uint8Array(await readFile(path).catch(fail));
      const passphrase = await inputPassphrase(o.passphraseFile);
      const loaded = loadProfileBytes(raw, passphrase === undefined ? {} : { passphrase });
      // A list past half its lifetime is re-signed first, by the daemon or (stopped) with this data directory's key.
      const source = (await callOperation(o, 'syncSourceFresh')) as SyncSource & { refreshed?: boolean };
      const recordPath = syncRecordPath(path);
      const plan = planProfileSync(loaded.profile, source, await readSyncRecord(recordPath));
      if (plan.changed || plan.declined.length > 0) {
        // Checked again just before writing: a client started (or a file replaced) meanwhile must not lose its changes.
        const now = await stat(path);
        const again = profileInUse(path);
        if (again || now.ino !== before.ino || now.mtimeMs !== before.mtimeMs || now.size !== before.size) {
          throw new ProfileError('IN_USE', `${file} changed or was opened while syncing${again ? `: ${again}` : ''}; nothing written`);
        }
        await writeFileAtomic(recordPath, `${JSON.stringify(plan.recordBefore, null, 2)}\n`);
        if (plan.changed) {
          const plain = writeProfile(plan.profile);
          await writeFileAtomic(path, loaded.encrypted && passphrase !== undefined ? encryptProfile(plain, passphrase) : plain, { mode: 0o600 });
        }
        await writeFileAtomic(recordPath, `${JSON.stringify(plan.recordAfter, null, 2)}\n`);
      }
      const out: ProfileSyncOutput = {
        file: path,
        record: recordPath,
        changed: plan.changed,
        encrypted: loaded.encrypted,
        added: plan.added,
        removed: plan.removed,
        declined: plan.declined,
        statusMessage: { changed: plan.status.changed, humanText: humanTextOf(plan.status.after) },
        listExpiresAt: new Date(source.expiresAt * 1000).toISOString(),
        listRefreshed: source.refreshed === true,
      };
      print(o.json === true, out, () => syncText(out));
    });
}

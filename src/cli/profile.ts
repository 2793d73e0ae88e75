// The `profile` commands: inspect a Tox savedata file, and rekey it into a second device's profile.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { bytesToHex } from '../util/bytes.js';
import { ProfileError } from '../profile/errors.js';
import { readProfileFile, rekeyProfileFile, type RekeyFileResult } from '../profile/rekey.js';
import { formatProfileSummary, inspectProfile, quoteForTerminal, type ProfileSummary } from '../profile/inspect.js';
import { print } from './output.js';
import { registerProfileSyncCommand } from './profile-sync.js';

/** Environment variable holding the passphrase of an encrypted input profile, when no --passphrase-file is given. */
export const PASSPHRASE_ENV = 'TOX_PERSONA_PASSPHRASE';

/** Reads a passphrase file: its contents without one trailing newline; an empty passphrase is a usage error. */
export async function readPassphraseFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ProfileError('READ_FAILED', `cannot read passphrase file ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  const pass = text.replace(/\r?\n$/, '');
  if (pass.length === 0) throw new ProfileError('BAD_ARGUMENT', `passphrase file ${path} is empty`);
  return pass;
}

async function inputPassphrase(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) return readPassphraseFile(file);
  const env = process.env[PASSPHRASE_ENV];
  return env === undefined || env === '' ? undefined : env;
}

interface InspectOpts {
  json?: boolean;
  showSecrets?: boolean;
  passphraseFile?: string;
}

interface RekeyOpts {
  json?: boolean;
  name?: string;
  statusMessage?: string;
  keepRelays?: boolean;
  keepGroupChats?: boolean;
  befriendOriginal?: boolean;
  passphraseFile?: string;
  newPassphraseFile?: string;
}

/** JSON output of `profile inspect`: the summary plus whether the file was encrypted. */
export type InspectOutput = ProfileSummary & { file: string; encrypted: boolean };

/** JSON output of `profile rekey` (hex keys, no secrets). */
export interface RekeyOutput {
  outPath: string;
  publicKey: string;
  address: string;
  nospam: string;
  previousPublicKey: string | null;
  friendCount: number;
  encrypted: boolean;
  /** NGC groups not carried over (chat ID hex and name). */
  droppedGroups: { chatId: string; name: string }[];
  /** Sections of an unknown type not carried over. */
  droppedUnknownSections: { type: number; bytes: number }[];
}

function rekeyOutput(r: RekeyFileResult): RekeyOutput {
  return {
    outPath: r.outPath,
    publicKey: bytesToHex(r.publicKey),
    address: bytesToHex(r.address),
    nospam: r.nospam.toString(16).toUpperCase().padStart(8, '0'),
    previousPublicKey: r.previousPublicKey ? bytesToHex(r.previousPublicKey) : null,
    friendCount: r.friendCount,
    encrypted: r.encrypted,
    droppedGroups: r.droppedGroups,
    droppedUnknownSections: r.droppedUnknownSections,
  };
}

function rekeyText(o: RekeyOutput): string {
  return [
    `Wrote ${o.outPath} (${o.encrypted ? 'encrypted' : 'not encrypted'}, mode 0600)`,
    `New Tox ID:      ${o.address}`,
    `New public key:  ${o.publicKey}`,
    `Previous key:    ${o.previousPublicKey ?? '(none)'}`,
    `Friends kept:    ${o.friendCount} (all as confirmed friends)`,
    ...(o.droppedGroups.length > 0
      ? [`Groups dropped:  ${o.droppedGroups.length} (the new device joins them itself, with its own key in each)`, ...o.droppedGroups.map((g) => `    ${g.chatId} ${quoteForTerminal(g.name)}`)]
      : []),
    ...(o.droppedUnknownSections.length > 0
      ? [`Unknown sections dropped: ${o.droppedUnknownSections.map((u) => `type ${u.type} (${u.bytes} bytes)`).join(', ')}`]
      : []),
    '',
    'Friends accept connections only from keys on their friend list: each friend must add the new public key',
    '(a PersonaID companion does this by itself once the signed device list names it). Never run the original',
    'and the copy with the same key; the new file has its own key, so both can be online at once.',
  ].join('\n');
}

/** Adds `profile inspect`, `profile rekey` and `profile sync` to `program`; errors are thrown as ProfileError for main() to print and map to an exit code. */
export function registerProfileCommands(program: Command): void {
  const profile = program.command('profile').description('inspect, rekey and sync Tox profiles (savedata files, plain or encrypted)');

  profile
    .command('inspect')
    .description('show what a Tox profile holds: keys (secret key only with --show-secrets), name, friends, relays')
    .argument('<FILE>', 'the Tox profile (.tox)')
    .option('--json', 'machine-readable JSON output')
    .option('--show-secrets', 'also show the secret keys (own, and in each NGC group) and group passwords')
    .option('--passphrase-file <F>', `file holding the passphrase of an encrypted profile (default: $${PASSPHRASE_ENV})`)
    .action(async (file: string, o: InspectOpts) => {
      const passphrase = await inputPassphrase(o.passphraseFile);
      const loaded = await readProfileFile(file, passphrase === undefined ? {} : { passphrase });
      const summary = inspectProfile(loaded.profile, { showSecrets: o.showSecrets === true });
      const out: InspectOutput = { file, encrypted: loaded.encrypted, ...summary };
      print(o.json === true, out, () => formatProfileSummary(summary, { encrypted: loaded.encrypted }));
    });

  profile
    .command('rekey')
    .description('write a copy of a profile with a fresh keypair and nospam and the same friends (as confirmed friends), for a second device')
    .argument('<IN>', 'the profile to copy')
    .argument('<OUT>', 'the new profile; must not exist')
    .option('--name <NAME>', 'new own name (at most 128 bytes)')
    .option('--status-message <TEXT>', 'new own status message (at most 1007 bytes)')
    .option('--keep-relays', 'keep DHT nodes, TCP relays and onion path nodes (default: cleared)')
    .option('--keep-group-chats', 'keep conferences (default: dropped; they hold per-chat identities two devices must not share); NGC groups are always dropped')
    .option('--befriend-original', "add IN's own key as a friend of OUT, so the two devices can connect once IN adds OUT's key")
    .option('--passphrase-file <F>', `passphrase of an encrypted IN (default: $${PASSPHRASE_ENV}); OUT stays encrypted with it`)
    .option('--new-passphrase-file <F>', 'encrypt OUT with this passphrase instead')
    .option('--json', 'machine-readable JSON output')
    .action(async (inPath: string, outPath: string, o: RekeyOpts) => {
      const passphrase = await inputPassphrase(o.passphraseFile);
      const newPassphrase = o.newPassphraseFile === undefined ? undefined : await readPassphraseFile(o.newPassphraseFile);
      const result = await rekeyProfileFile(inPath, outPath, {
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.statusMessage !== undefined ? { statusMessage: o.statusMessage } : {}),
        keepRelays: o.keepRelays === true,
        keepGroupChats: o.keepGroupChats === true,
        addOriginalAsFriend: o.befriendOriginal === true,
        ...(passphrase !== undefined ? { passphrase } : {}),
        ...(newPassphrase !== undefined ? { newPassphrase } : {}),
      });
      const out = rekeyOutput(result);
      print(o.json === true, out, () => rekeyText(out));
    });

  registerProfileSyncCommand(profile, inputPassphrase, `file holding the passphrase of an encrypted CLIENT (default: $${PASSPHRASE_ENV}); it stays encrypted with it`);
}

// The tox-persona commands other than run and demo: thin wrappers that call a companion operation and print its result.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { common, callOperation, type CommonOptions } from './context.js';
import { print, columns, shortKey } from './output.js';
import { resolveDataDir } from '../companion/config.js';
import { dataPath, requireInitialized } from '../companion/datadir.js';
import { initDataDir } from '../companion/open.js';
import { CompanionError } from '../companion/companion.js';
import * as P from '../companion/persona-port.js';
import { registerKeyCommands } from './keys.js';

type Opts = CommonOptions & Record<string, unknown>;

function devicesText(devices: P.DeviceView[], thisDevice?: string): string {
  return columns([
    ['#', 'PUBLIC KEY', 'NAME', ''],
    ...devices.map((d, i) => [String(i + 1), d.publicKey, d.name || '-', [i === 0 ? 'active' : '', d.publicKey === thisDevice ? 'this device' : ''].filter(Boolean).join(', ')]),
  ]);
}

/** Renders the table for people (also used by the demo). */
export function personasText(personas: P.PersonaView[]): string {
  if (personas.length === 0) return '(no personas yet)';
  const rows: string[][] = [['PERSONA', 'STATE', 'EPOCH', 'SEQ', 'DEVICES']];
  for (const p of personas) {
    const devs = p.devices.map((d) => `${d.name || shortKey(d.publicKey)}${d.active ? '*' : ''}${d.confirmed ? '' : '?'}${d.toxName && d.toxName !== d.name ? ` (${JSON.stringify(d.toxName)})` : ''}`).join(' ');
    const held = p.pending?.some((x) => x.reason === 'FORK') ? ' (FORK held)' : p.pending ? ' (pending update)' : '';
    const revoked = p.lastRevoked ? ` REVOKED_SIGNER seen: epoch ${p.lastRevoked.epoch} from ${shortKey(p.lastRevoked.from)}` : '';
    rows.push([shortKey(p.personaId), p.state + held + revoked, String(p.epoch ?? '-'), String(p.seq ?? '-'), devs || '-']);
  }
  return `${columns(rows)}\n(* active, ? unconfirmed, "..." the friend's own Tox name)`;
}

/**
 * All of stdin as text. Read as a stream, not with readFileSync(0): on a pipe that is non-blocking (as a parent process
 * may leave it) and has no data yet, readFileSync fails with EAGAIN instead of waiting.
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** A secret given on the command line: `-` reads stdin, `@FILE` reads FILE, anything else is the secret itself. */
async function readSecretInput(value: string | undefined): Promise<string> {
  if (value === undefined || value === '-') return (await readStdin()).trim();
  if (value.startsWith('@')) return readFileSync(value.slice(1), 'utf8').trim();
  return value;
}

/** Help text for an export-string argument: the safe forms first, since an argument is visible in ps and shell history. */
const EXPORT_HELP = 'the exported persona key: - to read it from stdin or @FILE (recommended), or the string itself (visible in ps and shell history)';

function passphraseFromEnv(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const v = process.env[name];
  if (v === undefined) throw new CompanionError('BAD_ARGUMENT', `environment variable ${name} is not set`);
  return v;
}

/** Registers init, persona, device, blob, verify, personas, approve/reject, friend, requests/accept/decline and status. */
export function registerCommands(program: Command): void {
  common(program.command('init'))
    .description('create a data directory: Tox profile, persona key, first signed device list, empty table, config')
    .option('--name <NAME>', 'name of this device in the device list', '')
    .option('--import <EXPORT>', `use an exported persona key instead of a new one; EXPORT: ${EXPORT_HELP}`)
    .option('--passphrase-env <VAR>', 'environment variable holding the passphrase of --import')
    .option('--network <MODE>', 'write network=public|local to config.json')
    .option('--policy <POLICY>', 'write policy=auto|manual to config.json')
    .option('--status-text <TEXT>', 'write the human status text to config.json')
    .option('--join', 'join an existing persona without its root: make this device\'s signer key and print a request for "persona certify" on the machine with the root')
    .action(async (o: Opts) => {
      const dir = resolveDataDir(o.dir);
      const settings: Record<string, unknown> = {};
      if (o.network) settings.network = o.network;
      if (o.policy) settings.policy = o.policy;
      if (o.statusText) settings.statusText = o.statusText;
      const personaExport = o.import !== undefined ? await readSecretInput(String(o.import)) : undefined;
      const pass = passphraseFromEnv(o.passphraseEnv as string | undefined);
      const r = await initDataDir(dir, { ...(personaExport ? { personaExport } : {}), ...(pass ? { exportPassphrase: pass } : {}), settings, deviceName: String(o.name ?? ''), ...(o.join ? { join: true } : {}) });
      if (r.request) return print(!!o.json, r, () => `initialized ${r.dir} (waiting for a certificate)\nTox ID:  ${r.toxId}\nrequest: ${r.request}\nnext: on the machine with the root: tox-persona persona certify '${r.request}'; then here: tox-persona persona join <CERTIFICATE>`);
      print(!!o.json, r, () => `initialized ${r.dir}\nTox ID:     ${r.toxId}\nPersonaID:  ${r.personaId}\nnext: tox-persona run --dir ${r.dir}`);
    });

  const persona = program.command('persona').description('this device\'s persona: show, export and import the persona key');
  common(persona.command('show'))
    .description('show the PersonaID and the current signed device list')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'personaShow')) as { personaId: string; seq: number; issuedAt: number; ttl: number; devices: P.DeviceView[]; thisDevice: string };
      print(!!o.json, r, () => `PersonaID: ${r.personaId}\nseq ${r.seq}, issued ${new Date(r.issuedAt * 1000).toISOString()}, ttl ${r.ttl} s\n${devicesText(r.devices, r.thisDevice)}`);
    });
  common(persona.command('export'))
    .description('print the persona key as an export string, to move it to another device (keep it secret)')
    .option('--passphrase-env <VAR>', 'encrypt the export with the passphrase in this environment variable')
    .action(async (o: Opts) => {
      const dir = resolveDataDir(o.dir);
      requireInitialized(dir);
      const key = await P.loadPersonaKey(dataPath(dir, 'personaKey'));
      const text = await P.exportKey(key, passphraseFromEnv(o.passphraseEnv as string | undefined));
      print(!!o.json, { personaId: P.personaIdHex(key), export: text }, () => text);
    });
  common(persona.command('import'))
    .description('create a data directory for this device from an exported persona key (same as init --import)')
    .argument('<EXPORT>', EXPORT_HELP)
    .option('--name <NAME>', 'name of this device in the device list', '')
    .option('--passphrase-env <VAR>', 'environment variable holding the export\'s passphrase')
    .option('--list <STATUS>', 'the persona\'s newest list (output of "tox-persona blob" on a device that has it); this device is appended to it')
    .action(async (exported: string, o: Opts) => {
      const dir = resolveDataDir(o.dir);
      const pass = passphraseFromEnv(o.passphraseEnv as string | undefined);
      if (!o.list) process.stderr.write('warning: no --list given: this device starts a list with itself only, which replaces the persona\'s current list once published\n');
      const r = await initDataDir(dir, { personaExport: await readSecretInput(exported), ...(pass ? { exportPassphrase: pass } : {}), deviceName: String(o.name ?? ''), ...(o.list ? { baseList: String(o.list) } : {}) });
      // With --list this device already signed the newest list plus itself: running it publishes that, nothing to add elsewhere.
      const next = o.list
        ? `next: tox-persona run --dir ${r.dir} (publishes the list with this device appended)`
        : `add it from a device that has the newest list: tox-persona device add ${r.publicKey}`;
      print(!!o.json, r, () => `imported persona ${r.personaId} into ${r.dir}\nthis device: ${r.publicKey}\n${next}`);
    });

  registerKeyCommands(persona);

  const device = program.command('device').description('this persona\'s device list: each change re-signs and publishes');
  common(device.command('list'))
    .description('list the devices of this persona (first = active)')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'deviceList')) as { devices: P.DeviceView[]; thisDevice: string };
      print(!!o.json, r, () => devicesText(r.devices, r.thisDevice));
    });
  common(device.command('add'))
    .description('add a device (its Tox public key or Tox ID) to the list')
    .argument('<TOXPK>', '64-hex Tox public key or 76-hex Tox ID')
    .option('--name <NAME>', 'short device name (at most 32 bytes)', '')
    .option('--active', 'make it the active device')
    .action(async (pk: string, o: Opts) => {
      const r = (await callOperation(o, 'deviceAdd', { publicKey: pk, name: o.name, active: !!o.active })) as { devices: P.DeviceView[] };
      print(!!o.json, r, () => `added; the list is now:\n${devicesText(r.devices)}`);
    });
  common(device.command('remove'))
    .description('remove a device from the list (key, unique key prefix, or name)')
    .argument('<DEVICE>')
    .action(async (ref: string, o: Opts) => {
      const r = (await callOperation(o, 'deviceRemove', { device: ref })) as { devices: P.DeviceView[] };
      print(!!o.json, r, () => `removed; the list is now:\n${devicesText(r.devices)}`);
    });
  common(device.command('activate'))
    .description('make a device the active one (first in the list)')
    .argument('<DEVICE>')
    .action(async (ref: string, o: Opts) => {
      const r = (await callOperation(o, 'deviceActivate', { device: ref })) as { devices: P.DeviceView[] };
      print(!!o.json, r, () => `activated; the list is now:\n${devicesText(r.devices)}`);
    });
  common(device.command('enroll'))
    .description('make a new device: rekey this profile into OUT, add the new key to the list, re-sign, publish, and put the signed list in OUT\'s status message')
    .argument('<OUT>', 'path of the new device\'s profile (must not exist)')
    .option('--name <NAME>', 'name of the new device in the list', '')
    .action(async (out: string, o: Opts) => {
      const r = (await callOperation(o, 'deviceEnroll', { out: resolve(out), name: o.name })) as { out: string; publicKey: string; toxId: string; devices: P.DeviceView[]; friends: number };
      print(!!o.json, r, () =>
        [
          `enrolled ${o.name ? `"${String(o.name)}" ` : ''}${r.publicKey}`,
          `new profile: ${r.out} (${r.friends} friends, this device included: the two befriend each other without a request)`,
          `new Tox ID:  ${r.toxId}`,
          '',
          'Copy that file to the new device and load it in any Tox client (e.g. as its profile .tox file).',
          'Its status message already carries the signed list: friends who run a tox-persona companion add it by themselves.',
          'Friends with an ordinary client (toxic, qTox...) must add it: with "tox-persona profile sync" on their stopped',
          `client's profile, or by hand (its Tox ID is above).`,
          'Do not run the same profile on two devices: each device needs its own key.',
        ].join('\n'));
    });

  common(program.command('blob'))
    .description('print the status message (human text + signed blob), for pasting into another Tox client\'s status; says on stderr when the list expires')
    .option('--blob-only', 'print the blob without the human text')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'blob')) as { statusMessage: string; blob: string; humanBytesLeft: number; expiresAt: number };
      const out = { ...r, expires: new Date(r.expiresAt * 1000).toISOString() };
      print(!!o.json, out, () => (o.blobOnly ? r.blob : r.statusMessage));
      // On stderr, so that stdout stays exactly the text to paste: a pasted list is not refreshed by the companion.
      if (!o.json) process.stderr.write(`the signed list expires ${out.expires}${r.expiresAt * 1000 < Date.now() ? ' (EXPIRED)' : ''}: paste a fresh one before then\n`);
    });

  common(program.command('verify'))
    .description('check a status message: valid or not, which persona, which devices, or the exact reason it is rejected (exit 5 when rejected)')
    .argument('<STATUS>', 'the status message text, or - for stdin')
    .action(async (text: string, o: Opts) => {
      await P.ready();
      const input = text === '-' ? (await readStdin()).replace(/\r?\n$/, '') : text;
      const r = P.verifyStatus(input, Date.now() / 1000);
      print(!!o.json, r, () =>
        r.ok
          ? `valid: persona ${r.personaId}\nseq ${r.seq}, issued ${new Date(r.issuedAt * 1000).toISOString()}, expires ${new Date(r.expiresAt * 1000).toISOString()}${r.stale ? ' (STALE)' : ''}\n${r.human ? `human text: ${JSON.stringify(r.human)}\n` : ''}${devicesText(r.devices)}`
          : `rejected: ${r.reason}: ${r.detail}`);
      if (!r.ok) process.exitCode = 5;
    });

  common(program.command('personas'))
    .description('list the PersonaID table: friends\' personas, their devices and states')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'personas')) as { personas: P.PersonaView[] };
      print(!!o.json, r, () => personasText(r.personas));
    });
  common(program.command('approve'))
    .description('apply a persona\'s pending update (manual policy)')
    .argument('<PERSONA>', 'PersonaID or a unique prefix (8+ hex)')
    .action(async (id: string, o: Opts) => {
      const r = (await callOperation(o, 'approve', { persona: id })) as P.PersonaView;
      print(!!o.json, r, () => `approved; ${personasText([r])}`);
    });
  common(program.command('reject'))
    .description('drop a persona\'s pending update (manual policy)')
    .argument('<PERSONA>', 'PersonaID or a unique prefix (8+ hex)')
    .action(async (id: string, o: Opts) => {
      const r = (await callOperation(o, 'reject', { persona: id })) as P.PersonaView;
      print(!!o.json, r, () => `rejected; ${personasText([r])}`);
    });
  common(program.command('vouch'))
    .description('vouch for a persona: its lists may add its devices although no friend you added or accepted confirmed it')
    .argument('<PERSONA>', 'PersonaID or a unique prefix (8+ hex)')
    .action(async (id: string, o: Opts) => {
      const r = (await callOperation(o, 'vouch', { persona: id })) as P.PersonaView;
      print(!!o.json, r, () => `vouched; ${personasText([r])}`);
    });

  const friend = program.command('friend').description('the Tox friend list');
  common(friend.command('add'))
    .description('send a friend request to a Tox ID')
    .argument('<TOXID>', '76-hex Tox ID')
    .argument('[MESSAGE]', 'request message', 'tox-persona')
    .action(async (id: string, message: string, o: Opts) => {
      const r = (await callOperation(o, 'friendAdd', { toxId: id, message })) as { publicKey: string };
      print(!!o.json, r, () => `friend request sent to ${r.publicKey}`);
    });
  common(friend.command('list'))
    .description('list friends, their connection and persona')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'friendList')) as { friends: Array<{ publicKey: string; name: string; connection: string; persona?: string; why?: string[] }> };
      print(!!o.json, r, () =>
        r.friends.length === 0 ? '(no friends)' : columns([['PUBLIC KEY', 'NAME', 'CONNECTION', 'PERSONA', 'WHY'], ...r.friends.map((f) => [f.publicKey, f.name || '-', f.connection, f.persona ? shortKey(f.persona) : '-', f.why?.join(', ') || '-'])]));
    });
  common(friend.command('remove'))
    .description('remove a friend (public key or unique prefix)')
    .argument('<FRIEND>')
    .action(async (ref: string, o: Opts) => {
      const r = (await callOperation(o, 'friendRemove', { friend: ref })) as { publicKey: string };
      print(!!o.json, r, () => `removed ${r.publicKey}`);
    });

  common(program.command('requests'))
    .description('incoming friend requests waiting for accept/decline (see acceptRequests in docs/CLI.md)')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'requests')) as { requests: Array<{ publicKey: string; message: string; receivedAt: string }> };
      print(!!o.json, r, () => (r.requests.length === 0 ? '(no pending requests)' : columns([['PUBLIC KEY', 'RECEIVED', 'MESSAGE'], ...r.requests.map((q) => [q.publicKey, q.receivedAt, JSON.stringify(q.message)])])));
    });
  common(program.command('accept'))
    .description('accept a pending friend request')
    .argument('<PUBLICKEY>', 'public key or unique prefix')
    .action(async (pk: string, o: Opts) => {
      const r = (await callOperation(o, 'accept', { publicKey: pk })) as { publicKey: string };
      print(!!o.json, r, () => `accepted ${r.publicKey}`);
    });
  common(program.command('decline'))
    .description('decline a pending friend request')
    .argument('<PUBLICKEY>', 'public key or unique prefix')
    .action(async (pk: string, o: Opts) => {
      const r = (await callOperation(o, 'decline', { publicKey: pk })) as { publicKey: string };
      print(!!o.json, r, () => `declined ${r.publicKey}`);
    });

  common(program.command('status'))
    .description('the node\'s connection, friends online, persona and alarms (from the daemon when it runs)')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'status')) as Record<string, unknown> & {
        alarms: Array<{ at: string; reason: string; personaId: string; detail: string; from?: string }>;
        friends: { online: number; total: number };
        devices: P.DeviceView[];
        rejections?: Record<string, Array<{ at: string; reason: string; personaId?: string; detail?: string; count?: number; lastAt?: string }>>;
        siblingsNotFriends: string[];
        keys?: { epoch: number; root: boolean; signer: { epoch: number } | null; signerRevoked: boolean };
      };
      const rejected = Object.entries(r.rejections ?? {});
      print(!!o.json, r, () =>
        [
          `daemon:     ${r.running ? 'running' : 'not running'}`,
          `Tox ID:     ${String(r.toxId)}`,
          `PersonaID:  ${String(r.personaId)}`,
          `connection: ${String(r.connection)}`,
          `libtoxcore: ${String(r.libtoxcore)}`,
          `friends:    ${r.friends.online}/${r.friends.total} online`,
          `devices:    ${r.devices.length} (seq ${String(r.seq)})`,
          ...(r.keys ? [`keys:       epoch ${r.keys.epoch}, ${r.keys.signer ? `signer (epoch ${r.keys.signer.epoch})${r.keys.signerRevoked ? ' REVOKED' : ''}` : 'root signs'}, root ${r.keys.root ? 'on this device' : 'offline'}`] : []),
          ...r.siblingsNotFriends.map((k) => `  warning: own device ${k} is not a Tox friend of this one; add it (friend add with its Tox ID) so the two connect`),
          `policy:     ${String(r.policy)}, accept requests: ${String(r.acceptRequests)}`,
          `personas:   ${Object.entries(r.personas as Record<string, number>).map(([state, n]) => `${n} ${state}`).join(', ')}`,
          `pending:    ${String(r.pendingApprovals)} approvals, ${String(r.pendingRequests)} friend requests${Number(r.requestsDropped ?? 0) > 0 ? ` (${String(r.requestsDropped)} more dropped: the queue was full)` : ''}`,
          `alarms:     ${r.alarms.length === 0 ? 'none' : ''}`,
          ...r.alarms.map((a) => `  ${a.at} ${a.reason} persona ${shortKey(a.personaId)}${a.from ? ` from ${shortKey(a.from)}` : ''}: ${a.detail}`),
          `rejected:   ${rejected.length === 0 ? 'none' : 'lists from friends not applied, newest last'}`,
          ...rejected.flatMap(([from, list]) => list.map((x) => `  ${x.at} from ${shortKey(from)}: ${x.reason}${x.personaId ? ` (persona ${shortKey(x.personaId)})` : ''}${x.detail ? `: ${x.detail}` : ''}${x.count ? ` (${x.count} times, last ${x.lastAt ?? x.at})` : ''}`)),
        ].join('\n'));
    });
}

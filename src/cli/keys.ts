// The persona's root and signer commands (docs/KEYS.md): recovery key, signer requests and certificates, rotation after
// a loss, removing and restoring the root. Thin: each calls a companion operation (key-ops.ts) or a file step.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { common, callOperation, type CommonOptions } from './context.js';
import { print, shortKey } from './output.js';
import { readStdin } from './commands.js';
import { resolveDataDir } from '../companion/config.js';
import { dataPath, requireInitialized } from '../companion/datadir.js';
import { joinDataDir } from '../companion/join.js';
import { KeyOpError } from '../companion/signer.js';
import { recoveryKeyOf, type KeysView } from '../companion/key-ops.js';
import * as P from '../companion/persona-port.js';
import { existsSync } from 'node:fs';

type Opts = CommonOptions & Record<string, unknown>;

/** Help text of --recovery-key: only the safe forms, since the recovery key is the persona. */
const RECOVERY_HELP = 'the recovery key, when the root is not on this device: - reads it from stdin, @FILE from a file (never on the command line: ps and shell history would show it)';

/** A text argument: `-` reads stdin, `@FILE` reads FILE, anything else is the text itself. */
async function textArg(value: string): Promise<string> {
  if (value === '-') return (await readStdin()).trim();
  if (value.startsWith('@')) return readFileSync(value.slice(1), 'utf8').trim();
  return value.trim();
}

/** The --recovery-key value: only `-` or `@FILE` (a secret on the command line leaks through ps and shell history). */
async function recoveryArg(value: unknown): Promise<string | undefined> {
  if (value === undefined) return undefined;
  const v = String(value);
  if (v !== '-' && !v.startsWith('@')) throw new KeyOpError('BAD_ARGUMENT', '--recovery-key takes - (stdin) or @FILE, never the key itself');
  return textArg(v);
}

function keysText(k: KeysView): string {
  const signer = k.signer ? `signer ${shortKey(k.signer.publicKey)} certified for epoch ${k.signer.epoch}${k.signerRevoked ? ' (REVOKED: the persona moved on; run persona signer-renew with the recovery key)' : ''}` : 'the root signs for itself (no signer yet)';
  return [`PersonaID: ${k.personaId}`, `epoch:     ${k.epoch}`, `signs with: ${signer}`, `root key:  ${k.root ? 'on this device (keep the recovery key offline, then: persona root-remove)' : 'not on this device (recovery key offline)'}`].join('\n');
}

/** Registers the root/signer subcommands under `persona`. */
export function registerKeyCommands(persona: Command): void {
  common(persona.command('keys'))
    .description('which key signs here (signer and its epoch, or the root), whether the root is on this device, the persona\'s epoch')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'personaKeys')) as KeysView;
      print(!!o.json, r, () => keysText(r));
    });

  common(persona.command('recovery-key'))
    .description('print the recovery key (the root, with a checksum): write it on paper, keep it offline; whoever holds it holds the persona')
    .action(async (o: Opts) => {
      const dir = resolveDataDir(o.dir);
      requireInitialized(dir);
      if (!existsSync(dataPath(dir, 'personaKey'))) throw new KeyOpError('NO_ROOT', 'the root key is not on this device; the recovery key is wherever you wrote it down');
      const key = await P.loadPersonaKey(dataPath(dir, 'personaKey'));
      const text = recoveryKeyOf(key.pair);
      print(!!o.json, { personaId: P.personaIdHex(key), recoveryKey: text }, () =>
        [`PersonaID:    ${P.personaIdHex(key)}`, `recovery key: ${text}`, '', 'Write it down (case, O/0 and I/L do not matter; a typo is caught by its checksum) and keep it offline.',
          'With it you can rotate after a loss (persona rotate), certify new devices (persona certify) and remove the root from this device (persona root-remove).'].join('\n'));
    });

  common(persona.command('certify'))
    .description('certify another device\'s signer (its "init --join" request) with the root, add the device to the list, publish; prints the certificate to give to that device')
    .argument('<REQUEST>', 'the request text, - for stdin, or @FILE')
    .option('--recovery-key <-|@FILE>', RECOVERY_HELP)
    .action(async (req: string, o: Opts) => {
      if (req === '-' && o.recoveryKey === '-') throw new KeyOpError('BAD_ARGUMENT', 'the request and the recovery key cannot both come from stdin');
      const request = await textArg(req);
      const recoveryKey = await recoveryArg(o.recoveryKey);
      const r = (await callOperation(o, 'personaCertify', { request, ...(recoveryKey ? { recoveryKey } : {}) })) as { certificate: string; epoch: number; device: string };
      print(!!o.json, r, () => `certified device ${r.device} for epoch ${r.epoch}; on that device run:\n  tox-persona persona join - <<< '${r.certificate}'\ncertificate:\n${r.certificate}`);
    });

  common(persona.command('join'))
    .description('on a device made with "init --join": install the certificate that "persona certify" printed; the device then signs with its own signer')
    .argument('<CERTIFICATE>', 'the certificate text, - for stdin, or @FILE')
    .action(async (text: string, o: Opts) => {
      const r = await joinDataDir(resolveDataDir(o.dir), await textArg(text));
      print(!!o.json, r, () => `joined persona ${r.personaId} (epoch ${r.epoch}) as ${r.publicKey}\nnext: tox-persona run --dir ${r.dir}`);
    });

  common(persona.command('rotate'))
    .description('after a loss: move the persona to a new epoch with the root (revokes every older signer for every friend), certify a new signer here, drop devices, publish')
    .option('--drop <DEVICE...>', 'devices to drop from the list (key, unique prefix or name), e.g. the stolen one')
    .option('--recovery-key <-|@FILE>', RECOVERY_HELP)
    .action(async (o: Opts) => {
      const recoveryKey = await recoveryArg(o.recoveryKey);
      const drop = (o.drop as string[] | undefined) ?? [];
      const r = (await callOperation(o, 'personaRotate', { drop, ...(recoveryKey ? { recoveryKey } : {}) })) as { epoch: number; devices: P.DeviceView[]; dropped: string[] };
      print(!!o.json, r, () => `rotated to epoch ${r.epoch}; every signer of an older epoch is revoked${r.dropped.length ? `; dropped ${r.dropped.map(shortKey).join(', ')}` : ''}\ndevices: ${r.devices.map((d) => d.name || shortKey(d.publicKey)).join(', ')}\nOther devices you keep need a new signer: on each, "persona signer-renew --recovery-key -", or "init --join" + "persona certify" here.`);
    });

  common(persona.command('signer-renew'))
    .description('certify a new signer for this device at the persona\'s current epoch (after a rotation elsewhere revoked it, or to stop signing with the root)')
    .option('--recovery-key <-|@FILE>', RECOVERY_HELP)
    .action(async (o: Opts) => {
      const recoveryKey = await recoveryArg(o.recoveryKey);
      const r = (await callOperation(o, 'personaSignerRenew', recoveryKey ? { recoveryKey } : {})) as { epoch: number; signer: string };
      print(!!o.json, r, () => `this device now signs with signer ${shortKey(r.signer)} (epoch ${r.epoch})`);
    });

  common(persona.command('root-remove'))
    .description('remove the root key from this device (it keeps signing with its signer); type the recovery key back to prove you have it, or --force')
    .option('--recovery-key <-|@FILE>', 'the recovery key, as proof that a correct copy exists: - (stdin) or @FILE')
    .option('--force', 'remove it without that proof (if the recovery key is lost too, no rotation is ever possible again)')
    .action(async (o: Opts) => {
      const recoveryKey = await recoveryArg(o.recoveryKey);
      const r = (await callOperation(o, 'personaRootRemove', { ...(recoveryKey ? { recoveryKey } : {}), force: !!o.force })) as { signer: string; epoch: number };
      print(!!o.json, r, () => `root removed; this device signs with signer ${shortKey(r.signer)} (epoch ${r.epoch})`);
    });

  common(persona.command('root-restore'))
    .description('put the root back on this device from the recovery key')
    .requiredOption('--recovery-key <-|@FILE>', RECOVERY_HELP)
    .action(async (o: Opts) => {
      const recoveryKey = await recoveryArg(o.recoveryKey);
      const r = (await callOperation(o, 'personaRootRestore', { recoveryKey })) as { personaId: string };
      print(!!o.json, r, () => `the root of ${r.personaId} is on this device again`);
    });
}

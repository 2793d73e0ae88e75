// `tox-persona groups`: the NGC groups the companion is in, their peers grouped by persona and alarms; create, join, leave.
import type { Command } from 'commander';

/** The subcommand's options with `groups`' own (`--dir`, `--json`...): commander gives a parent's options to the parent. */
const all = (cmd: Command): Opts => cmd.optsWithGlobals<Opts>();
import { common, callOperation, type CommonOptions } from './context.js';
import { print, columns, shortKey } from './output.js';
import type { GroupListing } from '../companion/groups.js';

type Opts = CommonOptions & Record<string, unknown>;

/** Renders `groups` for people: one block per group, peers grouped by persona, then the others and the alarms. */
export function groupsText(r: { groups: GroupListing[]; invites: Array<{ friend: string; groupName: string }>; left?: string[] }): string {
  if (r.groups.length === 0 && r.invites.length === 0 && !r.left?.length) return '(in no group)';
  const out: string[] = [];
  for (const g of r.groups) {
    out.push(`group ${g.group}  ${g.chatId}${g.joined ? '' : '  (joining...)'}  ${g.peerCount} peer(s)${g.selfPeerKey ? `, our peer key ${shortKey(g.selfPeerKey)}` : ''}`);
    const rows: string[][] = [['PERSONA', 'PEER', 'DEVICE', '']];
    for (const p of g.personas) {
      for (const peer of p.peers) {
        rows.push([shortKey(p.personaId) + (p.known ? '' : ' (unknown)'), shortKey(peer.peerKey), shortKey(peer.deviceKey), [peer.peerKey === g.selfPeerKey ? 'this device' : '', peer.confirmed ? '' : 'vouched, not confirmed'].filter(Boolean).join(', ')]);
      }
    }
    for (const o of g.others) rows.push(['-', shortKey(o), '-', o === g.selfPeerKey ? 'this device' : '']);
    out.push(columns(rows));
    for (const a of g.alarms) out.push(`  ALARM ${a.code} (${a.reason}) peer ${shortKey(a.peerKey)}${a.personaId ? ` persona ${shortKey(a.personaId)}` : ''}: ${a.detail}`);
    if (g.invited.length > 0) out.push(`  invited here: ${g.invited.map(shortKey).join(' ')}`);
    if (g.leftBySelf.length > 0) out.push(`  left by themselves (not invited again): ${g.leftBySelf.map(shortKey).join(' ')}`);
  }
  for (const i of r.invites) out.push(`invite to "${i.groupName}" from ${shortKey(i.friend)} (not one of our devices; not accepted)`);
  if (r.left?.length) out.push(`left here (a sibling's invite is not accepted; groups join takes one back): ${r.left.map(shortKey).join(', ')}`);
  return out.join('\n');
}

/** Registers `groups` and its subcommands. */
export function registerGroupCommands(program: Command): void {
  const groups = common(program.command('groups'))
    .description('NGC groups the running companion is in: peers grouped by persona (verified group identity statements), alarms')
    .action(async (o: Opts) => {
      const r = (await callOperation(o, 'groups')) as { groups: GroupListing[]; invites: Array<{ friend: string; groupName: string }>; left?: string[] };
      print(!!o.json, r, () => groupsText(r));
    });
  common(groups.command('create'))
    .description('create a private group (this companion is its founder); its devices are invited')
    .argument('<NAME>', 'the group name')
    .option('--public', 'a public group: anyone with its chat id may join')
    .action(async (name: string, _o: Opts, cmd: Command) => {
      const o = all(cmd);
      const r = (await callOperation(o, 'groupCreate', { name, public: o.public === true })) as GroupListing;
      print(!!o.json, r, () => `created group ${r.group}: ${r.chatId}`);
    });
  common(groups.command('join'))
    .description('join a public group by its chat id; the join completes in the background (see "groups")')
    .argument('<CHAT_ID>', '64 hex')
    .option('--password <PASSWORD>', 'the group password, if it has one')
    .action(async (chatId: string, _o: Opts, cmd: Command) => {
      const o = all(cmd);
      const r = (await callOperation(o, 'groupJoin', { chatId, ...(o.password ? { password: String(o.password) } : {}) })) as GroupListing;
      print(!!o.json, r, () => `joining group ${r.group}: ${r.chatId}`);
    });
  common(groups.command('leave'))
    .description('leave a group (its chat id, 8+ hex of it, or its number); devices of ours in it stay unless they leave themselves')
    .argument('<GROUP>', 'chat id, a unique prefix of 8+ hex, or the group number')
    .action(async (group: string, _o: Opts, cmd: Command) => {
      const o = all(cmd);
      const r = (await callOperation(o, 'groupLeave', { group })) as { chatId: string };
      print(!!o.json, r, () => `left group ${r.chatId}`);
    });
  common(groups.command('vouch'))
    .description('say that a peer of a group is one of our devices running an ordinary client (which cannot confirm itself): our statement names it, and companions show it under our persona as vouched, not confirmed')
    .argument('<GROUP>', 'chat id, a unique prefix of 8+ hex, or the group number')
    .argument('<PEER>', 'the peer\'s key in that group (8+ hex; "groups" lists them)')
    .argument('<DEVICE>', 'our device it is (key or 8+ hex of one in our list)')
    .action(async (group: string, peer: string, device: string, _o: Opts, cmd: Command) => {
      const o = all(cmd);
      const r = (await callOperation(o, 'groupVouch', { group, peer, device })) as GroupListing;
      print(!!o.json, r, () => groupsText({ groups: [r], invites: [] }));
    });
}

// Groups on loopback (libtoxcore 0.2.19+): Alice's phone companion and Bob's companion are in a public NGC group. Each run
// Alice enrolls a laptop that runs a companion: enroll → the laptop invited (and, as a step of it, the siblings
// connected) and the laptop's join → every companion (phone, Bob, laptop) shows the laptop's peer merged into Alice's
// persona. Median and p95 over RUNS runs, against a baseline measured in the same run: a bare group custom packet,
// phone → Bob's node. Real tox-bootstrapd, real nodes, the companion's code path.
//
// Run (the system's 0.2.18 has no NGC; use the sid library as scripts/test-versions.sh does):
//   lib=$(bash scripts/get-libtoxcore.sh sid)
//   TOX_PERSONA_LIBTOXCORE=$lib LD_LIBRARY_PATH=$(dirname $lib) npx tsx bench/groups.ts [runs=5] [packets=20]
import { copyFile, chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBootstrapd } from '../src/tox/bootstrapd.js';
import { libtoxcoreInfo } from '../src/ffi/index.js';
import { Companion, loadCompanionState } from '../src/companion/companion.js';
import { loadConfig } from '../src/companion/config.js';
import { createLogger } from '../src/companion/log.js';
import { openNode, type ToxNodePort } from '../src/companion/node-adapter.js';
import { initDataDir } from '../src/companion/open.js';
import { dataPath } from '../src/companion/datadir.js';
import { runOperation } from '../src/companion/ops.js';
import type { GroupListing } from '../src/companion/groups.js';
import type { BootstrapNode } from '../src/tox/nodes.js';
import { until } from '../src/cli/demo.js';

const RUNS = Number(process.argv[2] ?? 5);
const PACKETS = Number(process.argv[3] ?? 20);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `n=${s.length} median ${pct(s, 50).toFixed(1)} ms, p95 ${pct(s, 95).toFixed(1)} ms, min ${s[0]!.toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
}
const med = (x: number[]) => pct([...x].sort((a, b) => a - b), 50);

interface Running {
  companion: Companion;
  node: ToxNodePort;
}

async function main(): Promise<void> {
  const { version } = libtoxcoreInfo();
  if (version === '0.2.18') {
    console.log('groups bench: libtoxcore 0.2.18 has no NGC groups; run it with a 0.2.19+ library (see the header of bench/groups.ts)');
    return;
  }
  console.log(`groups bench on libtoxcore ${version}, ${RUNS} runs`);
  const root = await mkdtemp(join(tmpdir(), 'tp-bench-groups-'));
  const bd = await startBootstrapd();
  const all: Running[] = [];
  const log = createLogger({ level: 'warn' });
  const start = async (dir: string, name: string, boot: BootstrapNode, existing = false): Promise<Running> => {
    if (!existing) await initDataDir(dir, { deviceName: name });
    const config = loadConfig({ dir, env: {}, readFile: false, flags: { localDiscovery: false, ipv6: false, name, statusText: '' } });
    const node = await openNode({ profilePath: dataPath(dir, 'profile'), ipv6: false, localDiscovery: false });
    const state = await loadCompanionState(dir, node.publicKey, config.ttlSeconds, undefined, { selfStatusMessage: node.statusMessage() });
    const companion = new Companion(config, state, { node, log });
    await companion.start([boot]);
    const r = { companion, node };
    all.push(r);
    return r;
  };
  try {
    const boot = bd.node();
    const phone = await start(join(root, 'phone'), 'phone', boot);
    const bob = await start(join(root, 'bob'), 'bob', boot);
    const alice = phone.companion.personaId;
    await runOperation(bob.companion, 'friendAdd', { toxId: phone.node.address });
    await runOperation(phone.companion, 'friendAdd', { toxId: bob.node.address });
    await until(() => bob.companion.personas().find((p) => p.personaId === alice && p.state === 'verified'), 'Bob to verify Alice', 120_000);
    const created = (await runOperation(phone.companion, 'groupCreate', { name: 'bench', public: true })) as GroupListing;
    const chatId = created.chatId;
    await runOperation(bob.companion, 'groupJoin', { chatId });
    const peersOf = (r: Running) => r.companion.groups.view(chatId)?.personas.find((p) => p.personaId === alice)?.peers ?? [];
    await until(() => peersOf(bob).some((p) => p.peerKey === created.selfPeerKey && p.confirmed), 'Bob to see Alice\'s phone in the group', 120_000);

    // Baseline in the same run: a bare group custom packet, phone's node → Bob's node (no statement, no verification).
    const phoneTox = phone.node.tox;
    const bobTox = bob.node.tox;
    const raw: number[] = [];
    for (let i = 0; i < PACKETS; i++) {
      const tag = Buffer.from(`bench-${i}-${Math.random()}`);
      let t1 = 0;
      const seen = new Promise<void>((resolveSeen, rejectSeen) => {
        const timer = setTimeout(() => rejectSeen(new Error(`timed out waiting for Bob's node to receive group packet ${i}`)), 30_000);
        const on = (e: { data: Uint8Array }) => {
          if (!Buffer.from(e.data).equals(tag)) return;
          t1 = performance.now();
          clearTimeout(timer);
          bobTox.off('groupCustomPacket', on);
          resolveSeen();
        };
        bobTox.on('groupCustomPacket', on);
      });
      const t0 = performance.now();
      phoneTox.groupSendCustomPacket(created.group, tag, true);
      await seen;
      raw.push(t1 - t0);
    }
    console.log(`baseline: bare group custom packet phone -> Bob's node: ${summary(raw)}`);

    const toConnected: number[] = [];
    const toInvited: number[] = [];
    const joinToMerged: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const dir = join(root, `laptop-${i}`);
      await mkdir(dir, { recursive: true });
      const t0 = performance.now();
      const enrolled = (await runOperation(phone.companion, 'deviceEnroll', { out: dataPath(dir, 'profile'), name: `laptop${i}` })) as { publicKey: string };
      await copyFile(dataPath(join(root, 'phone'), 'personaKey'), dataPath(dir, 'personaKey'));
      await chmod(dataPath(dir, 'personaKey'), 0o600);
      // The laptop is the phone's rekeyed copy; its companion starts right after enroll, as a user would start it.
      let tInvited = 0;
      let tJoined = 0;
      let laptop: Running | undefined;
      const startLaptop = start(dir, `laptop${i}`, boot, true).then((r) => {
        laptop = r;
        r.node.tox.on('groupInvite', () => (tInvited ||= performance.now()));
        r.node.tox.on('groupSelfJoin', () => (tJoined ||= performance.now()));
        return r;
      });
      await startLaptop;
      await until(() => phone.node.friend(enrolled.publicKey)?.connection !== 'none' && phone.node.friend(enrolled.publicKey), 'the phone and the new laptop to connect', 120_000);
      toConnected.push(performance.now() - t0);
      await until(() => tInvited > 0, 'the laptop to receive the group invite', 120_000);
      toInvited.push(tInvited - t0);
      await until(() => tJoined > 0, 'the laptop to join the group', 120_000);
      const laptopPeer = () => laptop!.companion.groups.view(chatId)?.selfPeerKey;
      await until(() => [phone, bob, laptop!].every((r) => peersOf(r).some((p) => p.peerKey === laptopPeer() && p.confirmed)), 'every companion to show the laptop merged into Alice', 120_000);
      joinToMerged.push(performance.now() - tJoined);
      console.log(`run ${i + 1}: enroll -> siblings connected ${toConnected[i]!.toFixed(0)} ms, -> laptop invited ${toInvited[i]!.toFixed(0)} ms; laptop joined -> merged at phone, Bob and laptop ${joinToMerged[i]!.toFixed(0)} ms`);
      // The laptop leaves again, so every run starts from the same group (phone and Bob).
      await runOperation(laptop!.companion, 'groupLeave', { group: chatId });
      await laptop!.companion.close({ save: false });
      all.splice(all.indexOf(laptop!), 1);
      // And Alice drops it, so no run pays for the offline devices of earlier runs (friends the phone and Bob keep looking for).
      await runOperation(phone.companion, 'deviceRemove', { device: enrolled.publicKey });
      await runOperation(phone.companion, 'friendRemove', { friend: enrolled.publicKey });
      await until(() => !bob.node.friend(enrolled.publicKey), 'Bob to drop the removed laptop', 60_000);
    }
    console.log(`enroll -> siblings connected (Tox friend connection, a baseline of its own): ${summary(toConnected)}`);
    console.log(`enroll -> new device invited into the group: ${summary(toInvited)}`);
    console.log(`device joined -> every companion shows the merged persona: ${summary(joinToMerged)}`);
    console.log(`ratio (median join->merged / median bare group packet): ${(med(joinToMerged) / med(raw)).toFixed(1)}`);
    console.log(`ratio (median enroll->invited / median enroll->connected): ${(med(toInvited) / med(toConnected)).toFixed(2)}`);
  } finally {
    for (const r of all.reverse()) await r.companion.close({ save: false }).catch(() => undefined);
    await bd.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();

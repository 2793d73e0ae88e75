// Scale: one companion with 1,000 friends, each publishing its own persona's signed list. Measures the time to push all
// 1,000 lists through the companion's code path (the start-up scan → onStatusMessage → table → actions) against bare
// decode+verify of the same messages in the same run, then the daemon's start-up time and peak RSS as a child process,
// first with an empty table (1,000 lists to verify) and then with the 1,000-entry table. Run: npx tsx bench/scale.ts [friends=1000]
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { readFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/companion/config.js';
import { createLogger } from '../src/companion/log.js';
import { initDataDir } from '../src/companion/open.js';
import { openNode } from '../src/companion/node-adapter.js';
import { Companion, loadCompanionState } from '../src/companion/companion.js';
import * as P from '../src/companion/persona-port.js';
import { buildStatusMessage, emptyTable, loadTable } from '../src/persona/index.js';
import { decodeStatusMessage } from '../src/persona/codec.js';
import { parseProfile, writeProfile } from '../src/profile/codec.js';
import type { SavedFriend } from '../src/profile/format.js';
import { generateKeyPair } from '../src/profile/keys.js';
import { bytesToHex } from '../src/util/bytes.js';
import { until } from '../src/cli/demo.js';

const N = Number(process.argv[2] ?? 1000);
const CLI = resolve(import.meta.dirname, '../dist/src/cli/main.js');

async function daemonStart(dir: string): Promise<{ readyMs: number; peakRssMb: number }> {
  const t0 = performance.now();
  // A bootstrap node nobody answers at: start-up work only, no network traffic.
  const child = spawn(process.execPath, [CLI, 'run', '--dir', dir, '--log-level', 'warn', '--bootstrap', `127.0.0.1:9:${'00'.repeat(32)}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const runtime = join(dir, 'daemon.json');
  await until(() => existsSync(runtime) && JSON.parse(readFileSync(runtime, 'utf8')).pid === child.pid, 'the daemon to be ready', 120_000);
  const readyMs = performance.now() - t0;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
  return { readyMs, peakRssMb: Number(hwm?.[1] ?? 0) / 1024 };
}

async function bareToxRss(profile: string): Promise<number> {
  const nodeModule = resolve(import.meta.dirname, '../dist/src/tox/node.js');
  const code = `const { ToxNode } = await import(${JSON.stringify(nodeModule)}); const fs = await import('node:fs');
    const t = await ToxNode.create({ savedata: fs.readFileSync(${JSON.stringify(profile)}), ipv6: false, localDiscovery: false });
    console.log(t.friendList().length, /VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); t.close();`;
  const out = await new Promise<string>((ok, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (c) => (c === 0 ? ok(text) : fail(new Error(`bare ToxNode child exited ${c}`))));
  });
  return Number(out.trim().split(/\s+/)[1]) / 1024;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tp-bench-scale-'));
  try {
    const dir = join(root, 'bob');
    await initDataDir(dir, { deviceName: 'bob' });
    await P.ready();

    // N personas; persona i's list names friend device i (and every 10th also names a second device Bob will add).
    const t0 = performance.now();
    const now = Date.now() / 1000;
    const friends: SavedFriend[] = [];
    const messages: Array<{ from: string; text: string }> = [];
    for (let i = 0; i < N; i++) {
      const key = await P.newPersonaKey();
      const device = bytesToHex(generateKeyPair().publicKey);
      const devices = [{ publicKey: device, name: `friend${i}` }];
      if (i % 10 === 0) devices.push({ publicKey: bytesToHex(generateKeyPair().publicKey), name: 'second' });
      const text = buildStatusMessage(P.signNext(undefined, devices, key.pair, now, 7 * 24 * 3600), `friend ${i}`);
      messages.push({ from: device, text });
      friends.push({
        status: 3, publicKey: Buffer.from(device, 'hex'), requestMessage: new Uint8Array(0), name: new TextEncoder().encode(`friend${i}`),
        statusMessage: new TextEncoder().encode(text), userStatus: 0, requestNospam: new Uint8Array(4), lastSeen: 0n,
      } as SavedFriend);
    }
    // Put the friends, with their last status messages, into Bob's profile, as toxcore would have saved them.
    const profilePath = join(dir, 'profile.tox');
    const profile = parseProfile(new Uint8Array(await readFile(profilePath)));
    const sections = profile.sections.filter((s) => s.kind !== 'friends');
    const end = sections.findIndex((s) => s.kind === 'end');
    sections.splice(end < 0 ? sections.length : end, 0, { kind: 'friends', friends } as never);
    await writeFile(profilePath, writeProfile({ ...profile, sections }), { mode: 0o600 });
    console.log(`prepared ${N} friends with signed lists in ${(performance.now() - t0).toFixed(0)} ms`);

    // Baseline in the same run: bare decode + verify of the same messages.
    const b0 = performance.now();
    let ok = 0;
    for (const m of messages) if (decodeStatusMessage(m.text).ok) ok++;
    const bareMs = performance.now() - b0;
    if (ok !== N) throw new Error(`only ${ok}/${N} messages verify`);

    // The companion path, in process: the start-up scan feeds every friend's saved status message to onStatusMessage.
    const rss0 = process.memoryUsage().rss;
    const node = await openNode({ profilePath });
    if (node.friends().length !== N) throw new Error(`profile loaded ${node.friends().length} friends, expected ${N}`);
    const config = loadConfig({ dir, env: {}, readFile: false, flags: { admin: { enabled: false } } });
    const c = new Companion(config, await loadCompanionState(dir, node.publicKey, config.ttlSeconds), { node, log: createLogger({ level: 'warn' }) });
    const s0 = performance.now();
    c.scanFriends();
    const scanMs = performance.now() - s0;
    const f0 = performance.now();
    await c.flush();
    const saveMs = performance.now() - f0;
    const counts = P.countByState(loadTable ? (await loadTable(join(dir, 'personas.json'))) : emptyTable());
    const rss1 = process.memoryUsage().rss;
    const friendsAfter = node.friends().length;
    await c.close();
    console.log(`bare decode+verify of ${N} messages: ${bareMs.toFixed(0)} ms (${((N / bareMs) * 1000).toFixed(0)}/s)`);
    console.log(`companion path for ${N} lists (verify + table + actions): ${scanMs.toFixed(0)} ms (${((N / scanMs) * 1000).toFixed(0)}/s), ${(bareMs / scanMs * 100).toFixed(0)}% of bare verify throughput`);
    console.log(`save (profile + ${N}-entry table): ${saveMs.toFixed(0)} ms; table states ${JSON.stringify(counts)}; friends ${N} -> ${friendsAfter} (devices added by the companion)`);
    console.log(`in-process RSS: ${(rss0 / 2 ** 20).toFixed(0)} MB before, ${(rss1 / 2 ** 20).toFixed(0)} MB after, peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (includes the bench's own preparation)`);

    // As a real daemon process: start-up with the 1,000-entry table (lists unchanged, re-verified by the scan).
    const warm = await daemonStart(dir);
    console.log(`daemon start-up with a ${N}-entry table and ${friendsAfter} friends: ready in ${warm.readyMs.toFixed(0)} ms, peak RSS ${warm.peakRssMb.toFixed(0)} MB`);
    // Baseline: libtoxcore alone loading the same profile (its own memory for ${N} friends), as a bare child process.
    const bare = await bareToxRss(join(dir, 'profile.tox'));
    console.log(`bare ToxNode process loading the same profile: peak RSS ${bare.toFixed(0)} MB (libtoxcore's share of the daemon's RSS)`);
    // Baseline for the same machine and run: the daemon with an empty data directory.
    const emptyDir = join(root, 'empty');
    await initDataDir(emptyDir, {});
    const empty = await daemonStart(emptyDir);
    console.log(`daemon start-up with no friends (baseline): ready in ${empty.readyMs.toFixed(0)} ms, peak RSS ${empty.peakRssMb.toFixed(0)} MB`);
  } finally {
    if (process.env.KEEP) console.log(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

// Cost of one trivial libtoxcore call through bare koffi (declared here) versus through the generated src/ffi binding.
//
// Run: npx tsx bench/ffi-call.ts [iterations].
import koffi from 'koffi';
import { libtoxcoreInfo, loadToxcore, type Ptr } from '../src/ffi/index.js';
import { ToxNode } from '../src/tox/node.js';
import { compareNsPerCall, formatRatioTable, type Row } from './lib.js';

/** Measures and prints the per-call cost tables; returns them for bench/run-all.ts. */
export function runFfiCallBench(iterations = 1_000_000): { versionMajor: Row[]; iterationInterval: Row[] } {
  const ffi = loadToxcore();

  // Bare koffi: a library handle and functions declared right here, with no generated code in between.
  const bareLib = koffi.load(libtoxcoreInfo(ffi).path);
  const bareVersionMajor = bareLib.func('uint32_t tox_version_major(void)') as () => number;
  const bareIterationInterval = bareLib.func('uint32_t tox_iteration_interval(const void *tox)') as (tox: bigint) => number;

  const opts = ffi.tox_options_new([0]);
  if (opts === null) throw new Error('tox_options_new failed');
  ffi.tox_options_set_ipv6_enabled(opts, false);
  ffi.tox_options_set_local_discovery_enabled(opts, false);
  // No bootstrap is ever called, so the node stays offline and touches no network.
  const err = [0];
  const tox: Ptr<'Tox'> | null = ffi.tox_new(opts, err);
  ffi.tox_options_free(opts);
  if (tox === null) throw new Error(`tox_new failed with error ${err[0]}`);
  // The safe layer on its own (offline) instance: the same C call plus the use-after-close check.
  const node = ToxNode.createSync({ ipv6: false, localDiscovery: false });
  try {
    // To add a path (ToxNode), append one entry to each list; rounds are interleaved across all entries.
    const versionMajor = compareNsPerCall(
      [
        { label: 'bare koffi', fn: () => bareVersionMajor() },
        { label: 'src/ffi', fn: () => ffi.tox_version_major() },
      ],
      iterations,
    );
    const iterationInterval = compareNsPerCall(
      [
        { label: 'bare koffi', fn: () => bareIterationInterval(tox) },
        { label: 'src/ffi', fn: () => ffi.tox_iteration_interval(tox) },
        { label: 'ToxNode', fn: () => node.iterationInterval() },
      ],
      iterations,
    );
    console.log(`ffi-call: ${iterations} calls per round, median of 9 interleaved rounds, libtoxcore ${libtoxcoreInfo(ffi).version} (${libtoxcoreInfo(ffi).path}), koffi ${koffi.version}`);
    console.log(formatRatioTable('tox_version_major()', versionMajor, 'bare koffi'));
    console.log(formatRatioTable('tox_iteration_interval(tox)', iterationInterval, 'bare koffi'));
    return { versionMajor, iterationInterval };
  } finally {
    node.close();
    ffi.tox_kill(tox);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  runFfiCallBench(n);
}

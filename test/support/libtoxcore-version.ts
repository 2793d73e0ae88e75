// The libtoxcore version the tests expect the code under test to run on: what CI says it set up, else what this process loads.
import { libtoxcoreInfo } from '../../src/ffi/index.js';

/**
 * "major.minor.patch" of the library in use. CI (.ci/run) sets TOX_PERSONA_EXPECT_LIBTOXCORE next to
 * TOX_PERSONA_LIBTOXCORE for each version run, so a run that silently loaded another library fails; without it,
 * the version this test process loads (the same TOX_PERSONA_LIBTOXCORE / system library the CLI children get).
 */
export function expectedLibtoxcoreVersion(): string {
  const fromCi = process.env.TOX_PERSONA_EXPECT_LIBTOXCORE;
  if (fromCi) return fromCi;
  return libtoxcoreInfo().version;
}

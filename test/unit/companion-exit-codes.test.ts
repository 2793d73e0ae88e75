// The CLI's exit codes for the typed errors the companion and the data directory throw (docs/CLI.md "Exit codes").
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/output.js';
import { ToxPersonaError } from '../../src/util/errors.js';
import { ERROR_CODES, ERROR_KINDS, httpStatusForCode } from '../../src/util/error-codes.js';

const code = (c: string) => exitCodeFor(new ToxPersonaError(c, 'x'));

describe('exitCodeFor', () => {
  it('damaged or unusable files in the data directory are 3, the key file\'s included', () => {
    for (const c of ['NOT_INITIALIZED', 'BAD_FILE', 'TABLE_CORRUPT', 'KEY_FILE_NOT_FOUND', 'KEY_FILE_PERMISSIONS', 'KEY_FILE_CORRUPT']) expect(code(c), c).toBe(3);
  });

  it('an ambiguous reference is a usage error (2); a refused approval is 5; a plain Error is 1', () => {
    expect(code('AMBIGUOUS')).toBe(2);
    expect(code('BAD_ARGUMENT')).toBe(2);
    expect(code('APPROVE_REFUSED')).toBe(5);
    expect(code('FUTURE_DATED')).toBe(5);
    expect(exitCodeFor(new Error('bug'))).toBe(1);
  });

  it('not applied (2-5) and outcome unknown (6) are distinct: a lost answer or a failed save is 6, a refused connection or a held lock 4, an invalid key 2', () => {
    expect(code('OUTCOME_UNKNOWN')).toBe(6);
    expect(code('SAVE_FAILED')).toBe(6);
    expect(code('DAEMON_UNREACHABLE')).toBe(4);
    expect(code('LOCKED')).toBe(4);
    expect(code('INVALID_PUBLIC_KEY')).toBe(2);
    expect(code('DEVICE_EXISTS')).toBe(5);
    expect(httpStatusForCode('SAVE_FAILED')).toBe(503);
  });

  it('one registry: every listed code has a kind with an exit code and an HTTP status, and a one-line meaning', () => {
    for (const [c, e] of Object.entries(ERROR_CODES)) {
      expect(ERROR_KINDS[e.kind], c).toBeDefined();
      expect(e.doc.length, c).toBeGreaterThan(10);
      expect(exitCodeFor(new ToxPersonaError(c, 'x')), c).toBe(ERROR_KINDS[e.kind].exit);
      expect(httpStatusForCode(c), c).toBe(ERROR_KINDS[e.kind].http);
    }
    expect(httpStatusForCode('UNKNOWN_DEVICE')).toBe(404);
    expect(httpStatusForCode('LOCKED')).toBe(409);
    expect(httpStatusForCode('SOMETHING_ELSE')).toBe(400);
    expect(code('SOMETHING_ELSE')).toBe(5);
  });
});

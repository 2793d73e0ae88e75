// Assertions on the profile layer's typed errors, shared by the profile tests (kept apart from profile-tox.ts, which benches import without vitest).
import { expect } from 'vitest';
import { ProfileError, type ProfileErrorCode } from '../../src/profile/index.js';

/** Asserts that `fn` throws a ProfileError with `code`. */
export function expectProfileError(fn: () => unknown, code: ProfileErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ProfileError ${code}`).toBeInstanceOf(ProfileError);
  expect((caught as ProfileError).code).toBe(code);
}

/** Asserts that `p` rejects with a ProfileError with `code`. */
export async function expectProfileErrorAsync(p: Promise<unknown>, code: ProfileErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ProfileError ${code}`).toBeInstanceOf(ProfileError);
  expect((err as ProfileError).code).toBe(code);
}

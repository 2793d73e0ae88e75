// Loads libsodium once for the whole persona layer, so that every codec and table function can stay synchronous.
import sodium from 'libsodium-wrappers';

// Top-level await: any module that imports the persona layer gets a ready libsodium, no init call to forget.
await sodium.ready;

/** The initialised libsodium-wrappers instance shared by the persona layer. */
export { sodium };

/** Resolves when libsodium is ready; it already is once this module has loaded, kept for callers that want to be explicit. */
export async function personaReady(): Promise<void> {
  await sodium.ready;
}

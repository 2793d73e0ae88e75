// Public API of the profile layer: Tox savedata parse/write, encryption, rekey and inspection.
export * from './errors.js';
export * from './format.js';
export { parseProfile, writeProfile, encodeFriend, hasEncryptedMagic, ENCRYPTED_MAGIC, type ParseProfileOptions } from './codec.js';
export * from './nodes.js';
export * from './conferences.js';
export * from './groups.js';
export * from './keys.js';
export * from './sections.js';
export * from './encrypted.js';
export * from './rekey.js';
export * from './inspect.js';
export * from './sync.js';
export { profileInUse } from './in-use.js';

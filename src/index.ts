// Public entry point of the tox-persona package: re-exports the stable API of each layer.
export { writeFileAtomic, fsyncDir } from './util/fs.js';
export * from './persona/index.js';
export * from './profile/index.js';
export * from './tox/index.js';
export * from './companion/index.js';

// The raw libtoxcore binding: loads libtoxcore.so.2 once, reads its version, and binds the generated koffi declarations
// of that version by C name; no logic beyond loading, the version check and skipping what the version lacks.
//
// Versions: the binding is generated from the headers of every version in `apiVersions` (native/api/*.json). At load
// time tox_version_major/minor/patch pick the description to bind:
// - a known version binds exactly its own functions; one of them missing is LIBTOXCORE_SYMBOL_MISSING (a broken build);
// - below 0.2.18 is LIBTOXCORE_TOO_OLD; a library without tox_version_* is LIBTOXCORE_NOT_TOXCORE;
// - an unknown version (0.2.19, 0.2.21, or newer than the newest known) uses the newest known description at or below
//   it, binds what the library exports of it, and emits a `ToxPersonaWarning` with code LIBTOXCORE_VERSION_UNKNOWN.
// A function the bound description lacks (or, on an unknown version, the library lacks) is a stub that throws
// FfiLoadError LIBTOXCORE_FUNCTION_UNAVAILABLE when called; `isAvailable` tells beforehand.
//
// koffi 3.3 facts this layer relies on (checked by test/unit/ffi-smoke.test.ts):
// - Pointers are BigInt. A NULL pointer comes back as `null` (not 0n); pass `null` for NULL.
// - `_Out_ Tox_Err_* *error` takes a one-element array: `const err = [0]; f(..., err); err[0]`.
// - Output byte buffers (`uint8_t *`) take a Buffer/Uint8Array of the right size; `uint32_t *` takes a Uint32Array.
// - `const char *` parameters take a JS string (copied for the call only) or a NUL-terminated Buffer; pass a
//   Buffer you keep alive for anything toxcore stores (tox_options_set_proxy_host).
// - `const uint8_t *` results and callback arguments arrive as BigInt: copy them out with readBytes(ptr, len)
//   (koffi.decode(ptr, 'uint8_t', len) copies into a fresh Uint8Array; koffi.view aliases C memory, so it is not used).
// - Callbacks: registerCallback('tox_friend_message_cb', fn) (= koffi.register with the generated proto), keep the
//   returned pointer and unregisterCallback it after the callback is cleared in C. Never let a JS exception escape into C.
import { existsSync } from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';
import { ToxPersonaError } from '../util/errors.js';
import {
  apiVersions,
  bindFunctions,
  callbackPrototypes,
  functionPrototypes,
  registerTypes,
  type ApiVersion,
  type CallbackName,
  type FunctionName,
  type Ptr,
  type ToxcoreCallbacks,
  type ToxcoreFunctions,
  type Variant,
} from './generated.js';

export * from './generated.js';

/** The library name koffi asks the dynamic loader for; `TOX_PERSONA_LIBTOXCORE` may name a specific file instead. */
export const LIBTOXCORE_NAME = 'libtoxcore.so.2';

/** The oldest libtoxcore the binding accepts. */
export const MIN_LIBTOXCORE_VERSION = '0.2.18';

/** Codes of {@link FfiLoadError}. */
export type FfiLoadErrorCode =
  /** The library file was not found by the dynamic loader. */
  | 'LIBTOXCORE_NOT_FOUND'
  /** The file exists but the dynamic loader refused it (not a shared library, wrong architecture, a dependency missing). */
  | 'LIBTOXCORE_LOAD_FAILED'
  /** The library loaded but has no tox_version_* functions: it is not libtoxcore. */
  | 'LIBTOXCORE_NOT_TOXCORE'
  /** The library is older than 0.2.18. */
  | 'LIBTOXCORE_TOO_OLD'
  /** The library claims a known version but lacks one of that version's functions. */
  | 'LIBTOXCORE_SYMBOL_MISSING'
  /** A function the loaded version does not have was called. */
  | 'LIBTOXCORE_FUNCTION_UNAVAILABLE';

/** A problem with the libtoxcore library itself: not found, not libtoxcore, too old, incomplete, or lacking a called function. */
export class FfiLoadError extends ToxPersonaError {
  declare readonly code: FfiLoadErrorCode;
  constructor(code: FfiLoadErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The loaded binding: every generated function, keyed by its C name (stubs that throw for what the version lacks). */
export type ToxFfi = ToxcoreFunctions;

/** What was loaded: the file, the version it reports, and the API description bound for it. */
export interface LibtoxcoreInfo {
  /** The path or name given to the loader. */
  readonly path: string;
  /** `major.minor.patch` as tox_version_* report it. */
  readonly version: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** The API description bound: the version itself when known, else the newest known version below it. */
  readonly api: ApiVersion;
  /** Whether `version` is one of `apiVersions` (tested); false means the binding ran with a warning. */
  readonly known: boolean;
  /** Functions actually bound (everything else is a stub that throws LIBTOXCORE_FUNCTION_UNAVAILABLE). */
  readonly bound: ReadonlySet<FunctionName>;
}

/** koffi type objects of every callback typedef variant by koffi name (`tox_friend_message_cb`, ...). */
export const protos = registerTypes();

const infos = new WeakMap<ToxFfi, LibtoxcoreInfo>();
let loaded: ToxFfi | undefined;

/** Loads libtoxcore (once per process: `TOX_PERSONA_LIBTOXCORE` or libtoxcore.so.2) and returns the bound functions; throws FfiLoadError. */
export function loadToxcore(): ToxFfi {
  loaded ??= loadToxcoreFrom(process.env.TOX_PERSONA_LIBTOXCORE || LIBTOXCORE_NAME);
  return loaded;
}

/** Version, path and bound functions of a binding (default: the process-wide one of {@link loadToxcore}). */
export function libtoxcoreInfo(ffi: ToxFfi = loadToxcore()): LibtoxcoreInfo {
  const info = infos.get(ffi);
  if (!info) throw new TypeError('libtoxcoreInfo: not a binding returned by loadToxcore/loadToxcoreFrom');
  return info;
}

/** Whether `name` is bound to a real function of the loaded library (false: calling it throws LIBTOXCORE_FUNCTION_UNAVAILABLE). */
export function isAvailable(name: FunctionName, ffi: ToxFfi = loadToxcore()): boolean {
  return libtoxcoreInfo(ffi).bound.has(name);
}

/** Orders `0.2.9` before `0.2.18`. */
function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

const parse = (v: string): number[] => v.split('.').map(Number);

/** Loads and binds the library at `path` without caching (tests, other builds); throws FfiLoadError with a fix-it hint. */
export function loadToxcoreFrom(path: string): ToxFfi {
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (cause) {
    const message = (cause as Error).message;
    // A bare soname is looked up by the loader; a path that exists but fails to load is a different problem.
    if (path.includes('/') && existsSync(path)) {
      throw new FfiLoadError(
        'LIBTOXCORE_LOAD_FAILED',
        `cannot load ${path} (${message}): not a shared library for this machine, or a library it needs is missing ` +
          '(set LD_LIBRARY_PATH to the folder holding its libsodium/libvpx)',
        { cause },
      );
    }
    throw new FfiLoadError('LIBTOXCORE_NOT_FOUND', `cannot load ${path} (${message}); run scripts/setup.sh to install libtoxcore2`, { cause });
  }
  try {
    return bindLibrary(lib, path);
  } catch (err) {
    lib.unload();
    throw err;
  }
}

function bindLibrary(lib: LibraryHandle, path: string): ToxFfi {
  let v: number[];
  try {
    v = ['major', 'minor', 'patch'].map((k) => (lib.func(`uint32_t tox_version_${k}(void)`) as () => number)());
  } catch (cause) {
    throw new FfiLoadError('LIBTOXCORE_NOT_TOXCORE', `${path} is not libtoxcore: it has no tox_version_major/minor/patch`, { cause });
  }
  const version = v.join('.');
  if (compareVersions(v, parse(MIN_LIBTOXCORE_VERSION)) < 0) {
    throw new FfiLoadError('LIBTOXCORE_TOO_OLD', `${path} is libtoxcore ${version}; tox-persona needs ${MIN_LIBTOXCORE_VERSION} or newer`);
  }
  const known = (apiVersions as readonly string[]).includes(version);
  const api = [...apiVersions].reverse().find((a) => compareVersions(parse(a), v) <= 0)!;
  if (!known) {
    const newest = apiVersions[apiVersions.length - 1]!;
    process.emitWarning(
      `${path} is libtoxcore ${version}, which tox-persona was not tested with (known: ${apiVersions.join(', ')}); ` +
        `binding the ${api} API, functions it lacks are unavailable${compareVersions(v, parse(newest)) > 0 ? ' (newer than any known version)' : ''}`,
      { type: 'ToxPersonaWarning', code: 'LIBTOXCORE_VERSION_UNKNOWN' },
    );
  }
  const bound = new Set<FunctionName>();
  const missing: string[] = [];
  const unavailable = (name: FunctionName) => (): never => {
    throw new FfiLoadError('LIBTOXCORE_FUNCTION_UNAVAILABLE', `${name} is not available in libtoxcore ${version} (${path})`);
  };
  const ffi = bindFunctions((name) => {
    const variant = (functionPrototypes[name] as readonly Variant[]).find((x) => x.includes(api, 1));
    if (variant === undefined) return unavailable(name);
    try {
      const fn = lib.func(variant[0]);
      bound.add(name);
      return fn;
    } catch {
      if (known) missing.push(name);
      return unavailable(name);
    }
  });
  if (missing.length > 0) {
    throw new FfiLoadError(
      'LIBTOXCORE_SYMBOL_MISSING',
      `${path} reports libtoxcore ${version} but lacks ${missing.length} of its functions (${missing.slice(0, 5).join(', ')}` +
        `${missing.length > 5 ? ', ...' : ''}); the build is incomplete`,
    );
  }
  infos.set(ffi, { path, version, major: v[0]!, minor: v[1]!, patch: v[2]!, api, known, bound });
  return ffi;
}

/** Copies `len` bytes at a C pointer into a new Buffer (C memory is only valid during the call or callback that gave it). */
export function readBytes(ptr: Ptr<'uint8_t'> | bigint | null, len: number): Buffer {
  if (len === 0) return Buffer.alloc(0);
  if (ptr === null) throw new TypeError(`readBytes: NULL pointer with length ${len}`);
  const bytes = koffi.decode(ptr, 'uint8_t', len) as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Registers a JS function as a C callback of typedef `name` for the loaded library's version
 * (`koffi.register(fn, koffi.pointer(proto))`). Keep the result until the callback is cleared in C, then
 * unregisterCallback it; koffi allows 8192 at once. The function must never throw: an exception would unwind through toxcore.
 */
export function registerCallback<N extends CallbackName>(name: N, fn: ToxcoreCallbacks[N], ffi: ToxFfi = loadToxcore()): Ptr<N> {
  const { api } = libtoxcoreInfo(ffi);
  const variant = (callbackPrototypes[name] as readonly Variant[]).find((x) => x.includes(api, 1));
  if (variant === undefined) {
    throw new FfiLoadError('LIBTOXCORE_FUNCTION_UNAVAILABLE', `callback type ${name} does not exist in libtoxcore ${libtoxcoreInfo(ffi).version}`);
  }
  const proto = protos.get(/(\w+)\(/.exec(variant[0])![1]!)!;
  return koffi.register(fn, koffi.pointer(proto)) as Ptr<N>;
}

/** Releases a callback from registerCallback; only after toxcore no longer holds it (set the C callback to null first). */
export function unregisterCallback(cb: Ptr<CallbackName>): void {
  koffi.unregister(cb);
}

/** Casts a BigInt that koffi handed over (callback argument, `void *`) to a typed pointer; the caller vouches for its C type. */
export function asPtr<T extends string>(value: bigint): Ptr<T> {
  return value as Ptr<T>;
}

// The raw libtoxcore 0.2.18 binding: loads libtoxcore.so.2 once and exposes the generated koffi functions by C name, with no logic.
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
import koffi, { type LibraryHandle } from 'koffi';
import { ToxPersonaError } from '../util/errors.js';
import {
  bindFunctions,
  registerTypes,
  type CallbackName,
  type Ptr,
  type ToxcoreCallbacks,
  type ToxcoreFunctions,
} from './generated.js';

export * from './generated.js';

/** The library name koffi asks the dynamic loader for; `TOX_PERSONA_LIBTOXCORE` may name a specific file instead. */
export const LIBTOXCORE_NAME = 'libtoxcore.so.2';

/** Thrown when libtoxcore cannot be loaded (`LIBTOXCORE_NOT_FOUND`) or lacks a 0.2.18 symbol (`LIBTOXCORE_SYMBOL_MISSING`). */
export class FfiLoadError extends ToxPersonaError {
  constructor(code: 'LIBTOXCORE_NOT_FOUND' | 'LIBTOXCORE_SYMBOL_MISSING', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The loaded binding: every generated function, keyed by its C name. */
export type ToxFfi = ToxcoreFunctions;

/** koffi type objects of every callback typedef (`tox_friend_message_cb`, ...), for `koffi.register(fn, koffi.pointer(protos.X))`. */
export const protos = registerTypes();

let loaded: ToxFfi | undefined;

/** Loads libtoxcore (once per process: `TOX_PERSONA_LIBTOXCORE` or libtoxcore.so.2) and returns the bound functions; throws FfiLoadError. */
export function loadToxcore(): ToxFfi {
  loaded ??= loadToxcoreFrom(process.env.TOX_PERSONA_LIBTOXCORE || LIBTOXCORE_NAME);
  return loaded;
}

/** Loads and binds the library at `path` without caching (tests, other builds); throws FfiLoadError with a fix-it hint. */
export function loadToxcoreFrom(path: string): ToxFfi {
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (cause) {
    throw new FfiLoadError(
      'LIBTOXCORE_NOT_FOUND',
      `cannot load ${path} (${(cause as Error).message}); run scripts/setup.sh to install libtoxcore2 0.2.18`,
      { cause },
    );
  }
  try {
    return bindFunctions(lib);
  } catch (cause) {
    lib.unload();
    throw new FfiLoadError(
      'LIBTOXCORE_SYMBOL_MISSING',
      `${path} does not provide the libtoxcore 0.2.18 API (${(cause as Error).message}); run scripts/setup.sh`,
      { cause },
    );
  }
}

/** Copies `len` bytes at a C pointer into a new Buffer (C memory is only valid during the call or callback that gave it). */
export function readBytes(ptr: Ptr<'uint8_t'> | bigint | null, len: number): Buffer {
  if (len === 0) return Buffer.alloc(0);
  if (ptr === null) throw new TypeError(`readBytes: NULL pointer with length ${len}`);
  const bytes = koffi.decode(ptr, 'uint8_t', len) as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Registers a JS function as a C callback of typedef `name` (`koffi.register(fn, koffi.pointer(protos[name]))`).
 * Keep the result until the callback is cleared in C, then unregisterCallback it; koffi allows 8192 at once.
 * The function must never throw: an exception would unwind through toxcore.
 */
export function registerCallback<N extends CallbackName>(name: N, fn: ToxcoreCallbacks[N]): Ptr<N> {
  return koffi.register(fn, koffi.pointer(protos[name])) as Ptr<N>;
}

/** Releases a callback from registerCallback; only after toxcore no longer holds it (set the C callback to null first). */
export function unregisterCallback(cb: Ptr<CallbackName>): void {
  koffi.unregister(cb);
}

/** Casts a BigInt that koffi handed over (callback argument, `void *`) to a typed pointer; the caller vouches for its C type. */
export function asPtr<T extends string>(value: bigint): Ptr<T> {
  return value as Ptr<T>;
}

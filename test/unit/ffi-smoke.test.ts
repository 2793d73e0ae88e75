// Smoke test of the raw binding against the real libtoxcore under test: version, instance lifecycle, address, encryptsave
// round trip, NULL conventions, optional functions; and the load errors for files that are not a usable libtoxcore.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { headerVersion, headerDirOfLibrary } from '../../scripts/gen-ffi.js';
import {
  apiVersions,
  constantsByVersion,
  FfiLoadError,
  enumNames,
  isAvailable,
  libtoxcoreInfo,
  loadToxcore,
  loadToxcoreFrom,
  readBytes,
  registerCallback,
  unregisterCallback,
  Tox_Err_Decryption,
  Tox_Err_New,
  Tox_Err_Options_New,
  Tox_Savedata_Type,
  type Ptr,
} from '../../src/ffi/index.js';
import { loadedLibtoxcorePath } from '../support/libtoxcore.js';

const ffi = loadToxcore();
const info = libtoxcoreInfo(ffi);
const constants = constantsByVersion[info.api];

/** Creates a node with LAN discovery and IPv6 off (the test network rules), runs fn, always kills it. */
function withTox<T>(fn: (tox: Ptr<'Tox'>, opts: Ptr<'Tox_Options'>) => T): T {
  const oerr = [-1];
  const opts = ffi.tox_options_new(oerr);
  expect(oerr[0], 'tox_options_new error').toBe(Tox_Err_Options_New.TOX_ERR_OPTIONS_NEW_OK);
  expect(opts, 'tox_options_new pointer').not.toBeNull();
  ffi.tox_options_set_ipv6_enabled(opts!, false);
  ffi.tox_options_set_local_discovery_enabled(opts!, false);
  const err = [-1];
  const tox = ffi.tox_new(opts, err);
  try {
    expect(err[0], `tox_new error ${enumNames.Tox_Err_New.full[err[0]!]}`).toBe(Tox_Err_New.TOX_ERR_NEW_OK);
    expect(typeof tox, 'tox_new returns a BigInt pointer').toBe('bigint');
    return fn(tox!, opts!);
  } finally {
    ffi.tox_kill(tox);
    ffi.tox_options_free(opts);
  }
}

describe('raw binding smoke test (real libtoxcore)', () => {
  it('reports its version through tox_version_*, a known one that its own headers declare, and binds that version\'s API', () => {
    const v = [ffi.tox_version_major(), ffi.tox_version_minor(), ffi.tox_version_patch()];
    expect(v.join('.')).toBe(info.version);
    expect(info.known, `${info.version} is one of ${apiVersions.join(', ')}`).toBe(true);
    expect(info.api).toBe(info.version);
    // CI names the version it set up, so a run that silently loaded another library fails here.
    if (process.env.TOX_PERSONA_EXPECT_LIBTOXCORE) expect(info.version).toBe(process.env.TOX_PERSONA_EXPECT_LIBTOXCORE);
    expect(ffi.tox_version_is_compatible(v[0]!, v[1]!, v[2]!)).toBe(true);
    const lib = loadedLibtoxcorePath();
    const own = headerVersion(headerDirOfLibrary(lib));
    if (own !== undefined) expect(own, `the headers next to ${lib}`).toBe(info.version);
    console.log(`ffi smoke: libtoxcore ${info.version} from ${lib}, ${info.bound.size} functions bound`);
  });

  it('the size functions agree with the version\'s #define constants', () => {
    // Each size constant is both a #define and a function; both must agree.
    const fnOf: Record<string, () => number> = {
      TOX_PUBLIC_KEY_SIZE: ffi.tox_public_key_size,
      TOX_SECRET_KEY_SIZE: ffi.tox_secret_key_size,
      TOX_ADDRESS_SIZE: ffi.tox_address_size,
      TOX_NOSPAM_SIZE: ffi.tox_nospam_size,
      TOX_MAX_NAME_LENGTH: ffi.tox_max_name_length,
      TOX_MAX_STATUS_MESSAGE_LENGTH: ffi.tox_max_status_message_length,
      TOX_MAX_FRIEND_REQUEST_LENGTH: ffi.tox_max_friend_request_length,
      TOX_MAX_MESSAGE_LENGTH: ffi.tox_max_message_length,
      TOX_MAX_CUSTOM_PACKET_SIZE: ffi.tox_max_custom_packet_size,
      TOX_HASH_LENGTH: ffi.tox_hash_length,
      TOX_FILE_ID_LENGTH: ffi.tox_file_id_length,
      TOX_MAX_FILENAME_LENGTH: ffi.tox_max_filename_length,
      TOX_MAX_HOSTNAME_LENGTH: ffi.tox_max_hostname_length,
      TOX_CONFERENCE_UID_SIZE: ffi.tox_conference_uid_size,
      TOX_CONFERENCE_ID_SIZE: ffi.tox_conference_id_size,
      TOX_PASS_SALT_LENGTH: ffi.tox_pass_salt_length,
      TOX_PASS_KEY_LENGTH: ffi.tox_pass_key_length,
      TOX_PASS_ENCRYPTION_EXTRA_LENGTH: ffi.tox_pass_encryption_extra_length,
    };
    const mismatches = Object.entries(fnOf)
      .map(([name, f]) => [name, constants[name as keyof typeof constants], f()] as const)
      .filter(([, c, r]) => c !== r)
      .map(([name, c, r]) => `${name}: binding ${c}, library function ${r}`);
    expect(mismatches, `mismatches:\n${mismatches.join('\n')}`).toEqual([]);
  });

  it('creates a node, reads its 38-byte address whose first 32 bytes are its public key, and kills it', () => {
    withTox((tox) => {
      const address = Buffer.alloc(constants.TOX_ADDRESS_SIZE);
      ffi.tox_self_get_address(tox, address);
      const pk = Buffer.alloc(constants.TOX_PUBLIC_KEY_SIZE);
      ffi.tox_self_get_public_key(tox, pk);
      expect(address.length).toBe(38);
      expect(address.subarray(0, 32).equals(pk), 'address starts with the public key').toBe(true);
      expect(pk.equals(Buffer.alloc(32)), 'public key is not all zero').toBe(false);
      expect(ffi.tox_iteration_interval(tox)).toBeGreaterThan(0);
    });
  });

  it('uses null for NULL both ways, Uint32Array for uint32_t* out-lists, and the error out-array', () => {
    const err = [-1];
    const opts = ffi.tox_options_new(err)!;
    try {
      expect(ffi.tox_options_get_proxy_host(opts), 'unset const char * comes back as null').toBeNull();
      expect(ffi.tox_options_get_savedata_data(opts), 'unset const uint8_t * comes back as null').toBeNull();
      const sk = Buffer.alloc(32, 7);
      ffi.tox_options_set_savedata_type(opts, Tox_Savedata_Type.TOX_SAVEDATA_TYPE_SECRET_KEY);
      ffi.tox_options_set_savedata_data(opts, sk, sk.length);
      const p = ffi.tox_options_get_savedata_data(opts);
      expect(typeof p).toBe('bigint');
      expect(readBytes(p, 32).equals(sk), 'readBytes copies the bytes behind a const uint8_t *').toBe(true);
      const host = Buffer.from('127.0.0.1\0');
      ffi.tox_options_set_proxy_host(opts, host);
      expect(ffi.tox_options_get_proxy_host(opts)).toBe('127.0.0.1');
      ffi.tox_options_set_proxy_host(opts, null);
      ffi.tox_options_set_savedata_type(opts, Tox_Savedata_Type.TOX_SAVEDATA_TYPE_NONE);
      ffi.tox_options_set_savedata_data(opts, null, 0);
    } finally {
      ffi.tox_options_free(opts);
    }
    withTox((tox) => {
      const ferr = [-1];
      expect(ffi.tox_friend_add_norequest(tox, Buffer.alloc(32, 9), ferr)).toBe(0);
      expect(ffi.tox_friend_add_norequest(tox, Buffer.alloc(32, 10), ferr)).toBe(1);
      expect(ffi.tox_friend_add_norequest(tox, Buffer.alloc(32, 10), ferr)).toBe(0xffffffff);
      expect(enumNames.Tox_Err_Friend_Add.short[ferr[0]!]).toBe('ALREADY_SENT');
      const list = new Uint32Array(ffi.tox_self_get_friend_list_size(tox)).fill(99);
      ffi.tox_self_get_friend_list(tox, list);
      expect(Array.from(list)).toEqual([0, 1]);
    });
  });

  it('refuses garbage savedata with TOX_ERR_NEW_LOAD_BAD_FORMAT', () => {
    const opts = ffi.tox_options_new([0])!;
    try {
      const bad = Buffer.from('definitely not a tox profile');
      ffi.tox_options_set_savedata_type(opts, Tox_Savedata_Type.TOX_SAVEDATA_TYPE_TOX_SAVE);
      ffi.tox_options_set_savedata_data(opts, bad, bad.length);
      const err = [-1];
      const tox = ffi.tox_new(opts, err);
      ffi.tox_kill(tox);
      expect(enumNames.Tox_Err_New.full[err[0]!]).toBe('TOX_ERR_NEW_LOAD_BAD_FORMAT');
    } finally {
      ffi.tox_options_free(opts);
    }
  });

  it('round-trips tox_pass_encrypt / tox_pass_decrypt, and a wrong passphrase gives TOX_ERR_DECRYPTION_FAILED', () => {
    const plain = Buffer.from('profile bytes \u0000 with a NUL');
    const pass = Buffer.from('correct horse');
    const cipher = Buffer.alloc(plain.length + constants.TOX_PASS_ENCRYPTION_EXTRA_LENGTH);
    const eerr = [-1];
    expect(ffi.tox_pass_encrypt(plain, plain.length, pass, pass.length, cipher, eerr)).toBe(true);
    expect(eerr[0]).toBe(0);
    expect(ffi.tox_is_data_encrypted(cipher)).toBe(true);
    expect(cipher.subarray(0, 8).toString('latin1')).toBe('toxEsave');

    const out = Buffer.alloc(plain.length);
    const derr = [-1];
    expect(ffi.tox_pass_decrypt(cipher, cipher.length, pass, pass.length, out, derr)).toBe(true);
    expect(derr[0]).toBe(Tox_Err_Decryption.TOX_ERR_DECRYPTION_OK);
    expect(out.equals(plain)).toBe(true);

    const wrong = Buffer.from('wrong horse');
    expect(ffi.tox_pass_decrypt(cipher, cipher.length, wrong, wrong.length, out, derr)).toBe(false);
    expect(derr[0]).toBe(Tox_Err_Decryption.TOX_ERR_DECRYPTION_FAILED);
    expect(enumNames.Tox_Err_Decryption.short[derr[0]!]).toBe('FAILED');
  });

  it('delivers a registered callback (self connection status) through registerCallback', () => {
    withTox((tox) => {
      const seen: number[] = [];
      const cb = registerCallback('tox_self_connection_status_cb', (_t, status) => {
        seen.push(status);
      });
      try {
        ffi.tox_callback_self_connection_status(tox, cb);
        ffi.tox_iterate(tox, null);
        ffi.tox_callback_self_connection_status(tox, null);
      } finally {
        unregisterCallback(cb);
      }
      // @ts-expect-error a callback registered for another typedef is refused by the setter's type
      const mismatched = (): void => ffi.tox_callback_friend_message(tox, cb);
      expect(typeof mismatched).toBe('function');
      // No network: the callback may or may not fire, but registering, iterating and clearing must not crash.
      expect(seen.every((s) => s >= 0 && s <= 2)).toBe(true);
    });
  });

  it('a function this version lacks is an optional binding: it throws LIBTOXCORE_FUNCTION_UNAVAILABLE naming itself and the version', () => {
    // 0.2.18 has no NGC; 0.2.20+ dropped tox_options_get_operating_system; 0.2.22 exports no tox_events_*.
    const absent = (['tox_group_new', 'tox_options_get_operating_system', 'tox_events_iterate'] as const).filter((f) => !isAvailable(f));
    expect(absent.length, `libtoxcore ${info.version} lacks at least one of them`).toBeGreaterThan(0);
    for (const name of absent) {
      let caught: unknown;
      try {
        (ffi[name] as () => unknown)();
      } catch (e) {
        caught = e;
      }
      expect(caught, name).toBeInstanceOf(FfiLoadError);
      expect((caught as FfiLoadError).code).toBe('LIBTOXCORE_FUNCTION_UNAVAILABLE');
      expect((caught as FfiLoadError).message).toContain(name);
      expect((caught as FfiLoadError).message).toContain(info.version);
    }
    expect(isAvailable('tox_group_new')).toBe(info.api !== '0.2.18');
    expect(isAvailable('tox_events_iterate')).toBe(info.api !== '0.2.22');
  });

  it.runIf(isAvailable('tox_events_get_self_connection_status_size'))('reads events through tox_events_iterate (0.2.18 getters; empty batch without a network)', () => {
    withTox((tox) => {
      ffi.tox_events_init(tox);
      const err = [-1];
      const events = ffi.tox_events_iterate(tox, false, err);
      try {
        expect(enumNames.Tox_Err_Events_Iterate.short[err[0]!]).toBe('OK');
        expect(events === null ? 0 : ffi.tox_events_get_self_connection_status_size(events)).toBeGreaterThanOrEqual(0);
      } finally {
        ffi.tox_events_free(events);
      }
    });
  });
});

const scratch = mkdtempSync(join(tmpdir(), 'tp-fake-libtoxcore-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function versionFunctions(major: number, minor: number, patch: number): string {
  return `unsigned tox_version_major(void) { return ${major}; }\nunsigned tox_version_minor(void) { return ${minor}; }\nunsigned tox_version_patch(void) { return ${patch}; }\n`;
}

/** Compiles a tiny shared library of our own (optionally depending on a real libtoxcore) and returns its path. */
function fakeLibrary(name: string, source: string, dependsOn?: string): string {
  const c = join(scratch, `${name}.c`);
  const so = join(scratch, `lib${name}.so`);
  writeFileSync(c, `${source}int tox_persona_fake_${name}(void) { return 1; }\n`);
  const link = dependsOn ? ['-Wl,--no-as-needed', dependsOn, `-Wl,-rpath,${dirname(dependsOn)}`] : [];
  execFileSync('cc', ['-shared', '-fPIC', '-o', so, c, ...link], { stdio: 'pipe' });
  return so;
}

function loadError(path: string): FfiLoadError {
  try {
    loadToxcoreFrom(path);
  } catch (e) {
    expect(e).toBeInstanceOf(FfiLoadError);
    return e as FfiLoadError;
  }
  return expect.fail(`loading ${path} did not fail`);
}

describe('loading errors', () => {
  it('a missing library gives FfiLoadError LIBTOXCORE_NOT_FOUND pointing at scripts/setup.sh', () => {
    let caught: unknown;
    try {
      loadToxcoreFrom('/nonexistent/libtoxcore.so.2');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FfiLoadError);
    expect((caught as FfiLoadError).code).toBe('LIBTOXCORE_NOT_FOUND');
    expect((caught as FfiLoadError).message).toContain('scripts/setup.sh');
  });

  it('a shared library that is not libtoxcore gives LIBTOXCORE_NOT_TOXCORE', () => {
    expect(loadError('libc.so.6').code).toBe('LIBTOXCORE_NOT_TOXCORE');
    expect(loadError(fakeLibrary('none', '')).code).toBe('LIBTOXCORE_NOT_TOXCORE');
  });

  it('a file that is not a shared library gives LIBTOXCORE_LOAD_FAILED', () => {
    const file = join(scratch, 'not-a-library.so');
    writeFileSync(file, 'this is a text file, not ELF\n');
    const e = loadError(file);
    expect(e.code).toBe('LIBTOXCORE_LOAD_FAILED');
    expect(e.message).toContain(file);
  });

  it('libtoxcore older than 0.2.18 gives LIBTOXCORE_TOO_OLD naming both versions', () => {
    const e = loadError(fakeLibrary('old', versionFunctions(0, 2, 17)));
    expect(e.code).toBe('LIBTOXCORE_TOO_OLD');
    expect(e.message).toMatch(/0\.2\.17.*0\.2\.18/);
  });

  it('a library claiming a known version without its functions gives LIBTOXCORE_SYMBOL_MISSING', () => {
    const e = loadError(fakeLibrary('hollow', versionFunctions(0, 2, 20)));
    expect(e.code).toBe('LIBTOXCORE_SYMBOL_MISSING');
    expect(e.message).toContain('0.2.20');
  });

  it('a version newer than any known runs with a LIBTOXCORE_VERSION_UNKNOWN warning, on the newest known API', async () => {
    // Our own shim: tox_version_* say 0.2.99, every other tox_* resolves through its dependency, the library under test.
    const lib = fakeLibrary('newer', versionFunctions(0, 2, 99), loadedLibtoxcorePath());
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    let newer: ReturnType<typeof loadToxcoreFrom>;
    try {
      newer = loadToxcoreFrom(lib);
      // process warnings are delivered on the next tick
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    const w = warnings.find((x) => (x as Error & { code?: string }).code === 'LIBTOXCORE_VERSION_UNKNOWN');
    expect(w, 'a LIBTOXCORE_VERSION_UNKNOWN warning').toBeDefined();
    expect(w!.name).toBe('ToxPersonaWarning');
    expect(w!.message).toContain('0.2.99');
    const newerInfo = libtoxcoreInfo(newer);
    expect(newerInfo).toMatchObject({ version: '0.2.99', known: false, api: apiVersions[apiVersions.length - 1] });
    // It runs: a real instance through the shim, with the real library's functions.
    const err = [-1];
    const tox = newer.tox_new(null, err);
    try {
      expect(enumNames.Tox_Err_New.short[err[0]!]).toBe('OK');
      const address = Buffer.alloc(38);
      newer.tox_self_get_address(tox!, address);
      expect(address.equals(Buffer.alloc(38)), 'a real address').toBe(false);
    } finally {
      newer.tox_kill(tox);
    }
  });

  it('branded pointers keep opaque types apart at compile time', () => {
    const opts = ffi.tox_options_new(null)!;
    try {
      // @ts-expect-error a Tox_Options pointer is not a Tox pointer (checked by tsc, the call is never made)
      const wrong = (): void => ffi.tox_self_get_address(opts, Buffer.alloc(38));
      // @ts-expect-error a plain bigint is not a typed pointer either
      const raw = (): void => ffi.tox_kill(123n);
      expect(typeof wrong).toBe('function');
      expect(typeof raw).toBe('function');
    } finally {
      ffi.tox_options_free(opts);
    }
  });
});

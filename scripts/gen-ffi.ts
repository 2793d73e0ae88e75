// Generates the raw koffi binding for every supported libtoxcore version from that version's own headers.
//
// Two steps, both deterministic (the drift test repeats them and compares byte for byte):
// 1. headers → native/api/<version>.json: the API description of one version (functions, callbacks, enums, constants),
//    parsed from the include dir of that version. These files are checked in, so a machine with only the system
//    headers can still regenerate and check the whole binding.
// 2. native/api/*.json → src/ffi/generated.ts (one binding over the union of the versions, each function with its
//    prototype per version) and native/constants/<version>.c (the ABI check, compiled against that version's headers).
//
// Usage: npx tsx scripts/gen-ffi.ts [--include-dir DIR]... [--out-dir DIR]
// Without --include-dir it parses every include dir it finds (findHeaderDirs: /usr/include/tox and the folders of
// scripts/get-libtoxcore.sh), then regenerates from all descriptions in native/api.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The public headers the binding covers, in include order; a version has a subset (toxav is deliberately left out). */
export const HEADERS = ['tox_log_level.h', 'tox_options.h', 'tox.h', 'tox_events.h', 'tox_dispatch.h', 'toxencryptsave.h'] as const;

/** One parameter of a C function or callback prototype. */
export interface CParam {
  type: string;
  name: string;
}

/** A C function or callback prototype as written in the header. */
export interface CFunction {
  header: string;
  ret: string;
  name: string;
  params: CParam[];
  /** First sentence of the header's doc comment, if any. */
  doc: string;
}

/** A C enum with its members' values resolved. */
export interface CEnum {
  header: string;
  name: string;
  members: { name: string; value: number }[];
  doc: string;
}

/** A `#define TOX_...` constant with its integer value. */
export interface CConstant {
  header: string;
  name: string;
  expr: string;
  value: number;
}

/** Everything the generator extracts from one version's headers: the checked-in API description of that version. */
export interface ParsedHeaders {
  /** `major.minor.patch` from the headers' TOX_VERSION_* constants. */
  version: string;
  /** The headers of {@link HEADERS} this version has. */
  headers: string[];
  opaques: string[];
  enums: CEnum[];
  callbacks: CFunction[];
  functions: CFunction[];
  constants: CConstant[];
}

class HeaderParseError extends Error {}

/** Drops `#ifdef __cplusplus` blocks and all other preprocessor lines, collecting object-like `#define TOX_*`s. */
function preprocess(text: string, header: string, defines: { header: string; name: string; expr: string }[]): string {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const out: string[] = [];
  const active: boolean[] = [];
  for (const line of lines) {
    const m = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    if (!m) {
      out.push(active.every(Boolean) ? line : '');
      continue;
    }
    const [, directive, rest = ''] = m;
    if (directive === 'ifdef' || directive === 'ifndef' || directive === 'if') {
      // Only the C++ guard is conditional for our purposes; include guards and *_DEFINED guards are taken.
      active.push(!(directive === 'ifdef' && rest.trim() === '__cplusplus'));
    } else if (directive === 'else') {
      active.push(!active.pop());
    } else if (directive === 'endif') {
      active.pop();
    } else if (directive === 'define' && active.every(Boolean)) {
      const d = /^(TOX_[A-Z0-9_]+)(\s+(.*))?$/.exec(rest.trim());
      if (d && d[3] !== undefined && !rest.trim().startsWith(`${d[1]}(`)) {
        defines.push({ header, name: d[1]!, expr: d[3].trim() });
      }
    }
    out.push('');
  }
  return out.join('\n');
}

/** Returns the first sentence of a doxygen comment body, flattened to one line. */
function firstSentence(comment: string): string {
  const lines = comment
    .replace(/^\/\*\*?/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .map((l) => l.replace(/^@brief\s*/, '').replace(/^@\{\s*/, ''));
  // Only the lead paragraph: stop at the first doxygen tag (@param, @return, ...) or blank line after text.
  const lead: string[] = [];
  for (const l of lines) {
    if (/^@/.test(l) || (l === '' && lead.length > 0)) break;
    if (l !== '') lead.push(l);
  }
  const body = lead.join(' ').replace(/\s+/g, ' ').trim();
  // A sentence ends at . ! ? followed by a capital or the end (so 'e.g. a' does not end one).
  const m = /^(.*?[.!?])(\s+[A-Z`@]|$)/.exec(body);
  return (m ? m[1]! : body).replace(/\*\//g, '*\\/');
}

/** Splits a header (comments kept aside) into top-level statements, each paired with the doc comment just before it. */
function statements(text: string): { stmt: string; doc: string }[] {
  const result: { stmt: string; doc: string }[] = [];
  let i = 0;
  let depth = 0;
  let cur = '';
  let lastDoc = '';
  let docForCur = '';
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new HeaderParseError('unterminated comment');
      const c = text.slice(i, end + 2);
      if (depth === 0 && cur.trim() === '' && c.startsWith('/**')) lastDoc = c;
      i = end + 2;
      cur += ' ';
      continue;
    }
    if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      continue;
    }
    const ch = text[i]!;
    if (cur.trim() === '' && !/\s/.test(ch)) docForCur = lastDoc;
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ';' && depth === 0) {
      result.push({ stmt: cur.replace(/\s+/g, ' ').trim(), doc: docForCur ? firstSentence(docForCur) : '' });
      cur = '';
      lastDoc = '';
      docForCur = '';
    } else {
      cur += ch;
    }
    i++;
  }
  if (cur.trim() !== '') throw new HeaderParseError(`trailing text without ';': ${cur.trim().slice(0, 80)}`);
  return result;
}

/**
 * Typedefs that only rename a C type, resolved away so one function has one prototype on every version:
 * 0.2.19+ say `Tox_Friend_Number` for `uint32_t`, and 0.2.22 `const Tox_Public_Key pk` for `const uint8_t pk[32]`.
 */
interface TypeAliases {
  scalar: Map<string, string>;
  array: Map<string, string>;
}

function parseParams(list: string, where: string, aliases: TypeAliases): CParam[] {
  const t = list.trim();
  if (t === 'void' || t === '') return [];
  return t.split(',').map((p) => {
    // A parameter declared as an array (`uint8_t name[]`, `uint8_t key[TOX_PUBLIC_KEY_SIZE]`) is a pointer in C.
    const arr = /^(.*?)([A-Za-z_]\w*)\s*\[[^\]]*\]$/.exec(p.trim());
    const m = arr ? ([arr[0], `${arr[1]}*`, arr[2]] as const) : /^(.*?)([A-Za-z_]\w*)$/.exec(p.trim());
    if (!m || m[1]!.trim() === '') throw new HeaderParseError(`cannot parse parameter '${p}' of ${where}`);
    return { type: normType(m[1]!, aliases), name: m[2]! };
  });
}

/** Canonical spelling of a C type: aliases resolved, single spaces, `*` attached to the left with one space before it. */
function normType(t: string, aliases?: TypeAliases): string {
  let u = t.trim();
  if (aliases) {
    u = u.replace(/\b[A-Z][A-Za-z_]*\b/g, (id) => aliases.scalar.get(id) ?? id);
    // An array typedef as a parameter decays to a pointer to its element type.
    u = u.replace(/\b([A-Z][A-Za-z_]*)\b(\s*\**)/g, (whole, id: string, stars: string) => {
      const elem = aliases.array.get(id);
      return elem === undefined ? whole : `${elem} *${stars}`;
    });
  }
  // `struct Tox_Options` and `Tox_Options` are the same type (every tag has a same-named typedef); koffi knows the typedef name.
  return u
    .replace(/\b(struct|enum) /g, '')
    .replace(/\s*\*\s*/g, ' *')
    .replace(/\s+/g, ' ')
    .replace(/ \*/g, ' *')
    .trim()
    .replace(/\* \*/g, '**');
}

function evalConstant(expr: string, known: Map<string, number>, name: string): number {
  let e = expr.replace(/sizeof\s*\(\s*u?int(8|16|32|64)_t\s*\)/g, (_s, bits: string) => String(Number(bits) / 8));
  e = e.replace(/\bTOX_[A-Z0-9_]+\b/g, (id) => {
    const v = known.get(id);
    if (v === undefined) throw new HeaderParseError(`constant ${name} refers to unknown ${id}`);
    return String(v);
  });
  e = e.replace(/\b(\d+)[uUlL]+\b/g, '$1');
  if (!/^[\d\s+\-*/()]+$/.test(e)) throw new HeaderParseError(`cannot evaluate #define ${name} ${expr}`);
  const v = Function(`"use strict"; return (${e});`)() as unknown;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new HeaderParseError(`#define ${name} is not an integer`);
  return v;
}

/** Parses the four headers into opaques, enums, callback prototypes, functions and constants. */
export function parseHeaders(includeDir: string): ParsedHeaders {
  const parsed: ParsedHeaders = { version: '', headers: [], opaques: [], enums: [], callbacks: [], functions: [], constants: [] };
  const defines: { header: string; name: string; expr: string }[] = [];
  const aliases: TypeAliases = { scalar: new Map(), array: new Map() };
  for (const header of HEADERS) {
    if (!existsSync(join(includeDir, header))) continue;
    parsed.headers.push(header);
    const text = preprocess(readFileSync(join(includeDir, header), 'utf8'), header, defines);
    for (const { stmt, doc } of statements(text)) {
      let m: RegExpExecArray | null;
      if ((m = /^typedef struct (\w+) (\w+)$/.exec(stmt))) {
        if (m[1] !== m[2]) throw new HeaderParseError(`struct typedef with two names: ${stmt}`);
        if (!parsed.opaques.includes(m[1]!)) parsed.opaques.push(m[1]!);
      } else if ((m = /^struct (\w+)$/.exec(stmt))) {
        // A forward declaration (0.2.21+ tox_options.h: `struct Tox;`); the typedef comes later.
        if (!parsed.opaques.includes(m[1]!)) parsed.opaques.push(m[1]!);
      } else if ((m = /^typedef (u?int(?:8|16|32|64)_t) (\w+)\s*\[\s*(\w+)\s*\]$/.exec(stmt))) {
        aliases.array.set(m[2]!, m[1]!);
      } else if ((m = /^typedef (u?int(?:8|16|32|64)_t) (\w+)$/.exec(stmt))) {
        aliases.scalar.set(m[2]!, m[1]!);
      } else if ((m = /^struct (\w+) \{.*\}$/.exec(stmt))) {
        // The Tox_Options struct body is in tox.h but is not ABI: it stays opaque, only its accessors are bound.
        if (!parsed.opaques.includes(m[1]!)) parsed.opaques.push(m[1]!);
      } else if ((m = /^(?:typedef )?enum (\w+) \{(.*)\}\s*(\w+)?$/.exec(stmt))) {
        const name = m[1]!;
        if (m[3] !== undefined && m[3] !== name) throw new HeaderParseError(`enum typedef with two names: ${name}/${m[3]}`);
        let next = 0;
        const members = m[2]!
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
          .map((s) => {
            const mm = /^([A-Z][A-Z0-9_]*)(?:\s*=\s*(-?\d+))?$/.exec(s);
            if (!mm) throw new HeaderParseError(`cannot parse member '${s}' of enum ${name}`);
            const value = mm[2] !== undefined ? Number(mm[2]) : next;
            next = value + 1;
            return { name: mm[1]!, value };
          });
        parsed.enums.push({ header, name, members, doc });
      } else if ((m = /^typedef (.+?)\b(\w+)\s*\((.*)\)$/.exec(stmt))) {
        parsed.callbacks.push({ header, ret: normType(m[1]!, aliases), name: m[2]!, params: parseParams(m[3]!, m[2]!, aliases), doc });
      } else if (/^typedef (?:enum )?(\w+) (\w+)$/.test(stmt)) {
        // `typedef enum Tox_Err_New TOX_ERR_NEW;`: the old upper-case spelling of an enum, not used by any prototype.
      } else if ((m = /^(.+?)\b(tox_\w+)\s*\((.*)\)$/.exec(stmt))) {
        parsed.functions.push({ header, ret: normType(m[1]!, aliases), name: m[2]!, params: parseParams(m[3]!, m[2]!, aliases), doc });
      } else {
        throw new HeaderParseError(`${header}: unrecognised declaration: ${stmt.slice(0, 120)}`);
      }
    }
  }
  const known = new Map<string, number>();
  for (const d of defines) {
    const value = evalConstant(d.expr, known, d.name);
    known.set(d.name, value);
    parsed.constants.push({ header: d.header, name: d.name, expr: d.expr, value });
  }
  if (!parsed.headers.includes('tox.h')) throw new HeaderParseError(`${includeDir}: no tox.h`);
  parsed.version = ['MAJOR', 'MINOR', 'PATCH'].map((k) => known.get(`TOX_VERSION_${k}`)).join('.');
  if (!/^\d+\.\d+\.\d+$/.test(parsed.version)) throw new HeaderParseError(`${includeDir}: no TOX_VERSION_* constants`);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// C types → koffi declarations and TS types

const INT_TYPES: Record<string, string> = {
  int8_t: 'number',
  uint8_t: 'number',
  int16_t: 'number',
  uint16_t: 'number',
  int32_t: 'number',
  uint32_t: 'number',
  int: 'number',
  'unsigned int': 'number',
  size_t: 'number',
  int64_t: 'number | bigint',
  uint64_t: 'number | bigint',
};

/**
 * Parameters where the headers document NULL as a valid argument; everywhere else opaque pointers are
 * typed non-null so a forgotten check is a compile error.
 */
const NULLABLE_PARAMS = new Set([
  'tox_new.options',
  'tox_options_free.options',
  'tox_pass_key_free.key',
  'tox_events_free.events',
  'tox_dispatch_free.dispatch',
  'tox_kill.tox',
]);

function shortPrefix(e: CEnum): string {
  const guess = `${e.name.toUpperCase()}_`;
  if (e.members.every((m) => m.name.startsWith(guess) && m.name.length > guess.length)) return guess;
  // Fall back to the longest common prefix ending at an underscore.
  let p = e.members[0]!.name;
  for (const m of e.members) while (!m.name.startsWith(p)) p = p.slice(0, -1);
  return p.slice(0, p.lastIndexOf('_') + 1);
}

interface TypeCtx {
  opaques: Set<string>;
  enums: Set<string>;
  callbacks: Set<string>;
}

function baseOf(t: string): { base: string; isConst: boolean; stars: number } {
  const stars = (t.match(/\*/g) ?? []).length;
  const isConst = /^const /.test(t);
  const base = t.replace(/^const /, '').replace(/\s*\*+$/, '').trim();
  return { base, isConst, stars };
}

function tsParamType(fn: string, p: CParam, ctx: TypeCtx): string {
  const { base, isConst, stars } = baseOf(p.type);
  const nullable = NULLABLE_PARAMS.has(`${fn}.${p.name}`) ? ' | null' : '';
  if (stars === 0) {
    if (base === 'bool') return 'boolean';
    if (ctx.enums.has(base)) return base;
    const t = INT_TYPES[base];
    if (t) return t;
  } else if (stars === 1) {
    if (ctx.opaques.has(base)) return `Ptr<'${base}'>${nullable}`;
    // tox.h: "The error code pointer can be NULL".
    if (ctx.enums.has(base)) return 'number[] | null';
    // Branded with the callback typedef, so a registered tox_friend_name_cb cannot be handed to tox_callback_friend_message.
    if (ctx.callbacks.has(base)) return `Ptr<'${base}'> | null`;
    if (base === 'uint8_t') return isConst ? 'Uint8Array | null' : 'Uint8Array';
    if (base === 'char') return 'string | Uint8Array | null';
    if (base === 'uint32_t') return 'Uint32Array';
    if (base === 'void') return 'bigint | Uint8Array | null';
  }
  throw new Error(`no TS mapping for parameter ${p.type} ${p.name} of ${fn}`);
}

function tsReturnType(fn: string, t: string, ctx: TypeCtx): string {
  const { base, stars } = baseOf(t);
  if (stars === 0) {
    if (base === 'void') return 'void';
    if (base === 'bool') return 'boolean';
    if (ctx.enums.has(base)) return base;
    const ts = INT_TYPES[base];
    if (ts) return ts;
  } else if (stars === 1) {
    if (ctx.opaques.has(base)) return `Ptr<'${base}'> | null`;
    if (base === 'uint8_t') return `Ptr<'uint8_t'> | null`;
    if (base === 'char') return 'string | null';
    if (ctx.callbacks.has(base)) return `Ptr<'${base}'> | null`;
    if (base === 'void') return 'bigint | null';
  }
  throw new Error(`no TS mapping for return type ${t} of ${fn}`);
}

/** TS type of a callback argument as koffi hands it to JS (C → JS direction). */
function tsCallbackArgType(cb: string, p: CParam, ctx: TypeCtx): string {
  const { base, stars } = baseOf(p.type);
  if (stars === 1 && ctx.opaques.has(base)) return `Ptr<'${base}'>`;
  if (stars === 1 && base === 'uint8_t') return `Ptr<'uint8_t'> | null`;
  if (stars === 1 && base === 'void') return 'bigint | null';
  return tsReturnType(cb, p.type, ctx);
}

/** The koffi prototype string: the C declaration verbatim, with `_Out_` on error-enum out-parameters. */
function koffiProto(f: CFunction, ctx: TypeCtx): string {
  const params = f.params.map((p) => {
    const { base, stars } = baseOf(p.type);
    const out = stars === 1 && ctx.enums.has(base) ? '_Out_ ' : '';
    return `${out}${p.type} ${p.name}`.replace(/\* /g, '*');
  });
  const sep = f.ret.endsWith('*') ? '' : ' ';
  return `${f.ret}${sep}${f.name}(${params.length ? params.join(', ') : 'void'})`;
}


// ---------------------------------------------------------------------------------------------
// Merging the versions

/** One prototype of a C function or callback and the versions that declare it so. */
interface Variant {
  fn: CFunction;
  /** The C shape without parameter names, with callback types resolved to their koffi variant: what makes variants differ. */
  key: string;
  /** The koffi declaration for these versions (callback type names resolved to the variant koffi knows). */
  proto: string;
  versions: string[];
}

/** The union of several versions' API descriptions, each function and callback with its variants. */
interface MergedApi {
  versions: string[];
  opaques: string[];
  enums: CEnum[];
  /** Constants with one value on every version that has them (TOX_VERSION_* and the like are only per version). */
  constants: CConstant[];
  callbacks: Map<string, Variant[]>;
  functions: Map<string, Variant[]>;
}

/** Orders `0.2.9` before `0.2.18`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

function versionTag(v: string): string {
  return v.replace(/\./g, '_');
}

/** A declaration's shape without parameter names (0.2.19 renamed some parameters; the ABI is the same). */
function shape(f: CFunction): string {
  return `${f.ret}(${f.params.map((p) => p.type).join(',')})`;
}

function mergeApis(descs: ParsedHeaders[]): MergedApi {
  const sorted = [...descs].sort((a, b) => compareVersions(a.version, b.version));
  const versions = sorted.map((d) => d.version);
  if (new Set(versions).size !== versions.length) throw new Error(`two API descriptions for one version: ${versions.join(', ')}`);
  const opaques: string[] = [];
  for (const d of sorted) for (const o of d.opaques) if (!opaques.includes(o)) opaques.push(o);

  // Enums: the union of members; a member whose value changed between versions would make one table lie, so refuse.
  const enums = new Map<string, CEnum>();
  for (const d of sorted) {
    for (const e of d.enums) {
      const have = enums.get(e.name);
      if (!have) {
        enums.set(e.name, { ...e, members: [...e.members] });
        continue;
      }
      if (e.doc) have.doc = e.doc;
      for (const m of e.members) {
        const old = have.members.find((x) => x.name === m.name);
        if (!old) have.members.push(m);
        else if (old.value !== m.value) throw new Error(`${e.name}.${m.name} is ${old.value} in one version and ${m.value} in ${d.version}`);
      }
      have.members.sort((a, b) => a.value - b.value);
    }
  }

  const constants = new Map<string, CConstant | null>();
  for (const d of sorted) {
    // TOX_VERSION_* describe the headers, not the loaded library (ask tox_version_* for that): per version only.
    for (const c of d.constants.filter((k) => !k.name.startsWith('TOX_VERSION_'))) {
      const have = constants.get(c.name);
      if (have === undefined) constants.set(c.name, c);
      else if (have !== null && have.value !== c.value) constants.set(c.name, null);
    }
  }

  // Callbacks first: a function's koffi declaration names callback types, and those may differ per version.
  const callbacks = new Map<string, Variant[]>();
  const cbNameFor = new Map<string, Map<string, string>>(); // version -> C name -> koffi type name
  for (const d of sorted) cbNameFor.set(d.version, new Map());
  const ctx: TypeCtx = { opaques: new Set(opaques), enums: new Set(enums.keys()), callbacks: new Set() };
  for (const d of sorted) {
    for (const c of d.callbacks) {
      ctx.callbacks.add(c.name);
      const variants = callbacks.get(c.name) ?? [];
      const same = variants.find((v) => v.key === shape(c));
      if (same) same.versions.push(d.version);
      else variants.push({ fn: c, key: shape(c), proto: '', versions: [d.version] });
      callbacks.set(c.name, variants);
    }
  }
  for (const [name, variants] of callbacks) {
    for (const v of variants) {
      // A typedef that differs between versions gets one koffi type per variant (koffi type names are process-wide).
      const koffiName = variants.length === 1 ? name : `${name}__${versionTag(v.versions[0]!)}`;
      v.proto = koffiProto({ ...v.fn, name: koffiName }, ctx);
      for (const ver of v.versions) cbNameFor.get(ver)!.set(name, koffiName);
    }
  }

  const functions = new Map<string, Variant[]>();
  for (const d of sorted) {
    const names = cbNameFor.get(d.version)!;
    for (const f of d.functions) {
      const resolveCb = (t: string): string => t.replace(/\b(\w+_cb)\b/g, (cb) => names.get(cb) ?? cb);
      const resolved = { ...f, params: f.params.map((p) => ({ ...p, type: resolveCb(p.type) })) };
      const variants = functions.get(f.name) ?? [];
      const same = variants.find((v) => v.key === shape(resolved));
      if (same) same.versions.push(d.version);
      else variants.push({ fn: f, key: shape(resolved), proto: koffiProto(resolved, ctx), versions: [d.version] });
      functions.set(f.name, variants);
    }
  }
  return {
    versions,
    opaques,
    enums: [...enums.values()],
    constants: [...constants.values()].filter((c): c is CConstant => c !== null),
    callbacks,
    functions,
  };
}

// ---------------------------------------------------------------------------------------------
// Code generation

function q(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function variantList(variants: Variant[]): string {
  return `[${variants.map((v) => `[${[v.proto, ...v.versions].map(q).join(', ')}]`).join(', ')}]`;
}

function paramName(p: CParam): string {
  return p.name === 'function' ? 'func' : p.name;
}

function generateTs(api: MergedApi, descs: ParsedHeaders[]): string {
  const ctx: TypeCtx = { opaques: new Set(api.opaques), enums: new Set(api.enums.map((e) => e.name)), callbacks: new Set(api.callbacks.keys()) };
  const L: string[] = [];
  L.push('// GENERATED by scripts/gen-ffi.ts from native/api/*.json (each parsed from that libtoxcore version\'s headers). DO NOT EDIT: run `npm run gen:ffi`.');
  L.push(`// Versions: ${api.versions.join(', ')}. Headers: ${HEADERS.join(', ')} where a version has them. toxav is deliberately not bound.`);
  L.push('/* eslint-disable */');
  L.push("import koffi, { type TypeObject } from 'koffi';");
  L.push('');
  L.push('/** A C pointer as koffi 3 returns it (a BigInt), branded with the C type it points to so pointers of different types do not mix. */');
  L.push('export type Ptr<T extends string> = bigint & { readonly __cType: T };');
  L.push('');
  L.push('/** The libtoxcore versions whose headers the binding was generated from, oldest first. */');
  L.push(`export const apiVersions = [${api.versions.map(q).join(', ')}] as const;`);
  L.push('/** One of the versions the binding knows. */');
  L.push('export type ApiVersion = (typeof apiVersions)[number];');
  L.push('');
  L.push('/** Names of the opaque C types of the API (union over the versions). */');
  L.push(`export const opaqueTypes = ${JSON.stringify(api.opaques)} as const;`);
  L.push('/** One of the opaque C type names. */');
  L.push('export type OpaqueType = (typeof opaqueTypes)[number];');
  L.push('');
  L.push('/** The `#define` constants with the same value on every version that has them (sizes, maximum lengths), evaluated. */');
  L.push('export const constants = {');
  for (const c of api.constants) L.push(`  ${c.name}: ${c.value},`);
  L.push('} as const;');
  L.push('');
  L.push('/** Every `#define` constant of each version\'s headers (TOX_VERSION_*, and limits that changed such as TOX_MAX_FRIEND_REQUEST_LENGTH). */');
  L.push('export const constantsByVersion = {');
  for (const d of descs) {
    L.push(`  ${q(d.version)}: {`);
    for (const c of d.constants) L.push(`    ${c.name}: ${c.value},`);
    L.push('  },');
  }
  L.push('} as const;');
  L.push('');
  for (const e of api.enums) {
    if (e.doc) L.push(`/** ${e.doc} */`);
    else L.push(`/** Values of C enum ${e.name}. */`);
    L.push(`export const ${e.name} = {`);
    for (const m of e.members) L.push(`  ${m.name}: ${m.value},`);
    L.push('} as const;');
    L.push(`/** A value of C enum ${e.name}. */`);
    L.push(`export type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`);
    L.push('');
  }
  L.push('/** Every C enum of the headers, by C name (members: the union over the versions; a value never differs between versions). */');
  L.push(`export const enums = { ${api.enums.map((e) => e.name).join(', ')} } as const;`);
  L.push('/** The C name of one of the enums. */');
  L.push('export type EnumName = keyof typeof enums;');
  L.push('');
  L.push('/** Member-name tables per enum: `full` is the C member name, `short` has the enum prefix stripped (`TOX_ERR_FRIEND_ADD_` → `ALREADY_SENT`). */');
  L.push('export const enumNames: { readonly [E in EnumName]: { readonly prefix: string; readonly full: Readonly<Record<number, string>>; readonly short: Readonly<Record<number, string>> } } = {');
  for (const e of api.enums) {
    const prefix = shortPrefix(e);
    const full = e.members.map((m) => `${m.value}: '${m.name}'`).join(', ');
    const short = e.members.map((m) => `${m.value}: '${m.name.slice(prefix.length)}'`).join(', ');
    L.push(`  ${e.name}: { prefix: '${prefix}', full: { ${full} }, short: { ${short} } },`);
  }
  L.push('};');
  L.push('');
  L.push('/** A declaration and the versions it is valid for: `[koffiPrototype, ...versions]`. */');
  L.push('export type Variant = readonly [proto: string, ...versions: ApiVersion[]];');
  L.push('');
  L.push('/** koffi prototypes of the callback typedefs, per version (a typedef that changed gets one koffi type per variant). */');
  L.push('export const callbackPrototypes = {');
  for (const [name, variants] of api.callbacks) L.push(`  ${name}: ${variantList(variants).replace(/_Out_ /g, '')},`);
  L.push('} as const satisfies Record<string, readonly Variant[]>;');
  L.push('/** Name of a callback typedef. */');
  L.push('export type CallbackName = keyof typeof callbackPrototypes;');
  L.push('');
  L.push('/** JS signatures koffi calls for each callback typedef: pointers arrive as BigInt (`const uint8_t *` data: read it with readBytes). */');
  L.push('export interface ToxcoreCallbacks {');
  for (const [name, variants] of api.callbacks) {
    const sigs = variants.map((v) => {
      const params = v.fn.params.map((pp) => `${paramName(pp)}: ${tsCallbackArgType(name, pp, ctx)}`).join(', ');
      return `((${params}) => ${tsReturnType(name, v.fn.ret, ctx)})`;
    });
    L.push(`  ${name}: ${sigs.length === 1 ? sigs[0]!.slice(1, -1) : sigs.join(' | ')};`);
  }
  L.push('}');
  L.push('');
  L.push('/** koffi prototypes of every function of any version, by C name, each with the versions that declare it so. */');
  L.push('export const functionPrototypes = {');
  for (const [name, variants] of api.functions) L.push(`  ${name}: ${variantList(variants)},`);
  L.push('} as const satisfies Record<string, readonly Variant[]>;');
  L.push('/** C name of a function of any supported version. */');
  L.push('export type FunctionName = keyof typeof functionPrototypes;');
  L.push('');
  L.push('/**');
  L.push(' * Typed signatures of every function, C names verbatim. `_Out_` error enums take a one-element array (`[0]`).');
  L.push(' * A function the loaded version lacks throws FfiLoadError `LIBTOXCORE_FUNCTION_UNAVAILABLE` when called.');
  L.push(' */');
  L.push('export interface ToxcoreFunctions {');
  for (const [name, variants] of api.functions) {
    // Variants with the same JS parameters become one signature (a return type that changed is a union); others overloads.
    const byParams = new Map<string, { rets: string[]; versions: string[]; v: Variant }>();
    for (const v of variants) {
      const params = v.fn.params.map((pp) => `${paramName(pp)}: ${tsParamType(name, pp, ctx)}`).join(', ');
      const ret = tsReturnType(name, v.fn.ret, ctx);
      const have = [...byParams.values()].find((b) => b.v.fn.params.map((pp) => tsParamType(name, pp, ctx)).join() === v.fn.params.map((pp) => tsParamType(name, pp, ctx)).join());
      if (have) {
        if (!have.rets.includes(ret)) have.rets.push(ret);
        have.versions.push(...v.versions);
      } else byParams.set(params, { rets: [ret], versions: [...v.versions], v });
    }
    for (const [params, { rets, versions, v }] of byParams) {
      const all = versions.length === api.versions.length ? '' : ` Only in ${versions.join(', ')}.`;
      L.push(`  /** ${v.fn.doc ? `${v.fn.doc} ` : ''}C: \`${v.proto.replace(/_Out_ /g, '')}\` (${v.fn.header}).${all} */`);
      L.push(`  ${name}(${params}): ${rets.join(' | ')};`);
    }
  }
  L.push('}');
  L.push('');
  L.push('/** Registers opaques, enum aliases and every callback prototype variant with koffi (idempotent: koffi type names are process-global). */');
  L.push('export function registerTypes(): ReadonlyMap<string, TypeObject> {');
  L.push('  const known = (name: string): TypeObject | undefined => {');
  L.push('    try {');
  L.push('      return koffi.type(name);');
  L.push('    } catch {');
  L.push('      return undefined;');
  L.push('    }');
  L.push('  };');
  L.push('  for (const name of opaqueTypes) if (!known(name)) koffi.opaque(name);');
  L.push('  // C enums are int-sized on every ABI toxcore supports (checked per version by native/constants/*.c); koffi only needs the size.');
  L.push("  for (const name of Object.keys(enums)) if (!known(name)) koffi.alias(name, 'int');");
  L.push('  const protos = new Map<string, TypeObject>();');
  L.push('  for (const variants of Object.values(callbackPrototypes) as readonly (readonly Variant[])[]) {');
  L.push('    for (const [proto] of variants) {');
  L.push("      const name = /(\\w+)\\(/.exec(proto)![1]!;");
  L.push('      protos.set(name, known(name) ?? koffi.proto(proto));');
  L.push('    }');
  L.push('  }');
  L.push('  return protos;');
  L.push('}');
  L.push('');
  L.push('/** Builds the function table by asking `bind` for each C name (bound function or a stub that throws). */');
  L.push('export function bindFunctions(bind: (name: FunctionName) => unknown): ToxcoreFunctions {');
  L.push('  const f = bind;');
  L.push(`  // One object literal, so V8 keeps it in fast-properties mode (adding ${api.functions.size} keys one by one turns it into a dictionary).`);
  L.push('  return {');
  for (const name of api.functions.keys()) L.push(`    ${name}: f('${name}'),`);
  L.push('  } as ToxcoreFunctions;');
  L.push('}');
  L.push('');
  return L.join('\n');
}

function cString(s: string): string {
  return JSON.stringify(s);
}

function generateC(p: ParsedHeaders): string {
  const L: string[] = [];
  L.push(`/* GENERATED by scripts/gen-ffi.ts from native/api/${p.version}.json. DO NOT EDIT: run \`npm run gen:ffi\`. */`);
  L.push(`/* Prints every #define constant and enum member value of the libtoxcore ${p.version} headers as JSON, as the C compiler sees them. */`);
  L.push('#include <stdio.h>');
  for (const h of p.headers) L.push(`#include <tox/${h}>`);
  L.push('');
  L.push('#define P(first, name, value) printf("%s\\n    \\"%s\\": %lld", (first) ? "" : ",", name, (long long)(value))');
  L.push('');
  L.push('int main(void)');
  L.push('{');
  L.push('    printf("{\\n  \\"constants\\": {");');
  p.constants.forEach((c, i) => L.push(`    P(${i === 0 ? 1 : 0}, ${cString(c.name)}, ${c.name});`));
  L.push('    printf("\\n  },\\n  \\"enums\\": {");');
  p.enums.forEach((e, i) => {
    L.push(`    printf("%s\\n    \\"%s\\": {", ${i === 0 ? '""' : '","'}, ${cString(e.name)});`);
    e.members.forEach((m, j) => L.push(`    printf("%s\\"%s\\": %lld", ${j === 0 ? '""' : '", "'}, ${cString(m.name)}, (long long)${m.name});`));
    L.push('    printf("}");');
  });
  L.push('    printf("\\n  },\\n  \\"enumSizes\\": {");');
  // Every enum in the headers has a tag, so `sizeof(enum X)` names it even where no typedef exists (Tox_File_Kind).
  p.enums.forEach((e, i) => L.push(`    P(${i === 0 ? 1 : 0}, ${cString(e.name)}, sizeof(enum ${e.name}));`));
  L.push('    printf("\\n  }\\n}\\n");');
  L.push('    return 0;');
  L.push('}');
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Files

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The API description file of a version, relative to the repository root. */
export function apiDescriptionPath(version: string): string {
  return `native/api/${version}.json`;
}

/** Serialises an API description deterministically (the drift test compares it with a fresh parse). */
export function serialiseApi(p: ParsedHeaders): string {
  return `${JSON.stringify(p, null, 1)}\n`;
}

/** Reads every checked-in API description under `root`/native/api, oldest version first. */
export function readApiDescriptions(root = ROOT): ParsedHeaders[] {
  const dir = join(root, 'native/api');
  return readdirSync(dir)
    .filter((f) => /^\d+\.\d+\.\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ParsedHeaders)
    .sort((a, b) => compareVersions(a.version, b.version));
}

/**
 * Include dirs with libtoxcore headers on this machine, by the version their tox.h declares: /usr/include/tox, the
 * folders scripts/get-libtoxcore.sh fills (.tmp/libtoxcore/<suite>/usr/include/tox), `TOX_PERSONA_LIBTOXCORE_INCLUDE`,
 * and the include dir next to `TOX_PERSONA_LIBTOXCORE` (`PREFIX/usr/lib/<triplet>/libtoxcore.so.2` → `PREFIX/usr/include/tox`).
 */
export function findHeaderDirs(env: NodeJS.ProcessEnv = process.env, root = ROOT): Map<string, string> {
  const candidates = ['/usr/include/tox'];
  const fetched = join(root, '.tmp/libtoxcore');
  if (existsSync(fetched)) for (const suite of readdirSync(fetched).sort()) candidates.push(join(fetched, suite, 'usr/include/tox'));
  if (env.TOX_PERSONA_LIBTOXCORE_INCLUDE) candidates.push(resolve(env.TOX_PERSONA_LIBTOXCORE_INCLUDE));
  if (env.TOX_PERSONA_LIBTOXCORE?.includes('/')) candidates.push(headerDirOfLibrary(env.TOX_PERSONA_LIBTOXCORE));
  const found = new Map<string, string>();
  for (const dir of candidates) {
    const v = headerVersion(dir);
    if (v !== undefined) found.set(v, dir);
  }
  return found;
}

/** Where Debian's layout puts the headers of a library file: `PREFIX/usr/lib/<triplet>/x.so` → `PREFIX/usr/include/tox`. */
export function headerDirOfLibrary(libPath: string): string {
  return resolve(dirname(resolve(libPath)), '../../include/tox');
}

/** The `major.minor.patch` a tox.h declares, or undefined when `dir` has none. */
export function headerVersion(dir: string): string | undefined {
  const file = join(dir, 'tox.h');
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const part = (k: string): string | undefined => new RegExp(`#define TOX_VERSION_${k}\\s+(\\d+)`).exec(text)?.[1];
  const v = [part('MAJOR'), part('MINOR'), part('PATCH')];
  return v.every((x) => x !== undefined) ? v.join('.') : undefined;
}

/** Generated file contents from a set of API descriptions: path (relative to the root) → text. */
export function generateFiles(descs: ParsedHeaders[]): Map<string, string> {
  const sorted = [...descs].sort((a, b) => compareVersions(a.version, b.version));
  const files = new Map<string, string>();
  files.set('src/ffi/generated.ts', generateTs(mergeApis(sorted), sorted));
  for (const d of sorted) files.set(`native/constants/${d.version}.c`, generateC(d));
  return files;
}

function write(root: string, rel: string, text: string): string {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function main(argv: string[]): void {
  let outDir = ROOT;
  const includeDirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir') outDir = resolve(argv[++i] ?? '');
    else if (argv[i] === '--include-dir') includeDirs.push(resolve(argv[++i] ?? ''));
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const dirs = includeDirs.length > 0 ? includeDirs : [...findHeaderDirs().values()];
  for (const dir of dirs) {
    const parsed = parseHeaders(dir);
    write(outDir, apiDescriptionPath(parsed.version), serialiseApi(parsed));
    console.log(
      `gen-ffi: ${dir}: libtoxcore ${parsed.version}: ${parsed.functions.length} functions, ${parsed.enums.length} enums, ` +
        `${parsed.callbacks.length} callback types, ${parsed.constants.length} constants → ${apiDescriptionPath(parsed.version)}`,
    );
  }
  const descs = readApiDescriptions(outDir);
  for (const [rel, text] of generateFiles(descs)) write(outDir, rel, text);
  console.log(`gen-ffi: src/ffi/generated.ts and native/constants/*.c from ${descs.map((d) => d.version).join(', ')}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}

// Generates the raw koffi binding (src/ffi/generated.ts) and the ABI-check C program (native/constants.c) from the installed libtoxcore headers.
//
// Usage: npx tsx scripts/gen-ffi.ts [--out-dir DIR] [--include-dir /usr/include/tox]
// The output is deterministic: the drift test regenerates into a temp dir and compares byte for byte.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The four public headers of libtoxcore 0.2.18 that the binding covers (toxav is deliberately left out). */
export const HEADERS = ['tox.h', 'tox_events.h', 'tox_dispatch.h', 'toxencryptsave.h'] as const;

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

/** Everything the generator extracts from the headers. */
export interface ParsedHeaders {
  opaques: string[];
  enums: CEnum[];
  callbacks: CFunction[];
  functions: CFunction[];
  constants: CConstant[];
  aliases: { from: string; to: string }[];
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

function parseParams(list: string, where: string): CParam[] {
  const t = list.trim();
  if (t === 'void' || t === '') return [];
  return t.split(',').map((p) => {
    const m = /^(.*?)([A-Za-z_]\w*)$/.exec(p.trim());
    if (!m || m[1]!.trim() === '') throw new HeaderParseError(`cannot parse parameter '${p}' of ${where}`);
    return { type: normType(m[1]!), name: m[2]! };
  });
}

/** Canonical spelling of a C type: single spaces, `*` attached to the left with one space before it. */
function normType(t: string): string {
  // `struct Tox_Options` and `Tox_Options` are the same type (every tag has a same-named typedef); koffi knows the typedef name.
  return t
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
  const parsed: ParsedHeaders = { opaques: [], enums: [], callbacks: [], functions: [], constants: [], aliases: [] };
  const defines: { header: string; name: string; expr: string }[] = [];
  for (const header of HEADERS) {
    const text = preprocess(readFileSync(join(includeDir, header), 'utf8'), header, defines);
    for (const { stmt, doc } of statements(text)) {
      let m: RegExpExecArray | null;
      if ((m = /^typedef struct (\w+) (\w+)$/.exec(stmt))) {
        if (m[1] !== m[2]) throw new HeaderParseError(`struct typedef with two names: ${stmt}`);
        if (!parsed.opaques.includes(m[1]!)) parsed.opaques.push(m[1]!);
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
        parsed.callbacks.push({ header, ret: normType(m[1]!), name: m[2]!, params: parseParams(m[3]!, m[2]!), doc });
      } else if ((m = /^typedef (?:enum )?(\w+) (\w+)$/.exec(stmt))) {
        parsed.aliases.push({ from: m[2]!, to: m[1]! });
      } else if ((m = /^(.+?)\b(tox_\w+)\s*\((.*)\)$/.exec(stmt))) {
        parsed.functions.push({ header, ret: normType(m[1]!), name: m[2]!, params: parseParams(m[3]!, m[2]!), doc });
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
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Code generation

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

function generateTs(p: ParsedHeaders, toolVersionNote: string): string {
  const ctx: TypeCtx = {
    opaques: new Set(p.opaques),
    enums: new Set(p.enums.map((e) => e.name)),
    callbacks: new Set(p.callbacks.map((c) => c.name)),
  };
  const L: string[] = [];
  L.push('// GENERATED by scripts/gen-ffi.ts from the installed libtoxcore headers. DO NOT EDIT: run `npm run gen:ffi`.');
  L.push(`// Source: ${HEADERS.join(', ')} (${toolVersionNote}). toxav is deliberately not bound.`);
  L.push('/* eslint-disable */');
  L.push("import koffi, { type LibraryHandle, type TypeObject } from 'koffi';");
  L.push('');
  L.push('/** A C pointer as koffi 3 returns it (a BigInt), branded with the C type it points to so pointers of different types do not mix. */');
  L.push("export type Ptr<T extends string> = bigint & { readonly __cType: T };");
  L.push('');
  L.push('/** Names of the opaque C types of the API. */');
  L.push(`export const opaqueTypes = ${JSON.stringify(p.opaques)} as const;`);
  L.push('/** One of the opaque C type names. */');
  L.push('export type OpaqueType = (typeof opaqueTypes)[number];');
  L.push('');
  // constants
  L.push('/** The `#define` constants of the headers (sizes, maximum lengths, versions), evaluated. */');
  L.push('export const constants = {');
  for (const c of p.constants) L.push(`  ${c.name}: ${c.value},`);
  L.push('} as const;');
  L.push('');
  // enums
  for (const e of p.enums) {
    if (e.doc) L.push(`/** ${e.doc} */`);
    else L.push(`/** Values of C enum ${e.name}. */`);
    L.push(`export const ${e.name} = {`);
    for (const m of e.members) L.push(`  ${m.name}: ${m.value},`);
    L.push('} as const;');
    L.push(`/** A value of C enum ${e.name}. */`);
    L.push(`export type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`);
    L.push('');
  }
  L.push('/** Every C enum of the headers, by C name. */');
  L.push(`export const enums = { ${p.enums.map((e) => e.name).join(', ')} } as const;`);
  L.push('/** The C name of one of the enums. */');
  L.push('export type EnumName = keyof typeof enums;');
  L.push('');
  L.push('/** Member-name tables per enum: `full` is the C member name, `short` has the enum prefix stripped (`TOX_ERR_FRIEND_ADD_` → `ALREADY_SENT`). */');
  L.push('export const enumNames: { readonly [E in EnumName]: { readonly prefix: string; readonly full: Readonly<Record<number, string>>; readonly short: Readonly<Record<number, string>> } } = {');
  for (const e of p.enums) {
    const prefix = shortPrefix(e);
    const full = e.members.map((m) => `${m.value}: '${m.name}'`).join(', ');
    const short = e.members.map((m) => `${m.value}: '${m.name.slice(prefix.length)}'`).join(', ');
    L.push(`  ${e.name}: { prefix: '${prefix}', full: { ${full} }, short: { ${short} } },`);
  }
  L.push('};');
  L.push('');
  // callbacks
  L.push('/** C prototypes of the callback typedefs (`typedef void tox_..._cb(...)`), by name, for koffi.proto. */');
  L.push('export const callbackPrototypes = {');
  for (const c of p.callbacks) L.push(`  ${c.name}: '${koffiProto(c, ctx).replace(/_Out_ /g, '')}',`);
  L.push('} as const;');
  L.push('/** Name of a callback typedef. */');
  L.push('export type CallbackName = keyof typeof callbackPrototypes;');
  L.push('');
  L.push('/** JS signatures koffi calls for each callback typedef: pointers arrive as BigInt (`const uint8_t *` data: read it with readBytes). */');
  L.push('export interface ToxcoreCallbacks {');
  for (const c of p.callbacks) {
    const params = c.params.map((pp) => `${pp.name === 'function' ? 'func' : pp.name}: ${tsCallbackArgType(c.name, pp, ctx)}`).join(', ');
    L.push(`  ${c.name}: (${params}) => ${tsReturnType(c.name, c.ret, ctx)};`);
  }
  L.push('}');
  L.push('');
  // functions
  L.push('/** koffi prototypes of every bound function, by C name. */');
  L.push('export const functionPrototypes = {');
  for (const f of p.functions) L.push(`  ${f.name}: '${koffiProto(f, ctx)}',`);
  L.push('} as const;');
  L.push('/** C name of a bound function. */');
  L.push('export type FunctionName = keyof typeof functionPrototypes;');
  L.push('');
  L.push('/** Typed signatures of every bound function, C names verbatim. `_Out_` error enums take a one-element array (`[0]`). */');
  L.push('export interface ToxcoreFunctions {');
  for (const f of p.functions) {
    const params = f.params.map((pp) => `${pp.name === 'function' ? 'func' : pp.name}: ${tsParamType(f.name, pp, ctx)}`).join(', ');
    L.push(`  /** ${f.doc ? `${f.doc} ` : ''}C: \`${koffiProto(f, ctx).replace(/_Out_ /g, '')}\` (${f.header}) */`);
    L.push(`  ${f.name}(${params}): ${tsReturnType(f.name, f.ret, ctx)};`);
  }
  L.push('}');
  L.push('');
  L.push('/** The koffi type objects of the callback typedefs, registered by {@link registerTypes}. */');
  L.push('export type CallbackProtos = { readonly [C in CallbackName]: TypeObject };');
  L.push('');
  L.push('/** Registers opaques, enum aliases and callback prototypes with koffi (idempotent: koffi type names are process-global). */');
  L.push('export function registerTypes(): CallbackProtos {');
  L.push('  const known = (name: string): TypeObject | undefined => {');
  L.push('    try {');
  L.push('      return koffi.type(name);');
  L.push('    } catch {');
  L.push('      return undefined;');
  L.push('    }');
  L.push('  };');
  L.push('  for (const name of opaqueTypes) if (!known(name)) koffi.opaque(name);');
  L.push("  // C enums are int-sized on every ABI toxcore supports; koffi only needs the size.");
  L.push("  for (const name of Object.keys(enums)) if (!known(name)) koffi.alias(name, 'int');");
  L.push('  const protos: Partial<Record<CallbackName, TypeObject>> = {};');
  L.push('  for (const [name, proto] of Object.entries(callbackPrototypes) as [CallbackName, string][]) {');
  L.push('    protos[name] = known(name) ?? koffi.proto(proto);');
  L.push('  }');
  L.push('  return protos as CallbackProtos;');
  L.push('}');
  L.push('');
  L.push('/** Declares every function on an already loaded library; throws koffi\'s error naming the first missing symbol. */');
  L.push('export function bindFunctions(lib: LibraryHandle): ToxcoreFunctions {');
  L.push('  const f = (name: FunctionName) => lib.func(functionPrototypes[name]);');
  L.push('  // One object literal, so V8 keeps it in fast-properties mode (adding 306 keys one by one turns it into a dictionary).');
  L.push('  return {');
  for (const f of p.functions) L.push(`    ${f.name}: f('${f.name}'),`);
  L.push('  };');
  L.push('}');
  L.push('');
  return L.join('\n');
}

function cString(s: string): string {
  return JSON.stringify(s);
}

function generateC(p: ParsedHeaders): string {
  const L: string[] = [];
  L.push('/* GENERATED by scripts/gen-ffi.ts from the installed libtoxcore headers. DO NOT EDIT: run `npm run gen:ffi`. */');
  L.push('/* Prints every #define constant and enum member value of the bound headers as JSON, as the C compiler sees them. */');
  L.push('#include <stdio.h>');
  L.push('#include <tox/tox.h>');
  L.push('#include <tox/tox_events.h>');
  L.push('#include <tox/tox_dispatch.h>');
  L.push('#include <tox/toxencryptsave.h>');
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

/** Runs the generator, writing `src/ffi/generated.ts` and `native/constants.c` under outDir. */
export function generate(opts: { outDir: string; includeDir: string }): { parsed: ParsedHeaders; files: string[] } {
  const parsed = parseHeaders(opts.includeDir);
  const versionNote = `libtoxcore ${parsed.constants.find((c) => c.name === 'TOX_VERSION_MAJOR')?.value}.${
    parsed.constants.find((c) => c.name === 'TOX_VERSION_MINOR')?.value
  }.${parsed.constants.find((c) => c.name === 'TOX_VERSION_PATCH')?.value}`;
  const files = [join(opts.outDir, 'src/ffi/generated.ts'), join(opts.outDir, 'native/constants.c')];
  mkdirSync(dirname(files[0]!), { recursive: true });
  mkdirSync(dirname(files[1]!), { recursive: true });
  writeFileSync(files[0]!, generateTs(parsed, versionNote));
  writeFileSync(files[1]!, generateC(parsed));
  return { parsed, files };
}

function main(argv: string[]): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  let outDir = root;
  let includeDir = '/usr/include/tox';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir') outDir = resolve(argv[++i] ?? '');
    else if (argv[i] === '--include-dir') includeDir = resolve(argv[++i] ?? '');
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const { parsed, files } = generate({ outDir, includeDir });
  console.log(
    `gen-ffi: ${parsed.functions.length} functions, ${parsed.enums.length} enums, ${parsed.callbacks.length} callback types, ` +
      `${parsed.opaques.length} opaque types, ${parsed.constants.length} constants → ${files.join(', ')}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}

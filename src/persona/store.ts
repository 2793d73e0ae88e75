// The PersonaID table on disk: a versioned JSON file outside the Tox profile, written atomically, with its last good copy kept.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PersonaTableStoreError } from './errors.js';
import { emptyTable, TABLE_SCHEMA_VERSION, type PersonaTable } from './table.js';
import { writeFileAtomic } from '../util/fs.js';
import { base64urlDecodeStrict } from './base64url.js';
import { parseSignedRecord, versionHash } from './list.js';
import { bytesToHex } from '../util/bytes.js';

const Hex32 = z.string().regex(/^[0-9A-F]{64}$/);
const State = z.enum(['provisional', 'verified', 'stale', 'conflict']);
const Num = z.number().finite();
const TableSchema = z.object({
  schema: z.literal(TABLE_SCHEMA_VERSION),
  personas: z.record(
    Hex32,
    z.object({
      personaId: Hex32,
      state: State,
      devices: z.array(z.object({ publicKey: Hex32, name: z.string(), confirmed: z.boolean(), addedByUs: z.boolean() })),
      seq: Num.nullable(),
      contentHash: z.string().nullable(),
      issuedAt: Num.nullable(),
      ttl: Num.nullable(),
      lastSeen: Num.nullable(),
      from: Hex32.nullable(),
      record: z.string().nullable(),
      epoch: Num.nullable(),
      version: z.string().nullable(),
      signer: Hex32.nullable(),
      lastRevoked: z.object({ at: Num, epoch: Num, signer: Hex32, from: Hex32, hash: z.string() }).nullable(),
    }),
  ),
  pins: z.record(Hex32, Hex32),
  friends: z.record(Hex32, z.object({ addedByUs: z.boolean() })),
  pending: z.array(
    z.object({
      id: z.string(),
      personaId: Hex32,
      from: Hex32,
      seq: Num,
      epoch: Num,
      record: z.string(),
      receivedAt: Num,
      reason: z.enum(['MANUAL_POLICY', 'PERSONA_CHANGED', 'DOUBLE_CLAIM', 'CONFLICT_STATE', 'FORK']),
    }),
  ),
  evidence: z.array(
    z.object({
      personaId: Hex32,
      seq: Num,
      records: z.tuple([z.string(), z.string()]),
      froms: z.tuple([Hex32.nullable(), Hex32]),
      detectedAt: Num,
    }),
  ),
});

/** Suffix of the last good copy kept next to the table file. */
export const TABLE_BACKUP_SUFFIX = '.bak';

/** Parses table JSON text; throws PersonaTableStoreError (TABLE_CORRUPT or TABLE_UNKNOWN_VERSION) naming `path`. */
export function parseTable(text: string, path: string): PersonaTable {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PersonaTableStoreError('TABLE_CORRUPT', path, `${path} is not valid JSON; it was left untouched (last good copy: ${path}${TABLE_BACKUP_SUFFIX})`, { cause: error });
  }
  let version = typeof raw === 'object' && raw !== null ? (raw as { schema?: unknown }).schema : undefined;
  if (version === 1) {
    raw = migrateFromSchema1(raw as Record<string, unknown>);
    version = TABLE_SCHEMA_VERSION;
  }
  if (version !== TABLE_SCHEMA_VERSION) {
    throw new PersonaTableStoreError(
      typeof version === 'number' ? 'TABLE_UNKNOWN_VERSION' : 'TABLE_CORRUPT',
      path,
      typeof version === 'number'
        ? `${path} has schema version ${version}; this build reads version ${TABLE_SCHEMA_VERSION} and will not overwrite it`
        : `${path} has no schema version; it was left untouched`,
    );
  }
  const parsed = TableSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new PersonaTableStoreError('TABLE_CORRUPT', path, `${path} does not match the table schema (at ${first ? first.path.join('.') : '?'}: ${first?.message ?? 'invalid'}); it was left untouched`);
  }
  return parsed.data as PersonaTable;
}

/**
 * Schema 1 (protocol version 1) had no epochs, version hashes or signers: every applied list was signed by the
 * PersonaID itself under epoch 0, so those fields follow from the stored record.
 */
function migrateFromSchema1(raw: Record<string, unknown>): unknown {
  const personas: Record<string, unknown> = {};
  for (const [id, e] of Object.entries((raw.personas ?? {}) as Record<string, Record<string, unknown>>)) {
    const bytes = typeof e?.record === 'string' ? base64urlDecodeStrict(e.record) : undefined;
    const parsed = bytes ? parseSignedRecord(bytes) : undefined;
    const list = parsed?.ok ? parsed.value.list : undefined;
    personas[id] = {
      ...e,
      epoch: list ? 0 : null,
      version: list ? bytesToHex(versionHash(list), false) : null,
      signer: list ? bytesToHex(list.personaId) : null,
      lastRevoked: null,
    };
  }
  const pending = Array.isArray(raw.pending) ? raw.pending.map((p: Record<string, unknown>) => ({ ...p, epoch: 0 })) : raw.pending;
  return { ...raw, schema: TABLE_SCHEMA_VERSION, personas, pending };
}

/** Loads the table; a missing file gives an empty table, a corrupt or unknown-version file a typed error. */
export async function loadTable(path: string): Promise<PersonaTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyTable();
    throw error;
  }
  return parseTable(text, path);
}

/** The table file's text (what saveTable writes); throws TypeError for a value that is not a valid table. */
export function serializeTable(table: PersonaTable): string {
  const checked = TableSchema.safeParse(table);
  if (!checked.success) throw new TypeError(`saveTable: not a valid persona table (${checked.error.issues[0]?.path.join('.') ?? '?'}: ${checked.error.issues[0]?.message ?? 'invalid'})`);
  return JSON.stringify(checked.data, null, 1) + '\n';
}

/**
 * Saves the table atomically (0600). The file it replaces must itself be a valid table, which is first copied to
 * `path.bak`; a corrupt or unknown-version file is never overwritten (the same typed error as loadTable).
 */
export async function saveTable(path: string, table: PersonaTable): Promise<void> {
  const text = serializeTable(table);
  let existing: string | undefined;
  try {
    existing = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== undefined) {
    parseTable(existing, path);
    if (existing === text) return;
    await writeFileAtomic(path + TABLE_BACKUP_SUFFIX, existing, { mode: 0o600 });
  }
  await writeFileAtomic(path, text, { mode: 0o600 });
}

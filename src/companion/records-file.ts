// alarms.json: the alarms and recent rejections `status` shows, saved with the rest of the state and read back at start.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { DataDirError, readJsonFile } from './datadir.js';
import { MAX_REJECTIONS_PER_FRIEND, recordAlarm, type AlarmRecord, type RejectionRecord } from './records.js';

/** What alarms.json holds. */
export interface RecordsFile {
  alarms: AlarmRecord[];
  rejections: Record<string, RejectionRecord[]>;
}

const Hex64 = z.string().regex(/^[0-9A-F]{64}$/);
const AlarmSchema = z.object({ at: z.string(), personaId: z.string(), reason: z.string(), detail: z.string(), from: Hex64.optional() }).strip();
const RejectionSchema = z.object({
  at: z.string(), reason: z.string(), personaId: z.string().optional(), detail: z.string().optional(), count: z.number().int().positive().optional(), lastAt: z.string().optional(),
}).strip();
const RecordsFileSchema = z.object({ version: z.literal(1), alarms: z.array(AlarmSchema), rejections: z.record(Hex64, z.array(RejectionSchema)) });

/** The text of alarms.json for `records`. */
export function recordsText(records: RecordsFile): string {
  return `${JSON.stringify({ version: 1, alarms: records.alarms, rejections: records.rejections })}\n`;
}

/** Reads alarms.json (missing → none); a wrong shape is `BAD_FILE`. What it holds is cut to the bounds above. */
export function loadRecords(path: string): RecordsFile {
  if (!existsSync(path)) return { alarms: [], rejections: {} };
  const r = RecordsFileSchema.safeParse(readJsonFile<unknown>(path, null));
  if (!r.success) {
    const first = r.error.issues[0];
    throw new DataDirError('BAD_FILE', `${path}: not an alarms file (${first && first.path.length > 0 ? first.path.join('.') : 'top level'}: ${first?.message ?? 'invalid'}); it may be deleted (only the alarm history shown by status is lost)`);
  }
  let alarms: AlarmRecord[] = [];
  for (const a of r.data.alarms) alarms = recordAlarm(alarms, a as AlarmRecord, () => true);
  const rejections: Record<string, RejectionRecord[]> = {};
  for (const [k, list] of Object.entries(r.data.rejections)) rejections[k] = (list as RejectionRecord[]).slice(-MAX_REJECTIONS_PER_FRIEND);
  return { alarms, rejections };
}

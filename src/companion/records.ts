// Alarms and recent rejections kept for `status`, pure and bounded per friend: one friend's flood replaces only its own
// records, never another's. They are saved with the rest of the state (alarms.json, records-file.ts) by the periodic save.

/** Alarms kept per sending friend for `status` (the log has them all): one friend's flood cannot evict another's alarm. */
export const MAX_ALARMS_PER_FRIEND = 8;
/** Alarms kept in all; beyond it the oldest of a former friend goes first, else the oldest of the friend with the most. */
export const MAX_ALARMS_KEPT = 256;
/** Recent rejected or ignored lists kept per friend for `status`. */
export const MAX_REJECTIONS_PER_FRIEND = 4;

/** One alarm kept for `status`. */
export interface AlarmRecord {
  at: string;
  personaId: string;
  reason: string;
  detail: string;
  /** The friend whose status message raised it; absent for our own (approve, a sibling's list). */
  from?: string;
}

/** A friend's list that was not applied, kept for `status`. */
export interface RejectionRecord {
  at: string;
  reason: string;
  personaId?: string;
  detail?: string;
  /** How many times in a row this friend sent a list refused the same way (absent: once). */
  count?: number;
  /** When the last of those came. */
  lastAt?: string;
}

/**
 * Adds `rec` to `alarms`: a sender's oldest alarm gives way to its new one beyond MAX_ALARMS_PER_FRIEND; beyond
 * MAX_ALARMS_KEPT in all, an alarm of a sender that is no friend any more (`isFriend` false) goes first.
 */
export function recordAlarm(alarms: readonly AlarmRecord[], rec: AlarmRecord, isFriend: (pk: string) => boolean): AlarmRecord[] {
  const key = rec.from ?? '';
  const mine = alarms.filter((a) => (a.from ?? '') === key);
  let out = mine.length >= MAX_ALARMS_PER_FRIEND ? alarms.filter((a) => a !== mine[0]) : [...alarms];
  out.push(rec);
  while (out.length > MAX_ALARMS_KEPT) {
    const former = out.find((a) => a.from !== undefined && !isFriend(a.from));
    const drop = former ?? oldestOfLargestSender(out);
    out = out.filter((a) => a !== drop);
  }
  return out;
}

function oldestOfLargestSender(alarms: readonly AlarmRecord[]): AlarmRecord {
  const counts = new Map<string, number>();
  for (const a of alarms) counts.set(a.from ?? '', (counts.get(a.from ?? '') ?? 0) + 1);
  const largest = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]![0];
  return alarms.find((a) => (a.from ?? '') === largest)!;
}

/**
 * Adds a rejection of `from`'s list. The same refusal as the friend's last one (reason, persona, detail) only counts up,
 * so a friend repeating one refused list costs one record; `changed` is false then (nothing new to save).
 */
export function recordRejection(
  rejections: Readonly<Record<string, RejectionRecord[]>>,
  from: string,
  rec: RejectionRecord,
): { rejections: Record<string, RejectionRecord[]>; changed: boolean } {
  const list = rejections[from] ?? [];
  const last = list[list.length - 1];
  if (last && last.reason === rec.reason && last.personaId === rec.personaId && last.detail === rec.detail) {
    const bumped: RejectionRecord = { ...last, count: (last.count ?? 1) + 1, lastAt: rec.at };
    return { rejections: { ...rejections, [from]: [...list.slice(0, -1), bumped] }, changed: false };
  }
  return { rejections: { ...rejections, [from]: [...list, rec].slice(-MAX_REJECTIONS_PER_FRIEND) }, changed: true };
}

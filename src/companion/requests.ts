// The friend-request queue, pure: requests wait for accept/decline in bounded buckets, one per persona whose device sent
// it and one for strangers, and a full bucket refuses the newcomer instead of pushing out an older entry. So a sender
// with any number of keys fills at most the strangers' bucket (or its own persona's), never anyone else's entries.

/** Most requests from strangers (keys no persona the user stands behind lists) kept waiting; beyond it new ones are dropped. */
export const MAX_STRANGER_REQUESTS = 64;
/** Most requests kept per persona whose device sent them (a list names up to 18 keys, a persona rarely adds more than a few at once). */
export const MAX_REQUESTS_PER_PERSONA = 4;
/** Most requests kept from devices of personas, all personas together. */
export const MAX_PERSONA_REQUESTS = 64;
/** Most friend requests kept waiting in all: the strangers' bucket plus the personas' buckets. */
export const MAX_PENDING_REQUESTS = MAX_STRANGER_REQUESTS + MAX_PERSONA_REQUESTS;

/** An incoming friend request waiting for accept/decline. */
export interface PendingRequest {
  publicKey: string;
  message: string;
  receivedAt: string;
  /** The persona whose device sent it (pinned to it, or listed by a persona the user stands behind); absent for a stranger. */
  persona?: string;
}

/** What happened to one incoming request: stored anew, an entry refreshed (clients resend until accepted), or dropped (bucket full). */
export interface QueueResult {
  requests: PendingRequest[];
  stored: 'new' | 'repeat' | 'dropped';
  /** The bucket it went to: a PersonaID, or 'strangers'. */
  bucket: string;
  /** Entries the bucket holds now, and its bound. */
  used: number;
  max: number;
}

/**
 * Queues `req` (its `persona` says the bucket). A repeat of a waiting key refreshes that entry in place; a new key whose
 * bucket is full is dropped and the queue is returned unchanged, so no entry is ever evicted by somebody else's request.
 */
export function queueRequest(requests: readonly PendingRequest[], req: PendingRequest): QueueResult {
  const bucket = req.persona ?? 'strangers';
  const at = requests.findIndex((r) => r.publicKey === req.publicKey);
  if (at >= 0) {
    // The entry keeps its bucket and place: a key is classified once, when it first asked.
    const kept = requests[at]!;
    const entry: PendingRequest = { publicKey: kept.publicKey, message: req.message, receivedAt: req.receivedAt, ...(kept.persona ? { persona: kept.persona } : {}) };
    const next = requests.map((r, i) => (i === at ? entry : r));
    return { requests: next, stored: 'repeat', bucket: kept.persona ?? 'strangers', used: countBucket(next, kept.persona), max: maxFor(kept.persona) };
  }
  const used = countBucket(requests, req.persona);
  const max = maxFor(req.persona);
  const personasUsed = req.persona === undefined ? 0 : requests.filter((r) => r.persona !== undefined).length;
  if (used >= max || (req.persona !== undefined && personasUsed >= MAX_PERSONA_REQUESTS)) {
    return { requests: [...requests], stored: 'dropped', bucket, used, max };
  }
  return { requests: [...requests, req.persona === undefined ? withoutPersona(req) : req], stored: 'new', bucket, used: used + 1, max };
}

function countBucket(requests: readonly PendingRequest[], persona: string | undefined): number {
  return requests.filter((r) => r.persona === persona).length;
}

function maxFor(persona: string | undefined): number {
  return persona === undefined ? MAX_STRANGER_REQUESTS : MAX_REQUESTS_PER_PERSONA;
}

function withoutPersona(r: PendingRequest): PendingRequest {
  return { publicKey: r.publicKey, message: r.message, receivedAt: r.receivedAt };
}

/**
 * Keeps the requests a file holds within the buckets' bounds (an older version kept 100 in one FIFO, or the file was
 * edited): the oldest entries of each bucket stay, as the queue would have kept them.
 */
export function boundRequests(requests: readonly PendingRequest[]): PendingRequest[] {
  let out: PendingRequest[] = [];
  for (const r of requests) {
    const q = queueRequest(out, r);
    out = q.requests;
  }
  return out;
}

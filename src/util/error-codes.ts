// The one registry of error codes that change how a failure is reported: code → kind → CLI exit code and HTTP status.
// Every other code is a refusal (exit 5, HTTP 400). The CLI (exit codes) and the admin endpoint (HTTP) both read it.

/** Exit codes of `tox-persona` (documented in docs/CLI.md). */
export const EXIT = Object.freeze({
  /** Success (for `verify`: the status message is valid). */
  OK: 0,
  /** Unexpected failure (a bug, or an error with no code). */
  FAILURE: 1,
  /** Bad usage: unknown command or option, bad argument, invalid configuration. */
  USAGE: 2,
  /** Data directory: not initialized, already initialized, or a damaged file in it. */
  DATA_DIR: 3,
  /** Busy or unreachable: another process holds the data directory or the client profile, or the daemon's admin endpoint did not answer. */
  BUSY: 4,
  /** Refused: the operation was understood but refused (unknown device, rejected status message, wrong passphrase...). */
  REFUSED: 5,
  /**
   * Outcome unknown: a changing command may or may not have been applied (its daemon went away and no retry answered,
   * or the disk refused the save and the daemon keeps retrying it). Run it again with the printed --request-id.
   */
  UNKNOWN: 6,
});

/** How a failure is reported, by kind. */
export const ERROR_KINDS = Object.freeze({
  /** The caller asked wrongly (bad argument, bad configuration, ambiguous reference). */
  usage: { exit: EXIT.USAGE, http: 400 },
  /** A file of the data directory is missing, present when it must not be, or damaged. */
  dataDir: { exit: EXIT.DATA_DIR, http: 409 },
  /** Someone else holds the resource, or the daemon did not answer. */
  busy: { exit: EXIT.BUSY, http: 409 },
  /** What the request names does not exist. */
  notFound: { exit: EXIT.REFUSED, http: 404 },
  /** What the request would create exists already. */
  conflict: { exit: EXIT.REFUSED, http: 409 },
  /** No valid token. */
  unauthorized: { exit: EXIT.REFUSED, http: 401 },
  /** It may or may not have been applied: the answer was lost, or the disk refused the save (503: the daemon retries). */
  unknown: { exit: EXIT.UNKNOWN, http: 503 },
  /** Understood and refused (the default for every code not listed). */
  refused: { exit: EXIT.REFUSED, http: 400 },
});

/** A kind of failure. */
export type ErrorKind = keyof typeof ERROR_KINDS;

/** Codes with their kind and a one-line meaning; a code not listed is `refused`. */
export const ERROR_CODES: Readonly<Record<string, { kind: ErrorKind; doc: string }>> = Object.freeze({
  BAD_CONFIG: { kind: 'usage', doc: 'the configuration (file, environment, flags) is invalid; every problem is listed' },
  BAD_ARGUMENT: { kind: 'usage', doc: 'an argument is malformed (not a key, not a Tox ID, ...)' },
  USAGE: { kind: 'usage', doc: 'unknown command or option' },
  BAD_NODE: { kind: 'usage', doc: 'a bootstrap node entry is not host:port:key' },
  BAD_NODE_LIST: { kind: 'usage', doc: 'a bootstrap node list file is not a nodes.json' },
  AMBIGUOUS: { kind: 'usage', doc: 'a key prefix or name matches more than one thing' },
  BAD_REQUEST: { kind: 'usage', doc: 'an admin request body is not a JSON object' },
  UNKNOWN_OPERATION: { kind: 'notFound', doc: 'no admin operation of that name' },
  NOT_INITIALIZED: { kind: 'dataDir', doc: 'the data directory is not initialized (or a file it needs is missing)' },
  ALREADY_INITIALIZED: { kind: 'dataDir', doc: 'init refuses an existing data directory' },
  BAD_FILE: { kind: 'dataDir', doc: 'a file of the data directory is damaged (devices.json, requests.json, friends.json, ...)' },
  TABLE_CORRUPT: { kind: 'dataDir', doc: 'personas.json is not a valid table; left untouched' },
  TABLE_UNKNOWN_VERSION: { kind: 'dataDir', doc: 'personas.json has a schema this build does not read' },
  KEY_FILE_NOT_FOUND: { kind: 'dataDir', doc: 'persona.key is missing' },
  KEY_FILE_PERMISSIONS: { kind: 'dataDir', doc: 'persona.key is readable by others' },
  KEY_FILE_CORRUPT: { kind: 'dataDir', doc: 'persona.key is damaged' },
  LOCKED: { kind: 'busy', doc: 'another process holds the data directory' },
  DAEMON_UNREACHABLE: { kind: 'busy', doc: 'the daemon recorded in daemon.json did not answer' },
  DAEMON_NO_ANSWER: { kind: 'busy', doc: 'a read-only request reached the daemon but no answer came (it died or hung)' },
  OUTCOME_UNKNOWN: { kind: 'unknown', doc: 'the daemon went away after a changing request was sent and no retry answered; retry with its --request-id' },
  SAVE_FAILED: { kind: 'unknown', doc: 'the disk refused the save (ENOSPC, EROFS); the change is in memory, unpublished, and retried' },
  INVALID_PUBLIC_KEY: { kind: 'usage', doc: 'a key toxcore refuses as a Curve25519 public key (last byte 0x80 or more)' },
  IN_USE: { kind: 'busy', doc: 'a Tox client profile is in use by a running client (profile sync)' },
  UNKNOWN_DEVICE: { kind: 'notFound', doc: 'no such device in our list' },
  UNKNOWN_PERSONA: { kind: 'notFound', doc: 'no such persona in the table' },
  UNKNOWN_REQUEST: { kind: 'notFound', doc: 'no pending friend request from that key' },
  UNKNOWN_FRIEND: { kind: 'notFound', doc: 'no such friend' },
  UNKNOWN_GROUP: { kind: 'notFound', doc: 'the companion is not in that group' },
  UNKNOWN_PEER: { kind: 'notFound', doc: 'no such peer in that group' },
  NO_PENDING: { kind: 'notFound', doc: 'no pending update for that persona' },
  NOT_FOUND: { kind: 'notFound', doc: 'no such admin endpoint' },
  DEVICE_EXISTS: { kind: 'conflict', doc: 'the device is already in our list' },
  OUTPUT_EXISTS: { kind: 'conflict', doc: 'the output file exists; choose a new path' },
  LIST_CHANGED: { kind: 'conflict', doc: 'our list changed while a device enroll ran (another change came first); nothing was applied, run it again' },
  KEY_FILE_EXISTS: { kind: 'conflict', doc: 'a persona.key exists and is not replaced' },
  UNAUTHORIZED: { kind: 'unauthorized', doc: 'the admin token is missing or wrong' },
  // Root and signers (docs/KEYS.md).
  RECOVERY_KEY_CORRUPT: { kind: 'usage', doc: 'the text is not a recovery key (prefix, length, or a character outside Crockford base32)' },
  RECOVERY_KEY_MISTYPED: { kind: 'usage', doc: 'the recovery key\'s checksum does not match: a typo, located to its group when one character is off' },
  SIGNER_TEXT_CORRUPT: { kind: 'usage', doc: 'a signer request or certificate text is damaged, incomplete or does not verify' },
  RECOVERY_KEY_REQUIRED: { kind: 'refused', doc: 'the root is not on this device (or removing it needs proof): give the recovery key with --recovery-key' },
  WRONG_ROOT: { kind: 'refused', doc: 'the recovery key given belongs to another persona' },
  NO_ROOT: { kind: 'refused', doc: 'the operation needs the root key, which is not on this device' },
  NO_SIGNER: { kind: 'refused', doc: 'this device holds neither a certified signer nor the root, so it cannot sign' },
  SIGNER_REVOKED: { kind: 'refused', doc: 'this device\'s signer is of an older epoch than the persona\'s: renew it with the recovery key' },
  SEQ_AHEAD_OF_CLOCK: { kind: 'refused', doc: 'our newest list runs more than the clock-skew allowance ahead of this clock: check the clock' },
  NOT_FOR_THIS_DEVICE: { kind: 'refused', doc: 'a signer certificate is for another device\'s key, or its list does not name this device' },
  EPOCH_EXHAUSTED: { kind: 'refused', doc: 'the persona used all 65,535 epochs' },
  PWHASH_UNAVAILABLE: { kind: 'refused', doc: 'an encrypted key needs argon2id, which only the native libsodium provides here and it did not load' },
});

/** The kind of a code: its registry entry, else `refused`. */
export function errorKind(code: string): ErrorKind {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code) ? ERROR_CODES[code]!.kind : 'refused';
}

/** The CLI exit code for an error code. */
export function exitCodeForCode(code: string): number {
  return ERROR_KINDS[errorKind(code)].exit;
}

/** The admin endpoint's HTTP status for an error code. */
export function httpStatusForCode(code: string): number {
  return ERROR_KINDS[errorKind(code)].http;
}

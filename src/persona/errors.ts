// Typed errors thrown by the persona layer: encoder refusals, key-file problems and table-store problems.
import { ToxPersonaError } from '../util/errors.js';

/** The status message would exceed the 1007-byte Tox limit; `budget` and `needed` are in UTF-8 bytes. */
export class StatusMessageTooLong extends ToxPersonaError {
  /** The byte limit that applied (1007 for a Tox status message). */
  readonly budget: number;
  /** How many bytes the message would have taken. */
  readonly needed: number;
  /** How many bytes the signed blob alone (marker included) takes, so a caller can tell how much human text fits. */
  readonly blobBytes: number;

  constructor(needed: number, budget: number, blobBytes: number) {
    super(
      'STATUS_MESSAGE_TOO_LONG',
      `status message needs ${needed} bytes but the limit is ${budget}; the device list takes ${blobBytes}, leaving ${Math.max(0, budget - blobBytes)} for human text`,
    );
    this.budget = budget;
    this.needed = needed;
    this.blobBytes = blobBytes;
  }
}

/** A device list handed to the encoder breaks a format rule (duplicate key, name too long, bad field range...). */
export class InvalidDeviceList extends ToxPersonaError {
  constructor(message: string) {
    super('INVALID_DEVICE_LIST', message);
  }
}

/** Codes of {@link PersonaKeyError}. */
export type PersonaKeyErrorCode =
  | 'KEY_FILE_NOT_FOUND'
  | 'KEY_FILE_EXISTS'
  | 'KEY_FILE_CORRUPT'
  | 'KEY_FILE_PERMISSIONS'
  | 'KEY_TEXT_CORRUPT'
  | 'PASSPHRASE_REQUIRED'
  | 'WRONG_PASSPHRASE'
  | 'PWHASH_UNAVAILABLE';

/** Loading, saving, exporting or importing a persona key failed; the message never contains secret key material. */
export class PersonaKeyError extends ToxPersonaError {
  declare readonly code: PersonaKeyErrorCode;

  constructor(code: PersonaKeyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Codes of {@link PersonaTableStoreError}. */
export type PersonaTableStoreErrorCode = 'TABLE_CORRUPT' | 'TABLE_UNKNOWN_VERSION';

/** The persona table file can't be used; it is left untouched and is never overwritten while in this state. */
export class PersonaTableStoreError extends ToxPersonaError {
  declare readonly code: PersonaTableStoreErrorCode;
  /** The file that was rejected. */
  readonly path: string;

  constructor(code: PersonaTableStoreErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = path;
  }
}

/** approvePending / rejectPending got an id that is not (or no longer) in the table's pending list. */
export class PendingNotFound extends ToxPersonaError {
  /** The id that was asked for. */
  readonly id: string;

  constructor(id: string) {
    super('PENDING_NOT_FOUND', `no pending update with id ${id}`);
    this.id = id;
  }
}

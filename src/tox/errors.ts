// Typed errors of the Tox layer: failed toxcore calls, bad node lists, and a tox-bootstrapd that would not run.
import { ToxPersonaError } from '../util/errors.js';

/**
 * A toxcore call failed, or was refused before reaching C.
 * `op` is the ToxNode operation (`'friendAdd'`), `code` the `Tox_Err_*` member name without its prefix
 * (`'ALREADY_SENT'`), or one of our own codes: `'CLOSED'` (use after close), `'BAD_ARGUMENT'`,
 * `'TOO_LONG'`, `'NO_PASSPHRASE'`, `'WRONG_PASSPHRASE'`.
 */
export class ToxError extends ToxPersonaError {
  /** The ToxNode operation that failed, e.g. `'friendAdd'`. */
  readonly op: string;

  constructor(op: string, code: string, message?: string, options?: { cause?: unknown }) {
    super(code, `${op} failed: ${code}${message ? ` (${message})` : ''}`, options);
    this.op = op;
  }
}

/** A node list (public `nodes.json` or `host:port:key` entries) was malformed; `code` is `'BAD_NODE_LIST'` or `'BAD_NODE'`. */
export class NodeListError extends ToxPersonaError {}

/**
 * The local `tox-bootstrapd` could not be started or stopped as asked.
 * Codes: `'BOOTSTRAPD_NOT_FOUND'`, `'BOOTSTRAPD_PORT_IN_USE'`, `'BOOTSTRAPD_EXITED'`, `'BOOTSTRAPD_TIMEOUT'`, `'BOOTSTRAPD_CLOSED'`.
 */
export class BootstrapdError extends ToxPersonaError {}

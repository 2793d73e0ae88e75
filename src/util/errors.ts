// The root of every error tox-persona throws on purpose: a stable machine-readable `code` next to the message.

/** Base class of tox-persona's typed errors; `code` is stable and meant for programs, the message for people. */
export class ToxPersonaError extends Error {
  /** Stable, upper-snake-case reason code. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

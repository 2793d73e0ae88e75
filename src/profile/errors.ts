// Typed errors of the profile layer: every way a Tox savedata file can be unreadable, unloadable or unwritable.
import { ToxPersonaError } from '../util/errors.js';

/**
 * Stable reason codes of {@link ProfileError}.
 * - `BAD_MAGIC`: the file does not start with the savedata header (u32 0, u32 0x15ed1b1f) or the `toxEsave` magic.
 * - `TRUNCATED`: the data stops in the middle of a header, a section or a record.
 * - `SECTION_OVERFLOW`: a section (or DHT subsection) claims more bytes than are left.
 * - `BAD_SECTION`: a section's cookie, length or contents do not match its type.
 * - `BAD_KEYPAIR`: the saved public key is not the one derived from the saved secret key (libtoxcore refuses such a file).
 * - `ENCRYPTED`: the profile is encrypted (`toxEsave`) and no passphrase was given.
 * - `BAD_PASSPHRASE`: the passphrase does not decrypt the profile (or the encrypted data is damaged).
 * - `ENCRYPTION_FAILED`: libtoxcore could not encrypt the profile.
 * - `TOO_LONG`: a name or status message is longer than libtoxcore accepts.
 * - `BAD_ARGUMENT`: an argument has the wrong shape (not bytes, empty passphrase, ...).
 * - `OUTPUT_EXISTS`: the output file already exists; we never overwrite it.
 * - `SAME_FILE`: the output path names the input file.
 * - `READ_FAILED` / `WRITE_FAILED`: the file system refused a read or a write.
 * - `IN_USE`: a running client seems to have the profile open (a lock, or a process using it); it is not touched.
 */
export type ProfileErrorCode =
  | 'BAD_MAGIC'
  | 'TRUNCATED'
  | 'SECTION_OVERFLOW'
  | 'BAD_SECTION'
  | 'BAD_KEYPAIR'
  | 'ENCRYPTED'
  | 'BAD_PASSPHRASE'
  | 'ENCRYPTION_FAILED'
  | 'TOO_LONG'
  | 'BAD_ARGUMENT'
  | 'OUTPUT_EXISTS'
  | 'SAME_FILE'
  | 'READ_FAILED'
  | 'WRITE_FAILED'
  | 'IN_USE';

/** A profile could not be parsed, decrypted, rekeyed or written; `code` is a {@link ProfileErrorCode}, the message never holds key material. */
export class ProfileError extends ToxPersonaError {
  declare readonly code: ProfileErrorCode;

  constructor(code: ProfileErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

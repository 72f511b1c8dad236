/** What was wrong with a key text or with the values handed to the encoder. */
export type KeyErrorCode =
  | 'prefix' // the `<id>-<version>.` prefix is malformed
  | 'profile' // no profile with that id (or no bare profile for an unprefixed key)
  | 'version' // the profile exists but not in that version
  | 'length' // the payload has the wrong number of characters
  | 'alphabet' // a character outside the payload alphabet
  | 'steps' // a step count the profile cannot store
  | 'guidance' // a guidance scale the profile cannot store
  | 'shape' // an array with the wrong number of values
  | 'value' // a value the coding cannot represent (NaN, ±Inf)
  | 'stride'; // a stride the profile does not offer

/**
 * A malformed key or unencodable input. `index` is the character index in the key text for text errors,
 * the flat value index for `value`, the received length for `shape`, and -1 where no position applies. The message
 * is for people (the app shows it as is); `code` and `index` are for programs.
 */
export class KeyError extends Error {
  constructor(
    readonly code: KeyErrorCode,
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = 'KeyError';
  }
}

/** A keyspace profile that does not validate; `path` is a JSON-pointer-like location in the profile. */
export class ProfileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`invalid keyspace profile at ${path || '/'}: ${message}`);
    this.name = 'ProfileError';
  }
}

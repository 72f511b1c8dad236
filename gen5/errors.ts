/**
 * Every problem found in a .gen5 file (or in input to the encoder) is a Gen5Error with a stable `code`, so callers
 * (CLI, API, UI, fuzz test) can branch on it and nothing else ever escapes the decoder.
 */
export type Gen5ErrorCode =
  | 'TRUNCATED' // fewer bytes than the structure needs
  | 'BAD_MAGIC' // header magic is not GEN5
  | 'BAD_VERSION' // version_major other than 1
  | 'FILE_SIZE' // header file_size disagrees with the byte count, or the file exceeds limits
  | 'TOO_MANY_CHUNKS' // chunk count above limits.maxChunks
  | 'OUT_OF_BOUNDS' // a chunk (or META) lies outside the file
  | 'OVERLAP' // two chunks (or a chunk and the header/META) share bytes
  | 'CHUNK_COUNT' // header, file_info and the chunk table disagree on the count
  | 'CHUNK_TABLE' // a chunk record is inconsistent (index, flags, type, duplicate DATA/ENVC or latent name)
  | 'UNKNOWN_CHUNK' // a chunk type other than LATN/DATA/ENVC in the table
  | 'CHUNK_HEADER' // the 12-byte inner record disagrees with the chunk table
  | 'ZSTD_FRAME' // not a single well-formed zstd frame (bad magic, dictionary, reserved bits, trailing bytes)
  | 'ZSTD_NO_CONTENT_SIZE' // frame header does not declare its content size
  | 'ZSTD_TOO_LARGE' // declared content size above the limit (checked before decompressing)
  | 'ZSTD_CORRUPT' // zstd failed, or produced a size other than declared
  | 'META_TOO_LARGE'
  | 'META_TOO_DEEP'
  | 'META_JSON' // not UTF-8 or not JSON
  | 'SCHEMA' // META fails gen5 0.1.0's draft-07 schema
  | 'ENVC' // ENVC JSON malformed
  | 'LATENT_SHAPE'
  | 'LATENT_DTYPE'
  | 'LATENT_SIZE' // payload length disagrees with shape × itemsize
  | 'LATENT_NONFINITE' // NaN or ±Inf in a latent
  | 'HASH_MISMATCH' // SHA-256 of a payload differs from the chunk table
  | 'CHUNK_TOO_LARGE' // a chunk's payload (per the table) above limits.maxChunkBytes
  | 'IMAGE' // image given to the encoder is not a PNG
  | 'INPUT'; // other invalid encoder input

export class Gen5Error extends Error {
  constructor(
    readonly code: Gen5ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'Gen5Error';
  }
}

export function isGen5Error(err: unknown): err is Gen5Error {
  return err instanceof Gen5Error;
}

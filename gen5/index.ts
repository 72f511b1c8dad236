/** gen5: the .gen5 container of gen5 0.1.0 (PyPI), bytes in, bytes out. See docs/gen5.md. */
export type { ChunkRecord, ChunkType, LatentDtype } from './chunk.ts';
export type { DecodedLatent, DecodeOptions, Gen5File } from './decode.ts';
export { decodeGen5 } from './decode.ts';
export type { Gen5EncodeInput, LatentInput, ModelInfoInput } from './encode.ts';
export { encodeGen5, pythonUtcIso } from './encode.ts';
export type { DriftKind, DriftWarning, EnvComponent, StoredEnvComponent } from './envc.ts';
export { canonicalString, driftWarnings } from './envc.ts';
export type { Gen5ErrorCode } from './errors.ts';
export { Gen5Error, isGen5Error } from './errors.ts';
export type { Gen5Header } from './header.ts';
export type { Gen5Limits } from './limits.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export type { PngHeader } from './png-header.ts';
export { readPngHeader } from './png-header.ts';
export type { Json, PyJson } from './pyjson.ts';
export { PyFloat, parsePyJson, pyDumps, toPlainJson } from './pyjson.ts';
export type { Pixels, RegenerationResult, VerifyCheck, VerifyOptions, VerifyReport } from './verify.ts';
export { PROVENANCE_FIELD, verifyGen5 } from './verify.ts';

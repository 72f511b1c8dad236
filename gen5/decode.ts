import {
  CHUNK_TYPES,
  type ChunkRecord,
  INNER_HEADER_SIZE,
  innerFlags,
  type LatentDtype,
  recordFlags,
  unpackInner,
} from './chunk.ts';
import { sha256Hex } from './digest.ts';
import { type DriftWarning, driftWarnings, type EnvComponent, type EnvcData, parseEnvcPayload } from './envc.ts';
import { Gen5Error } from './errors.ts';
import { type Gen5Header, HEADER_SIZE, parseHeader } from './header.ts';
import { checkFinite, checkLatentDtype, checkLatentShape, expectedLatentBytes } from './latent.ts';
import { type Gen5Limits, resolveLimits } from './limits.ts';
import { checkJsonDepth, type Json } from './pyjson.ts';
import { validateMeta } from './schema.ts';
import { decompressFrame, ensureZstd, isZstdFrame, readFrameInfo } from './zstd.ts';

export interface DecodedLatent {
  name: string;
  dtype: LatentDtype;
  shape: number[];
  /** Raw little-endian bytes as stored (4-byte aligned, never a view of the input). */
  data: Uint8Array;
}

export interface Gen5File {
  header: Gen5Header;
  /** The META JSON exactly as stored. */
  metaText: string;
  meta: {
    gen5_metadata: { model_info: Record<string, Json>; chunks: ChunkRecord[]; [k: string]: Json | ChunkRecord[] };
  };
  records: ChunkRecord[];
  latents: DecodedLatent[];
  image?: Uint8Array;
  /** The ENVC JSON exactly as stored, and parsed. */
  envc?: { text: string } & EnvcData;
  /** Harmless oddities, e.g. 0.1.0's stale file_info.file_size. */
  notes: string[];
  /** Present when decodeGen5 was given the current environment. */
  drift?: DriftWarning[];
}

export interface DecodeOptions {
  limits?: Partial<Gen5Limits>;
  /** Compare the file's ENVC with this environment and return gen5's drift warnings. */
  currentEnvironment?: EnvComponent[];
  /**
   * Check each payload's SHA-256 against the chunk table (default true). Off only for bytes already verified, e.g.
   * by verifyGen5, or to time the format work alone; everything else is still checked.
   */
  verifyHashes?: boolean;
}

/**
 * Decodes a .gen5 file, checking everything gen5 0.1.0 checks and what it does not (hashes, bounds, overlaps,
 * inner headers, schema on read). Any problem throws Gen5Error; memory stays within `limits`.
 */
export async function decodeGen5(bytes: Uint8Array, options: DecodeOptions = {}): Promise<Gen5File> {
  await ensureZstd();
  const limits = resolveLimits(options.limits);
  const header = readHeader(bytes, limits);
  const fileSizeProblem = checkFileSize(bytes, header);
  if (fileSizeProblem) throw fileSizeProblem;
  const budget = new Budget(limits.maxTotalDecompressedBytes);
  const { metaText, meta, records } = await readMeta(bytes, header, limits, budget);
  const layout = checkLayout(bytes.length, header, meta, records);
  if (layout.fatal.length) throw layout.fatal[0];

  const file: Gen5File = { header, metaText, meta, records, latents: [], notes: layout.notes };
  for (const record of records) {
    const payload = await readChunkPayload(bytes, record, limits, budget);
    if (options.verifyHashes ?? true) await checkHash(record, payload);
    // A compressed chunk's payload is a view of a fresh buffer (at offset 12, so float32-aligned); a stored one is
    // a view of the caller's bytes and gets copied.
    const own = record.compressed ? payload : payload.slice();
    if (record.type === 'LATN') file.latents.push(toLatent(record, own));
    else if (record.type === 'DATA') file.image = own;
    else file.envc = parseEnvc(payload, limits);
  }
  if (options.currentEnvironment) {
    file.drift = await driftWarnings(file.envc?.components ?? [], options.currentEnvironment);
  }
  return file;
}

export function readHeader(bytes: Uint8Array, limits: Gen5Limits): Gen5Header {
  if (bytes.length > limits.maxFileBytes) {
    throw new Gen5Error('FILE_SIZE', `file is ${bytes.length} bytes, above the limit of ${limits.maxFileBytes}`);
  }
  const header = parseHeader(bytes);
  // Checked before META is read, so a header claiming millions of chunks costs nothing.
  if (header.chunkCount > limits.maxChunks) {
    throw new Gen5Error(
      'TOO_MANY_CHUNKS',
      `header declares ${header.chunkCount} chunks, above the limit of ${limits.maxChunks}`,
    );
  }
  return header;
}

export function checkFileSize(bytes: Uint8Array, header: Gen5Header): Gen5Error | undefined {
  if (bytes.length < header.fileSize) {
    return new Gen5Error(
      'TRUNCATED',
      `file is ${bytes.length} bytes but its header says ${header.fileSize}: truncated`,
    );
  }
  if (bytes.length > header.fileSize) {
    return new Gen5Error(
      'FILE_SIZE',
      `file is ${bytes.length} bytes but its header says ${header.fileSize}: trailing bytes`,
    );
  }
  return undefined;
}

/** Caps the sum of decompressed sizes in one file; each frame is charged its declared size before it is inflated. */
export class Budget {
  private used = 0;
  constructor(private readonly limit: number) {}
  take(n: number, what: string): void {
    if (this.used + n > this.limit) {
      throw new Gen5Error(
        'ZSTD_TOO_LARGE',
        `${what}: decompressing ${n} more bytes would pass the per-file limit of ${this.limit}`,
      );
    }
    this.used += n;
  }
}

export async function readMeta(bytes: Uint8Array, header: Gen5Header, limits: Gen5Limits, budget: Budget) {
  const start = header.chunkTableOffset;
  const end = start + header.chunkTableSize;
  if (start < HEADER_SIZE || end > bytes.length) {
    throw new Gen5Error('OUT_OF_BOUNDS', `META chunk at ${start}..${end} lies outside the file (32..${bytes.length})`);
  }
  const frame = bytes.subarray(start, end);
  // 0.1.0 always compresses META and its reader cannot read it otherwise, so neither do we.
  if (!isZstdFrame(frame)) throw new Gen5Error('ZSTD_FRAME', 'META chunk is not a zstd frame');
  const { contentSize } = readFrameInfo(frame);
  if (contentSize > limits.maxMetaBytes + INNER_HEADER_SIZE) {
    throw new Gen5Error(
      'META_TOO_LARGE',
      `META declares ${contentSize - INNER_HEADER_SIZE} bytes, above the limit of ${limits.maxMetaBytes}`,
    );
  }
  budget.take(contentSize, 'META');
  const inner = await decompressFrame(frame, limits.maxMetaBytes + INNER_HEADER_SIZE, 'META');
  const payload = unpackInner(inner, 'META', '0000', 'META');
  let metaText: string;
  try {
    metaText = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    throw new Gen5Error('META_JSON', 'META is not valid UTF-8');
  }
  checkJsonDepth(metaText, limits.maxJsonDepth, 'META JSON');
  let meta: Json;
  try {
    meta = JSON.parse(metaText);
  } catch (err) {
    throw new Gen5Error('META_JSON', `META is not JSON: ${(err as Error).message}`);
  }
  const chunks = (meta as { gen5_metadata?: { chunks?: unknown } })?.gen5_metadata?.chunks;
  if (Array.isArray(chunks) && chunks.length > limits.maxChunks) {
    throw new Gen5Error(
      'TOO_MANY_CHUNKS',
      `META lists ${chunks.length} chunks, above the limit of ${limits.maxChunks}`,
    );
  }
  validateMeta(meta);
  const typed = meta as unknown as Gen5File['meta'];
  return { metaText, meta: typed, records: typed.gen5_metadata.chunks };
}

export interface LayoutReport {
  /** Problems that make the file unreadable or untrustworthy: the decoder throws the first. */
  fatal: Gen5Error[];
  /** Departures from the exact 0.1.0 layout that a reader can live with; verify fails on them. */
  strict: string[];
  notes: string[];
}

/** Counts, indices, types, flags, bounds, overlaps, order and gaps of the chunk table. */
export function checkLayout(
  fileLength: number,
  header: Gen5Header,
  meta: Gen5File['meta'],
  records: ChunkRecord[],
): LayoutReport {
  const fatal: Gen5Error[] = [];
  const strict: string[] = [];
  const notes: string[] = [];
  const info = meta.gen5_metadata.file_info as {
    chunk_count: number;
    file_size: number;
    version_major: number;
    version_minor: number;
  };
  if (records.length !== header.chunkCount) {
    fatal.push(
      new Gen5Error(
        'CHUNK_COUNT',
        `header declares ${header.chunkCount} chunks, the chunk table lists ${records.length}`,
      ),
    );
  }
  if (info.chunk_count !== records.length) {
    fatal.push(
      new Gen5Error(
        'CHUNK_COUNT',
        `file_info.chunk_count is ${info.chunk_count}, the chunk table lists ${records.length}`,
      ),
    );
  }
  if (info.file_size !== header.fileSize) {
    // gen5 0.1.0 writes file_info.file_size from a first pass (a few bytes short); the header is the truth.
    notes.push(
      `file_info.file_size is ${info.file_size}, header says ${header.fileSize} (gen5 0.1.0 writes a stale value; the header is used)`,
    );
  }
  if (info.version_major !== header.versionMajor || info.version_minor !== header.versionMinor) {
    strict.push(
      `file_info version ${info.version_major}.${info.version_minor} differs from the header's ${header.versionMajor}.${header.versionMinor}`,
    );
  }
  const ranges: { start: number; end: number; what: string }[] = [
    { start: 0, end: HEADER_SIZE, what: 'header' },
    { start: header.chunkTableOffset, end: header.chunkTableOffset + header.chunkTableSize, what: 'META' },
  ];
  const seen = new Set<string>();
  const names = new Set<string>();
  records.forEach((r, i) => {
    const what = `chunk ${i} (${r.type})`;
    if (r.index !== i) fatal.push(new Gen5Error('CHUNK_TABLE', `${what}: index is ${r.index}, expected ${i}`));
    if (!CHUNK_TYPES.includes(r.type)) {
      fatal.push(
        new Gen5Error('UNKNOWN_CHUNK', `${what}: unknown chunk type ${JSON.stringify(r.type)} (LATN, DATA, ENVC only)`),
      );
      return;
    }
    if (r.type === 'LATN') {
      if (r.flags !== 'F16' && r.flags !== 'F32')
        fatal.push(new Gen5Error('CHUNK_TABLE', `${what}: flags ${JSON.stringify(r.flags)}, expected F16 or F32`));
      const name = r.extra.key;
      if (typeof name !== 'string')
        fatal.push(new Gen5Error('CHUNK_TABLE', `${what}: extra.key (the latent's name) is missing`));
      else if (names.has(name))
        fatal.push(new Gen5Error('CHUNK_TABLE', `${what}: latent name ${JSON.stringify(name)} appears twice`));
      else names.add(name);
    } else {
      if (r.flags !== '0000')
        fatal.push(new Gen5Error('CHUNK_TABLE', `${what}: flags ${JSON.stringify(r.flags)}, expected "0000"`));
      if (seen.has(r.type)) fatal.push(new Gen5Error('CHUNK_TABLE', `${what}: a second ${r.type} chunk`));
      seen.add(r.type);
    }
    const end = r.offset + r.compressed_size;
    if (end > fileLength) {
      fatal.push(
        new Gen5Error(
          'OUT_OF_BOUNDS',
          `${what}: bytes ${r.offset}..${end} lie past the end of the file (${fileLength})`,
        ),
      );
    }
    ranges.push({ start: r.offset, end, what });
  });
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const [a, b] = [ranges[i - 1], ranges[i]];
    if (b.start < a.end) {
      fatal.push(
        new Gen5Error(
          'OVERLAP',
          `${b.what} (bytes ${b.start}..${b.end}) overlaps ${a.what} (bytes ${a.start}..${a.end})`,
        ),
      );
    } else if (b.start > a.end) strict.push(`bytes ${a.end}..${b.start} belong to no chunk`);
  }
  const last = ranges[ranges.length - 1];
  if (last && last.end < fileLength) strict.push(`bytes ${last.end}..${fileLength} belong to no chunk`);
  if (header.chunkTableOffset + header.chunkTableSize !== fileLength) strict.push('META is not the last chunk');
  const order = records.map((r) => r.type[0]).join('');
  if (!/^L*D?E$/.test(order))
    strict.push(`chunk order ${records.map((r) => r.type).join(', ')} is not LATN…, DATA (optional), ENVC`);
  return { fatal, strict, notes };
}

/** One chunk's payload: bounds and sizes checked against the table and limits before anything is inflated. */
export async function readChunkPayload(
  bytes: Uint8Array,
  record: ChunkRecord,
  limits: Gen5Limits,
  budget: Budget,
): Promise<Uint8Array> {
  const what = `chunk ${record.index} (${record.type})`;
  const limit = record.type === 'ENVC' ? limits.maxEnvcBytes : limits.maxChunkBytes;
  if (record.uncompressed_size > limit) {
    throw new Gen5Error('CHUNK_TOO_LARGE', `${what}: ${record.uncompressed_size} bytes, above the limit of ${limit}`);
  }
  let dtype: LatentDtype | undefined;
  if (record.type === 'LATN') {
    const shape = checkLatentShape(record.extra.shape, limits, what);
    dtype = checkLatentDtype(record.extra.dtype, what);
    if (recordFlags('LATN', dtype) !== record.flags) {
      throw new Gen5Error(
        'LATENT_DTYPE',
        `${what}: dtype ${dtype} disagrees with flags ${JSON.stringify(record.flags)}`,
      );
    }
    const expected = expectedLatentBytes(shape, dtype);
    if (record.uncompressed_size !== expected) {
      throw new Gen5Error(
        'LATENT_SIZE',
        `${what}: payload is ${record.uncompressed_size} bytes, shape ${JSON.stringify(shape)} × ${dtype} needs ${expected}`,
      );
    }
  }
  const end = record.offset + record.compressed_size;
  if (record.offset < HEADER_SIZE || end > bytes.length) {
    throw new Gen5Error(
      'OUT_OF_BOUNDS',
      `${what}: bytes ${record.offset}..${end} lie outside the file (32..${bytes.length})`,
    );
  }
  const stored = bytes.subarray(record.offset, end);
  let inner: Uint8Array;
  if (record.compressed) {
    const { contentSize } = readFrameInfo(stored);
    if (contentSize > limit + INNER_HEADER_SIZE) {
      throw new Gen5Error(
        'ZSTD_TOO_LARGE',
        `${what}: zstd frame declares ${contentSize} bytes, above the limit of ${limit}`,
      );
    }
    if (contentSize !== record.uncompressed_size + INNER_HEADER_SIZE) {
      throw new Gen5Error(
        'CHUNK_HEADER',
        `${what}: zstd frame declares ${contentSize} bytes, the table says ${record.uncompressed_size} + 12`,
      );
    }
    budget.take(contentSize, what);
    inner = await decompressFrame(stored, limit + INNER_HEADER_SIZE, what);
  } else {
    if (record.compressed_size !== record.uncompressed_size + INNER_HEADER_SIZE) {
      throw new Gen5Error(
        'CHUNK_HEADER',
        `${what}: stored size ${record.compressed_size} ≠ uncompressed_size ${record.uncompressed_size} + 12`,
      );
    }
    inner = stored;
  }
  return unpackInner(inner, record.type, innerFlags(record.type, dtype), what);
}

export async function checkHash(record: ChunkRecord, payload: Uint8Array): Promise<void> {
  const actual = await sha256Hex(payload);
  if (actual !== record.hash) {
    throw new Gen5Error(
      'HASH_MISMATCH',
      `chunk ${record.index} (${record.type}): SHA-256 of the payload is ${actual}, the table says ${record.hash}`,
    );
  }
}

/** `data` must be 4-byte aligned and not the caller's buffer (decodeGen5 copies stored chunks). */
export function toLatent(record: ChunkRecord, data: Uint8Array): DecodedLatent {
  const dtype = record.extra.dtype as LatentDtype;
  checkFinite(data, dtype, `latent ${JSON.stringify(record.extra.key)}`);
  return { name: record.extra.key as string, dtype, shape: [...(record.extra.shape as number[])], data };
}

export function parseEnvc(payload: Uint8Array, limits: Gen5Limits): Gen5File['envc'] {
  const { text, data } = parseEnvcPayload(payload, limits);
  return { text, ...data };
}

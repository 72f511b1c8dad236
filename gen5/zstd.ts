import { compressUsingDict, createCCtx, createDCtx, decompressUsingDict, init } from '@bokuweb/zstd-wasm';
import { allocBytes } from './bytes.ts';
import { Gen5Error } from './errors.ts';

let ready: Promise<void> | undefined;
// One compression and one decompression context for the process, reused: ZSTD_compress/ZSTD_decompress build and
// tear down a context per call, which cost more than compressing a small META. Output is identical either way.
let cctx = 0;
let dctx = 0;
const NO_DICT = new Uint8Array(0);

/** zstd-wasm must load its wasm module once before any call; every gen5 entry point awaits this. */
export function ensureZstd(): Promise<void> {
  ready ??= init().then(() => {
    cctx = createCCtx();
    dctx = createDCtx();
  });
  return ready;
}

const ZSTD_MAGIC = 0xfd2fb528;

export interface FrameInfo {
  /** Declared decompressed size (the frame's Frame_Content_Size field). */
  contentSize: number;
  hasChecksum: boolean;
  /** The frame holds only raw and RLE blocks (what zstd writes for incompressible data such as PNG). */
  storedOnly: boolean;
  /** Offset of the first block header. */
  firstBlock: number;
}

export function isZstdFrame(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && readU32(bytes, 0) === ZSTD_MAGIC;
}

/**
 * Reads a zstd frame header (RFC 8878 §3.1.1) and walks its block headers without decompressing, so a frame is
 * judged by what it declares before any memory is spent on it: exactly one frame filling `frame`, no dictionary,
 * content size present.
 */
export function readFrameInfo(frame: Uint8Array): FrameInfo {
  if (!isZstdFrame(frame)) throw new Gen5Error('ZSTD_FRAME', 'not a zstd frame (bad magic)');
  if (frame.length < 6) throw new Gen5Error('ZSTD_FRAME', 'zstd frame header truncated');
  const fhd = frame[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const reservedBit = (fhd >> 3) & 1;
  const hasChecksum = ((fhd >> 2) & 1) === 1;
  const dictFlag = fhd & 3;
  if (reservedBit) throw new Gen5Error('ZSTD_FRAME', 'zstd frame header has its reserved bit set');
  if (dictFlag !== 0) throw new Gen5Error('ZSTD_FRAME', 'zstd frame needs a dictionary (gen5 uses none)');
  let pos = 5 + (singleSegment ? 0 : 1);
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsSize === 0) throw new Gen5Error('ZSTD_NO_CONTENT_SIZE', 'zstd frame does not declare its content size');
  if (frame.length < pos + fcsSize + 3) throw new Gen5Error('ZSTD_FRAME', 'zstd frame header truncated');
  let contentSize: number;
  if (fcsSize === 1) contentSize = frame[pos];
  else if (fcsSize === 2) contentSize = (frame[pos] | (frame[pos + 1] << 8)) + 256;
  else if (fcsSize === 4) contentSize = readU32(frame, pos);
  else contentSize = readU32(frame, pos) + readU32(frame, pos + 4) * 2 ** 32; // may exceed 2^53: limits reject it
  pos += fcsSize;
  const firstBlock = pos;
  let storedOnly = true;
  // Walk the blocks to find where the frame ends: trailing bytes or a second frame would be data nobody declared.
  for (;;) {
    if (pos + 3 > frame.length) throw new Gen5Error('ZSTD_FRAME', 'zstd frame truncated inside a block header');
    const bh = frame[pos] | (frame[pos + 1] << 8) | (frame[pos + 2] << 16);
    pos += 3;
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const size = bh >>> 3;
    if (type === 3) throw new Gen5Error('ZSTD_FRAME', 'zstd block of reserved type');
    if (type === 2) storedOnly = false;
    // Block_Maximum_Size is 128 KiB (RFC 8878 §3.1.1.2.4); zstd rejects larger blocks, so must we.
    if (size > 128 * 1024) throw new Gen5Error('ZSTD_FRAME', `zstd block of ${size} bytes, above the 128 KiB maximum`);
    pos += type === 1 ? 1 : size; // an RLE block stores one byte however large it expands
    if (pos > frame.length) throw new Gen5Error('ZSTD_FRAME', 'zstd frame truncated inside a block');
    if (last) break;
  }
  if (hasChecksum) pos += 4;
  if (pos !== frame.length) {
    throw new Gen5Error('ZSTD_FRAME', `zstd frame ends at byte ${pos} of ${frame.length}: trailing bytes in the chunk`);
  }
  return { contentSize, hasChecksum, storedOnly, firstBlock };
}

/**
 * Decompresses one frame whose declared content size is at most `maxBytes`. The output buffer is exactly the
 * declared size, so a frame that expands further (a bomb) fails inside zstd instead of growing memory.
 */
export async function decompressFrame(frame: Uint8Array, maxBytes: number, what: string): Promise<Uint8Array> {
  await ensureZstd();
  const info = readFrameInfo(frame);
  const { contentSize } = info;
  if (contentSize > maxBytes) {
    throw new Gen5Error(
      'ZSTD_TOO_LARGE',
      `${what}: zstd frame declares ${contentSize} bytes, above the limit of ${maxBytes}`,
    );
  }
  if (contentSize === 0) throw new Gen5Error('ZSTD_CORRUPT', `${what}: zstd frame declares an empty content`);
  // Raw and RLE blocks are copies and fills: done here with native memcpy/fill instead of wasm's byte loops
  // (a PNG's frame is all raw blocks). Frames with a checksum go to zstd, which verifies it.
  if (info.storedOnly && !info.hasChecksum) return copyStoredBlocks(frame, info.firstBlock, contentSize, what);
  let out: Uint8Array;
  try {
    out = decompressUsingDict(dctx, frame, NO_DICT);
  } catch (err) {
    // zstd-wasm words every failure "Failed to compress with code N", decompression included: only N is kept.
    const code = /code (-?\d+)/.exec((err as Error).message)?.[1];
    throw new Gen5Error(
      'ZSTD_CORRUPT',
      `${what}: zstd could not decompress the frame${code === undefined ? '' : ` (zstd error code ${code})`}`,
    );
  }
  if (out.length !== contentSize) {
    throw new Gen5Error('ZSTD_CORRUPT', `${what}: zstd produced ${out.length} bytes, frame declared ${contentSize}`);
  }
  return out;
}

/**
 * One zstd frame at level 3, content size written, no checksum (python-zstandard's defaults) of `head` followed
 * by `body`, as pieces to write one after the other: an incompressible body goes into its frame as views of
 * itself, without being copied until the file is assembled.
 */
export async function compressFrameParts(head: Uint8Array, body: Uint8Array): Promise<Uint8Array[]> {
  await ensureZstd();
  if (isIncompressible(body)) return storedFrameParts(head, body);
  const joined = new Uint8Array(head.length + body.length);
  joined.set(head, 0);
  joined.set(body, head.length);
  return [compressUsingDict(cctx, joined, NO_DICT, 3)];
}

/** compressFrameParts as one contiguous frame. */
export async function compressFrame(head: Uint8Array, body: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
  const parts = await compressFrameParts(head, body);
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

const BLOCK_MAX = 128 * 1024;
// zstd stores a block raw unless compressing it saves at least 1/64 of it (ZSTD_minGain). A block whose order-0
// entropy is ≥ 7.95 bits per byte cannot be shrunk that much by literal coding; deflate output (a PNG's IDAT) and
// random data are like that, and zstd-wasm spends milliseconds finding that out (native zstd skips through it).
const MIN_ENTROPY_BITS = 7.95;
const MIN_SHORTCUT_BYTES = 64 * 1024;
// Every 7th byte: ~18 Ki samples per block estimate the entropy of random data within 0.02 bit at a seventh of the
// cost of a full histogram. 7 is prime so that the samples visit every byte lane of 2-, 4- and 8-byte numbers (a
// stride of 4 would see only the random low mantissa byte of float32 data and call it incompressible).
const SAMPLE_STRIDE = 7;

/**
 * True when every 128 KiB block of `data` is high-entropy, i.e. zstd level 3 would write each one as a raw block.
 * (Long repeats could still compress beyond order-0 entropy; they do not occur in deflate output, and missing one
 * only costs size, never validity.) Small payloads always go through zstd.
 */
export function isIncompressible(data: Uint8Array): boolean {
  if (data.length < MIN_SHORTCUT_BYTES) return false;
  const counts = new Uint32Array(256);
  for (let start = 0; start < data.length; start += BLOCK_MAX) {
    const end = Math.min(start + BLOCK_MAX, data.length);
    counts.fill(0);
    for (let i = start; i < end; i += SAMPLE_STRIDE) counts[data[i]]++;
    const n = Math.ceil((end - start) / SAMPLE_STRIDE);
    if (n < 1024) continue; // a short tail block cannot be judged by its few samples; its block is small anyway
    let bits = 0;
    for (let b = 0; b < 256; b++) if (counts[b]) bits -= counts[b] * Math.log2(counts[b] / n);
    if (bits / n < MIN_ENTROPY_BITS) return false;
  }
  return true;
}

/**
 * The frame zstd (level 3, content size, no checksum) writes for data it cannot compress: its frame header
 * (ZSTD_writeFrameHeader with level 3's window for this size) and raw blocks of at most 128 KiB, as pieces.
 */
function storedFrameParts(head: Uint8Array, body: Uint8Array): Uint8Array[] {
  const size = head.length + body.length;
  // Level 3's window is 2^21, shrunk to the smallest power of two ≥ the content (ZSTD_adjustCParams).
  const windowLog = Math.min(21, Math.max(10, Math.ceil(Math.log2(size))));
  const singleSegment = 2 ** windowLog >= size;
  const fcsCode = (size >= 256 ? 1 : 0) + (size >= 65536 + 256 ? 1 : 0) + (size >= 0xffffffff ? 1 : 0);
  const fh = [0x28, 0xb5, 0x2f, 0xfd, (fcsCode << 6) | ((singleSegment ? 1 : 0) << 5)];
  if (!singleSegment) fh.push((windowLog - 10) << 3);
  if (fcsCode === 1) fh.push((size - 256) & 0xff, ((size - 256) >>> 8) & 0xff);
  else fh.push(size & 0xff, (size >>> 8) & 0xff, (size >>> 16) & 0xff, (size >>> 24) & 0xff);
  const parts: Uint8Array[] = [new Uint8Array(fh)];
  for (let start = 0; start < size; start += BLOCK_MAX) {
    const n = Math.min(BLOCK_MAX, size - start);
    const bh = (n << 3) | (start + n >= size ? 1 : 0); // raw block, last flag on the final one
    parts.push(new Uint8Array([bh & 0xff, (bh >>> 8) & 0xff, (bh >>> 16) & 0xff]));
    // Bytes [start, start + n) of head ++ body (head is shorter than a block).
    if (start < head.length) parts.push(head.subarray(start));
    parts.push(body.subarray(Math.max(0, start - head.length), start + n - head.length));
  }
  return parts;
}

/** Decodes a frame of raw/RLE blocks (already walked by readFrameInfo) into exactly `contentSize` bytes. */
function copyStoredBlocks(frame: Uint8Array, firstBlock: number, contentSize: number, what: string): Uint8Array {
  // Every byte is written before `out` is returned (the sizes are checked below), so it need not start zeroed.
  const out = allocBytes(contentSize);
  let pos = firstBlock;
  let at = 0;
  for (;;) {
    const bh = frame[pos] | (frame[pos + 1] << 8) | (frame[pos + 2] << 16);
    pos += 3;
    const size = bh >>> 3;
    if (at + size > contentSize) {
      throw new Gen5Error('ZSTD_CORRUPT', `${what}: zstd blocks expand past the declared ${contentSize} bytes`);
    }
    if (((bh >> 1) & 3) === 1) {
      out.fill(frame[pos], at, at + size);
      pos += 1;
    } else {
      out.set(frame.subarray(pos, pos + size), at);
      pos += size;
    }
    at += size;
    if (bh & 1) break;
  }
  if (at !== contentSize)
    throw new Gen5Error('ZSTD_CORRUPT', `${what}: zstd produced ${at} bytes, frame declared ${contentSize}`);
  return out;
}

function readU32(b: Uint8Array, pos: number): number {
  return (b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16)) + b[pos + 3] * 0x1000000;
}

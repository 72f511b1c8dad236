import { compress, decompress, init } from '@bokuweb/zstd-wasm';
import { Gen5Error } from './errors.ts';

let ready: Promise<void> | undefined;

/** zstd-wasm must load its wasm module once before any call; every gen5 entry point awaits this. */
export function ensureZstd(): Promise<void> {
  ready ??= init();
  return ready;
}

const ZSTD_MAGIC = 0xfd2fb528;

export interface FrameInfo {
  /** Declared decompressed size (the frame's Frame_Content_Size field). */
  contentSize: number;
  hasChecksum: boolean;
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
  // Walk the blocks to find where the frame ends: trailing bytes or a second frame would be data nobody declared.
  for (;;) {
    if (pos + 3 > frame.length) throw new Gen5Error('ZSTD_FRAME', 'zstd frame truncated inside a block header');
    const bh = frame[pos] | (frame[pos + 1] << 8) | (frame[pos + 2] << 16);
    pos += 3;
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const size = bh >>> 3;
    if (type === 3) throw new Gen5Error('ZSTD_FRAME', 'zstd block of reserved type');
    pos += type === 1 ? 1 : size; // an RLE block stores one byte however large it expands
    if (pos > frame.length) throw new Gen5Error('ZSTD_FRAME', 'zstd frame truncated inside a block');
    if (last) break;
  }
  if (hasChecksum) pos += 4;
  if (pos !== frame.length) {
    throw new Gen5Error('ZSTD_FRAME', `zstd frame ends at byte ${pos} of ${frame.length}: trailing bytes in the chunk`);
  }
  return { contentSize, hasChecksum };
}

/**
 * Decompresses one frame whose declared content size is at most `maxBytes`. The output buffer is exactly the
 * declared size, so a frame that expands further (a bomb) fails inside zstd instead of growing memory.
 */
export async function decompressFrame(frame: Uint8Array, maxBytes: number, what: string): Promise<Uint8Array> {
  await ensureZstd();
  const { contentSize } = readFrameInfo(frame);
  if (contentSize > maxBytes) {
    throw new Gen5Error(
      'ZSTD_TOO_LARGE',
      `${what}: zstd frame declares ${contentSize} bytes, above the limit of ${maxBytes}`,
    );
  }
  if (contentSize === 0) throw new Gen5Error('ZSTD_CORRUPT', `${what}: zstd frame declares an empty content`);
  let out: Uint8Array;
  try {
    out = decompress(frame);
  } catch (err) {
    throw new Gen5Error('ZSTD_CORRUPT', `${what}: zstd could not decompress the frame (${(err as Error).message})`);
  }
  if (out.length !== contentSize) {
    throw new Gen5Error('ZSTD_CORRUPT', `${what}: zstd produced ${out.length} bytes, frame declared ${contentSize}`);
  }
  return out;
}

/** One zstd frame at `level`, content size written, no checksum: what python-zstandard's defaults produce. */
export async function compressFrame(data: Uint8Array, level = 3): Promise<Uint8Array> {
  await ensureZstd();
  return compress(data, level);
}

function readU32(b: Uint8Array, pos: number): number {
  return (b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16)) + b[pos + 3] * 0x1000000;
}

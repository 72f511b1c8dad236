import { Gen5Error } from './errors.ts';

/** The 32-byte header, struct `<4s B B H I I I I Q` in gen5 0.1.0. */
export interface Gen5Header {
  magic: 'GEN5';
  versionMajor: number;
  versionMinor: number;
  flags: number;
  /** Offset of the META chunk (0.1.0 calls it the chunk table). */
  chunkTableOffset: number;
  /** Stored (compressed) length of the META chunk. */
  chunkTableSize: number;
  /** Chunk records, META not counted. */
  chunkCount: number;
  fileSize: number;
  reserved: bigint;
}

export const HEADER_SIZE = 32;
const MAGIC = [0x47, 0x45, 0x4e, 0x35]; // "GEN5"

export function writeHeader(h: Omit<Gen5Header, 'magic' | 'versionMajor' | 'versionMinor' | 'flags' | 'reserved'>) {
  const out = new Uint8Array(HEADER_SIZE);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint8(4, 1);
  dv.setUint8(5, 0);
  dv.setUint16(6, 0, true);
  for (const [off, name] of [
    [8, 'chunkTableOffset'],
    [12, 'chunkTableSize'],
    [16, 'chunkCount'],
    [20, 'fileSize'],
  ] as const) {
    const v = h[name];
    // u32 fields: 0.1.0's own format cannot describe files of 4 GiB or more.
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new Gen5Error('FILE_SIZE', `${name} ${v} does not fit the header's u32`);
    dv.setUint32(off, v, true);
  }
  dv.setBigUint64(24, 0n, true);
  return out;
}

/** Parses and checks the header: length, magic and a version this reader understands. */
export function parseHeader(bytes: Uint8Array): Gen5Header {
  if (bytes.length < HEADER_SIZE) {
    throw new Gen5Error('TRUNCATED', `file is ${bytes.length} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  }
  if (!MAGIC.every((b, i) => bytes[i] === b)) {
    const seen = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Gen5Error('BAD_MAGIC', `bad magic ${seen}: not a .gen5 file (expected "GEN5")`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const versionMajor = dv.getUint8(4);
  // 0.1.0 accepts any major >= 1, but a new major would mean a new layout we cannot read correctly.
  if (versionMajor !== 1)
    throw new Gen5Error('BAD_VERSION', `unsupported version_major ${versionMajor} (this reader knows 1)`);
  return {
    magic: 'GEN5',
    versionMajor,
    versionMinor: dv.getUint8(5),
    flags: dv.getUint16(6, true),
    chunkTableOffset: dv.getUint32(8, true),
    chunkTableSize: dv.getUint32(12, true),
    chunkCount: dv.getUint32(16, true),
    fileSize: dv.getUint32(20, true),
    reserved: dv.getBigUint64(24, true),
  };
}

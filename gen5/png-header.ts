import { Gen5Error } from './errors.ts';

export interface PngHeader {
  width: number;
  height: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The dimensions a PNG declares in its IHDR chunk, read without decoding anything: a DATA chunk must be a PNG, and
 * its declared size is what an image decoder would allocate, so callers check it before they decode.
 */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (bytes.length < 33 || !SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new Gen5Error('IMAGE', 'the image is not a PNG (no PNG signature)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (dv.getUint32(8) !== 13 || ihdr !== 'IHDR') {
    throw new Gen5Error('IMAGE', 'the image is not a PNG (its first chunk is not a 13-byte IHDR)');
  }
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  // The PNG specification allows 1 .. 2^31 − 1 in each dimension.
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new Gen5Error('IMAGE', `the PNG declares an impossible size ${width}×${height}`);
  }
  return { width, height };
}

import sharp from 'sharp';
import { type Pixels, readPngHeader } from '../gen5/index.ts';

/**
 * The most pixels of an uploaded or stored image that are ever decoded: 4096×4096 (48 MiB as RGB). Checked against
 * the PNG's own header before the decoder allocates anything, so a small file declaring 16000×16000 (a
 * decompression bomb) costs nothing. Every model here renders far smaller images (SD 1.5: 512×512).
 */
export const MAX_DECODED_PIXELS = 4096 * 4096;

/** A picture that cannot be decoded: the sender's problem (HTTP 400 `bad_image`), never a server failure. */
export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/** The PNG's declared size, refusing sizes above MAX_DECODED_PIXELS (ImageDecodeError). */
export function checkedPngSize(png: Uint8Array): { width: number; height: number } {
  let size: { width: number; height: number };
  try {
    size = readPngHeader(png);
  } catch (err) {
    throw new ImageDecodeError((err as Error).message);
  }
  if (size.width * size.height > MAX_DECODED_PIXELS) {
    throw new ImageDecodeError(
      `the PNG declares ${size.width}×${size.height} pixels, above the limit of ${MAX_DECODED_PIXELS} (4096×4096)`,
    );
  }
  return size;
}

/** Decodes a PNG to raw pixels after checking its declared size; any decoder failure is an ImageDecodeError. */
export async function decodePngPixels(png: Uint8Array): Promise<Pixels> {
  checkedPngSize(png);
  try {
    const { data, info } = await sharp(png, { limitInputPixels: MAX_DECODED_PIXELS, failOn: 'error' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels, data };
  } catch (err) {
    throw new ImageDecodeError(`the PNG's pixels cannot be decoded: ${(err as Error).message.split('\n')[0]}`);
  }
}

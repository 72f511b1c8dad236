import { open } from 'node:fs/promises';
import { loadPicture, PICTURE_LIMITS } from '../../pipeline/find/picture.ts';
import type { Renderer } from '../../pipeline/renderer/renderer.ts';

/** An image row whose file cannot be read or is not a picture find takes: the row's input is bad. */
export class ImageRowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageRowError';
  }
}

/** An image row's key and how like the picture its image is: what `lob find` gives for that file. */
export interface FoundImage {
  key: string;
  psnr: number;
  ssim: number;
}

/** The key of the picture at `path` (resolved by the caller against the MANIFEST's folder), found on the pool. */
export async function keyForImage(path: string, renderer: Renderer, signal?: AbortSignal): Promise<FoundImage> {
  const bytes = await readPicture(path);
  const [height, width] = renderer.model.imageSize;
  let rgb: Uint8Array;
  try {
    rgb = await loadPicture(bytes, width, height);
  } catch (err) {
    throw new ImageRowError(`image ${path}: ${(err as Error).message}`);
  }
  const found = await renderer.find(rgb, { signal });
  return { key: found.key, psnr: found.psnr, ssim: found.ssim };
}

/** The file's bytes, refusing one over find's limit from its size before reading it. */
async function readPicture(path: string): Promise<Uint8Array> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      if (size > PICTURE_LIMITS.maxBytes)
        throw new ImageRowError(`image ${path} is ${size} bytes, above find's limit of ${PICTURE_LIMITS.maxBytes}`);
      return new Uint8Array(await file.readFile());
    } finally {
      await file.close();
    }
  } catch (err) {
    if (err instanceof ImageRowError) throw err;
    throw new ImageRowError(
      `cannot read image ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

import { access, constants } from 'node:fs/promises';

/**
 * Image rows: an image → the key that renders it. That is `lob find`, which does not exist yet; until it does, a
 * readable image row fails with that reason. Wiring it in is the one call at the end of keyForImage.
 */
export class ImageRowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageRowError';
  }
}

/** The key of the image at `path` (resolved by the caller against the MANIFEST's folder). */
export async function keyForImage(path: string): Promise<string> {
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new ImageRowError(
      `cannot read image ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  throw new ImageRowError('image rows need `lob find`, not available yet');
}

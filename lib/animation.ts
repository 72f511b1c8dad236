import sharp from 'sharp';

export const ANIMATION_FORMATS = ['webp', 'gif'] as const;
export type AnimationFormat = (typeof ANIMATION_FORMATS)[number];

/** The animation format a file name asks for (.webp or .gif), or null. */
export function animationFormatOf(path: string): AnimationFormat | null {
  const ext = path.toLowerCase().split('.').pop();
  return ANIMATION_FORMATS.find((f) => f === ext) ?? null;
}

/**
 * PNG frames of one size → an animated WebP (lossless) or GIF that loops, `delayMs` per frame. sharp reads the
 * frames stacked as one tall image whose page height is a frame's.
 */
export async function animate(pngs: Uint8Array[], format: AnimationFormat, delayMs: number): Promise<Buffer> {
  const frames = await Promise.all(
    pngs.map((png) => sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  const { width, height } = frames[0].info;
  if (frames.some((f) => f.info.width !== width || f.info.height !== height))
    throw new RangeError('animation frames differ in size');
  const stacked = sharp(Buffer.concat(frames.map((f) => f.data)), {
    raw: { width, height: height * frames.length, channels: 3, pageHeight: height },
  });
  const delay = frames.map(() => delayMs);
  return format === 'webp'
    ? stacked.webp({ lossless: true, loop: 0, delay }).toBuffer()
    : stacked.gif({ loop: 0, delay }).toBuffer();
}

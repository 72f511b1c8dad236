import sharp from 'sharp';

/** Limits on a picture given to find, checked before anything is decoded (docs/find.md). */
export const PICTURE_LIMITS = {
  /** Bytes of the file itself. */
  maxBytes: 16 * 1024 * 1024,
  /** Declared width × height, read from the header (an SVG's canvas at 72 dpi): 4096×4096. */
  maxPixels: 4096 * 4096,
  /** The longer side over the shorter: a 1×100000 strip has no picture to find. */
  maxAspect: 8,
  /** An SVG is rasterised with its longer side at this many pixels before the resize every picture gets. */
  svgRasterSide: 256,
} as const;

export type PictureProblem = 'empty' | 'too-large' | 'format' | 'dimensions' | 'unsafe-svg' | 'undecodable';

/** A picture find cannot take: the sender's problem (HTTP 4xx, CLI exit 2), with what is wrong in plain words. */
export class PictureError extends Error {
  constructor(
    readonly code: PictureProblem,
    message: string,
  ) {
    super(message);
    this.name = 'PictureError';
  }
}

type Format = 'png' | 'jpeg' | 'webp' | 'svg';

function sniff(bytes: Uint8Array): Format | null {
  const b = (i: number) => bytes[i];
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  const head = new TextDecoder()
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^(<\?xml|<svg|<!--)/i.test(head) && /<svg[\s>]/i.test(new TextDecoder().decode(bytes.subarray(0, 65536))))
    return 'svg';
  return null;
}

/**
 * An SVG may only draw: no DTD (entity expansion, external entities), no reference outside the document (href,
 * url() or @import to a file or the network), no embedded raster (a data: PNG inside could be a decompression bomb
 * the header checks never see). librsvg would otherwise follow some of these.
 */
function checkSvg(text: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new PictureError('unsafe-svg', 'the SVG has a DTD; find takes plain SVG');
  const href = /\b(?:xlink:)?href\s*=\s*["']\s*([^"'\s]*)/gi;
  for (const m of text.matchAll(href)) {
    if (!m[1].startsWith('#'))
      throw new PictureError(
        'unsafe-svg',
        `the SVG refers to "${m[1].slice(0, 60)}"; only #fragment links are allowed`,
      );
  }
  for (const m of text.matchAll(/url\(\s*["']?\s*([^"')\s]*)/gi)) {
    if (!m[1].startsWith('#'))
      throw new PictureError('unsafe-svg', `the SVG refers to "${m[1].slice(0, 60)}"; only url(#fragment) is allowed`);
  }
  if (/@import/i.test(text)) throw new PictureError('unsafe-svg', 'the SVG imports a stylesheet');
}

function checkSize(width: number | undefined, height: number | undefined, what: string): void {
  if (!width || !height) throw new PictureError('undecodable', `the ${what} has no width and height`);
  if (width * height > PICTURE_LIMITS.maxPixels) {
    throw new PictureError(
      'dimensions',
      `the ${what} is ${width}×${height}, above the limit of ${PICTURE_LIMITS.maxPixels} pixels (4096×4096)`,
    );
  }
  if (Math.max(width, height) > PICTURE_LIMITS.maxAspect * Math.min(width, height)) {
    throw new PictureError(
      'dimensions',
      `the ${what} is ${width}×${height}: its longer side may be at most ${PICTURE_LIMITS.maxAspect} times the shorter`,
    );
  }
}

/**
 * A PNG, JPEG, WebP or SVG file → 8-bit RGB (HWC) at width × height, prepared as the training pictures were:
 * scaled to cover the square and centre-cropped (Lanczos), alpha composited on white, EXIF orientation applied.
 * Sizes are checked from the header before decoding; nothing is fetched.
 */
export async function loadPicture(bytes: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  if (bytes.length === 0) throw new PictureError('empty', 'the picture is empty (0 bytes)');
  if (bytes.length > PICTURE_LIMITS.maxBytes) {
    throw new PictureError(
      'too-large',
      `the picture is ${bytes.length} bytes, above the limit of ${PICTURE_LIMITS.maxBytes} (16 MiB)`,
    );
  }
  const format = sniff(bytes);
  if (!format) throw new PictureError('format', 'this is not a PNG, JPEG, WebP or SVG picture');
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const base = { limitInputPixels: PICTURE_LIMITS.maxPixels, failOn: 'error' as const };
  let density: number | undefined;
  try {
    if (format === 'svg') checkSvg(new TextDecoder().decode(bytes));
    // metadata reads the header only; the pixel limit is checked here so the message can say what the size is
    const meta = await sharp(input, { failOn: 'error', limitInputPixels: false }).metadata();
    checkSize(meta.width, meta.height, format === 'svg' ? 'SVG canvas' : format.toUpperCase());
    if (format === 'svg') {
      const side = Math.max(meta.width as number, meta.height as number);
      density = Math.min(100_000, Math.max(1, (72 * PICTURE_LIMITS.svgRasterSide) / side));
    }
    const { data } = await sharp(input, { ...base, ...(density && { density }) })
      .rotate()
      .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (data.length !== width * height * 3) throw new Error(`decoded to ${data.length} bytes`);
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (err) {
    if (err instanceof PictureError) throw err;
    const message = (err as Error).message.split('\n')[0];
    throw new PictureError('undecodable', `the ${format.toUpperCase()} cannot be decoded: ${message}`);
  }
}

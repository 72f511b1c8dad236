import type { EnvComponent } from '../gen5/index.ts';
import { decodeGen5, type Gen5Limits, readPngHeader, verifyGen5 } from '../gen5/index.ts';
import { psnr } from '../gen5/verify.ts';
import { readPngKey } from '../pipeline/index.ts';
import { BadRequestError, BODY_LIMITS } from './http.ts';
import { checkedPngSize, decodePngPixels, ImageDecodeError } from './png-pixels.ts';
import { readProvenance } from './provenance.ts';

/**
 * Import: a .gen5 file (key in its lob provenance) or one of our PNGs (key in its `lob-key` text chunk) → the key,
 * and whether rendering that key here gives the very same image. Drift warnings come from the file's ENVC
 * against this server's environment; a PNG records no environment, so it can only say how far the pixels are off.
 */
export interface ImportResult {
  key: string;
  /** The regenerated image's pixels are identical to the file's, bit for bit. */
  verified: boolean;
  warnings: string[];
}

export interface ImportDeps {
  /** Checks the key against the loaded model; returns it as text. */
  parse: (key: string) => Promise<string>;
  render: (key: string) => Promise<Uint8Array>;
  environment: () => Promise<EnvComponent[]>;
}

// A web upload is already capped by BODY_LIMITS.upload; decompression gets a matching, far tighter cap than the
// gen5 defaults meant for files on one's own disk.
const WEB_GEN5_LIMITS: Partial<Gen5Limits> = {
  maxFileBytes: BODY_LIMITS.upload,
  maxChunkBytes: 64 * 1024 * 1024,
  maxTotalDecompressedBytes: 128 * 1024 * 1024,
  maxMetaBytes: 4 * 1024 * 1024,
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

export async function importFile(bytes: Uint8Array, deps: ImportDeps): Promise<ImportResult> {
  if (bytes.length === 0) throw new BadRequestError('the upload is empty: send a .gen5 file or one of our PNGs');
  return isPng(bytes) ? importPng(bytes, deps) : importGen5(bytes, deps);
}

async function importGen5(bytes: Uint8Array, deps: ImportDeps): Promise<ImportResult> {
  const file = await decodeGen5(bytes, { limits: WEB_GEN5_LIMITS });
  const provenance = readProvenance(file);
  if (!provenance) {
    throw new BadRequestError('this .gen5 file carries no lob key (gen5_metadata.lob_provenance)', 'no_key');
  }
  const key = await deps.parse(provenance.key.text);
  const report = await verifyGen5(bytes, {
    limits: WEB_GEN5_LIMITS,
    currentEnvironment: await deps.environment(),
    regenerate: deps.render,
    decodePixels: decodePngPixels,
  });
  const verified = report.regeneration?.pixelsIdentical === true;
  // "differs" is said below with the PSNR and the drift; other failures (an image that cannot be decoded) stay.
  const warnings = report.failures.filter((f) => !f.startsWith('regeneration: the regenerated image differs'));
  if (report.regeneration && !report.regeneration.pngIdentical && verified) {
    warnings.push('the pixels are identical but the PNG bytes differ (a different PNG encoder build)');
  }
  if (!verified) {
    const psnrValue = report.regeneration?.psnr;
    if (typeof psnrValue === 'number') warnings.push(`the regenerated image is off by PSNR ${psnrValue.toFixed(2)} dB`);
    warnings.push(...(report.drift ?? []).map((d) => d.message));
  }
  return { key, verified, warnings };
}

async function importPng(bytes: Uint8Array, deps: ImportDeps): Promise<ImportResult> {
  let found: ReturnType<typeof readPngKey>;
  try {
    found = readPngKey(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new BadRequestError(`not a readable PNG: ${(err as Error).message}`, 'bad_png');
  }
  if (!found) throw new BadRequestError('this PNG carries no lob key (it was not made by this library)', 'no_key');
  if (found.kind === 'ref') {
    throw new BadRequestError(
      `this PNG names its key only by hash (sha256 ${found.sha256.slice(0, 12)}…): keys this long are not embedded ` +
        'in PNGs. Import the .gen5 file, or paste the key.',
      'key_not_embedded',
    );
  }
  // A decompression bomb is refused here, by its declared size, before anything is rendered or decoded.
  const theirs = checkedPngSize(bytes);
  const key = await deps.parse(found.key);
  const regenerated = await deps.render(key);
  const ours = readPngHeader(regenerated);
  if (theirs.width !== ours.width || theirs.height !== ours.height) {
    const sizes = `the regenerated image is ${ours.width}×${ours.height}, the file's ${theirs.width}×${theirs.height}`;
    return { key, verified: false, warnings: [sizes] };
  }
  let pixels: [Awaited<ReturnType<typeof decodePngPixels>>, Awaited<ReturnType<typeof decodePngPixels>>];
  try {
    pixels = await Promise.all([decodePngPixels(bytes), decodePngPixels(regenerated)]);
  } catch (err) {
    if (!(err instanceof ImageDecodeError)) throw err;
    return { key, verified: false, warnings: [err.message] };
  }
  const [a, b] = pixels;
  const verified = a.channels === b.channels && Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;
  const warnings: string[] = [];
  if (!verified) {
    warnings.push(
      a.channels === b.channels
        ? `the regenerated image is off by PSNR ${psnr(a.data, b.data).toFixed(2)} dB`
        : `the regenerated image has ${b.channels} channels, the file's ${a.channels}`,
      'a PNG records no environment, so drift cannot be named; a .gen5 file would say which component differs',
    );
  }
  return { key, verified, warnings };
}

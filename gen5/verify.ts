import {
  Budget,
  checkFileSize,
  checkHash,
  checkLayout,
  type Gen5File,
  parseEnvc,
  readChunkPayload,
  readHeader,
  readMeta,
  toLatent,
} from './decode.ts';
import { sha256Hex } from './digest.ts';
import { type DriftWarning, driftWarnings, type EnvComponent } from './envc.ts';
import { Gen5Error } from './errors.ts';
import { type Gen5Limits, resolveLimits } from './limits.ts';
import { readPngHeader } from './png-header.ts';
import { ensureZstd } from './zstd.ts';

/** Where lob keeps its provenance inside META (an extra property of gen5_metadata, which 0.1.0 ignores). */
export const PROVENANCE_FIELD = 'lob_provenance';

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export interface RegenerationResult {
  keyText: string;
  /** The regenerated PNG equals the stored DATA bytes. */
  pngIdentical: boolean;
  /** Decoded pixels are equal (null when no pixel decoder was given). */
  pixelsIdentical: boolean | null;
  /** PSNR in dB of the regenerated pixels against the stored ones; Infinity when identical, null if incomparable. */
  psnr: number | null;
  /** ENVC components that differ between the file and the regenerating environment. */
  differingComponents: DriftWarning[];
}

export interface VerifyReport {
  ok: boolean;
  checks: VerifyCheck[];
  failures: string[];
  notes: string[];
  drift?: DriftWarning[];
  regeneration?: RegenerationResult;
}

export interface VerifyOptions {
  limits?: Partial<Gen5Limits>;
  /** The environment to compare ENVC with (drift) — for regeneration, the one that regenerates. */
  currentEnvironment?: EnvComponent[];
  /** Renders the key into PNG bytes; injected so gen5/ stays free of the pipeline. */
  regenerate?: (keyText: string) => Promise<Uint8Array>;
  /** Decodes a PNG into pixels, for PSNR when the PNG bytes differ. */
  decodePixels?: (png: Uint8Array) => Promise<Pixels>;
}

/**
 * Checks everything in a file and keeps going after a failure where it safely can: header, sizes, bounds,
 * overlaps, order, schema, every chunk's inner header and SHA-256 (gen5 0.1.0 checks none), latent shapes and
 * values, ENVC digests; then, given `regenerate`, renders the key in META and compares it with the stored image.
 */
export async function verifyGen5(bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifyReport> {
  await ensureZstd();
  const limits = resolveLimits(options.limits);
  const checks: VerifyCheck[] = [];
  const notes: string[] = [];
  const pass = (name: string, detail: string) => checks.push({ name, ok: true, detail });
  const fail = (name: string, detail: string) => checks.push({ name, ok: false, detail });
  const report = (extra: Partial<VerifyReport> = {}): VerifyReport => {
    const failures = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    return { ok: failures.length === 0, checks, failures, notes, ...extra };
  };
  const attempt = async <T>(name: string, fn: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof Gen5Error)) throw err;
      fail(name, `${err.code}: ${err.message}`);
      return undefined;
    }
  };

  const header = await attempt('header', () => readHeader(bytes, limits));
  if (!header) return report();
  pass('header', `GEN5 ${header.versionMajor}.${header.versionMinor}, ${header.chunkCount} chunks`);
  // gen5 1.0 defines no flags and writes the reserved field as zero; anything else is not a file it wrote.
  if (header.flags !== 0 || header.reserved !== 0n) {
    fail('header fields', `flags 0x${header.flags.toString(16)} and reserved ${header.reserved}: both must be 0`);
  } else pass('header fields', 'flags 0, reserved 0');
  const sizeProblem = checkFileSize(bytes, header);
  if (sizeProblem) fail('file size', `${sizeProblem.code}: ${sizeProblem.message}`);
  else pass('file size', `${bytes.length} bytes, as the header says`);

  const budget = new Budget(limits.maxTotalDecompressedBytes);
  const meta = await attempt('META', () => readMeta(bytes, header, limits, budget));
  if (!meta) return report();
  pass('META', `${meta.metaText.length} characters of JSON, valid against the gen5 0.1.0 schema`);

  const layout = checkLayout(bytes.length, header, meta.meta, meta.records);
  notes.push(...layout.notes);
  for (const err of layout.fatal) fail('layout', `${err.code}: ${err.message}`);
  for (const s of layout.strict) fail('layout', s);
  if (!layout.fatal.length && !layout.strict.length)
    pass('layout', 'chunks in 0.1.0 order, in bounds, contiguous, no overlap');

  let image: Uint8Array | undefined;
  let envc: Gen5File['envc'];
  for (const record of meta.records) {
    const name = `chunk ${record.index} (${record.type}${record.type === 'LATN' ? ` ${JSON.stringify(record.extra.key)}` : ''})`;
    const detail = await attempt(name, async () => {
      const payload = await readChunkPayload(bytes, record, limits, budget);
      await checkHash(record, payload);
      if (record.type === 'LATN') toLatent(record, record.compressed ? payload : payload.slice());
      else if (record.type === 'DATA') {
        image = payload; // still compared with a regenerated image when it is not a PNG: it then simply differs
        const { width, height } = readPngHeader(payload);
        return `, a ${width}×${height} PNG`;
      } else {
        envc = parseEnvc(payload, limits);
        for (const c of envc?.components ?? []) {
          if ((await sha256Hex(c.canonical)) !== c.digest) {
            throw new Gen5Error(
              'HASH_MISMATCH',
              `ENVC component '${c.id}': digest does not match its canonical string`,
            );
          }
        }
      }
      return '';
    });
    if (detail !== undefined) pass(name, `${record.uncompressed_size} bytes, SHA-256 matches${detail}`);
  }

  let drift: DriftWarning[] | undefined;
  if (options.currentEnvironment) drift = await driftWarnings(envc?.components ?? [], options.currentEnvironment);
  if (!options.regenerate) return report({ drift });

  const regeneration = await regenerateAndCompare(meta.meta, image, drift ?? [], options, fail, pass);
  return report({ drift, regeneration });
}

async function regenerateAndCompare(
  meta: Gen5File['meta'],
  image: Uint8Array | undefined,
  drift: DriftWarning[],
  options: VerifyOptions,
  fail: (name: string, detail: string) => void,
  pass: (name: string, detail: string) => void,
): Promise<RegenerationResult | undefined> {
  const name = 'regeneration';
  const provenance = meta.gen5_metadata[PROVENANCE_FIELD] as { key?: { text?: unknown } } | undefined;
  const keyText = provenance?.key?.text;
  if (typeof keyText !== 'string')
    return void fail(name, `no key in META (gen5_metadata.${PROVENANCE_FIELD}.key.text): nothing to regenerate from`);
  if (!image) return void fail(name, 'the file has no image (DATA chunk) to compare with');
  let png: Uint8Array;
  try {
    png = await (options.regenerate as NonNullable<VerifyOptions['regenerate']>)(keyText);
  } catch (err) {
    return void fail(name, `rendering the key failed: ${(err as Error).message}`);
  }
  const differingComponents = drift.filter((d) => d.kind !== 'missing-in-file');
  const result: RegenerationResult = {
    keyText,
    pngIdentical: equalBytes(png, image),
    pixelsIdentical: null,
    psnr: null,
    differingComponents,
  };
  if (result.pngIdentical) {
    result.pixelsIdentical = true;
    result.psnr = Number.POSITIVE_INFINITY;
    pass(name, 'the key regenerates the stored image bit for bit');
    return result;
  }
  if (options.decodePixels && sameDeclaredSize(image, png)) {
    let pixels: [Pixels, Pixels];
    try {
      pixels = await Promise.all([options.decodePixels(image), options.decodePixels(png)]);
    } catch (err) {
      fail(name, `the stored image cannot be decoded: ${(err as Error).message}`);
      return result;
    }
    const [a, b] = pixels;
    if (a.width === b.width && a.height === b.height && a.channels === b.channels) {
      result.pixelsIdentical = equalBytes(a.data, b.data);
      result.psnr = psnr(a.data, b.data);
    }
  }
  if (result.pixelsIdentical) {
    pass(name, 'the key regenerates the stored pixels exactly (PNG encoding differs)');
    return result;
  }
  const quality =
    result.psnr === null ? 'images not comparable (size or channels differ)' : `PSNR ${result.psnr.toFixed(2)} dB`;
  const envText = differingComponents.length
    ? `; environment differs in: ${differingComponents.map((d) => d.componentId).join(', ')}`
    : '; no ENVC component differs';
  fail(name, `the regenerated image differs from the stored one: ${quality}${envText}`);
  return result;
}

/**
 * Both PNGs declare the same width and height. Images of different sizes are never equal, and decoding one only to
 * find that out is what a decompression bomb (a tiny file declaring 16000×16000) relies on.
 */
function sameDeclaredSize(stored: Uint8Array, regenerated: Uint8Array): boolean {
  try {
    const [a, b] = [readPngHeader(stored), readPngHeader(regenerated)];
    return a.width === b.width && a.height === b.height;
  } catch {
    return false;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** PSNR over 8-bit samples. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  if (sum === 0) return Number.POSITIVE_INFINITY;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}

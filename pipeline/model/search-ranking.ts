import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError } from '../errors.ts';
import { readJsonObject } from './json-file.ts';

/**
 * A model's search_ranking/ folder: reference names (every base emoji name for the default model), against which
 * search ranks a candidate by how surely it is the prompt rather than one of them (pipeline/render/ranking.ts).
 * Optional: a folder without one ranks by the raw cosine.
 *
 * - `lob-search-ranking/1`: embeds.f32, the names' text embeddings; a candidate is ranked by p(prompt | image)
 *   among the prompt and the names, from image-text cosines at `scale`.
 * - `lob-search-ranking/2`: embeds.f32 as above, plus prototypes.f32, each name's mean image embedding over its
 *   training pictures. A candidate is compared with pictures, not words: ranked by p(target | image) among the
 *   prompt's target and the prototypes, from image-image cosines at `scale`. The prompt's target is the prototypes
 *   of the names its words are near: their mix weighted by softmax(target_temperature · text cosine), which for a
 *   prompt that is a name is that name's prototype. With `"thumbnails": {side, temperature}` and thumbnails.f32, each
 *   name's mean picture shrunk to side × side pixels, a second share is added: of the prompt's expected squared pixel
 *   distance to those thumbnails among every name's, at `1 / temperature`. Colours and layouts (which flag, which
 *   fruit) show in the pixels where the 64-wide embedding blurs them.
 */
export interface SearchRanking {
  /** Softmax scale of the cosines (a CLIP logit scale). */
  scale: number;
  /** The reference names, in the order of the rows (kept so a person can see what is compared). */
  names: string[];
  /** Row-major [names.length × dim] unit-norm text embeddings. */
  embeds: Float32Array;
  /** Row-major [names.length × dim] unit-norm image prototypes (format 2), else null. */
  prototypes: Float32Array | null;
  /** Softmax temperature of the prompt's text cosines to the names, which mixes its target (format 2). */
  targetTemperature: number | null;
  /** Each name's mean picture as side × side × 3 (HWC) values in [-1, 1], and the distance's temperature. */
  thumbnails: { rows: Float32Array; side: number; temperature: number } | null;
  dim: number;
  /** search_ranking/config.json, named by errors. */
  file: string;
}

export const SEARCH_RANKING_DIR = 'search_ranking';
/** Limits checked before anything is allocated: far above the default model's 1,906 names × 64. */
export const MAX_REFERENCES = 100_000;
export const MAX_REFERENCE_DIM = 4096;
export const MAX_THUMBNAIL_SIDE = 32;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const FORMATS = ['lob-search-ranking/1', 'lob-search-ranking/2'];

/** Reads and checks search_ranking/ of a model folder; null when the folder has none. */
export function readSearchRanking(dir: string): SearchRanking | null {
  const configPath = join(dir, SEARCH_RANKING_DIR, 'config.json');
  if (!existsSync(configPath)) return null;
  const config = readJsonObject(configPath, MAX_CONFIG_BYTES);
  if (!FORMATS.includes(config.format as string))
    throw new ModelLoadError(
      configPath,
      `"format" must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(config.format)}`,
    );
  const { scale, dim, names } = config;
  checkNumber(configPath, 'scale', scale, 1000);
  if (!(Number.isInteger(dim) && (dim as number) >= 1 && (dim as number) <= MAX_REFERENCE_DIM))
    throw new ModelLoadError(configPath, `"dim" must be an integer from 1 to ${MAX_REFERENCE_DIM}`);
  if (!Array.isArray(names) || names.length < 1 || names.length > MAX_REFERENCES)
    throw new ModelLoadError(configPath, `"names" must be an array of 1 to ${MAX_REFERENCES} strings`);
  if (!names.every((n) => typeof n === 'string'))
    throw new ModelLoadError(configPath, '"names" must hold strings only');
  const rows = (file: string, width = dim as number, unit = true) =>
    readRows(join(dir, SEARCH_RANKING_DIR, file), names.length, width, unit);
  const byImage = config.format === 'lob-search-ranking/2';
  if (byImage) checkNumber(configPath, 'target_temperature', config.target_temperature, 10_000);
  const thumbs = byImage ? thumbnailConfig(configPath, config.thumbnails) : null;
  return {
    scale: scale as number,
    names: names as string[],
    embeds: rows('embeds.f32'),
    prototypes: byImage ? rows('prototypes.f32') : null,
    targetTemperature: byImage ? (config.target_temperature as number) : null,
    thumbnails: thumbs && { ...thumbs, rows: rows('thumbnails.f32', thumbs.side * thumbs.side * 3, false) },
    dim: dim as number,
    file: configPath,
  };
}

function thumbnailConfig(path: string, value: unknown): { side: number; temperature: number } | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ModelLoadError(path, '"thumbnails" must be an object {side, temperature}');
  const { side, temperature } = value as Record<string, unknown>;
  if (!(Number.isInteger(side) && (side as number) >= 1 && (side as number) <= MAX_THUMBNAIL_SIDE))
    throw new ModelLoadError(path, `"thumbnails.side" must be an integer from 1 to ${MAX_THUMBNAIL_SIDE}`);
  checkNumber(path, 'thumbnails.temperature', temperature, 100);
  return { side: side as number, temperature: temperature as number };
}

function checkNumber(path: string, field: string, value: unknown, max: number): void {
  if (!(typeof value === 'number' && value > 0 && value <= max))
    throw new ModelLoadError(path, `"${field}" must be a number in (0, ${max}], got ${JSON.stringify(value)}`);
}

/** A little-endian float32 [count × dim] file; `unit`: each row scaled to unit length (ranking then needs only dot
 * products). */
function readRows(path: string, count: number, dim: number, unit: boolean): Float32Array {
  if (!existsSync(path)) throw new ModelLoadError(path, 'missing (search_ranking/config.json needs it)');
  const expected = count * dim * 4;
  const size = statSync(path).size;
  if (size !== expected)
    throw new ModelLoadError(path, `${size} bytes, but ${count} names × ${dim} float32 values need ${expected}`);
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count * dim);
  for (let r = 0; r < count; r++) {
    let norm = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      out[i] = view.getFloat32(i * 4, true);
      norm += out[i] * out[i];
    }
    if (!Number.isFinite(norm)) throw new ModelLoadError(path, 'holds NaN or infinite values');
    if (!unit) continue;
    if (norm === 0) throw new ModelLoadError(path, `row ${r} is all zeros`);
    const inv = 1 / Math.sqrt(norm);
    for (let i = r * dim; i < (r + 1) * dim; i++) out[i] *= inv;
  }
  return out;
}

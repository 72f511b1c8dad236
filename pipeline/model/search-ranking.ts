import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError } from '../errors.ts';

/**
 * A model's search_ranking/ folder: the text embeddings of reference names (every base emoji name for the default
 * model), against which search ranks a candidate by p(prompt | image) rather than by its raw cosine to the prompt
 * (pipeline/render/ranking.ts). Optional: a folder without one ranks by cosine.
 */
export interface SearchRanking {
  /** Softmax scale of the cosines (a CLIP logit scale). */
  scale: number;
  /** The reference names, in the order of `embeds`' rows (kept so a person can see what is compared). */
  names: string[];
  /** Row-major [names.length × dim] float32 text_embeds. */
  embeds: Float32Array;
  dim: number;
  /** search_ranking/config.json, named by errors. */
  file: string;
}

export const SEARCH_RANKING_DIR = 'search_ranking';
/** Limits checked before anything is allocated: far above the default model's 1,906 names × 64. */
export const MAX_REFERENCES = 100_000;
export const MAX_REFERENCE_DIM = 4096;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Reads and checks search_ranking/ of a model folder; null when the folder has none. */
export function readSearchRanking(dir: string): SearchRanking | null {
  const configPath = join(dir, SEARCH_RANKING_DIR, 'config.json');
  const embedsPath = join(dir, SEARCH_RANKING_DIR, 'embeds.f32');
  if (!existsSync(configPath)) return null;
  const config = readConfig(configPath);
  const { scale, dim, names } = config;
  if (!(typeof scale === 'number' && scale > 0 && scale <= 1000))
    throw new ModelLoadError(configPath, `"scale" must be a number in (0, 1000], got ${JSON.stringify(scale)}`);
  if (!(Number.isInteger(dim) && (dim as number) >= 1 && (dim as number) <= MAX_REFERENCE_DIM))
    throw new ModelLoadError(configPath, `"dim" must be an integer from 1 to ${MAX_REFERENCE_DIM}`);
  if (!Array.isArray(names) || names.length < 1 || names.length > MAX_REFERENCES)
    throw new ModelLoadError(configPath, `"names" must be an array of 1 to ${MAX_REFERENCES} strings`);
  if (!names.every((n) => typeof n === 'string'))
    throw new ModelLoadError(configPath, '"names" must hold strings only');
  if (!existsSync(embedsPath)) throw new ModelLoadError(embedsPath, 'missing (search_ranking/config.json needs it)');
  const expected = names.length * (dim as number) * 4;
  const size = statSync(embedsPath).size;
  if (size !== expected) {
    throw new ModelLoadError(
      embedsPath,
      `${size} bytes, but ${names.length} names × ${dim} float32 values need ${expected}`,
    );
  }
  const bytes = readFileSync(embedsPath);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const embeds = new Float32Array(names.length * (dim as number));
  for (let i = 0; i < embeds.length; i++) embeds[i] = view.getFloat32(i * 4, true);
  if (!embeds.every(Number.isFinite)) throw new ModelLoadError(embedsPath, 'holds NaN or infinite values');
  return { scale, names: names as string[], embeds, dim: dim as number, file: configPath };
}

function readConfig(path: string): Record<string, unknown> {
  if (statSync(path).size > MAX_CONFIG_BYTES) throw new ModelLoadError(path, `larger than ${MAX_CONFIG_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ModelLoadError(path, 'not a JSON object');
  const format = (value as Record<string, unknown>).format;
  if (format !== 'lob-search-ranking/1')
    throw new ModelLoadError(path, `"format" must be "lob-search-ranking/1", got ${JSON.stringify(format)}`);
  return value as Record<string, unknown>;
}

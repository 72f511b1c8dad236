import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { ModelLoadError } from '../errors.ts';
import { readJsonObject } from './json-file.ts';
import { readSearchRanking, SEARCH_RANKING_DIR, type SearchRanking } from './search-ranking.ts';

/** The model's own metadata block in model_index.json (docs/contracts.md). */
export interface LobMeta {
  name?: string;
  version?: string | number;
  default_steps?: number;
  guidance_scale?: number;
  image_size?: number;
  /** Candidates a search renders and ranks when its caller names no number (needs image_encoder); default 1. */
  search_best_of?: number;
  /** Rank search candidates after `after_steps` steps and finish only the `keep` best (search.ts). */
  search_preview?: { after_steps: number; keep: number };
}

/** Most candidates one search may render and rank. */
export const MAX_BEST_OF = 64;

/** What a diffusers ONNX folder holds, read and checked but not yet turned into sessions. */
export interface ModelFolder {
  dir: string;
  index: Record<string, unknown>;
  lob: LobMeta | null;
  schedulerConfig: Record<string, unknown>;
  /** The VAE's latent scaling (latents are divided by it before decoding): 0.18215 for SD 1.x, 1.0 for ours. */
  latentScaling: number;
  /** unet/config.json sample_size when present (SD exports leave the latent size symbolic in the graph). */
  unetSampleSize: number | null;
  tokenizerDir: string;
  onnx: {
    textEncoder: string;
    unet: string;
    vaeDecoder: string;
    vaeEncoder: string | null;
    imageEncoder: string | null;
  };
  /** search_ranking/ read and checked, or null: search then ranks candidates by cosine. */
  searchRanking: SearchRanking | null;
  /** keyspace.json parsed, or null (then the profile is derived from the session shapes). */
  keyspaceProfile: Record<string, unknown> | null;
  /** SHA-256 of every file in the folder that takes part in rendering, by path relative to the folder. */
  files: Record<string, string>;
}

const REQUIRED_ONNX = { textEncoder: 'text_encoder', unet: 'unet', vaeDecoder: 'vae_decoder' } as const;
const OPTIONAL_ONNX = { vaeEncoder: 'vae_encoder', imageEncoder: 'image_encoder' } as const;

function readJson(dir: string, rel: string, required: true): Record<string, unknown>;
function readJson(dir: string, rel: string, required: false): Record<string, unknown> | null;
function readJson(dir: string, rel: string, required: boolean): Record<string, unknown> | null {
  const path = join(dir, rel);
  if (!existsSync(path)) {
    if (required) throw new ModelLoadError(path, 'missing');
    return null;
  }
  return readJsonObject(path);
}

function onnxPath(dir: string, sub: string, required: boolean): string | null {
  const path = join(dir, sub, 'model.onnx');
  if (!existsSync(path)) {
    if (required)
      throw new ModelLoadError(path, 'missing (a diffusers ONNX folder needs text_encoder, unet and vae_decoder)');
    return null;
  }
  if (statSync(path).size === 0) throw new ModelLoadError(path, 'empty file');
  return path;
}

function latentScaling(dir: string, index: Record<string, unknown>): number {
  const vae = readJson(dir, 'vae_decoder/config.json', false);
  const candidates: [string, unknown][] = [
    [join(dir, 'vae_decoder/config.json'), vae?.scaling_factor],
    [join(dir, 'model_index.json'), index.scaling_factor],
  ];
  for (const [file, value] of candidates) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value > 0))
      throw new ModelLoadError(file, `scaling_factor must be a positive number, got ${JSON.stringify(value)}`);
    return value;
  }
  // diffusers' AutoencoderKL default, what every SD 1.x/2.x export uses
  return 0.18215;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function listFiles(dir: string, sub: string): string[] {
  const root = join(dir, sub);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const full = join(root, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(dir, relative(dir, full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Reads and checks a diffusers ONNX model folder; hashes its files once. Throws ModelLoadError naming the file. */
export async function readModelFolder(dir: string): Promise<ModelFolder> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelLoadError(dir, 'model folder does not exist');
  const index = readJson(dir, 'model_index.json', true);
  const schedulerConfig = readJson(dir, 'scheduler/scheduler_config.json', true);
  const tokenizerDir = join(dir, 'tokenizer');
  if (!existsSync(join(tokenizerDir, 'tokenizer.json')))
    throw new ModelLoadError(join(tokenizerDir, 'tokenizer.json'), 'missing');
  readJson(dir, 'tokenizer/tokenizer.json', true);
  readJson(dir, 'tokenizer/tokenizer_config.json', true);
  const onnx = {
    textEncoder: onnxPath(dir, REQUIRED_ONNX.textEncoder, true) as string,
    unet: onnxPath(dir, REQUIRED_ONNX.unet, true) as string,
    vaeDecoder: onnxPath(dir, REQUIRED_ONNX.vaeDecoder, true) as string,
    vaeEncoder: onnxPath(dir, OPTIONAL_ONNX.vaeEncoder, false),
    imageEncoder: onnxPath(dir, OPTIONAL_ONNX.imageEncoder, false),
  };
  const lobRaw = index.lob;
  if (lobRaw !== undefined && (typeof lobRaw !== 'object' || lobRaw === null)) {
    throw new ModelLoadError(join(dir, 'model_index.json'), '"lob" must be an object');
  }
  checkSearchBestOf(dir, (lobRaw as LobMeta | undefined)?.search_best_of, onnx.imageEncoder !== null);
  checkSearchPreview(dir, (lobRaw as LobMeta | undefined)?.search_preview);
  const searchRanking = readSearchRanking(dir);
  const unetConfig = readJson(dir, 'unet/config.json', false);
  const sampleSize = unetConfig?.sample_size;
  const hashed = [
    'model_index.json',
    'scheduler/scheduler_config.json',
    ...['tokenizer', 'text_encoder', 'unet', 'vae_decoder', 'vae_encoder', 'image_encoder', SEARCH_RANKING_DIR].flatMap(
      (sub) => listFiles(dir, sub).map((p) => relative(dir, p)),
    ),
    ...(existsSync(join(dir, 'keyspace.json')) ? ['keyspace.json'] : []),
  ].sort();
  const files: Record<string, string> = {};
  for (const rel of hashed) files[rel] = await sha256File(join(dir, rel));
  return {
    dir,
    index,
    lob: (lobRaw as LobMeta | undefined) ?? null,
    schedulerConfig,
    latentScaling: latentScaling(dir, index),
    unetSampleSize: typeof sampleSize === 'number' ? sampleSize : null,
    tokenizerDir,
    onnx,
    searchRanking,
    keyspaceProfile: readJson(dir, 'keyspace.json', false),
    files,
  };
}

function checkSearchBestOf(dir: string, value: unknown, canRank: boolean): void {
  if (value === undefined) return;
  const where = join(dir, 'model_index.json');
  if (!(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_BEST_OF)) {
    throw new ModelLoadError(
      where,
      `"lob.search_best_of" must be an integer from 1 to ${MAX_BEST_OF}, got ${JSON.stringify(value)}`,
    );
  }
  if ((value as number) > 1 && !canRank) {
    throw new ModelLoadError(
      where,
      `"lob.search_best_of" is ${value}, but ranking candidates needs image_encoder/model.onnx`,
    );
  }
}

function checkSearchPreview(dir: string, value: unknown): void {
  if (value === undefined) return;
  const v = value as Record<string, unknown>;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(v).every((k) => k === 'after_steps' || k === 'keep') &&
    Number.isInteger(v.after_steps) &&
    (v.after_steps as number) >= 1 &&
    Number.isInteger(v.keep) &&
    (v.keep as number) >= 1 &&
    (v.keep as number) <= MAX_BEST_OF;
  if (!ok) {
    throw new ModelLoadError(
      join(dir, 'model_index.json'),
      `"lob.search_preview" must be {"after_steps": an integer ≥ 1, "keep": an integer from 1 to ${MAX_BEST_OF}}, got ${JSON.stringify(value)}`,
    );
  }
}

/** A short human name for the model: lob.name, else the folder's name. */
export function modelName(folder: ModelFolder): string {
  return folder.lob?.name ?? basename(folder.dir);
}

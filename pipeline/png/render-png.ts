import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { addTextChunks, readTextChunks } from './text-chunks.ts';

/**
 * sharp's PNG options, pinned: with the same libvips/libspng build these give the same bytes for the same pixels
 * (no palette quantisation, fixed zlib level, no adaptive filter search). Recorded in render settings.
 */
export const PNG_OPTIONS = {
  compressionLevel: 9,
  adaptiveFiltering: false,
  palette: false,
  progressive: false,
} as const;

/** Keys longer than this are not written whole into the PNG; the `lob-key` entry then holds profile + SHA-256. */
export const MAX_EMBEDDED_KEY_CHARS = 16_384;

export const KEY_CHUNK = 'lob-key';

export interface PngMetadata {
  key: string;
  profileId: string;
  prompt?: string;
  negativePrompt?: string;
  steps: number;
  sampler: string;
  guidance: number;
  width: number;
  height: number;
  modelName: string;
  modelHash: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A1111's "parameters" text: optional prompt line, optional "Negative prompt: …" line, then "Steps: …, Sampler: …,
 * CFG scale: …" key/value pairs.
 */
export function a1111Parameters(m: PngMetadata): string {
  const params = [
    `Steps: ${m.steps}`,
    `Sampler: ${m.sampler}`,
    `CFG scale: ${m.guidance}`,
    `Size: ${m.width}x${m.height}`,
    `Model hash: ${m.modelHash.slice(0, 10)}`,
    `Model: ${m.modelName}`,
    `Key hash: ${sha256Hex(m.key)}`,
    `Key profile: ${m.profileId}`,
  ].join(', ');
  const negative = m.negativePrompt ? `Negative prompt: ${m.negativePrompt}\n` : '';
  return `${m.prompt ? `${m.prompt}\n` : ''}${negative}${params}`;
}

/** The `lob-key` entry: the key itself, or for an over-long key `lob-key-ref:1 profile=<id> sha256=<hex>`. */
export function keyEntry(key: string, profileId: string): string {
  return key.length <= MAX_EMBEDDED_KEY_CHARS ? key : `lob-key-ref:1 profile=${profileId} sha256=${sha256Hex(key)}`;
}

export async function encodePng(rgb: Uint8Array, width: number, height: number, meta: PngMetadata): Promise<Buffer> {
  const bare = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), {
    raw: { width, height, channels: 3 },
  })
    .png(PNG_OPTIONS)
    .toBuffer();
  return addTextChunks(bare, [
    ['parameters', a1111Parameters(meta)],
    [KEY_CHUNK, keyEntry(meta.key, meta.profileId)],
  ]);
}

export type PngKey = { kind: 'key'; key: string } | { kind: 'ref'; profileId: string; sha256: string };

/** Recovers the key a rendered PNG carries (or its reference when it was too long to embed); null if none. */
export function readPngKey(png: Buffer): PngKey | null {
  const entry = readTextChunks(png).get(KEY_CHUNK);
  if (entry === undefined) return null;
  const ref = /^lob-key-ref:1 profile=([a-z0-9-]+) sha256=([0-9a-f]{64})$/.exec(entry);
  if (ref) return { kind: 'ref', profileId: ref[1], sha256: ref[2] };
  return { kind: 'key', key: entry };
}

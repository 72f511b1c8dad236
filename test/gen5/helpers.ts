import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packInner } from '../../gen5/chunk.ts';
import { encodeGen5, type Gen5EncodeInput } from '../../gen5/encode.ts';
import { compressFrame } from '../../gen5/zstd.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/gen5/', import.meta.url));
export const FIXTURE_NAMES = ['f16-two-latents-raw-7', 'f32-compressed-7', 'no-image-7'];

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${FIXTURE_DIR}${name}`));
}

export function sha256(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Deterministic float32 bytes (a small LCG, values in [-2, 2)). */
export function f32Bytes(count: number, seed = 1): Uint8Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return new Uint8Array(out.buffer);
}

/** The smallest valid PNG (1×1 grey), enough for the DATA chunk. */
export const TINY_PNG = new Uint8Array(
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABc3UWCgAAAABJRU5ErkJggg==', 'base64'),
);

export const MODEL_INFO = {
  model_name: 'Test Model',
  version: '1',
  date: '2026-01-02T03:04:05.678000+00:00',
  prompt: 'a test ✓',
  tags: ['t'],
};

export function sampleInput(overrides: Partial<Gen5EncodeInput> = {}): Gen5EncodeInput {
  return {
    latents: [{ name: 'initial_noise', dtype: 'float32', shape: [1, 2, 2, 2], data: f32Bytes(8) }],
    image: TINY_PNG,
    modelInfo: MODEL_INFO,
    environment: [{ id: 'node', canonical: 'name=node;version=20' }],
    ...overrides,
  };
}

export function sampleFile(overrides: Partial<Gen5EncodeInput> = {}): Promise<Uint8Array> {
  return encodeGen5(sampleInput(overrides));
}

/** The manifest tests edit freely (it is meant to be broken). */
// biome-ignore lint/suspicious/noExplicitAny: tests reach into arbitrary places of the JSON they corrupt
type Manifest = Record<string, any>;

export interface RawChunk {
  type: string;
  flags: string;
  payload: Uint8Array;
  compressed: boolean;
  extra?: Record<string, unknown>;
  /** Stored bytes to use instead of the (compressed) inner record. */
  stored?: Uint8Array;
  /** Fields of the chunk record to override after they are computed. */
  record?: Record<string, unknown>;
}

/**
 * Assembles a file from raw parts without any of the encoder's checks, so tests can build exactly the broken
 * file they need (NaN latents, lying records, wrong inner headers). `meta` edits the manifest before writing.
 */
export async function assemble(
  chunks: RawChunk[],
  options: { meta?: (m: Manifest) => void; metaText?: string; metaStored?: Uint8Array } = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const records: Record<string, unknown>[] = [];
  let offset = 32;
  for (const [index, c] of chunks.entries()) {
    const inner = packInner(c.type as 'LATN', c.flags, c.payload);
    const stored = c.stored ?? (c.compressed ? await compressFrame(inner) : inner);
    records.push({
      index,
      type: c.type,
      flags: c.flags.replace(/\0+$/, ''),
      offset,
      compressed_size: stored.length,
      uncompressed_size: c.payload.length,
      hash: sha256(c.payload),
      extra: c.extra ?? {},
      compressed: c.compressed,
      ...c.record,
    });
    parts.push(stored);
    offset += stored.length;
  }
  const manifest: Manifest = {
    gen5_metadata: {
      file_info: { magic: 'GEN5', version_major: 1, version_minor: 0, file_size: 0, chunk_count: records.length },
      model_info: MODEL_INFO,
      chunks: records,
    },
  };
  options.meta?.(manifest);
  const text = options.metaText ?? JSON.stringify(manifest);
  const meta = options.metaStored ?? (await compressFrame(packInner('META', '0000', new TextEncoder().encode(text))));
  const size = offset + meta.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set([0x47, 0x45, 0x4e, 0x35, 1, 0], 0);
  dv.setUint32(8, offset, true);
  dv.setUint32(12, meta.length, true);
  dv.setUint32(16, records.length, true);
  dv.setUint32(20, size, true);
  let pos = 32;
  for (const p of [...parts, meta]) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export function envcPayload(components: { id: string; canonical: string }[]): Uint8Array {
  const list = components.map((c) => ({
    component_id: c.id,
    cononical_str: c.canonical,
    component_sha256_digest: sha256(c.canonical),
  }));
  return new TextEncoder().encode(JSON.stringify({ env_version: 1, components: list }));
}

/** A zstd frame of raw blocks built by hand: `declared` null writes no Frame_Content_Size at all. */
export function rawFrame(content: Uint8Array, declared: number | null): Uint8Array {
  const head =
    declared === null ? [0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3] : [0x28, 0xb5, 0x2f, 0xfd, 0xa0, ...u32(declared)];
  const parts: number[][] = [head];
  for (let pos = 0; pos < content.length || pos === 0; pos += 128 * 1024) {
    const part = content.subarray(pos, pos + 128 * 1024);
    const last = pos + 128 * 1024 >= content.length ? 1 : 0;
    parts.push(u24((part.length << 3) | last), Array.from(part));
    if (last) break;
  }
  return new Uint8Array(parts.flat());
}

/** A frame declaring `declared` bytes made of RLE blocks that expand to `total` bytes of `byte`. */
export function rleFrame(byte: number, total: number, declared: number): Uint8Array {
  const out: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xe0, ...u32(declared), ...u32(Math.floor(declared / 2 ** 32))];
  for (let left = total; left > 0; left -= 128 * 1024) {
    const n = Math.min(left, 128 * 1024);
    out.push(...u24((n << 3) | (1 << 1) | (left - n === 0 ? 1 : 0)), byte);
  }
  return new Uint8Array(out);
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function u24(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff];
}

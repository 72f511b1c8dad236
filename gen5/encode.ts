import { type ChunkRecord, type ChunkType, innerFlags, innerHeader, type LatentDtype, recordFlags } from './chunk.ts';
import { sha256Hex } from './digest.ts';
import { buildEnvcPayload, type EnvComponent } from './envc.ts';
import { Gen5Error } from './errors.ts';
import { HEADER_SIZE, writeHeader } from './header.ts';
import { castF32BytesToF16, checkFinite, checkLatentDtype, checkLatentShape, expectedLatentBytes } from './latent.ts';
import { type Gen5Limits, resolveLimits } from './limits.ts';
import { type PyJson, pyDumps, toPlainJson } from './pyjson.ts';
import { validateMeta } from './schema.ts';
import { compressFrame, compressFrameParts } from './zstd.ts';

export interface LatentInput {
  name: string;
  dtype: LatentDtype;
  shape: number[];
  /** Raw little-endian bytes, C order. */
  data: Uint8Array;
}

/** model_info as gen5 0.1.0 takes it; `date` defaults to now. Extra properties are kept after the known ones. */
export interface ModelInfoInput {
  model_name: string;
  version: string;
  prompt: string;
  tags: string[];
  date?: string;
  generation_settings?: { [k: string]: PyJson };
  hardware_info?: { [k: string]: PyJson };
  [k: string]: PyJson | undefined;
}

export interface Gen5EncodeInput {
  /** In chunk order (0.1.0 writes them in dict order). At least one, names unique. */
  latents: LatentInput[];
  /** PNG bytes, stored as given (DATA chunk). Input buffers must not change while encodeGen5 runs. */
  image?: Uint8Array;
  modelInfo: ModelInfoInput;
  environment: EnvComponent[];
  /** Extra properties of gen5_metadata, written after `chunks` (gen5 0.1.0 ignores them). */
  extra?: { [k: string]: PyJson };
  /** zstd-compress LATN chunks (0.1.0's should_compress, default true). DATA, ENVC, META are always compressed. */
  compress?: boolean;
  /** Cast float32 latents to float16 (0.1.0's convert_float16; default false here, true in 0.1.0). */
  float16?: boolean;
  limits?: Partial<Gen5Limits>;
}

const MODEL_INFO_ORDER = ['model_name', 'version', 'date', 'prompt', 'tags', 'generation_settings', 'hardware_info'];
// A value no real file_size has (files are < 4 GiB), found once in the serialised META.
const FILE_SIZE_PLACEHOLDER = 987_654_321_987_654;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Writes a .gen5 file that gen5 0.1.0's file_decoder reads, laid out exactly as 0.1.0's file_encoder lays it out. */
export async function encodeGen5(input: Gen5EncodeInput): Promise<Uint8Array> {
  const limits = resolveLimits(input.limits);
  const parts: Uint8Array[] = [];
  const records: ChunkRecord[] = [];
  let offset = HEADER_SIZE;
  const add = async (
    type: ChunkType,
    payload: Uint8Array,
    compressed: boolean,
    extra: ChunkRecord['extra'],
    dtype?: LatentDtype,
  ) => {
    const header = innerHeader(type, innerFlags(type, dtype), payload.length);
    const stored = compressed ? await compressFrameParts(header, payload) : [header, payload];
    const storedSize = stored.reduce((n, p) => n + p.length, 0);
    records.push({
      index: records.length,
      type,
      flags: recordFlags(type, dtype),
      offset,
      compressed_size: storedSize,
      uncompressed_size: payload.length,
      hash: await sha256Hex(payload),
      extra,
      compressed,
    });
    parts.push(...stored);
    offset += storedSize;
  };

  if (input.latents.length === 0)
    throw new Gen5Error('INPUT', 'at least one latent is required (gen5 0.1.0 rejects an empty latent dict)');
  const names = new Set<string>();
  for (const latent of input.latents) {
    const { payload, dtype } = prepareLatent(latent, input.float16 ?? false, limits);
    if (names.has(latent.name)) throw new Gen5Error('INPUT', `latent name ${JSON.stringify(latent.name)} given twice`);
    names.add(latent.name);
    await add('LATN', payload, input.compress ?? true, { shape: [...latent.shape], dtype, key: latent.name }, dtype);
  }
  if (input.image) {
    checkPng(input.image);
    await add('DATA', input.image, true, {});
  }
  await add('ENVC', await buildEnvcPayload(input.environment), true, {});

  const manifest = {
    gen5_metadata: {
      file_info: { magic: 'GEN5', version_major: 1, version_minor: 0, file_size: 0, chunk_count: records.length },
      model_info: orderModelInfo(input.modelInfo),
      chunks: records as unknown as PyJson[],
      ...input.extra,
    },
  };
  validateMeta(toPlainJson(manifest));

  const meta = await metaWithFileSize(manifest, offset);
  const fileSize = offset + meta.length;
  const header = writeHeader({
    chunkTableOffset: offset,
    chunkTableSize: meta.length,
    chunkCount: records.length,
    fileSize,
  });
  const out = new Uint8Array(fileSize);
  let pos = 0;
  for (const part of [header, ...parts, meta]) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

function prepareLatent(latent: LatentInput, float16: boolean, limits: Gen5Limits) {
  const what = `latent ${JSON.stringify(latent.name)}`;
  const shape = checkLatentShape(latent.shape, limits, what);
  let dtype = checkLatentDtype(latent.dtype, what);
  const expected = expectedLatentBytes(shape, dtype);
  if (latent.data.length !== expected) {
    throw new Gen5Error(
      'LATENT_SIZE',
      `${what}: ${latent.data.length} bytes, shape ${JSON.stringify(shape)} × ${dtype} needs ${expected}`,
    );
  }
  let payload: Uint8Array = latent.data.slice(); // aligned copy
  checkFinite(payload, dtype, what);
  if (float16 && dtype === 'float32') {
    payload = castF32BytesToF16(payload);
    dtype = 'float16';
    // Values beyond ±65504 become Inf in the cast; 0.1.0 checks before casting and would store them.
    checkFinite(payload, dtype, `${what} after the float16 cast`);
  }
  return { payload, dtype };
}

function checkPng(image: Uint8Array): void {
  if (image.length < 8 || !PNG_SIGNATURE.every((b, i) => image[i] === b)) {
    throw new Gen5Error('IMAGE', 'the image is not a PNG (bad signature)');
  }
}

function orderModelInfo(info: ModelInfoInput): { [k: string]: PyJson } {
  const withDate: { [k: string]: PyJson | undefined } = { ...info, date: info.date ?? pythonUtcIso(new Date()) };
  const out: { [k: string]: PyJson } = {};
  for (const k of [...MODEL_INFO_ORDER, ...Object.keys(withDate).filter((k) => !MODEL_INFO_ORDER.includes(k))]) {
    const v = withDate[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** `datetime.now(UTC).isoformat()`: microseconds (omitted when zero) and `+00:00`. */
export function pythonUtcIso(d: Date): string {
  const base = d.toISOString().slice(0, 19);
  const ms = d.getUTCMilliseconds();
  return `${base}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`;
}

/**
 * file_info.file_size depends on META's compressed length, which depends on file_size's digits. Iterate to a fixed
 * point; when the compressed length oscillates (it does: one digit can move zstd's matches), try the sizes around
 * the cycle. gen5 0.1.0 stops after one pass and writes a stale value; only if no fixed point exists nearby do we
 * do the same (readers must trust the header anyway).
 */
async function metaWithFileSize(manifest: { gen5_metadata: { file_info: { file_size: number } } }, offset: number) {
  // Serialise once around a placeholder and splice each candidate size in: only the digits change between tries.
  manifest.gen5_metadata.file_info.file_size = FILE_SIZE_PLACEHOLDER;
  const [before, after, ...rest] = pyDumps(manifest as unknown as PyJson).split(
    `"file_size": ${FILE_SIZE_PLACEHOLDER},`,
  );
  if (after === undefined || rest.length)
    throw new Gen5Error('INPUT', 'model_info or extra holds the file_size placeholder value');
  const built = new Map<number, Uint8Array>();
  const build = async (size: number) => {
    let meta = built.get(size);
    if (!meta) {
      const json = new TextEncoder().encode(`${before}"file_size": ${size},${after}`);
      meta = await compressFrame(innerHeader('META', '0000', json.length), json);
      built.set(size, meta);
    }
    return meta;
  };
  let size = 0;
  let meta = await build(size);
  for (let i = 0; i < 4; i++) {
    const next = offset + meta.length;
    if (next === size) return meta;
    size = next;
    meta = await build(size);
  }
  // A fixed point x satisfies x = f(x), and f stays within a few bytes of the sizes already produced: try those.
  const produced = [...built.values()].map((m) => offset + m.length);
  for (let candidate = Math.min(...produced) - 4; candidate <= Math.max(...produced) + 4; candidate++) {
    const m = await build(candidate);
    if (offset + m.length === candidate) return m;
  }
  return meta;
}

import { createHash } from 'node:crypto';
import {
  type EnvComponent,
  type Gen5EncodeInput,
  type Gen5File,
  PROVENANCE_FIELD,
  PyFloat,
  type PyJson,
} from '../gen5/index.ts';
import { hardwareInfo } from './environment.ts';

/**
 * What provenance needs from a render (docs/contracts.md's RenderResult); declared here so lib/provenance does not
 * depend on the pipeline's code. The pipeline's RenderResult satisfies it.
 */
export interface ProvenanceInput {
  png: Uint8Array;
  pngSha256: string;
  key: string;
  profileId: string;
  steps: number;
  guidance: number;
  scheduler: string;
  initialNoise: Float32Array;
  finalLatent: Float32Array;
  /** The text embedding [T, D]. */
  embedding: Float32Array;
  /** The unconditional branch's states [T, D] when the key carries a negative prompt; null/absent otherwise. */
  negativeEmbedding?: Float32Array | null;
  /** Every step's latent ([steps+1, C, H, W] flattened) when the render kept them. */
  stepLatents?: Float32Array;
  settings: {
    /** Session options (executionProvider, graphOptimizationLevel, threads, …): recorded as given. */
    session: { executionProvider?: string };
    /** The UNet's threads per session and guidance mode (pipeline/unet/guided.ts), recorded with the session. */
    unet?: { threads: number[]; guidance: string };
    latentShape: number[];
    embeddingShape: number[];
    precision?: string;
  };
  model: { name: string; version: string; files: Record<string, string> };
}

/** Our extra property of gen5_metadata (gen5 0.1.0 ignores it; docs/gen5.md). */
export interface Provenance {
  format: 'lob-provenance/1';
  key: { profile: string; text: string };
  model: { name: string; version: string; files: Record<string, string> };
  pipeline: {
    scheduler: string;
    steps: number;
    guidance: number;
    precision: string;
    /** Guidance's unconditional branch: the empty prompt, or the negative prompt states the key carries. */
    unconditional?: 'empty-prompt' | 'key-negative';
    executionProvider: string;
    sessionOptions: { [k: string]: PyJson };
  };
  image_sha256: string;
}

export class ProvenanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvenanceError';
  }
}

export interface ProvenanceOptions {
  /** The environment the render ran in (lib/environment.ts). */
  environment: EnvComponent[];
  /** The prompt the key came from, when known (gen5's model_info.prompt; empty otherwise). */
  prompt?: string;
  /** The negative prompt the key's unconditional states came from, when known (a model_info tag). */
  negativePrompt?: string;
  /** ISO 8601 UTC; default now. */
  date?: string;
  /** zstd-compress the latents (default true). */
  compress?: boolean;
}

/**
 * The gen5 encoder input for a render: LATN initial_noise, final_latent and embedding (as [1, 1, T, D]; plus
 * negative_embedding when the key carries a negative prompt), the PNG,
 * model_info for gen5 readers, and our provenance (the key that regenerates the image) as an extra property.
 */
export function buildGen5Input(result: ProvenanceInput, options: ProvenanceOptions): Gen5EncodeInput {
  const imageSha = createHash('sha256').update(result.png).digest('hex');
  if (imageSha !== result.pngSha256)
    throw new ProvenanceError(`pngSha256 ${result.pngSha256} is not the SHA-256 of the PNG (${imageSha})`);
  const [t, d] = result.settings.embeddingShape;
  const latents = [
    latent('initial_noise', result.initialNoise, result.settings.latentShape),
    latent('final_latent', result.finalLatent, result.settings.latentShape),
    latent('embedding', result.embedding, [1, 1, t, d]),
    ...(result.negativeEmbedding ? [latent('negative_embedding', result.negativeEmbedding, [1, 1, t, d])] : []),
    ...(result.stepLatents ? [stepLatents(result.stepLatents, result.settings.latentShape)] : []),
  ];
  const executionProvider = result.settings.session.executionProvider ?? 'cpu';
  const precision = result.settings.precision ?? 'float32';
  const provenance: Provenance = {
    format: 'lob-provenance/1',
    key: { profile: result.profileId, text: result.key },
    model: { name: result.model.name, version: result.model.version, files: sortedFiles(result.model.files) },
    pipeline: {
      scheduler: result.scheduler,
      steps: result.steps,
      guidance: result.guidance,
      precision,
      unconditional: result.negativeEmbedding ? 'key-negative' : 'empty-prompt',
      executionProvider,
      sessionOptions: jsonOnly({
        ...(result.settings.session as Record<string, unknown>),
        ...(result.settings.unet && {
          unetThreads: result.settings.unet.threads,
          guidance: result.settings.unet.guidance,
        }),
      }),
    },
    image_sha256: imageSha,
  };
  return {
    latents,
    image: result.png,
    modelInfo: {
      model_name: result.model.name,
      version: result.model.version,
      date: options.date,
      prompt: options.prompt ?? '',
      tags: ['lob', result.profileId, ...(options.negativePrompt ? [`negative:${options.negativePrompt}`] : [])],
      generation_settings: {
        // lob has no integer seed: the key is the seed, and it is in gen5_metadata.lob_provenance.key.
        seed: 0,
        steps: result.steps,
        sampler: result.scheduler,
        cfg_scale: new PyFloat(result.guidance),
        scheduler: result.scheduler,
        guidance: 'classifier-free',
        precision,
        deterministic: true,
      },
      hardware_info: hardwareInfo(executionProvider),
    },
    environment: options.environment,
    extra: { [PROVENANCE_FIELD]: provenance as unknown as PyJson },
    compress: options.compress ?? true,
  };
}

function latent(name: string, values: Float32Array, shape: number[]) {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.length !== 4 || count !== values.length) {
    throw new ProvenanceError(`${name}: ${values.length} values do not fill shape ${JSON.stringify(shape)}`);
  }
  const data = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return { name, dtype: 'float32' as const, shape: [...shape], data };
}

/** Every step's latent as one LATN of shape [steps+1, C, H, W]. */
function stepLatents(values: Float32Array, latentShape: number[]) {
  const [, ...chw] = latentShape;
  const perStep = chw.reduce((a, b) => a * b, 1);
  return latent('step_latents', values, [values.length / perStep, ...chw]);
}

function sortedFiles(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((k) => [k, files[k]]),
  );
}

const isScalar = (v: unknown): v is string | boolean | number =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** Keeps JSON-representable session options (strings, finite numbers, booleans, arrays of those). */
function jsonOnly(session: Record<string, unknown>): { [k: string]: PyJson } {
  const out: { [k: string]: PyJson } = {};
  for (const [k, v] of Object.entries(session)) {
    if (isScalar(v)) out[k] = v;
    else if (Array.isArray(v) && v.every(isScalar)) out[k] = v;
  }
  return out;
}

/** The provenance of a decoded file: undefined when it has none, ProvenanceError when it is malformed. */
export function readProvenance(file: Pick<Gen5File, 'meta'>): Provenance | undefined {
  const p = file.meta.gen5_metadata[PROVENANCE_FIELD] as unknown;
  if (p === undefined) return undefined;
  const v = p as Provenance;
  const str = (x: unknown) => typeof x === 'string';
  if (
    typeof v !== 'object' ||
    v === null ||
    v.format !== 'lob-provenance/1' ||
    !str(v.key?.profile) ||
    !str(v.key?.text) ||
    !str(v.model?.name) ||
    !str(v.model?.version) ||
    typeof v.model?.files !== 'object' ||
    !str(v.image_sha256) ||
    typeof v.pipeline !== 'object'
  ) {
    throw new ProvenanceError(`gen5_metadata.${PROVENANCE_FIELD} is not a lob-provenance/1 record`);
  }
  return v;
}

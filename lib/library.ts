import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { encodeGen5 } from '../gen5/index.ts';
import {
  availableStrides,
  createProfileRegistry,
  KeyError,
  type KeyOrder,
  loadProfile,
  offsetKey,
  type ParsedKey,
  type Profile,
  type ProfileRegistry,
  parseKey,
  randomKey,
  STRIDES,
  type Stride,
  walkKeys,
} from '../keyspace/index.ts';
import { defaultModelDir, loadModel, projectRoot, Renderer, type RenderResult } from '../pipeline/index.ts';
import { readModelFolder } from '../pipeline/model-folder.ts';
import { currentEnvironment } from './environment.ts';
import { BadRequestError } from './http.ts';
import { type ImportResult, importFile } from './import-file.ts';
import { buildGen5Input } from './provenance.ts';
import { keyHash, RenderCache } from './render-cache.ts';

/**
 * The process-wide library service behind the web app (and open to any long-running caller): the default model
 * behind a worker-pool renderer, the PNG disk cache, and every operation the HTTP API offers. Route handlers only
 * parse and call this.
 */

export interface ModelInfo {
  name: string;
  version: string;
  profileId: string;
  defaultSteps: number;
  scheduler: string;
  keyLength: number;
  strides: { name: Stride; label: string }[];
  /** The most candidates one web search may rank ("try N, keep the best"); 1 when the model cannot score images. */
  bestOfMax: number;
}

// What a step at each stride does depends on the profile's order (docs/keyspace.md); the labels say it plainly.
const STRIDE_LABELS: Record<KeyOrder, Record<Stride, string>> = {
  tiles: {
    page: 'page — a small change',
    book: 'book — a bolder change',
    shelf: 'shelf — nudge the prompt',
    wall: 'wall — change the steps',
  },
  nested: {
    page: 'page — the same picture, varied',
    book: 'book — another picture of the prompt',
    shelf: 'shelf — nudge the prompt',
    wall: 'wall — change the steps',
  },
};

// Each candidate is one more render on a shared server; the CLI allows more (pipeline's MAX_BEST_OF).
const WEB_BEST_OF_MAX = 8;

// A walk's frames are rendered one by one for the page; 32 keeps one click from queueing minutes of work.
const WEB_WALK_FRAMES_MAX = 32;

// The text encoder truncates to a few dozen tokens anyway; this only keeps absurd bodies from reaching it.
const MAX_PROMPT_CHARS = 1000;

export interface RenderProgress {
  state: 'queued' | 'rendering' | 'idle';
  done: number;
  total: number;
}

export interface LibraryOptions {
  modelDir: string;
  cacheDir: string;
  cacheMaxBytes: number;
  workers: number;
  threadsPerWorker: number;
  maxQueue: number;
}

function envInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

/**
 * Defaults: one single-threaded worker per core (up to 4), so concurrent requests render in parallel and each
 * render does the same arithmetic as a single-threaded one; a queue of 16 behind them; a 256 MiB PNG cache.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): LibraryOptions {
  return {
    modelDir: defaultModelDir(),
    cacheDir: env.LOB_CACHE_DIR ?? join(projectRoot(), '.cache', 'renders'),
    cacheMaxBytes: envInteger(env, 'LOB_CACHE_MAX_BYTES', 256 * 1024 * 1024),
    workers: Math.max(1, envInteger(env, 'LOB_WORKERS', Math.min(4, availableParallelism()))),
    threadsPerWorker: Math.max(1, envInteger(env, 'LOB_THREADS_PER_WORKER', 1)),
    maxQueue: envInteger(env, 'LOB_MAX_QUEUE', 16),
  };
}

/**
 * The keyspace profile for parsing and browsing keys on this thread. A keyspace.json is read directly; a Stable
 * Diffusion export has none, and its derived profile needs the session shapes, so the model is loaded once here
 * and released again.
 */
async function loadKeyProfile(modelDir: string): Promise<Profile> {
  const folder = await readModelFolder(modelDir);
  if (folder.keyspaceProfile) return loadProfile(folder.keyspaceProfile);
  const model = await loadModel(modelDir, { intraOpNumThreads: 1 });
  await model.release();
  return model.profile;
}

export class Library {
  private cachePromise: Promise<RenderCache> | null = null;
  private rendererPromise: Promise<Renderer> | null = null;
  private keysPromise: Promise<{ profile: Profile; registry: ProfileRegistry }> | null = null;
  // Concurrent requests for one key share a single render (by the key's SHA-256).
  private readonly rendering = new Map<string, Promise<Buffer>>();
  // Denoising steps done so far, by the SHA-256 of the key, for renders under way (the page shows them).
  private readonly steps = new Map<string, { done: number; total: number }>();

  constructor(readonly options: LibraryOptions) {}

  /**
   * The PNG cache lives in a subfolder named by the model's file digests, so re-exported model files never serve
   * images of the old ones.
   */
  cache(): Promise<RenderCache> {
    if (!this.cachePromise) {
      const made = this.renderer().then((renderer) => {
        const files = Object.entries(renderer.model.files).sort(([a], [b]) => a.localeCompare(b));
        const fingerprint = createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 16);
        return new RenderCache({ dir: join(this.options.cacheDir, fingerprint), maxBytes: this.options.cacheMaxBytes });
      });
      this.cachePromise = made;
      made.catch(() => {
        if (this.cachePromise === made) this.cachePromise = null;
      });
    }
    return this.cachePromise;
  }

  /** The renderer; a failed start is forgotten so a later request tries again (e.g. once the model files land). */
  renderer(): Promise<Renderer> {
    if (!this.rendererPromise) {
      const started = Renderer.create({
        modelDir: this.options.modelDir,
        workers: this.options.workers,
        threadsPerWorker: this.options.threadsPerWorker,
        maxQueue: this.options.maxQueue,
      });
      this.rendererPromise = started;
      started.catch(() => {
        if (this.rendererPromise === started) this.rendererPromise = null;
      });
    }
    return this.rendererPromise;
  }

  private keys(): Promise<{ profile: Profile; registry: ProfileRegistry }> {
    if (!this.keysPromise) {
      const loaded = loadKeyProfile(this.options.modelDir).then((profile) => ({
        profile,
        registry: createProfileRegistry([profile]),
      }));
      this.keysPromise = loaded;
      loaded.catch(() => {
        if (this.keysPromise === loaded) this.keysPromise = null;
      });
    }
    return this.keysPromise;
  }

  async modelInfo(): Promise<ModelInfo> {
    const [renderer, { profile }] = await Promise.all([this.renderer(), this.keys()]);
    const info = renderer.model;
    return {
      name: info.name,
      version: info.version,
      profileId: info.profileId,
      defaultSteps: info.defaultSteps,
      scheduler: info.scheduler,
      keyLength: profile.prefix.length + profile.chars,
      strides: availableStrides(profile).map((name) => ({ name, label: STRIDE_LABELS[profile.order][name] })),
      bestOfMax: info.files['image_encoder/model.onnx'] ? WEB_BEST_OF_MAX : 1,
    };
  }

  async random(): Promise<string> {
    return randomKey((await this.keys()).profile);
  }

  /**
   * Prompt → key: a fresh seed each time unless one is given, so "search again" just asks once more. `bestOf` > 1
   * renders that many candidates and keeps the one the image encoder ranks closest to the prompt.
   */
  async search(prompt: string, seed?: number, bestOf = 1): Promise<string> {
    const text = prompt.trim();
    if (!text) throw new BadRequestError('the prompt is empty');
    if (text.length > MAX_PROMPT_CHARS) {
      throw new BadRequestError(`the prompt has ${text.length} characters; the limit is ${MAX_PROMPT_CHARS}`);
    }
    if (!Number.isSafeInteger(bestOf) || bestOf < 1 || bestOf > WEB_BEST_OF_MAX)
      throw new BadRequestError(`"bestOf" must be an integer from 1 to ${WEB_BEST_OF_MAX}, got ${bestOf}`);
    return (await (await this.renderer()).search(text, { seed, bestOf })).key;
  }

  async neighbour(key: string, by: number, stride = 'page'): Promise<string> {
    if (!(STRIDES as readonly string[]).includes(stride)) {
      throw new BadRequestError(`unknown stride "${stride}" (strides: ${STRIDES.join(', ')})`);
    }
    if (!Number.isSafeInteger(by)) throw new BadRequestError(`"by" must be an integer, got ${by}`);
    return offsetKey(await this.parse(key), by, stride as Stride);
  }

  /** The keys of a walk from one key to another, both included (each frame is one more render for the page). */
  async walk(from: string, to: string, frames: number): Promise<string[]> {
    if (!Number.isSafeInteger(frames) || frames < 2 || frames > WEB_WALK_FRAMES_MAX)
      throw new BadRequestError(`"frames" must be an integer from 2 to ${WEB_WALK_FRAMES_MAX}, got ${frames}`);
    return walkKeys(await this.parse(from), await this.parse(to), frames);
  }

  /** The PNG of a key: from the disk cache, else rendered by the pool (and cached). */
  async render(key: string): Promise<Buffer> {
    await this.parse(key);
    const cached = await (await this.cache()).get(key);
    if (cached) return cached;
    const hash = keyHash(key);
    let pending = this.rendering.get(hash);
    if (!pending) {
      pending = this.renderFresh(key)
        .then((result) => result.png)
        .finally(() => this.rendering.delete(hash));
      this.rendering.set(hash, pending);
    }
    return pending;
  }

  /** A .gen5 file of the key: its latents, embedding and PNG, with the key as provenance and our environment. */
  async exportGen5(key: string): Promise<Uint8Array> {
    await this.parse(key);
    const result = await this.renderFresh(key);
    const environment = await currentEnvironment({
      executionProvider: result.settings.session.executionProvider,
      modelFiles: result.model.files,
    });
    return encodeGen5(buildGen5Input(result, { environment }));
  }

  /** A .gen5 file or one of our PNGs → its key, and whether that key regenerates the very same image here. */
  async importFile(bytes: Uint8Array): Promise<ImportResult> {
    const renderer = await this.renderer();
    return importFile(bytes, {
      parse: async (key) => (await this.parse(key)).text,
      // Verification regenerates for real rather than trusting the cache.
      render: async (key) => (await this.renderFresh(key)).png,
      environment: () =>
        currentEnvironment({ executionProvider: renderer.model.executionProvider, modelFiles: renderer.model.files }),
    });
  }

  /** Checks a key against the loaded model's profile (a KeyError names the bad character). */
  private async parse(key: string): Promise<ParsedKey> {
    const { profile, registry } = await this.keys();
    const parsed = parseKey(key, registry);
    if (parsed.profile !== profile) {
      throw new KeyError('profile', 0, `key is for profile ${parsed.profile.id}, this library shelves ${profile.id}`);
    }
    return parsed;
  }

  private async renderFresh(key: string): Promise<RenderResult> {
    const hash = keyHash(key);
    try {
      const result = await (await this.renderer()).render(key, {
        onProgress: (done, total) => this.steps.set(hash, { done, total }),
      });
      await (await this.cache()).put(key, result.png);
      return result;
    } finally {
      this.steps.delete(hash);
    }
  }

  /** How far the render of the key with this SHA-256 has come: waiting for a worker, denoising, or not under way. */
  progress(hash: string): RenderProgress {
    const steps = this.steps.get(hash);
    if (steps) return { state: 'rendering', ...steps };
    return { state: this.rendering.has(hash) ? 'queued' : 'idle', done: 0, total: 0 };
  }
}

const GLOBAL = Symbol.for('lob.library');
type WithLibrary = typeof globalThis & { [GLOBAL]?: Library };

/** The one Library of this process; kept on globalThis so Next's dev reloads and per-route bundles share it. */
export function getLibrary(): Library {
  const holder = globalThis as WithLibrary;
  holder[GLOBAL] ??= new Library(optionsFromEnv());
  return holder[GLOBAL];
}

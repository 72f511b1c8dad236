import { join } from 'node:path';
import { encodeGen5 } from '../gen5/index.ts';
import {
  availableStrides,
  createProfileRegistry,
  guidanceScaleProblem,
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
  withVariants,
} from '../keyspace/index.ts';
import {
  defaultModelDir,
  loadModel,
  loadPicture,
  projectRoot,
  Renderer,
  type RenderResult,
  rekeyPrompt,
} from '../pipeline/index.ts';
import { readModelFolder } from '../pipeline/model/folder.ts';
import { currentEnvironment } from './environment.ts';
import { BadRequestError } from './http.ts';
import { type ImportResult, importFile } from './import-file.ts';
import { modelFingerprint } from './model-fingerprint.ts';
import { withModelRelativePaths } from './model-paths.ts';
import { buildGen5Input } from './provenance.ts';
import type { QueueClient } from './queue/client.ts';
import { keyHash, RenderCache } from './render-cache.ts';
import type { SearchRequest } from './search-request.ts';
import { readServerSettings } from './settings.ts';

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
  /** What a search ranks when the request names no number: the model's own (model_index lob.search_best_of). */
  bestOfDefault: number;
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
  halves: {
    page: 'page — the same picture, varied',
    book: 'book — another picture of the prompt',
    shelf: 'shelf — nudge the prompt',
    wall: 'wall — change the steps',
  },
};

// Each candidate is one more render on a shared server; the CLI allows more (pipeline's MAX_BEST_OF).
const WEB_BEST_OF_MAX = 16;

// A walk's frames are rendered one by one for the page; 32 keeps one click from queueing minutes of work.
const WEB_WALK_FRAMES_MAX = 32;

// One find renders one candidate after another on a shared server; 24 is twice the default.
const WEB_FIND_CANDIDATES_MAX = 24;

// The text encoder truncates to a few dozen tokens anyway; this only keeps absurd bodies from reaching it.
const MAX_PROMPT_CHARS = 1000;

/** What find answers (docs/find.md): the key, how like the picture its image is, and how the search went. */
export interface FoundPicture {
  key: string;
  profileId: string;
  steps: number;
  /** PSNR (dB) and SSIM of the key's image against the picture as find prepared it (the model's image size). */
  psnr: number;
  ssim: number;
  /** The prompt the key carries ("" for none). */
  prompt: string;
  candidates: { tried: number; planned: number };
  ms: number;
}

export interface FindRequest {
  /** "This picture, but …": the key carries this prompt's text states. */
  prompt?: string;
  /** Try at most this many candidates (1..WEB_FIND_CANDIDATES_MAX; default the pipeline's). */
  candidates?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

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
  /** LOB_REDIS_URL: render through the Redis queue and `lob worker` processes instead of the in-process pool. */
  redisUrl?: string;
  /** LOB_QUEUE_TIMEOUT_MS: how long a request waits for a queued job. */
  queueTimeoutMs: number;
}

/**
 * Defaults: one single-threaded worker per core (up to 4), so concurrent requests render in parallel and each
 * render does the same arithmetic as a single-threaded one; a queue of 16 behind them; a 256 MiB PNG cache.
 * Every value is checked by readServerSettings (SettingsError names the variable and what it accepts).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): LibraryOptions {
  return {
    modelDir: defaultModelDir(),
    cacheDir: env.LOB_CACHE_DIR ?? join(projectRoot(), '.cache', 'renders'),
    ...readServerSettings(env),
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
  private keysPromise: Promise<{ profiles: Profile[]; registry: ProfileRegistry }> | null = null;
  private fingerprintPromise: Promise<string> | null = null;
  private queuePromise: Promise<QueueClient> | null = null;
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
      const made = this.fingerprint().then(
        (fingerprint) =>
          new RenderCache({ dir: join(this.options.cacheDir, fingerprint), maxBytes: this.options.cacheMaxBytes }),
      );
      this.cachePromise = made;
      made.catch(() => {
        if (this.cachePromise === made) this.cachePromise = null;
      });
    }
    return this.cachePromise;
  }

  /**
   * The model's fingerprint (modelFingerprint of its file digests). With a queue the web server loads no sessions,
   * so it hashes the folder itself.
   */
  fingerprint(): Promise<string> {
    if (!this.fingerprintPromise) {
      const files = this.options.redisUrl
        ? readModelFolder(this.options.modelDir).then((folder) => folder.files)
        : this.renderer().then((renderer) => renderer.model.files);
      const made = files.then(modelFingerprint);
      this.fingerprintPromise = made;
      made.catch(() => {
        if (this.fingerprintPromise === made) this.fingerprintPromise = null;
      });
    }
    return this.fingerprintPromise;
  }

  /** The Redis queue client when LOB_REDIS_URL is set, else null (the in-process pool renders). */
  private async queue(): Promise<QueueClient | null> {
    const url = this.options.redisUrl;
    if (!url) return null;
    if (!this.queuePromise) {
      const made = Promise.all([import('./queue/client.ts'), this.fingerprint()]).then(
        ([{ QueueClient }, fingerprint]) =>
          new QueueClient({ url, fingerprint, timeoutMs: this.options.queueTimeoutMs }),
      );
      this.queuePromise = made;
      made.catch(() => {
        if (this.queuePromise === made) this.queuePromise = null;
      });
    }
    return this.queuePromise;
  }

  /** The content-addressed URL of a key's PNG (GET it: immutable, CDN-cacheable once rendered). */
  async pngPath(key: string): Promise<string> {
    return `/api/png/${await this.fingerprint()}/${keyHash(key)}`;
  }

  /** A rendered PNG by model fingerprint and key hash: disk cache, then the shared cache; null if not rendered. */
  async cachedPng(fingerprint: string, hash: string): Promise<Buffer | null> {
    if (fingerprint !== (await this.fingerprint())) return null;
    const local = await (await this.cache()).getByHash(hash);
    if (local) return local;
    return (await (await this.queue())?.cachedPng(hash)) ?? null;
  }

  /** The renderer; a failed start is forgotten so a later request tries again (e.g. once the model files land). */
  renderer(): Promise<Renderer> {
    if (!this.rendererPromise) {
      const started = Renderer.create({
        modelDir: this.options.modelDir,
        workers: this.options.workers,
        threadsPerWorker: this.options.threadsPerWorker,
        maxQueue: this.options.maxQueue,
      }).catch((err: unknown) => {
        throw withModelRelativePaths(err, this.options.modelDir);
      });
      this.rendererPromise = started;
      started.catch(() => {
        if (this.rendererPromise === started) this.rendererPromise = null;
      });
    }
    return this.rendererPromise;
  }

  /** The model's profile and its variants (first the profile itself), and a registry of them. */
  private keys(): Promise<{ profiles: Profile[]; registry: ProfileRegistry }> {
    if (!this.keysPromise) {
      const loaded = loadKeyProfile(this.options.modelDir).then(
        (profile) => {
          const profiles = withVariants(profile);
          return { profiles, registry: createProfileRegistry(profiles) };
        },
        (err: unknown) => {
          throw withModelRelativePaths(err, this.options.modelDir);
        },
      );
      this.keysPromise = loaded;
      loaded.catch(() => {
        if (this.keysPromise === loaded) this.keysPromise = null;
      });
    }
    return this.keysPromise;
  }

  async modelInfo(): Promise<ModelInfo> {
    const queue = await this.queue();
    const [info, { profiles }] = await Promise.all([
      queue ? queue.workerInfo() : this.renderer().then((renderer) => renderer.model),
      this.keys(),
    ]);
    const profile = profiles[0];
    return {
      name: info.name,
      version: info.version,
      profileId: info.profileId,
      defaultSteps: info.defaultSteps,
      scheduler: info.scheduler,
      keyLength: profile.prefix.length + profile.chars,
      strides: availableStrides(profile).map((name) => ({ name, label: STRIDE_LABELS[profile.order][name] })),
      bestOfMax: (await this.hasImageEncoder('files' in info ? info.files : undefined)) ? WEB_BEST_OF_MAX : 1,
      bestOfDefault: Math.min(info.searchBestOf ?? 1, WEB_BEST_OF_MAX),
    };
  }

  /** Best-of ranks candidates with the image encoder; in queue mode the local model folder tells (no sessions here). */
  private async hasImageEncoder(files: Record<string, string> | undefined): Promise<boolean> {
    if (files) return Boolean(files['image_encoder/model.onnx']);
    return Boolean((await readModelFolder(this.options.modelDir)).onnx.imageEncoder);
  }

  async random(): Promise<string> {
    return randomKey((await this.keys()).profiles[0]);
  }

  /**
   * Prompt → key: a fresh seed each time unless one is given, so "search again" just asks once more. A negative
   * prompt ("avoid: …") goes into the key as guidance's unconditional branch. `bestOf` > 1 renders that many
   * candidates and keeps the one the image encoder ranks closest to the prompt; omitted, the model says how many. A `guidance` scale is kept in the key
   * too (one of the guidance variant's scales), which then renders at it everywhere.
   */
  async search(prompt: string, request: SearchRequest = {}): Promise<string> {
    const text = checkedPrompt(prompt, 'prompt');
    const { seed, negative, bestOf, guidance } = request;
    const avoid = negative === undefined || negative.trim() === '' ? undefined : checkedPrompt(negative, 'avoid text');
    if (bestOf !== undefined && (!Number.isSafeInteger(bestOf) || bestOf < 1 || bestOf > WEB_BEST_OF_MAX))
      throw new BadRequestError(`"bestOf" must be an integer from 1 to ${WEB_BEST_OF_MAX}, got ${bestOf}`);
    const problem = guidance === undefined ? null : guidanceScaleProblem(guidance);
    if (problem) throw new BadRequestError(`"guidance": ${problem}`);
    const queue = await this.queue();
    // Omitted: the model's own number, within the web's limit (the same key as `lob search` with that number).
    const modelBestOf = async () =>
      (queue ? await queue.workerInfo() : (await this.renderer()).model).searchBestOf ?? 1;
    const options = {
      seed,
      negative: avoid,
      bestOf: bestOf ?? Math.min(await modelBestOf(), WEB_BEST_OF_MAX),
      guidance,
    };
    if (queue) return queue.search(text, options);
    return (await (await this.renderer()).search(text, options)).key;
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
      pending = this.renderPng(key).finally(() => this.rendering.delete(hash));
      this.rendering.set(hash, pending);
    }
    return pending;
  }

  /** Renders through the queue when there is one (the shared cache first), else the pool; caches on disk. */
  private async renderPng(key: string): Promise<Buffer> {
    const queue = await this.queue();
    if (!queue) return (await this.renderFresh(key)).png;
    const png = await queue.render(key);
    await (await this.cache()).put(key, png);
    return png;
  }

  /**
   * A picture (PNG, JPEG, WebP or SVG bytes) → the key whose image is most like it. Runs on this server's own
   * worker pool, also in queue mode (a find is a search over many renders, not one render a queue worker caches).
   */
  async find(bytes: Uint8Array, request: FindRequest = {}): Promise<FoundPicture> {
    const prompt = request.prompt?.trim() ? checkedPrompt(request.prompt, 'prompt') : undefined;
    const cap = request.candidates;
    if (cap !== undefined && (!Number.isSafeInteger(cap) || cap < 1 || cap > WEB_FIND_CANDIDATES_MAX))
      throw new BadRequestError(`"candidates" must be an integer from 1 to ${WEB_FIND_CANDIDATES_MAX}, got ${cap}`);
    const renderer = await this.renderer();
    const [height, width] = renderer.model.imageSize;
    const rgb = await loadPicture(bytes, width, height);
    const found = await renderer.find(rgb, {
      prompt,
      maxCandidates: cap,
      signal: request.signal,
      onProgress: request.onProgress,
    });
    return {
      key: found.key,
      profileId: found.profileId,
      steps: found.steps,
      psnr: found.psnr,
      ssim: found.ssim,
      prompt: prompt ?? '',
      candidates: { tried: found.tried, planned: found.planned },
      ms: Math.round(found.timings.totalMs),
    };
  }

  /** "This picture, but …": the key's steps and latent with another prompt's text states, in the key's own profile. */
  async rekey(key: string, prompt: string): Promise<string> {
    const text = checkedPrompt(prompt, 'prompt');
    const parsed = await this.parse(key);
    const embedding = await (await this.renderer()).embedPrompt(text);
    return rekeyPrompt(parsed.text, (await this.keys()).registry, embedding);
  }

  /** A .gen5 file of the key: its latents, embedding and PNG, with the key as provenance and our environment. */
  async exportGen5(key: string): Promise<Uint8Array> {
    await this.parse(key);
    const queue = await this.queue();
    if (queue) return queue.exportGen5(key);
    const result = await this.renderFresh(key);
    const environment = await currentEnvironment({
      executionProvider: result.settings.session.executionProvider,
      modelFiles: result.model.files,
    });
    return encodeGen5(buildGen5Input(result, { environment }));
  }

  /** A .gen5 file or one of our PNGs → its key, and whether that key regenerates the very same image here. */
  async importFile(bytes: Uint8Array): Promise<ImportResult> {
    const queue = await this.queue();
    if (queue) {
      return importFile(bytes, {
        parse: async (key) => (await this.parse(key)).text,
        render: (key) => queue.regenerate(key),
        environment: () => queue.environment(),
      });
    }
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
    const { profiles, registry } = await this.keys();
    const parsed = parseKey(key, registry);
    if (!profiles.includes(parsed.profile)) {
      throw new KeyError(
        'profile',
        0,
        `key is for profile ${parsed.profile.id}, this library shelves ${profiles.map((p) => p.id).join(' and ')}`,
      );
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

  /** Lets the process exit: closes the Redis connections and the render pool, whichever were started. */
  async close(): Promise<void> {
    const [queue, renderer] = await Promise.all([
      this.queuePromise?.catch(() => null),
      this.rendererPromise?.catch(() => null),
    ]);
    await Promise.all([queue?.close(), renderer?.close()]);
  }

  /** How far the render of the key with this SHA-256 has come: waiting for a worker, denoising, or not under way. */
  async progress(hash: string): Promise<RenderProgress> {
    const queue = await this.queue();
    if (queue) return queue.progress(hash);
    const steps = this.steps.get(hash);
    if (steps) return { state: 'rendering', ...steps };
    return { state: this.rendering.has(hash) ? 'queued' : 'idle', done: 0, total: 0 };
  }
}

function checkedPrompt(prompt: string, what: string): string {
  const text = prompt.trim();
  if (!text) throw new BadRequestError(`the ${what} is empty`);
  if (text.length > MAX_PROMPT_CHARS) {
    throw new BadRequestError(`the ${what} has ${text.length} characters; the limit is ${MAX_PROMPT_CHARS}`);
  }
  return text;
}

const GLOBAL = Symbol.for('lob.library');
type WithLibrary = typeof globalThis & { [GLOBAL]?: Library };

/** The one Library of this process; kept on globalThis so Next's dev reloads and per-route bundles share it. */
export function getLibrary(): Library {
  const holder = globalThis as WithLibrary;
  holder[GLOBAL] ??= new Library(optionsFromEnv());
  return holder[GLOBAL];
}

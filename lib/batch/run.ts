import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { encodeGen5 } from '../../gen5/index.ts';
import {
  createProfileRegistry,
  guidedKey,
  KeyError,
  loadProfile,
  type ProfileRegistry,
  parseKey,
  withVariants,
} from '../../keyspace/index.ts';
import { RenderCancelledError, Renderer, RenderInputError, type RenderResult } from '../../pipeline/index.ts';
import { currentEnvironment } from '../environment.ts';
import { encodeNpy } from '../npy.ts';
import { buildGen5Input } from '../provenance.ts';
import { filesMatch, rowPaths, sha256, writeWhole } from './files.ts';
import { ImageRowError, keyForImage } from './find-image.ts';
import { type ManifestEntry, readManifest, writeManifest } from './manifest-file.ts';
import { README_TEXT } from './readme.ts';
import { type BatchDefaults, type BatchRow, manifestFormat, parseManifest, type RowSource } from './rows.ts';

export interface BatchOptions {
  /** The output folder (created when missing; an earlier run's outputs there are resumed). */
  out: string;
  /** A running pool to render on (left open); else one is started from the options below and closed at the end. */
  renderer?: Renderer;
  modelDir?: string;
  workers?: number;
  threadsPerWorker?: number;
  /** Also keep every step's latent: hidden/NAME.npy becomes [steps+1, C, H, W]. */
  saveSteps?: boolean;
  /** Also write gen5/NAME.gen5 (image, latents, embedding, the key as provenance). */
  gen5?: boolean;
  /** Aborting stops the batch: renders under way are cancelled, finished rows are kept in the manifest. */
  signal?: AbortSignal;
  /** Folder that relative `image` paths are read from (the MANIFEST's). */
  baseDir?: string;
  /** Rows worked on at once (default: twice the pool's workers, or fewer when its queue is shorter). */
  window?: number;
  /** How often the manifest is rewritten while the batch runs (default 5 s), so a crash loses little. */
  checkpointMs?: number;
}

export interface BatchResult {
  entry: ManifestEntry;
  /** True when an earlier run's files were found intact and the row was not rendered again. */
  skipped: boolean;
}

/** A MANIFEST file → rows (relative image paths are resolved against its folder by runBatch's `baseDir`). */
export async function readBatchRows(path: string, defaults: BatchDefaults = {}): Promise<BatchRow[]> {
  const text = await readFile(path, 'utf8');
  return parseManifest(text, manifestFormat(path, text), defaults);
}

/** The folder a MANIFEST's relative image paths are read from. */
export const manifestDir = (path: string): string => dirname(path);

/**
 * Renders a research batch and yields one result per row, in row order, as rows finish (docs/batch.md). Outputs go
 * to `out` (images/, hidden/, gen5/, manifest.jsonl, README.txt). Rows whose files an earlier run left with the
 * recorded hashes are skipped, so running the same batch again resumes it; the files of every row are the same bytes
 * whether the batch ran at once or in pieces.
 */
export async function* runBatch(rows: readonly BatchRow[], options: BatchOptions): AsyncGenerator<BatchResult> {
  const own = options.renderer === undefined;
  const renderer =
    options.renderer ??
    (await Renderer.create({
      modelDir: options.modelDir,
      workers: options.workers,
      threadsPerWorker: options.threadsPerWorker,
    }));
  try {
    yield* new BatchRun(rows, options, renderer).run();
  } finally {
    if (own) await renderer.close();
  }
}

class BatchRun {
  private readonly done: (ManifestEntry | undefined)[] = [];
  private previous = new Map<string, ManifestEntry>();
  private environment: ReturnType<typeof currentEnvironment> | null = null;
  private readonly modelFiles: string;
  private lastCheckpoint = 0;
  private keyRegistry: ProfileRegistry | null = null;

  constructor(
    private readonly rows: readonly BatchRow[],
    private readonly options: BatchOptions,
    private readonly renderer: Renderer,
  ) {
    const files = Object.entries(renderer.model.files).sort(([a], [b]) => a.localeCompare(b));
    this.modelFiles = sha256(JSON.stringify(files));
  }

  async *run(): AsyncGenerator<BatchResult> {
    const { out, signal } = this.options;
    this.previous = await readManifest(out);
    await writeWhole(out, 'README.txt', README_TEXT);
    // twice the workers keeps each busy between rows, within what the pool's queue accepts
    const { workers, maxQueue } = this.renderer;
    const window = this.options.window ?? workers + Math.min(workers, maxQueue);
    const pending = new Map<number, Promise<BatchResult | null>>();
    let next = 0;
    try {
      for (let head = 0; head < this.rows.length; head++) {
        while (!signal?.aborted && next < this.rows.length && next - head < window) {
          pending.set(next, this.work(this.rows[next]));
          next++;
        }
        const result = await pending.get(head);
        pending.delete(head);
        if (!result) break; // cancelled, or never started because the batch was stopped
        this.done[head] = result.entry;
        await this.checkpoint(false);
        yield result;
      }
    } finally {
      // rows that finished while an earlier one was cancelled still count
      for (const [i, p] of pending) {
        const result = await p.catch(() => null);
        if (result) this.done[i] = result.entry;
      }
      await this.checkpoint(true);
    }
  }

  /** The manifest: each row's entry from this run, else an earlier run's still-matching ok entry (resumable). */
  private async checkpoint(force: boolean): Promise<void> {
    const now = performance.now();
    if (!force && now - this.lastCheckpoint < (this.options.checkpointMs ?? 5000)) return;
    this.lastCheckpoint = now;
    const entries: ManifestEntry[] = [];
    this.rows.forEach((row, i) => {
      const entry = this.done[i] ?? this.carried(row);
      if (entry) entries.push(entry);
    });
    await writeManifest(this.options.out, entries);
  }

  private carried(row: BatchRow): ManifestEntry | undefined {
    const old = this.previous.get(row.name);
    return old?.status === 'ok' && old.recipe === this.recipe(row) && old.row === row.index ? old : undefined;
  }

  /** What decides a row's files: its source (guidance included), the batch's output flags and the model's files. */
  private recipe(row: BatchRow): string {
    const source = row.source && { ...row.source, ...('seed' in row.source && { seed: String(row.source.seed) }) };
    const { saveSteps = false, gen5 = false } = this.options;
    return sha256(JSON.stringify({ source, saveSteps, gen5, model: this.modelFiles }));
  }

  /** The model's profile and its variants, read from the pool's model info (no model in this thread). */
  private keys(): ProfileRegistry {
    this.keyRegistry ??= createProfileRegistry(withVariants(loadProfile(this.renderer.model.profile)));
    return this.keyRegistry;
  }

  private async work(row: BatchRow): Promise<BatchResult | null> {
    if (this.options.signal?.aborted) return null;
    const base = { row: row.index, line: row.line, name: row.name };
    const tail = { recipe: this.recipe(row), input: row.input };
    if (row.error || !row.source) return this.failed(base, tail, row.error ?? 'no source', 'input');
    const old = this.carried(row);
    if (old?.sha256 && (await filesMatch(this.options.out, filesOf(old), old.sha256))) {
      return { entry: old, skipped: true };
    }
    const t0 = performance.now();
    try {
      const found = await this.keyOf(row.source);
      const result = await this.renderer.render(found.key, {
        signal: this.options.signal,
        keepSteps: this.options.saveSteps,
      });
      const written = await this.writeFiles(row.name, result, found.negative_prompt);
      const seconds = Math.round(performance.now() - t0) / 1000;
      const entry: ManifestEntry = { ...base, status: 'ok', ...found, ...written, seconds, ...tail };
      return { entry, skipped: false };
    } catch (err) {
      if (err instanceof RenderCancelledError && this.options.signal?.aborted) return null;
      return this.failed(base, tail, messageOf(err), isInputError(err) ? 'input' : 'runtime');
    }
  }

  private failed(
    base: Pick<ManifestEntry, 'row' | 'line' | 'name'>,
    tail: Pick<ManifestEntry, 'recipe' | 'input'>,
    error: string,
    kind: 'input' | 'runtime',
  ): BatchResult {
    return { entry: { ...base, status: 'failed', error, error_kind: kind, ...tail }, skipped: false };
  }

  private async keyOf(source: RowSource): Promise<{
    key: string;
    seed?: string;
    prompt?: string;
    negative_prompt?: string;
    found?: { psnr: number; ssim: number };
  }> {
    if (source.kind === 'key') {
      if (source.guidance === undefined) return { key: source.key };
      return { key: guidedKey(parseKey(source.key, this.keys()), source.guidance, this.keys()) };
    }
    if (source.kind === 'image') {
      const base = this.options.baseDir ?? process.cwd();
      const path = isAbsolute(source.path) ? source.path : join(base, source.path);
      const { key, psnr, ssim } = await keyForImage(path, this.renderer, this.options.signal);
      return { key, found: { psnr, ssim } };
    }
    const found = await this.renderer.search(source.prompt, {
      seed: source.seed,
      bestOf: source.bestOf,
      negative: source.negative,
      steps: source.steps,
      guidance: source.guidance,
      signal: this.options.signal,
    });
    return {
      key: found.key,
      seed: found.seed,
      prompt: source.prompt,
      ...(source.negative && { negative_prompt: source.negative }),
    };
  }

  /** The row's files; the PNG is exactly what `lob render KEY` writes (no prompt text is added to it). */
  private async writeFiles(name: string, result: RenderResult, negativePrompt?: string) {
    const { out } = this.options;
    const paths = rowPaths(name);
    const latentShape = result.settings.latentShape.slice(1);
    const perStep = latentShape.reduce((a, b) => a * b, 1);
    const hiddenShape = result.stepLatents ? [result.stepLatents.length / perStep, ...latentShape] : latentShape;
    const hashes: Record<string, string> = {
      image: await writeWhole(out, paths.image, result.png),
      hidden: await writeWhole(out, paths.hidden, encodeNpy(result.stepLatents ?? result.finalLatent, hiddenShape)),
    };
    if (this.options.gen5) {
      this.environment ??= currentEnvironment({
        executionProvider: result.settings.session.executionProvider,
        modelFiles: result.model.files,
      });
      const input = buildGen5Input(result, { environment: await this.environment, negativePrompt });
      hashes.gen5 = await writeWhole(out, paths.gen5, await encodeGen5(input));
    }
    return {
      key: result.key,
      guidance: result.guidance,
      image: paths.image,
      hidden: paths.hidden,
      hidden_shape: hiddenShape,
      ...(this.options.gen5 && { gen5: paths.gen5 }),
      sha256: hashes,
    };
  }
}

function filesOf(entry: ManifestEntry): Record<string, string> {
  const files: Record<string, string> = {};
  for (const what of ['image', 'hidden', 'gen5'] as const) {
    const rel = entry[what];
    if (typeof rel === 'string') files[what] = rel;
  }
  return files;
}

function isInputError(err: unknown): boolean {
  return err instanceof KeyError || err instanceof RenderInputError || err instanceof ImageRowError;
}

function messageOf(err: unknown): string {
  if (err instanceof KeyError) return `bad key: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

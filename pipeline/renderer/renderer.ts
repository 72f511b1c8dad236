import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { KeyError } from '../../keyspace/index.ts';
import { ModelLoadError, QueueFullError, RenderCancelledError, RenderInputError } from '../errors.ts';
import type { FindOptions, FindResult } from '../find/find.ts';
import type { ExecutionProvider } from '../onnx/providers.ts';
import type { SessionSettings } from '../onnx/sessions.ts';
import { defaultModelDir } from '../project-root.ts';
import type { RenderResult } from '../render/render.ts';
import type { SearchOptions, SearchResult } from '../render/search.ts';
import { startTsWorkerAndWait } from '../threads/start-ts-worker.ts';
import type { ModelInfo, Task, TaskMessage, TaskResult, WireError, WorkerInit, WorkerMessage } from './protocol.ts';

export interface RendererOptions {
  /** Model folder (default: LOB_MODEL, else models/emoji). */
  modelDir?: string;
  /** Worker threads, each with its own sessions (default 1). */
  workers?: number;
  /** Most tasks allowed to wait for a worker; one more is a QueueFullError (default 16). */
  maxQueue?: number;
  /** ORT intra-op threads per worker (default: cores / workers, at least 1). */
  threadsPerWorker?: number;
  executionProvider?: ExecutionProvider;
  graphOptimizationLevel?: SessionSettings['graphOptimizationLevel'];
  guidanceScale?: number;
}

export interface TaskOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

interface Job {
  id: number;
  task: Task;
  cancel: SharedArrayBuffer;
  options: TaskOptions;
  resolve: (r: TaskResult) => void;
  reject: (e: Error) => void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export const DEFAULT_MAX_QUEUE = 16;

function rebuild(e: WireError): Error {
  switch (e.name) {
    case 'ModelLoadError':
      return new ModelLoadError(e.file ?? '?', e.problem ?? e.message);
    case 'KeyError':
      return Object.assign(new KeyError((e.code ?? 'value') as never, e.index ?? -1, ''), { message: e.message });
    case 'AbortError':
      return new RenderCancelledError();
    case 'RenderInputError':
      return new RenderInputError(e.message);
    default:
      return Object.assign(new Error(e.message), { name: e.name });
  }
}

/**
 * A pool of worker threads rendering keys with sessions loaded once per worker (ORT's run blocks its thread, so
 * inference never runs on the caller's event loop). Tasks wait in a bounded FIFO queue; `signal` cancels a task
 * while it waits or between two denoising steps.
 */
export class Renderer {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  readonly maxQueue: number;

  private constructor(
    private readonly init: WorkerInit,
    readonly model: ModelInfo,
    maxQueue: number,
  ) {
    this.maxQueue = maxQueue;
  }

  /** Starts the workers and waits until each has loaded the model (ModelLoadError if the folder is bad). */
  static async create(options: RendererOptions = {}): Promise<Renderer> {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`workers must be a positive integer, got ${workers}`);
    const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (!Number.isInteger(maxQueue) || maxQueue < 0)
      throw new RangeError(`maxQueue must be a non-negative integer, got ${maxQueue}`);
    const init: WorkerInit = {
      modelDir: options.modelDir ?? defaultModelDir(),
      guidanceScale: options.guidanceScale,
      session: {
        executionProvider: options.executionProvider,
        graphOptimizationLevel: options.graphOptimizationLevel,
        intraOpNumThreads: options.threadsPerWorker ?? Math.max(1, Math.floor(availableParallelism() / workers)),
      },
    };
    const started = await Promise.allSettled(Array.from({ length: workers }, () => spawn(init)));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      for (const s of started) if (s.status === 'fulfilled') await s.value.worker.terminate();
      throw (failed as PromiseRejectedResult).reason;
    }
    const ok = started as PromiseFulfilledResult<{ worker: Worker; info: ModelInfo }>[];
    const renderer = new Renderer(init, ok[0].value.info, maxQueue);
    for (const s of ok) renderer.attach(s.value.worker);
    return renderer;
  }

  render(
    key: string,
    options: TaskOptions & {
      prompt?: string;
      negativePrompt?: string;
      guidanceScale?: number;
      keepSteps?: boolean;
    } = {},
  ): Promise<RenderResult> {
    const { prompt, negativePrompt, guidanceScale, keepSteps } = options;
    return this.submit({ kind: 'render', key, prompt, negativePrompt, guidanceScale, keepSteps }, options).then((r) => {
      const res = r as RenderResult;
      // structured clone turns the Buffer into a plain Uint8Array
      res.png = Buffer.from(res.png.buffer, res.png.byteOffset, res.png.byteLength);
      return res;
    });
  }

  search(
    prompt: string,
    options: TaskOptions & Pick<SearchOptions, 'seed' | 'bestOf' | 'negative' | 'steps' | 'guidance'> = {},
  ): Promise<SearchResult> {
    const seed = options.seed === undefined ? undefined : BigInt(options.seed).toString();
    const { bestOf, negative, steps, guidance } = options;
    return this.submit(
      { kind: 'search', prompt, seed, bestOf, negative, steps, guidance },
      options,
    ) as Promise<SearchResult>;
  }

  /** A picture (8-bit RGB at the model's image size, see loadPicture) → the key whose image is most like it. */
  find(
    rgb: Uint8Array,
    options: TaskOptions & Pick<FindOptions, 'prompt' | 'budgetMs' | 'maxCandidates' | 'fine'> = {},
  ): Promise<FindResult> {
    const { prompt, budgetMs, maxCandidates, fine } = options;
    return this.submit({ kind: 'find', rgb, prompt, budgetMs, maxCandidates, fine }, options) as Promise<FindResult>;
  }

  async embedPrompt(prompt: string, options: TaskOptions = {}): Promise<Float32Array> {
    return ((await this.submit({ kind: 'embed', prompt }, options)) as { hidden: Float32Array }).hidden;
  }

  /** Worker threads in the pool. */
  get workers(): number {
    return this.slots.length;
  }

  /** Tasks waiting for a worker / being worked on. */
  get queued(): number {
    return this.queue.length;
  }
  get running(): number {
    return this.slots.filter((s) => s.job).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new RenderCancelledError());
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private submit(task: Task, options: TaskOptions): Promise<TaskResult> {
    if (this.closed) return Promise.reject(new Error('renderer is closed'));
    if (options.signal?.aborted) return Promise.reject(new RenderCancelledError());
    const idle = this.slots.some((s) => !s.job);
    if (!idle && this.queue.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.maxQueue));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, task, cancel: new SharedArrayBuffer(4), options, resolve, reject };
      if (options.signal) {
        job.onAbort = () => {
          const at = this.queue.indexOf(job);
          if (at >= 0) {
            this.queue.splice(at, 1);
            reject(new RenderCancelledError());
          } else {
            Atomics.store(new Int32Array(job.cancel), 0, 1);
          }
        };
        options.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift() as Job;
      slot.job = job;
      const msg: TaskMessage = { id: job.id, task: job.task, cancel: job.cancel };
      slot.worker.postMessage(msg);
    }
  }

  private finish(slot: Slot, outcome: { result?: TaskResult; error?: Error }): void {
    const job = slot.job;
    slot.job = null;
    if (job) {
      if (job.onAbort) job.options.signal?.removeEventListener('abort', job.onAbort);
      if (outcome.error) job.reject(outcome.error);
      else job.resolve(outcome.result as TaskResult);
    }
    this.pump();
  }

  private attach(worker: Worker): void {
    const slot: Slot = { worker, job: null };
    this.slots.push(slot);
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress' && slot.job?.id === msg.id) slot.job.options.onProgress?.(msg.done, msg.total);
      else if (msg.type === 'done' && slot.job?.id === msg.id) this.finish(slot, { result: msg.result });
      else if (msg.type === 'failed' && slot.job?.id === msg.id) this.finish(slot, { error: rebuild(msg.error) });
    });
    // a worker that dies (native crash, OOM) fails its task and is replaced, so the pool keeps its size
    worker.on('exit', (code) => {
      if (this.closed) return;
      this.slots.splice(this.slots.indexOf(slot), 1);
      const job = slot.job;
      slot.job = null;
      job?.reject(new Error(`render worker exited with code ${code}`));
      spawn(this.init).then(
        ({ worker: w }) => {
          if (this.closed) {
            void w.terminate();
            return;
          }
          this.attach(w);
          this.pump();
        },
        (err) => {
          if (this.slots.length === 0) for (const j of this.queue.splice(0)) j.reject(err as Error);
        },
      );
    });
  }
}

async function spawn(init: WorkerInit): Promise<{ worker: Worker; info: ModelInfo }> {
  const { worker, first } = await startTsWorkerAndWait<WorkerInit, WorkerMessage>(
    'renderer/worker.ts',
    init,
    `render worker for ${init.modelDir}`,
  );
  if (first.type === 'ready') return { worker, info: first.info };
  void worker.terminate();
  throw first.type === 'load-error'
    ? rebuild(first.error)
    : new Error(`unexpected first message ${first.type} from render worker`);
}

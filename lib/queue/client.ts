import { type JobsOptions, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EnvComponent } from '../../gen5/index.ts';
import { keyHash } from '../render-cache.ts';
import type { SearchRequest } from '../search-request.ts';
import { appConnection, logErrors, patientOptions } from './connection.ts';
import { NoWorkerError, RedisUnavailableError, RenderJobFailedError, RenderTimeoutError } from './errors.ts';
import {
  type JobData,
  type JobResult,
  queueName,
  renderJobId,
  type StepProgress,
  type WorkerInfo,
  workerInfoKey,
} from './names.ts';
import { SharedPngCache } from './shared-cache.ts';

export interface QueueClientOptions {
  url: string;
  /** modelFingerprint() of the web server's model folder: names the queue, and every job carries it. */
  fingerprint: string;
  /** How long a request waits for a worker before a RenderTimeoutError. */
  timeoutMs: number;
}

export type QueuedProgress = { state: 'queued' | 'rendering' | 'idle' } & StepProgress;

// Render jobs stay a while after completion, so a late request for the same key finds the finished job; failed
// ones go at once, so the next request tries afresh (a transient fault is not remembered).
const RENDER_JOB: JobsOptions = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 500 },
  removeOnComplete: { age: 600, count: 10_000 },
  removeOnFail: true,
};
const ONE_OFF_JOB: JobsOptions = { attempts: 2, removeOnComplete: { age: 600 }, removeOnFail: { age: 600 } };
// How often a waiting request re-checks the job (a missed event, Redis gone, the deadline).
const POLL_MS = 500;
// How long the very first request waits for the connection to come up.
const FIRST_CONNECT_MS = 3000;
const WAITING_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

// ioredis's errors for a connection that just broke, raised before its status says so (they carry no code).
const CONNECTION_ERROR = /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/;

function isConnectionError(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return e?.name === 'MaxRetriesPerRequestError' || CONNECTION_ERROR.test(e?.message ?? '');
}

/** A job that is no longer in Redis (removed, or Redis restarted empty) before its outcome was seen. */
class JobVanished extends Error {}

/**
 * The web server's side of the render queue: enqueues jobs for `lob worker` processes and waits for them; reads
 * the shared PNG cache. Every call fails fast with RedisUnavailableError while Redis is unreachable.
 */
export class QueueClient {
  readonly name: string;
  private readonly redis: Redis;
  private readonly queue: Queue<JobData, JobResult>;
  private readonly events: QueueEvents;
  readonly cache: SharedPngCache;
  private info: WorkerInfo | null = null;
  private firstConnect: Promise<void> | null = null;

  constructor(private readonly options: QueueClientOptions) {
    this.name = queueName(options.fingerprint);
    this.redis = appConnection(options.url);
    logErrors(this.redis, 'redis');
    this.queue = new Queue(this.name, { connection: this.redis });
    logErrors(this.queue, 'render queue');
    this.events = new QueueEvents(this.name, { connection: { url: options.url, ...patientOptions() } });
    logErrors(this.events, 'render queue events');
    this.cache = new SharedPngCache(this.redis, options.fingerprint);
  }

  /** The PNG of a key: from the shared cache, else rendered by a worker (one job per key, however many ask). */
  render(key: string): Promise<Buffer> {
    return this.guard(async () => {
      const hash = keyHash(key);
      const deadline = Date.now() + this.options.timeoutMs;
      let outlived = false;
      for (;;) {
        const cached = await this.cache.get(hash);
        if (cached) return cached;
        const jobId = renderJobId(hash);
        await this.queue.add(
          'render',
          { kind: 'render', model: this.options.fingerprint, key },
          { ...RENDER_JOB, jobId },
        );
        try {
          await this.waitFor(jobId, deadline);
        } catch (err) {
          // Removed or lost with a Redis restart before we saw it finish: the cache or a fresh job will tell.
          if (err instanceof JobVanished) continue;
          throw err;
        }
        const png = await this.cache.get(hash);
        if (png) return png;
        if (outlived) {
          throw new RenderJobFailedError(
            'its PNG was evicted from the shared cache before it was read (raise maxmemory)',
          );
        }
        // The finished job outlived its PNG (evicted since): remove it, so the next add makes a new job.
        outlived = true;
        await this.queue.remove(jobId);
      }
    });
  }

  /** A prompt's key, found by a worker's search. */
  search(prompt: string, options: SearchRequest = {}): Promise<string> {
    return this.guard(async () => {
      const job = {
        kind: 'search' as const,
        model: this.options.fingerprint,
        prompt,
        seed: options.seed?.toString(),
        negative: options.negative,
        bestOf: options.bestOf,
        guidance: options.guidance,
      };
      const result = await this.oneOff(job);
      return (result as { key: string }).key;
    });
  }

  /** A .gen5 export made by a worker (its own environment is the one recorded). */
  exportGen5(key: string): Promise<Uint8Array> {
    return this.guard(() => this.blobJob({ kind: 'export', model: this.options.fingerprint, key }));
  }

  /** A fresh render by a worker, bypassing every cache (import's bit-exact verification). */
  regenerate(key: string): Promise<Uint8Array> {
    return this.guard(() => this.blobJob({ kind: 'regenerate', model: this.options.fingerprint, key }));
  }

  /** The PNG of the key with this hash if some server or worker has rendered it, else null. */
  cachedPng(hash: string): Promise<Buffer | null> {
    return this.guard(() => this.cache.get(hash));
  }

  /** What the workers of this model published about it (a NoWorkerError until one has started). */
  workerInfo(): Promise<WorkerInfo> {
    return this.guard(async () => {
      if (this.info) return this.info;
      const raw = await this.redis.get(workerInfoKey(this.options.fingerprint));
      if (!raw) throw new NoWorkerError(this.options.fingerprint);
      this.info = JSON.parse(raw) as WorkerInfo;
      return this.info;
    });
  }

  async environment(): Promise<EnvComponent[]> {
    return (await this.workerInfo()).environment;
  }

  /** Where the render of a key stands, as seen by any web server: waiting for a worker, denoising, or neither. */
  progress(hash: string): Promise<QueuedProgress> {
    return this.guard(async () => {
      const job = await this.queue.getJob(renderJobId(hash));
      if (!job) return { state: 'idle', done: 0, total: 0 };
      const state = await job.getState();
      if (state === 'active') {
        const steps = job.progress as Partial<StepProgress>;
        return { state: 'rendering', done: steps.done ?? 0, total: steps.total ?? 0 };
      }
      return { state: WAITING_STATES.has(state) ? 'queued' : 'idle', done: 0, total: 0 };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }

  private async oneOff(data: JobData): Promise<JobResult> {
    const job = await this.queue.add(data.kind, data, ONE_OFF_JOB);
    return this.waitFor(job.id as string, Date.now() + this.options.timeoutMs);
  }

  private async blobJob(data: JobData): Promise<Uint8Array> {
    const { blob } = (await this.oneOff(data)) as { blob: string };
    const bytes = await this.redis.getBuffer(blob);
    await this.redis.del(blob);
    if (!bytes) throw new RenderJobFailedError(`its result ${blob} expired before it was read`);
    return bytes;
  }

  /**
   * The job's return value once a worker has finished it: from the completion event, or from a poll that also
   * notices a missed event, a vanished job, Redis going away and the deadline.
   */
  private waitFor(jobId: string, deadline: number): Promise<JobResult> {
    // BullMQ also emits `completed:<id>` and `failed:<id>` per job, which its event types do not list.
    const events = this.events as unknown as NodeJS.EventEmitter;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        events.off(`completed:${jobId}`, onCompleted);
        events.off(`failed:${jobId}`, onFailed);
        outcome();
      };
      const onCompleted = (args: { returnvalue: unknown }) => finish(() => resolve(args.returnvalue as JobResult));
      const onFailed = (args: { failedReason: string }) =>
        finish(() => reject(new RenderJobFailedError(args.failedReason)));
      events.on(`completed:${jobId}`, onCompleted);
      events.on(`failed:${jobId}`, onFailed);
      const poll = async () => {
        try {
          if (Date.now() > deadline) throw new RenderTimeoutError(Math.round(this.options.timeoutMs / 1000), this.name);
          this.requireReady();
          const state = await this.queue.getJobState(jobId);
          if (state === 'unknown') throw new JobVanished(jobId);
          if (state !== 'completed' && state !== 'failed') return;
          // Read after the state, so the outcome is the finished one.
          const job = await this.queue.getJob(jobId);
          if (!job) throw new JobVanished(jobId);
          if (state === 'completed') finish(() => resolve(job.returnvalue));
          else throw new RenderJobFailedError(job.failedReason);
        } catch (err) {
          finish(() => reject(err));
        }
      };
      const timer = setInterval(poll, POLL_MS);
      void poll();
    });
  }

  private requireReady(): void {
    if (this.redis.status !== 'ready') throw new RedisUnavailableError(`connection is ${this.redis.status}`);
  }

  /**
   * The first connection gets a moment to come up; once it has been up, a lost one fails requests at once (an
   * outage answers 503 right away rather than after a wait per request).
   */
  private connected(): Promise<void> {
    this.firstConnect ??= new Promise<void>((resolve) => {
      if (this.redis.status === 'ready') return resolve();
      const timer = setTimeout(resolve, FIRST_CONNECT_MS);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.firstConnect;
  }

  /** Runs a queue operation; a failure while Redis is unreachable becomes a RedisUnavailableError. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    await this.connected();
    this.requireReady();
    try {
      return await operation();
    } catch (err) {
      if (err instanceof RedisUnavailableError) throw err;
      if (this.redis.status !== 'ready' || isConnectionError(err))
        throw new RedisUnavailableError((err as Error).message);
      throw err;
    }
  }
}

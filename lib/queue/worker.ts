import { createHash } from 'node:crypto';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { encodeGen5 } from '../../gen5/index.ts';
import { Renderer, type RenderResult } from '../../pipeline/index.ts';
import { currentEnvironment } from '../environment.ts';
import { modelFingerprint } from '../model-fingerprint.ts';
import { buildGen5Input } from '../provenance.ts';
import { keyHash } from '../render-cache.ts';
import { logErrors, patientConnection, patientOptions } from './connection.ts';
import { blobKey, type JobData, type JobResult, queueName, type WorkerInfo, workerInfoKey } from './names.ts';
import { SharedPngCache } from './shared-cache.ts';

export interface RenderWorkerOptions {
  url: string;
  modelDir: string;
  /** Render threads (each with its own sessions), and so the jobs taken at once. */
  workers: number;
  threadsPerWorker: number;
  /**
   * BullMQ's job lock: a worker renews it while it works; when it dies the lock lapses and another worker takes
   * the job back within about twice this (the stalled-job check runs at the same interval).
   */
  lockMs: number;
  log: (line: string) => void;
}

export interface RunningWorker {
  fingerprint: string;
  queue: string;
  close(): Promise<void>;
}

// Results that are not PNGs (a .gen5 export, a fresh render for import) wait this long for the web server to read.
const BLOB_TTL_S = 600;
const CLOSE_GRACE_MS = 10_000;

/**
 * `lob worker`: consumes the render queue of its own model with the existing Renderer. It refuses any job made for
 * other model files, writes finished PNGs to the shared cache, and reports denoising steps as job progress.
 */
export async function startRenderWorker(options: RenderWorkerOptions): Promise<RunningWorker> {
  const renderer = await Renderer.create({
    modelDir: options.modelDir,
    workers: options.workers,
    threadsPerWorker: options.threadsPerWorker,
    maxQueue: options.workers,
  });
  const fingerprint = modelFingerprint(renderer.model.files);
  const redis = patientConnection(options.url);
  logErrors(redis, 'redis');
  const cache = new SharedPngCache(redis, fingerprint);
  const info = await workerInfo(renderer);
  // Published again after every reconnect: a Redis restarted empty has forgotten it.
  const publish = () =>
    redis.set(workerInfoKey(fingerprint), JSON.stringify(info)).catch((err) => options.log(`publish: ${err.message}`));
  redis.on('ready', publish);
  if (redis.status === 'ready') await publish();

  const processJob = async (job: Job<JobData, JobResult>): Promise<JobResult> => {
    if (job.data.model !== fingerprint) {
      throw new UnrecoverableError(`model mismatch: the job is for ${job.data.model}, this worker has ${fingerprint}`);
    }
    const started = Date.now();
    options.log(`${job.id} ${job.data.kind} started`);
    const result = await runJob(job, { renderer, cache, redis });
    options.log(`${job.id} ${job.data.kind} done in ${Date.now() - started} ms`);
    return result;
  };
  const worker = new Worker<JobData, JobResult>(queueName(fingerprint), processJob, {
    connection: { url: options.url, ...patientOptions() },
    concurrency: options.workers,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
  });
  logErrors(worker, 'worker');
  worker.on('failed', (job, err) => options.log(`${job?.id ?? '?'} failed: ${err.message}`));
  await worker.waitUntilReady();
  options.log(
    `ready: model ${info.name} ${info.version} (${fingerprint}), queue ${queueName(fingerprint)}, ` +
      `${options.workers} job(s) at once`,
  );
  return {
    fingerprint,
    queue: queueName(fingerprint),
    async close() {
      // Jobs under way get a while to finish; a worker stuck reconnecting to a Redis that went away is closed anyway
      // (its jobs are then retried elsewhere when their locks lapse).
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => worker.close(true).then(resolve, resolve), CLOSE_GRACE_MS);
      });
      await Promise.race([worker.close(), forced]);
      clearTimeout(timer);
      await renderer.close();
      redis.disconnect();
    },
  };
}

interface JobDeps {
  renderer: Renderer;
  cache: SharedPngCache;
  redis: ReturnType<typeof patientConnection>;
}

async function runJob(job: Job<JobData, JobResult>, deps: JobDeps): Promise<JobResult> {
  const data = job.data;
  if (data.kind === 'search') {
    const seed = data.seed === undefined ? undefined : BigInt(data.seed);
    const options = { seed, negative: data.negative, bestOf: data.bestOf, guidance: data.guidance };
    return { key: (await deps.renderer.search(data.prompt, options)).key };
  }
  const hash = keyHash(data.key);
  if (data.kind === 'render') {
    // A retried job (its first worker died after storing the PNG) need not render again.
    const cached = await deps.cache.get(hash);
    if (cached) return { pngSha256: createHash('sha256').update(cached).digest('hex') };
  }
  const result = await deps.renderer.render(data.key, {
    onProgress: (done, total) => {
      job.updateProgress({ done, total }).catch(() => {});
    },
  });
  await deps.cache.put(hash, result.png);
  if (data.kind === 'render') return { pngSha256: result.pngSha256 };
  const bytes = data.kind === 'export' ? await gen5Of(result) : result.png;
  const blob = blobKey(job.id as string);
  await deps.redis.set(blob, Buffer.from(bytes), 'EX', BLOB_TTL_S);
  return { blob };
}

async function gen5Of(result: RenderResult): Promise<Uint8Array> {
  const environment = await currentEnvironment({
    executionProvider: result.settings.session.executionProvider,
    modelFiles: result.model.files,
  });
  return encodeGen5(buildGen5Input(result, { environment }));
}

async function workerInfo(renderer: Renderer): Promise<WorkerInfo> {
  const model = renderer.model;
  return {
    name: model.name,
    version: model.version,
    profileId: model.profileId,
    defaultSteps: model.defaultSteps,
    searchBestOf: model.searchBestOf,
    scheduler: model.scheduler,
    executionProvider: model.executionProvider,
    environment: await currentEnvironment({ executionProvider: model.executionProvider, modelFiles: model.files }),
  };
}

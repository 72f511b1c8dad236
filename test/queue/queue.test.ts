import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/index.ts';
import { errorResponse } from '../../lib/http.ts';
import { Library, optionsFromEnv } from '../../lib/library.ts';
import { pngCacheKey, queueName, renderJobId } from '../../lib/queue/names.ts';
import { type RunningWorker, startRenderWorker } from '../../lib/queue/worker.ts';
import { keyHash } from '../../lib/render-cache.ts';
import { loadModel, type Model, renderKey, searchKey } from '../../pipeline/index.ts';
import { TINY_EMOJI } from '../pipeline/helpers.ts';
import { startRedis, type TestRedis } from './redis.ts';

// One web server's Library and one `lob worker` engine in this process, over a real redis-server; expectations
// are computed by rendering in-process with the same model.
let redis: TestRedis;
let worker: RunningWorker;
let model: Model;
const workerLog: string[] = [];
const temp = mkdtempSync(join(tmpdir(), 'lob-queue-'));

const libraries: Library[] = [];
function library(modelDir = TINY_EMOJI, cacheDir = mkdtempSync(join(temp, 'cache-')), queueTimeoutMs = 20_000) {
  const made = new Library({
    ...optionsFromEnv({ NODE_ENV: 'test' }),
    modelDir,
    cacheDir,
    redisUrl: redis.url,
    queueTimeoutMs,
  });
  libraries.push(made);
  return made;
}
const started = (key: string) => workerLog.filter((l) => l === `${renderJobId(keyHash(key))} render started`).length;

describe('rendering through the Redis queue', () => {
  let app: Library;
  const keys: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    worker = await startRenderWorker({
      url: redis.url,
      modelDir: TINY_EMOJI,
      workers: 1,
      threadsPerWorker: 1,
      lockMs: 5000,
      log: (line) => workerLog.push(line),
    });
    model = await loadModel(TINY_EMOJI, { intraOpNumThreads: 1 });
    app = library();
    for (let i = 0; i < 3; i++) keys.push(await app.random());
  });
  afterAll(async () => {
    await Promise.all(libraries.map((made) => made.close()));
    await worker?.close();
    await model?.release();
    await redis?.dispose();
    rmSync(temp, { recursive: true, force: true });
  });

  it('gives the in-process bytes, one job per key however many ask at once', async () => {
    const pngs = await Promise.all(keys.flatMap((key) => [app.render(key), app.render(key), library().render(key)]));
    for (const [i, key] of keys.entries()) {
      const expected = (await renderKey(model, key)).png;
      for (const png of pngs.slice(3 * i, 3 * i + 3)) expect(png.equals(expected)).toBe(true);
      expect(started(key)).toBe(1);
    }
  });

  it('shares finished PNGs: another web server with an empty disk cache gets them from Redis, no new job', async () => {
    const other = library();
    const png = await other.render(keys[0]);
    expect(png.equals((await renderKey(model, keys[0])).png)).toBe(true);
    expect(started(keys[0])).toBe(1);
    // the content-addressed URL's lookup finds it too
    const path = await other.pngPath(keys[0]);
    const [, , , fingerprint, hash] = path.split('/');
    expect(path).toBe(`/api/png/${worker.fingerprint}/${keyHash(keys[0])}`);
    expect((await other.cachedPng(fingerprint, hash))?.equals(png)).toBe(true);
    expect(await other.cachedPng('0'.repeat(16), hash)).toBeNull();
  });

  it('renders again when a finished job has outlived its evicted PNG', async () => {
    const redisClient = new Redis(redis.url);
    try {
      await redisClient.del(pngCacheKey(worker.fingerprint, keyHash(keys[0])));
    } finally {
      redisClient.disconnect();
    }
    const png = await library().render(keys[0]);
    expect(png.equals((await renderKey(model, keys[0])).png)).toBe(true);
    expect(started(keys[0])).toBe(2);
  });

  it('reports denoising steps as job progress', async () => {
    const queue = new Queue(worker.queue, { connection: { url: redis.url } });
    try {
      const job = await queue.getJob(renderJobId(keyHash(keys[1])));
      const steps = (await renderKey(model, keys[1])).steps;
      expect(job?.progress).toEqual({ done: steps, total: steps });
    } finally {
      await queue.close();
    }
    // finished jobs are idle to the progress endpoint
    expect(await app.progress(keyHash(keys[1]))).toEqual({ state: 'idle', done: 0, total: 0 });
  });

  it('searches, exports and verifies imports through workers', async () => {
    expect(await app.search('red heart', { seed: 7n })).toBe((await searchKey(model, 'red heart', { seed: 7n })).key);
    const guided = { seed: 7n, guidance: 4.5 };
    expect(await app.search('red heart', guided)).toBe((await searchKey(model, 'red heart', guided)).key);
    const gen5 = await app.exportGen5(keys[2]);
    const file = await decodeGen5(gen5);
    expect(JSON.stringify(file.meta)).toContain(keys[2]);
    expect(await app.importFile(gen5)).toEqual({ key: keys[2], verified: true, warnings: [] });
    expect((await app.modelInfo()).name).toBe('tiny-emoji');
  });

  it('never lets a worker serve a job made for other model files', async () => {
    const queue = new Queue(worker.queue, { connection: { url: redis.url } });
    const events = new QueueEvents(worker.queue, { connection: { url: redis.url } });
    try {
      await events.waitUntilReady();
      const job = await queue.add('render', { kind: 'render', model: 'f'.repeat(16), key: await app.random() });
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/model mismatch/);
      expect((await queue.getJob(job.id as string))?.attemptsMade).toBe(1);
      expect(await app.cachedPng(worker.fingerprint, keyHash(job.data.key))).toBeNull();
    } finally {
      await events.close();
      await queue.close();
    }
  });

  it('shows a key as queued while no worker of its model exists, then answers 504 render_timeout', async () => {
    const otherModel = join(temp, 'other-model');
    cpSync(TINY_EMOJI, otherModel, { recursive: true });
    const index = JSON.parse(readFileSync(join(otherModel, 'model_index.json'), 'utf8'));
    index.lob.version = '0.0.2-other';
    writeFileSync(join(otherModel, 'model_index.json'), JSON.stringify(index));
    const lonely = library(otherModel, undefined, 1500);
    const key = keys[0];
    const pending = lonely.render(key).catch((err) => err);
    await new Promise((r) => setTimeout(r, 500));
    expect(await lonely.progress(keyHash(key))).toMatchObject({ state: 'queued' });
    const response = errorResponse(await pending);
    expect(response.status).toBe(504);
    expect((await response.json()).error.code).toBe('render_timeout');
    expect(queueName(await lonely.fingerprint())).not.toBe(worker.queue);
    const info = errorResponse(await lonely.modelInfo().catch((err) => err));
    expect([info.status, (await info.json()).error.code]).toEqual([503, 'no_worker']);
  });

  it('answers 503 redis_unavailable while Redis is down, serves what is on disk, and recovers', async () => {
    const fresh = await app.random();
    await redis.stop();
    try {
      const response = errorResponse(await app.render(fresh).catch((err) => err));
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      const body = await response.json();
      expect(body.error.code).toBe('redis_unavailable');
      expect(body.error.message).toMatch(/Redis/);
      // the local disk cache stays in front of the shared one
      expect((await app.render(keys[0])).equals((await renderKey(model, keys[0])).png)).toBe(true);
    } finally {
      await redis.start();
    }
    const deadline = Date.now() + 15_000;
    for (;;) {
      const outcome = await app.render(fresh).catch((err) => err as Error);
      if (Buffer.isBuffer(outcome)) {
        expect(outcome.equals((await renderKey(model, fresh)).png)).toBe(true);
        break;
      }
      expect(outcome.name).toBe('RedisUnavailableError');
      if (Date.now() > deadline) throw outcome;
      await new Promise((r) => setTimeout(r, 250));
    }
  });
});

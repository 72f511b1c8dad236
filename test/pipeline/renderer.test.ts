import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyError } from '../../keyspace/index.ts';
import { ModelLoadError, QueueFullError, RenderCancelledError } from '../../pipeline/errors.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { searchKey } from '../../pipeline/render/search.ts';
import { Renderer } from '../../pipeline/renderer/renderer.ts';
import { keyFor, TINY_SD15 } from './helpers.ts';

let shortKey: string;
let longKey: string;
let expected: string;
let searched: string;

beforeAll(async () => {
  const model = await loadModel(TINY_SD15, { intraOpNumThreads: 1 });
  shortKey = await keyFor(model, 'the red cat', 11, 3);
  longKey = await keyFor(model, 'the red cat', 12, 64);
  expected = (await renderKey(model, shortKey)).pngSha256;
  searched = (await searchKey(model, 'a happy dog', { seed: 99 })).key;
  await model.release();
});

describe('Renderer (worker pool)', () => {
  let pool: Renderer;
  beforeAll(async () => {
    pool = await Renderer.create({ modelDir: TINY_SD15, workers: 2, threadsPerWorker: 1, maxQueue: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('renders the same bytes as an in-process render, on whichever worker runs it', async () => {
    const results = await Promise.all([pool.render(shortKey), pool.render(shortKey), pool.render(shortKey)]);
    for (const r of results) {
      expect(r.pngSha256).toBe(expected);
      expect(Buffer.isBuffer(r.png)).toBe(true);
    }
    expect(pool.model).toMatchObject({
      profileId: 'sd768-64x64-1',
      scheduler: 'PNDMScheduler',
      executionProvider: 'cpu',
    });
  });

  it('searches and embeds in the workers too', async () => {
    expect((await pool.search('a happy dog', { seed: 99 })).key).toBe(searched);
    expect(await pool.embedPrompt('a happy dog')).toHaveLength(77 * 768);
  });

  it('has a bounded queue: past maxQueue waiting tasks a render fails fast with QueueFullError', async () => {
    const running = [pool.render(longKey), pool.render(longKey)];
    const waiting = [pool.render(shortKey), pool.render(shortKey)];
    expect(pool.running).toBe(2);
    expect(pool.queued).toBe(2);
    await expect(pool.render(shortKey)).rejects.toBeInstanceOf(QueueFullError);
    await Promise.all([...running, ...waiting]);
  });

  it('cancels a waiting task and a running one (between steps) through AbortSignal', async () => {
    const busy = [pool.render(longKey), pool.render(longKey)];
    const queued = new AbortController();
    const waiting = pool.render(shortKey, { signal: queued.signal });
    queued.abort();
    await expect(waiting).rejects.toBeInstanceOf(RenderCancelledError);
    await Promise.all(busy);

    const running = new AbortController();
    let steps = 0;
    const job = pool.render(longKey, {
      signal: running.signal,
      onProgress: (done) => {
        steps = done;
        if (done === 2) running.abort();
      },
    });
    await expect(job).rejects.toBeInstanceOf(RenderCancelledError);
    expect(steps).toBeLessThan(10);
    // the worker is free again afterwards
    expect((await pool.render(shortKey)).pngSha256).toBe(expected);
  });

  it('passes typed errors back from the workers', async () => {
    await expect(pool.render('sd768-64x64-1.AAAA')).rejects.toBeInstanceOf(KeyError);
  });
});

describe('Renderer with one worker', () => {
  it('gives the same bytes as two workers, with a different thread count', async () => {
    const one = await Renderer.create({ modelDir: TINY_SD15, workers: 1, threadsPerWorker: 2 });
    try {
      expect((await one.render(shortKey)).pngSha256).toBe(expected);
      expect(one.maxQueue).toBe(16);
    } finally {
      await one.close();
    }
  });

  it('fails to start with ModelLoadError for a bad folder', async () => {
    await expect(Renderer.create({ modelDir: '/nonexistent/model', workers: 1 })).rejects.toBeInstanceOf(
      ModelLoadError,
    );
  });
});

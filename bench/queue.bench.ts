import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Library, optionsFromEnv } from '../lib/library.ts';
import { defaultModelDir, Renderer } from '../pipeline/index.ts';
import { startRedis } from '../test/queue/redis.ts';

/**
 * The Redis render queue with the default model (docs/scaling.md): images/s of `lob worker` processes per render
 * thread, against the in-process pool as the reference; and what the web server itself spends per request (its
 * CPU time, with the workers in other processes), for a render through the queue and for a shared-cache hit.
 */
const root = resolve(import.meta.dirname, '..');
const KEYS = 32;
const CONCURRENCY = 8;

interface Run {
  seconds: number;
  cpuMsPerRequest: number;
}

/** Renders `keys` through `render` CONCURRENCY at a time; wall seconds and this process's CPU ms per request. */
async function timed(keys: string[], render: (key: string) => Promise<unknown>): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  const runner = async () => {
    while (next < keys.length) await render(keys[next++]);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, runner));
  const used = process.cpuUsage(cpu);
  return {
    seconds: (performance.now() - start) / 1000,
    cpuMsPerRequest: (used.user + used.system) / 1000 / keys.length,
  };
}

function startWorker(url: string, threads: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/lob.mjs', 'worker', '--redis', url, '--workers', String(threads)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((ready, fail) => {
    let log = '';
    child.stderr?.on('data', (d) => {
      log += d;
      if (log.includes('lob worker: ready')) ready(child);
    });
    child.once('exit', (code) => fail(new Error(`lob worker exited with ${code}: ${log}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const temp = mkdtempSync(join(tmpdir(), 'lob-bench-queue-'));
  const redis = await startRedis({ maxmemory: '256mb' });
  const base = { ...optionsFromEnv({ NODE_ENV: 'production' }), modelDir: defaultModelDir(), queueTimeoutMs: 120_000 };
  const libraries: Library[] = [];
  const library = (name: string) => {
    const made = new Library({ ...base, cacheDir: join(temp, name), redisUrl: redis.url });
    libraries.push(made);
    return made;
  };
  const keysFor = async (lib: Library) => Promise.all(Array.from({ length: KEYS }, () => lib.random()));
  const rows: string[] = [];
  try {
    // Reference: the in-process pool, one single-threaded worker, no cache.
    const pool = await Renderer.create({
      modelDir: defaultModelDir(),
      workers: 1,
      threadsPerWorker: 1,
      maxQueue: KEYS,
    });
    const app = library('a');
    let keys = await keysFor(app);
    await pool.render(keys[0]);
    const reference = await timed(keys, (key) => pool.render(key));
    await pool.close();
    const refRate = KEYS / reference.seconds;
    rows.push(`| in-process pool, 1 render thread (reference) | ${refRate.toFixed(2)} | 1.00 | — |`);

    for (const threads of [1, 2]) {
      const worker = await startWorker(redis.url, threads);
      try {
        const web = library(`w${threads}`);
        await web.render(await web.random());
        keys = await keysFor(web);
        const run = await timed(keys, (key) => web.render(key));
        const rate = KEYS / run.seconds;
        rows.push(
          `| \`lob worker --workers ${threads}\` through Redis | ${rate.toFixed(2)} | ${(rate / refRate).toFixed(2)} | ` +
            `${run.cpuMsPerRequest.toFixed(2)} |`,
        );
      } finally {
        await stop(worker);
      }
    }
    // A second web server with an empty disk: every request is a shared-cache hit (no worker needed).
    const other = library('hits');
    const hits = await timed(keys, (key) => other.render(key));
    rows.push(
      `| shared-cache hit on another web server | ${(KEYS / hits.seconds).toFixed(1)} | — | ${hits.cpuMsPerRequest.toFixed(2)} |`,
    );
  } finally {
    await Promise.all(libraries.map((made) => made.close()));
    await redis.dispose();
    rmSync(temp, { recursive: true, force: true });
  }
  const markdown = [
    `${KEYS} distinct keys of the default model, ${CONCURRENCY} requests at a time, through \`Library\` (the web`,
    "server's code) with LOB_REDIS_URL set; workers are separate `lob worker` processes (1 onnxruntime thread per",
    "render thread), so the last column is the web server's own CPU per request (parse, Redis, disk cache).",
    '',
    '| path | images/s | vs reference | web server CPU ms per request |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  return { title: 'Render queue: images/s per worker thread, web server cost per request', markdown };
}

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, randomKey } from '../../keyspace/index.ts';
import { loadModel, renderKey } from '../../pipeline/index.ts';
import { ensureBuild, type RunningServer, startServer } from '../app/server.ts';
import { TINY_EMOJI } from '../pipeline/helpers.ts';
import { startRedis, type TestRedis } from './redis.ts';

// The scenario for real: the production server with LOB_REDIS_URL, two `lob worker` processes and
// redis-server; 200 requests at concurrency 16 with one worker killed (-9) midway, then Redis stopped and started.
// Every PNG must be the CLI's bytes (computed here, never hard-coded).
const root = resolve(import.meta.dirname, '../..');
const LOCK_MS = 2000;
const temp = mkdtempSync(join(tmpdir(), 'lob-queue-it-'));

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  onLine?: (line: string) => void;
}

function startWorker(url: string): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['bin/lob.mjs', 'worker', '--model', TINY_EMOJI, '--redis', url, '--lock-ms', String(LOCK_MS)],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const worker: WorkerProcess = { child, lines: [] };
  // Never left running by a test process that ends without its afterAll.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let rest = '';
  return new Promise((ready, fail) => {
    child.stderr?.on('data', (chunk) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        worker.lines.push(line);
        worker.onLine?.(line);
        if (line.includes('lob worker: ready')) ready(worker);
      }
    });
    child.once('exit', (code) => fail(new Error(`lob worker exited with ${code}:\n${worker.lines.join('\n')}`)));
  });
}

/**
 * Runs a stale `next build` in a child process so this test's event loop stays free (a synchronous build of a
 * minute or more starves vitest's own RPC). If another test file is building, ensureBuild() then waits for it.
 */
async function buildOffThread(): Promise<void> {
  const script = `import('./bin/next-build.mjs').then((b) => { if (b.buildIsStale('.')) b.runNextBuild('.', 'pipe'); })`;
  await promisify(execFile)(process.execPath, ['-e', script], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).catch(
    () => {},
  );
}

async function post(server: RunningServer, key: string): Promise<Response> {
  return fetch(`${server.url}/api/render`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
}

describe('the app with two lob workers over Redis', () => {
  let redis: TestRedis;
  let server: RunningServer;
  const workers: WorkerProcess[] = [];
  const keys: string[] = [];
  const expected = new Map<string, Buffer>();

  beforeAll(async () => {
    await buildOffThread();
    await ensureBuild();
    redis = await startRedis();
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    server = await startServer({
      LOB_MODEL: TINY_EMOJI,
      LOB_REDIS_URL: redis.url,
      LOB_CACHE_DIR: join(temp, 'cache'),
      NEXT_TELEMETRY_DISABLED: '1',
    });
    const profile = loadProfile(JSON.parse(readFileSync(join(TINY_EMOJI, 'keyspace.json'), 'utf8')));
    for (let i = 0; i < 103; i++) keys.push(randomKey(profile, BigInt(1000 + i)));
    const model = await loadModel(TINY_EMOJI, { intraOpNumThreads: 1 });
    try {
      for (const key of keys) expected.set(key, (await renderKey(model, key)).png);
    } finally {
      await model.release();
    }
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    await redis?.dispose();
    rmSync(temp, { recursive: true, force: true });
  });

  it('renders with the CLI the bytes computed here', async () => {
    // One CLI run (a process start costs seconds on a busy machine); the pipeline tests cover the CLI's determinism.
    const key = keys[50];
    const file = join(temp, 'key.txt');
    const out = join(temp, 'cli.png');
    writeFileSync(file, key);
    const args = ['bin/lob.mjs', 'render', `@${file}`, '-o', out, '--model', TINY_EMOJI];
    await promisify(execFile)(process.execPath, args, { cwd: root });
    expect(readFileSync(out).equals(expected.get(key) as Buffer)).toBe(true);
  }, 60_000);

  it('serves 200 requests at concurrency 16 with the CLI bytes, though a worker is killed -9 mid-job', async () => {
    // Each key twice in a row, so both requests are in flight together and share one job.
    const requests = keys.slice(0, 100).flatMap((key) => [key, key]);
    const [victim, survivor] = workers;
    let finished = 0;
    let killedJob: string | null = null;
    victim.onLine = (line) => {
      const started = /lob worker: (\S+) render started/.exec(line);
      if (started && finished >= 60 && !killedJob) {
        killedJob = started[1];
        victim.child.kill('SIGKILL');
      }
    };
    const results: { key: string; status: number; bytes: Buffer; location: string | null }[] = [];
    let next = 0;
    const runner = async () => {
      while (next < requests.length) {
        const key = requests[next++];
        const response = await post(server, key);
        results.push({
          key,
          status: response.status,
          bytes: Buffer.from(await response.arrayBuffer()),
          location: response.headers.get('content-location'),
        });
        finished++;
      }
    };
    await Promise.all(Array.from({ length: 16 }, runner));

    expect(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.bytes}`)).toEqual([]);
    expect(results).toHaveLength(200);
    for (const r of results) expect(r.bytes.equals(expected.get(r.key) as Buffer)).toBe(true);
    // The victim died. The kill is sent when its "render started" line is read, and a tiny-model render can finish
    // before the signal lands (CI saw it once): when it landed mid-job, the survivor took that job over after its
    // lock lapsed; either way no request was lost (every one above got its bytes).
    expect(killedJob).not.toBeNull();
    expect(victim.child.killed).toBe(true);
    if (!victim.lines.some((l) => l.includes(`${killedJob} render done`)))
      expect(survivor.lines.some((l) => l.includes(`${killedJob} render started`))).toBe(true);
    // Both workers did work; no key was rendered twice except the one taken over.
    const renders = [...victim.lines, ...survivor.lines].filter((l) => l.includes('render done')).length;
    expect(renders).toBe(100);
    expect(victim.lines.some((l) => l.includes('render done'))).toBe(true);

    // The content-addressed URL gives the same bytes with immutable caching; an unknown one is a plain 404.
    const location = results[0].location as string;
    expect(location).toMatch(/^\/api\/png\/[0-9a-f]{16}\/[0-9a-f]{64}$/);
    const got = await fetch(`${server.url}${location}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await got.arrayBuffer()).equals(expected.get(results[0].key) as Buffer)).toBe(true);
    const missing = await fetch(`${server.url}${location.slice(0, -64)}${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control') ?? '').not.toContain('immutable');
    expect((await missing.json()).error.code).toBe('not_rendered');
  }, 120_000);

  it('answers 503 redis_unavailable while Redis is down, then recovers', async () => {
    const [fresh, later] = [keys[100], keys[101]];
    await redis.stop();
    try {
      const down = await post(server, fresh);
      expect(down.status).toBe(503);
      const body = await down.json();
      expect(body.error.code).toBe('redis_unavailable');
      expect(body.error.message).toMatch(/Redis/);
      // what this server has on its disk is still served
      const onDisk = await post(server, keys[0]);
      expect(onDisk.status).toBe(200);
    } finally {
      await redis.start();
    }
    const deadline = Date.now() + 30_000;
    for (const key of [fresh, later]) {
      for (;;) {
        const response = await post(server, key);
        if (response.status === 200) {
          expect(Buffer.from(await response.arrayBuffer()).equals(expected.get(key) as Buffer)).toBe(true);
          break;
        }
        expect(response.status).toBe(503);
        if (Date.now() > deadline) throw new Error(`no recovery in 30 s:\n${server.log()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }, 90_000);
});

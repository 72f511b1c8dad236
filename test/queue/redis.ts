import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../app/server.ts';

/**
 * Debian's redis-server for a test: a free port, a temporary folder, no persistence, and the memory bound and
 * eviction policy docs/scaling.md asks for. `stop()` then `start()` again simulates an outage (it comes back empty).
 */
export interface TestRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

export async function startRedis(options: { maxmemory?: string } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lob-redis-'));
  let child: ChildProcess | null = null;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory',
    options.maxmemory ?? '64mb',
    '--maxmemory-policy',
    'volatile-lru',
  ];
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      let output = '';
      const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      // A test process that ends without its afterAll (a hook timeout) must not leave the server running.
      const killOnExit = () => started.kill('SIGKILL');
      process.once('exit', killOnExit);
      started.once('exit', () => process.off('exit', killOnExit));
      child.stdout?.on('data', (d) => {
        output += d;
      });
      child.stderr?.on('data', (d) => {
        output += d;
      });
      const deadline = Date.now() + 10_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${output}`);
        if (await answers(redis.url)) return;
        if (Date.now() > deadline) throw new Error(`redis-server did not answer in 10 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop() {
      const running = child;
      child = null;
      return new Promise((done) => {
        if (!running || running.exitCode !== null) return done();
        running.once('exit', () => done());
        running.kill('SIGTERM');
      });
    },
    async dispose() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedPngCache } from '../../lib/queue/shared-cache.ts';
import { startRedis, type TestRedis } from './redis.ts';

// The shared cache's bound is Redis's own maxmemory with volatile-lru (docs/scaling.md): cached PNGs carry a TTL
// and are evicted; queue data, which carries none, must survive the same memory pressure.
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IEND = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

/** Bytes that pass the cache's whole-PNG check (signature and IEND), `size` long, distinct per `n`. */
function fakePng(n: number, size: number): Buffer {
  const bytes = Buffer.alloc(size, n % 251);
  bytes.set(SIGNATURE, 0);
  bytes.set(IEND, size - IEND.length);
  return bytes;
}

const hashOf = (n: number) => n.toString(16).padStart(64, '0');

describe('shared PNG cache in Redis', () => {
  let redis: TestRedis;
  let client: Redis;
  let cache: SharedPngCache;

  beforeAll(async () => {
    redis = await startRedis({ maxmemory: '4mb' });
    client = new Redis(redis.url);
    cache = new SharedPngCache(client, 'abcdef0123456789');
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.dispose();
  });

  it('stores and returns whole PNGs, and refuses anything else', async () => {
    await cache.put(hashOf(1), fakePng(1, 1000));
    expect((await cache.get(hashOf(1)))?.equals(fakePng(1, 1000))).toBe(true);
    expect(await cache.get(hashOf(2))).toBeNull();
    await expect(cache.put(hashOf(3), Buffer.from('not a png'))).rejects.toThrow(/complete PNG/);
    // a truncated value (written by something else) is a miss, not served
    await client.set(`lob:png:abcdef0123456789:${hashOf(4)}`, fakePng(4, 1000).subarray(0, 500));
    expect(await cache.get(hashOf(4))).toBeNull();
  });

  it('stays within maxmemory by evicting PNGs, never the queue data', async () => {
    await client.set('bull:lob-render-x:1', 'a job without a TTL');
    const size = 64 * 1024;
    const count = 160; // 10 MiB of PNGs into 4 MiB
    for (let n = 100; n < 100 + count; n++) await cache.put(hashOf(n), fakePng(n, size));
    const info = await client.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
    expect(used).toBeLessThanOrEqual(4 * 1024 * 1024);
    let kept = 0;
    for (let n = 100; n < 100 + count; n++) if (await cache.get(hashOf(n))) kept++;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(count);
    expect((await cache.get(hashOf(100 + count - 1)))?.equals(fakePng(100 + count - 1, size))).toBe(true);
    expect(await client.get('bull:lob-render-x:1')).toBe('a job without a TTL');
  });
});

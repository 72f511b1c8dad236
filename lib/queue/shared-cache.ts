import type { Redis } from 'ioredis';
import { isCompletePng } from '../render-cache.ts';
import { pngCacheKey } from './names.ts';

/**
 * Finished PNGs in Redis, seen by every web server. The bound and the LRU eviction are Redis's own (`maxmemory`
 * with `maxmemory-policy volatile-lru`, docs/scaling.md): every entry carries a TTL, which makes it evictable,
 * while BullMQ's job data carries none and is never evicted. The TTL is long because a key's image never changes;
 * it only marks the entry as cache.
 */
export const SHARED_CACHE_TTL_S = 30 * 24 * 3600;

export class SharedPngCache {
  constructor(
    private readonly redis: Redis,
    private readonly fingerprint: string,
  ) {}

  /** The PNG of the key with this SHA-256, or null (never stored, evicted, or not a whole PNG). */
  async get(keyHash: string): Promise<Buffer | null> {
    const bytes = await this.redis.getBuffer(pngCacheKey(this.fingerprint, keyHash));
    return bytes && isCompletePng(bytes) ? bytes : null;
  }

  async put(keyHash: string, png: Uint8Array): Promise<void> {
    if (!isCompletePng(png)) throw new TypeError('the shared cache only stores complete PNG files');
    await this.redis.set(pngCacheKey(this.fingerprint, keyHash), Buffer.from(png), 'EX', SHARED_CACHE_TTL_S);
  }
}

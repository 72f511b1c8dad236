import { Redis, type RedisOptions } from 'ioredis';
import { RedisUrlError } from './errors.ts';

/** Checks LOB_REDIS_URL's form up front, so a typo is a clear error at start rather than endless reconnects. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError(url);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new RedisUrlError(url);
  return url;
}

// ioredis reconnects forever (every 50 ms, growing to 2 s), so a Redis that comes back is picked up on its own.
const reconnect = (attempt: number) => Math.min(attempt * 50, 2000);

/**
 * A web server's connection: a command while Redis is down fails at once (no offline queue, one try) so the
 * request gets its 503 instead of hanging.
 */
export function appConnection(url: string): Redis {
  return new Redis(checkRedisUrl(url), {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: reconnect,
  });
}

/** Options for connections that wait through outages: BullMQ's blocking ones and a worker's own. */
export function patientOptions(): RedisOptions {
  return { maxRetriesPerRequest: null, retryStrategy: reconnect };
}

export function patientConnection(url: string): Redis {
  return new Redis(checkRedisUrl(url), patientOptions());
}

/** Logs a connection's errors once per outage (an unhandled 'error' event would crash the process). */
export function logErrors(emitter: { on(event: 'error', fn: (err: Error) => void): unknown }, label: string): void {
  let last = '';
  emitter.on('error', (err) => {
    if (err.message === last) return;
    last = err.message;
    console.error(`[lob] ${label}: ${err.message}`);
  });
}

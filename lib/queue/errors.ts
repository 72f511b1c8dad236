/**
 * The queue's failures, as the HTTP layer maps them (lib/http.ts, by name): Redis unreachable (503), no worker
 * finished in time (504), a worker that failed the job (502), no worker ever registered for the model (503).
 */

export class RedisUnavailableError extends Error {
  constructor(detail: string) {
    super(`the render queue (Redis) is unavailable: ${detail}; try again shortly`);
    this.name = 'RedisUnavailableError';
  }
}

export class RenderTimeoutError extends Error {
  constructor(seconds: number, queue: string) {
    super(`no lob worker finished the job within ${seconds} s (queue ${queue}); are workers running for this model?`);
    this.name = 'RenderTimeoutError';
  }
}

export class RenderJobFailedError extends Error {
  constructor(reason: string) {
    super(`a lob worker failed the job: ${reason}`);
    this.name = 'RenderJobFailedError';
  }
}

export class NoWorkerError extends Error {
  constructor(fingerprint: string) {
    super(`no lob worker has registered for model ${fingerprint} yet; start one with \`lob worker\``);
    this.name = 'NoWorkerError';
  }
}

/** LOB_REDIS_URL is not a redis:// or rediss:// URL. */
export class RedisUrlError extends Error {
  constructor(url: string) {
    super(`LOB_REDIS_URL must be a redis:// or rediss:// URL, got "${url}"`);
    this.name = 'RedisUrlError';
  }
}

import { availableParallelism } from 'node:os';
import { parseExecutionProvider } from '../pipeline/onnx/providers.ts';
import { checkRedisUrl } from './queue/connection.ts';

/**
 * The server's settings from its environment, each checked against what it accepts. `npm start` checks them before
 * it builds or serves anything (bin/start.mjs), so a typo is an error naming the variable at start-up rather than
 * "Ready" followed by a 500 on every request.
 */
export class SettingsError extends Error {
  constructor(
    readonly variable: string,
    readonly accepts: string,
    readonly got: string,
  ) {
    super(`${variable} must be ${accepts}; got ${JSON.stringify(got)}`);
    this.name = 'SettingsError';
  }
}

export interface ServerSettings {
  workers: number;
  threadsPerWorker: number;
  maxQueue: number;
  cacheMaxBytes: number;
  /** LOB_REDIS_URL: render through the Redis queue and `lob worker` processes instead of the in-process pool. */
  redisUrl?: string;
  /** LOB_QUEUE_TIMEOUT_MS: how long a request waits for a queued job. */
  queueTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, min: number, max: number, what: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Number('') is 0 and Number('0x10') is 16: only plain decimal digits are a count.
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SettingsError(name, `a whole number from ${min} to ${max} (${what})`, raw);
  }
  return value;
}

function oneOf(env: Env, name: string, values: readonly string[], what: string): void {
  const raw = env[name];
  if (raw === undefined || raw === '' || values.includes(raw)) return;
  throw new SettingsError(name, `one of ${values.join(', ')} (${what})`, raw);
}

/** Reads and checks every LOB_* setting the server uses (and PORT); throws SettingsError at the first bad one. */
function redisUrl(env: Env): string | undefined {
  const raw = env.LOB_REDIS_URL;
  if (raw === undefined || raw === '') return undefined;
  try {
    return checkRedisUrl(raw);
  } catch {
    throw new SettingsError('LOB_REDIS_URL', 'a redis:// or rediss:// URL (the render queue)', raw);
  }
}

export function readServerSettings(env: Env = process.env): ServerSettings {
  const settings: ServerSettings = {
    workers: integer(env, 'LOB_WORKERS', 1, 64, 'render worker threads', Math.min(4, availableParallelism())),
    threadsPerWorker: integer(env, 'LOB_THREADS_PER_WORKER', 1, 256, 'ONNX threads per render worker', 1),
    maxQueue: integer(env, 'LOB_MAX_QUEUE', 0, 100_000, 'renders allowed to wait for a worker', 16),
    cacheMaxBytes: integer(env, 'LOB_CACHE_MAX_BYTES', 0, Number.MAX_SAFE_INTEGER, 'bytes of PNG cache', 256 * 2 ** 20),
    redisUrl: redisUrl(env),
    queueTimeoutMs: integer(
      env,
      'LOB_QUEUE_TIMEOUT_MS',
      1,
      3_600_000,
      'milliseconds a request waits for a queued job',
      60_000,
    ),
  };
  integer(env, 'PORT', 1, 65535, 'the TCP port to listen on', 3000);
  oneOf(env, 'LOB_ORT_SPIN', ['0', '1'], 'whether idle ONNX threads spin');
  try {
    parseExecutionProvider(env.LOB_EP);
  } catch {
    throw new SettingsError('LOB_EP', 'one of cpu, cuda, webgpu (the ONNX execution provider)', env.LOB_EP ?? '');
  }
  return settings;
}

import type { EnvComponent } from '../../gen5/index.ts';

/**
 * What the web servers and the workers agree on in Redis: one BullMQ queue per model fingerprint (a worker never
 * even sees another model's jobs), the job payloads, and the keys of the shared cache, result blobs and worker
 * registrations.
 */

export const queueName = (fingerprint: string) => `lob-render-${fingerprint}`;

/** Concurrent requests for one key share one job: its id is the key's SHA-256. */
export const renderJobId = (keyHash: string) => `png-${keyHash}`;

export const pngCacheKey = (fingerprint: string, keyHash: string) => `lob:png:${fingerprint}:${keyHash}`;
export const blobKey = (jobId: string) => `lob:blob:${jobId}`;
export const workerInfoKey = (fingerprint: string) => `lob:model:${fingerprint}`;

/** Every job carries the model fingerprint it was made for; a worker with other model files refuses it. */
export type JobData =
  | { kind: 'render'; model: string; key: string }
  | { kind: 'export'; model: string; key: string }
  | { kind: 'regenerate'; model: string; key: string }
  // the seed as a decimal string (JSON has no 64-bit integers); the negative prompt goes into the key
  | {
      kind: 'search';
      model: string;
      prompt: string;
      seed?: string;
      negative?: string;
      bestOf?: number;
      guidance?: number;
    };

export type JobResult = { pngSha256: string } | { blob: string } | { key: string };

/** What a worker publishes about its model and runtime when it starts (GET /api/model, import's drift check). */
export interface WorkerInfo {
  name: string;
  version: string;
  profileId: string;
  defaultSteps: number;
  /** Candidates a search ranks when the caller names no number (absent from workers of older releases: 1). */
  searchBestOf?: number;
  scheduler: string;
  executionProvider: string;
  environment: EnvComponent[];
}

export interface StepProgress {
  done: number;
  total: number;
}

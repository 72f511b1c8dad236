// The messages between a Renderer (main thread) and its render workers (renderer/worker.ts).
import type { ProfileJson } from '../../keyspace/profile.ts';
import type { FindResult } from '../find/find.ts';
import type { SessionRequest } from '../onnx/sessions.ts';
import type { RenderResult } from '../render/render.ts';
import type { SearchResult } from '../render/search.ts';

export interface WorkerInit {
  modelDir: string;
  session: SessionRequest;
  guidanceScale?: number;
}

export type Task =
  | {
      kind: 'render';
      key: string;
      prompt?: string;
      negativePrompt?: string;
      guidanceScale?: number;
      keepSteps?: boolean;
    }
  | {
      kind: 'search';
      prompt: string;
      seed?: string;
      bestOf?: number;
      negative?: string;
      steps?: number;
      guidance?: number;
    }
  | { kind: 'embed'; prompt: string }
  | { kind: 'find'; rgb: Uint8Array; prompt?: string; budgetMs?: number; maxCandidates?: number; fine?: boolean };

export type TaskResult =
  | RenderResult
  | SearchResult
  | FindResult
  | { hidden: Float32Array; textEmbeds: Float32Array | null };

/** Main → worker. `cancel` is a shared Int32 the main thread sets to 1 to stop the task between steps. */
export interface TaskMessage {
  id: number;
  task: Task;
  cancel: SharedArrayBuffer;
}

export interface ModelInfo {
  name: string;
  version: string;
  profileId: string;
  /** The model's keyspace profile, so the main thread can read and re-key keys (batches) without a model. */
  profile: ProfileJson;
  defaultSteps: number;
  guidanceScale: number;
  /** Candidates a search ranks when the caller names no number (1: no ranking). */
  searchBestOf: number;
  scheduler: string;
  /** [height, width] of the images the model renders (and of the pictures find compares). */
  imageSize: [number, number];
  executionProvider: string;
  warnings: string[];
  files: Record<string, string>;
}

/** A thrown error flattened for postMessage (its class is rebuilt on the main side by name). */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  index?: number;
  file?: string;
  problem?: string;
}

export type WorkerMessage =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'load-error'; error: WireError }
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'done'; id: number; result: TaskResult }
  | { type: 'failed'; id: number; error: WireError };

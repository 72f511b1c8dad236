import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { ModelLoadError } from '../errors.ts';
import { type ExecutionProvider, parseExecutionProvider } from './providers.ts';

/**
 * The session options that decide the output bits, pinned and recorded in every render's settings.
 * - graphOptimizationLevel: fusions and layout transforms (NchwcTransformer at 'all') change float rounding,
 *   so the level is part of the image's identity.
 * - executionMode sequential, one inter-op thread: no scheduling-dependent operator order.
 * - intraOpNumThreads: tested not to change bits on this build (test/pipeline/determinism.test.ts); recorded anyway.
 * - memory arena / pattern: affect allocation only, pinned so the record is complete.
 */
export interface SessionSettings {
  executionProvider: ExecutionProvider;
  requestedExecutionProvider: ExecutionProvider;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode: 'sequential';
  intraOpNumThreads: number;
  interOpNumThreads: 1;
  enableCpuMemArena: boolean;
  enableMemPattern: boolean;
  /** Idle intra-op threads spin (fast when cores are free) or sleep (better when other work shares the cores). */
  allowSpinning: boolean;
  onnxruntimeVersion: string;
}

export interface SessionRequest {
  executionProvider?: ExecutionProvider;
  intraOpNumThreads?: number;
  graphOptimizationLevel?: SessionSettings['graphOptimizationLevel'];
  allowSpinning?: boolean;
}

export const DEFAULT_GRAPH_OPTIMIZATION: SessionSettings['graphOptimizationLevel'] = 'all';

export function resolveSessionSettings(request: SessionRequest = {}): SessionSettings {
  const requested = request.executionProvider ?? parseExecutionProvider(process.env.LOB_EP) ?? 'cpu';
  const threads = request.intraOpNumThreads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`intraOpNumThreads must be a positive integer, got ${threads}`);
  return {
    executionProvider: requested,
    requestedExecutionProvider: requested,
    graphOptimizationLevel: request.graphOptimizationLevel ?? DEFAULT_GRAPH_OPTIMIZATION,
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    allowSpinning: request.allowSpinning ?? process.env.LOB_ORT_SPIN === '1',
    onnxruntimeVersion: ort.env.versions.node ?? 'unknown',
  };
}

// onnxruntime's own logger prints a failed provider (CUDA libraries absent) as a raw red line on stderr before the
// exception reaches openSession, which turns it into one clean fallback warning; every error we act on arrives as an
// exception, so its logger only speaks for fatal ones. Set before the first session: ORT reads it when it starts.
ort.env.logLevel = 'fatal';

function ortOptions(s: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [s.executionProvider],
    graphOptimizationLevel: s.graphOptimizationLevel,
    executionMode: s.executionMode,
    intraOpNumThreads: s.intraOpNumThreads,
    interOpNumThreads: s.interOpNumThreads,
    enableCpuMemArena: s.enableCpuMemArena,
    enableMemPattern: s.enableMemPattern,
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: s.allowSpinning ? '1' : '0' } } },
  };
}

export interface OpenedSession {
  session: ort.InferenceSession;
  path: string;
}

/**
 * Opens one ONNX file. A non-CPU provider that fails to initialise falls back to CPU: `settings` is updated in place
 * and the reason is pushed to `warnings` (so callers can show and record it). A file ORT cannot read is a
 * ModelLoadError naming it.
 */
export async function openSession(path: string, settings: SessionSettings, warnings: string[]): Promise<OpenedSession> {
  if (settings.executionProvider !== 'cpu') {
    try {
      return { session: await ort.InferenceSession.create(path, ortOptions(settings)), path };
    } catch (err) {
      warnings.push(
        `execution provider ${settings.executionProvider} unavailable, falling back to cpu: ${firstLine((err as Error).message)}`,
      );
      settings.executionProvider = 'cpu';
    }
  }
  try {
    return { session: await ort.InferenceSession.create(path, ortOptions(settings)), path };
  } catch (err) {
    throw new ModelLoadError(path, `onnxruntime cannot load it: ${firstLine((err as Error).message)}`);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 300);
}

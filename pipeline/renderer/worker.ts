import { parentPort, workerData } from 'node:worker_threads';
import { findKey } from '../find/find.ts';
import { loadModel } from '../model/load.ts';
import { encodeText } from '../model/text-encoder.ts';
import type { Model } from '../model/types.ts';
import { renderKey } from '../render/render.ts';
import { defaultBestOf, searchKey } from '../render/search.ts';
import type { ModelInfo, TaskMessage, TaskResult, WireError, WorkerInit, WorkerMessage } from './protocol.ts';

// One model per worker, loaded once; tasks run one at a time (the renderer never sends a second before a reply).
const port = parentPort;
if (!port) throw new Error('pipeline/renderer/worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

function wire(err: unknown): WireError {
  const e = err as Error & { code?: string; index?: number; file?: string; problem?: string };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    code: e?.code,
    index: e?.index,
    file: e?.file,
    problem: e?.problem,
  };
}

const post = (msg: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

function info(model: Model): ModelInfo {
  return {
    name: model.name,
    version: model.version,
    profileId: `${model.profile.id}-${model.profile.version}`,
    profile: model.profile.json,
    defaultSteps: model.defaultSteps,
    guidanceScale: model.guidanceScale,
    searchBestOf: defaultBestOf(model),
    scheduler: model.schedulerName,
    imageSize: model.shapes.imageSize as [number, number],
    executionProvider: model.settings.executionProvider,
    warnings: model.warnings,
    files: model.folder.files,
  };
}

async function run(model: Model, msg: TaskMessage): Promise<TaskResult> {
  const flag = new Int32Array(msg.cancel);
  const cancelled = () => Atomics.load(flag, 0) !== 0;
  const t = msg.task;
  if (t.kind === 'render') {
    return renderKey(model, t.key, {
      prompt: t.prompt,
      negativePrompt: t.negativePrompt,
      keepSteps: t.keepSteps,
      guidanceScale: t.guidanceScale,
      cancelled,
      onStep: (done, total) => post({ type: 'progress', id: msg.id, done, total }),
    });
  }
  if (t.kind === 'search')
    return searchKey(model, t.prompt, {
      seed: t.seed === undefined ? undefined : BigInt(t.seed),
      bestOf: t.bestOf,
      negative: t.negative,
      steps: t.steps,
      guidance: t.guidance,
      cancelled,
    });
  if (t.kind === 'find') {
    const { rgb, prompt, budgetMs, maxCandidates, fine } = t;
    return findKey(model, rgb, {
      prompt,
      budgetMs,
      maxCandidates,
      fine,
      cancelled,
      onProgress: (done, total) => post({ type: 'progress', id: msg.id, done, total }),
    });
  }
  return encodeText(model, t.prompt);
}

try {
  const model = await loadModel(init.modelDir, { ...init.session, guidanceScale: init.guidanceScale });
  port.on('message', async (msg: TaskMessage) => {
    try {
      const result = await run(model, msg);
      post({ type: 'done', id: msg.id, result });
    } catch (err) {
      post({ type: 'failed', id: msg.id, error: wire(err) });
    }
  });
  post({ type: 'ready', info: info(model) });
} catch (err) {
  post({ type: 'load-error', error: wire(err) });
}

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { projectRoot } from '../project-root.ts';

/** The module a worker started by startTsWorker runs (a file URL); passed to worker-entry.mjs. */
interface TsWorkerData {
  module: string;
}

/**
 * Starts a worker thread running one of our TypeScript modules, named by its path under pipeline/
 * (`renderer/worker.ts`, `unet/branch-worker.ts`).
 * An eval'd one-line loader rather than the entry's path: inside the Next.js server, Turbopack rewrites
 * `new Worker(path)` to a bundled worker chunk (losing the tsx registration and failing with MODULE_NOT_FOUND) but
 * leaves `eval: true` workers alone. The entry registers tsx and imports the module from the project folder.
 */
function startTsWorker<T extends object>(module: string, data: T): Worker {
  const pipelineDir = join(projectRoot(), 'pipeline');
  const entry = join(pipelineDir, 'threads', 'worker-entry.mjs');
  const loader = `import(${JSON.stringify(pathToFileURL(entry).href)});`;
  const moduleUrl = pathToFileURL(join(pipelineDir, module)).href;
  return new Worker(loader, { eval: true, workerData: { ...data, module: moduleUrl } satisfies TsWorkerData });
}

/**
 * Starts a TypeScript worker (startTsWorker) and waits for the first message it posts (its "ready" or its load
 * error). An exit or error before that rejects with `what` in the message, so callers only sort out the message.
 */
export function startTsWorkerAndWait<T extends object, M>(
  module: string,
  data: T,
  what: string,
): Promise<{ worker: Worker; first: M }> {
  const worker = startTsWorker(module, data);
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`${what} exited with code ${code} while loading`));
    const onError = (err: Error) => reject(new Error(`${what}: ${err.message}`));
    worker.once('exit', onExit);
    worker.once('error', onError);
    worker.once('message', (first: M) => {
      worker.off('exit', onExit);
      worker.off('error', onError);
      resolve({ worker, first });
    });
  });
}

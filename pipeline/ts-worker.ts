import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { projectRoot } from './project-root.ts';

/** Module (relative to pipeline/) a worker started by startTsWorker runs; passed to worker-entry.mjs. */
export interface TsWorkerData {
  module: string;
}

/**
 * Starts a worker thread running one of our TypeScript modules (`./worker.ts`, `./unet-branch-worker.ts`).
 * An eval'd one-line loader rather than the entry's path: inside the Next.js server, Turbopack rewrites
 * `new Worker(path)` to a bundled worker chunk (losing the tsx registration and failing with MODULE_NOT_FOUND) but
 * leaves `eval: true` workers alone. The entry registers tsx and imports the module from the project folder.
 */
export function startTsWorker<T extends object>(module: string, data: T): Worker {
  const entry = join(projectRoot(), 'pipeline', 'worker-entry.mjs');
  const loader = `import(${JSON.stringify(pathToFileURL(entry).href)});`;
  return new Worker(loader, { eval: true, workerData: { ...data, module } satisfies TsWorkerData });
}

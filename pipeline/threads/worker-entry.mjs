// Worker-thread entry: registers tsx (our source is TypeScript) and loads the module named in workerData
// (pipeline/threads/start-ts-worker.ts starts it with absolute paths resolved from the project root, so it works
// from the CLI, tests and the Next.js server alike).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);

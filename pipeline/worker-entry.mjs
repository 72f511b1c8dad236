// Worker-thread entry: registers tsx (our source is TypeScript) and loads the module named in workerData
// (pipeline/ts-worker.ts starts it with an absolute path resolved from the project root, so it works from the CLI,
// tests and the Next.js server alike).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(new URL(workerData.module, import.meta.url).href);

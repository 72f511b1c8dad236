// Worker-thread entry: registers tsx (our source is TypeScript) and loads the worker. Spawned by renderer.ts with an
// absolute path resolved from the project root, so it works from the CLI, tests and the Next.js server alike.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');

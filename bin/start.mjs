#!/usr/bin/env node
// `npm start`: build the app if there is no current build (or a source file is newer than it), then serve it on
// localhost:3000 (PORT and HOST override).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIsStale, runNextBuild } from './next-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
const port = process.env.PORT ?? '3000';
// The library runs offline; Next's anonymous telemetry would only try to reach the network (the user's own setting
// still wins).
process.env.NEXT_TELEMETRY_DISABLED ??= '1';

try {
  if (buildIsStale(root) || process.env.LOB_REBUILD === '1') runNextBuild(root);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
const result = spawnSync(process.execPath, [nextBin, 'start', '-p', port, '-H', process.env.HOST ?? '127.0.0.1'], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

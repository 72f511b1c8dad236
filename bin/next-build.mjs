// Whether the production build in .next is missing or older than the sources it compiles, and a way to rebuild.
// Shared by `npm start` (bin/start.mjs) and the browser tests, so both agree on when a build is stale.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// Everything `next build` compiles; models are read at run time and do not make a build stale.
const SOURCES = ['app', 'lib', 'keyspace', 'pipeline', 'gen5', 'public', 'next.config.js', 'package-lock.json'];
const SOURCE_FILE = /\.(ts|tsx|js|mjs|css|json|svg)$/;
// Folders under the sources that the app never imports (training code, test fixtures).
const SKIP = new Set(['node_modules', 'fixtures', 'train']);

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return SOURCE_FILE.test(path) ? info.mtimeMs : 0;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry) || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

export function buildIsStale(root) {
  const buildId = join(root, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return true;
  return Math.max(...SOURCES.map((s) => newestMtime(join(root, s)))) >= statSync(buildId).mtimeMs;
}

/** Runs `next build` in `root`; output goes to the terminal (`inherit`) or is returned for an error message. */
export function runNextBuild(root, stdio = 'inherit') {
  const nextBin = createRequire(join(root, 'package.json')).resolve('next/dist/bin/next');
  const result = spawnSync(process.execPath, [nextBin, 'build'], { cwd: root, stdio, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`next build failed (exit ${result.status})\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
}

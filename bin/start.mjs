#!/usr/bin/env node
// `npm start`: build the app if there is no current build, then serve it on localhost:3000.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const nextBin = require.resolve('next/dist/bin/next');
const port = process.env.PORT ?? '3000';

function run(args) {
  const result = spawnSync(process.execPath, [nextBin, ...args], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync('.next/BUILD_ID') || process.env.LOB_REBUILD === '1') run(['build']);
run(['start', '-p', port, '-H', process.env.HOST ?? '127.0.0.1']);

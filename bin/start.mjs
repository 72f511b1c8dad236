#!/usr/bin/env node
// `npm start`: check the settings, build the app if there is no current build (or a source file is newer than it),
// then serve it on localhost:3000 (PORT and HOST override) with bin/serve.mjs.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSettingsOrExit } from './check-settings.mjs';
import { buildIsStale, runNextBuild } from './next-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The library runs offline; Next's anonymous telemetry would only try to reach the network (the user's own setting
// still wins).
process.env.NEXT_TELEMETRY_DISABLED ??= '1';

await checkSettingsOrExit();
try {
  if (buildIsStale(root) || process.env.LOB_REBUILD === '1') runNextBuild(root);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
await import('./serve.mjs');

#!/usr/bin/env node
// The lob CLI. Source is TypeScript; tsx compiles it on load so there is no build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Run from any folder (the README's examples write into a temporary one): the checkout is where this file is.
process.env.LOB_ROOT ||= fileURLToPath(new URL('..', import.meta.url));
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv);

#!/usr/bin/env node
// The lob CLI. Source is TypeScript; tsx compiles it on load so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv);

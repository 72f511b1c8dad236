import type { Command } from 'commander';

// Placeholder until the key commands land (their issue owns this file).
export function registerKeyCommands(_program: Command): void {}

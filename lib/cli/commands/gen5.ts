import type { Command } from 'commander';

// Placeholder until the gen5 commands land (their issue owns this file).
export function registerGen5Commands(_program: Command): void {}

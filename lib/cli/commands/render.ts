import type { Command } from 'commander';

// Placeholder until the render commands land (their issue owns this file).
export function registerRenderCommands(_program: Command): void {}

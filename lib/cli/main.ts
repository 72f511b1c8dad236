import { Command, CommanderError } from 'commander';
import { registerBatchCommands } from './commands/batch.ts';
import { registerFindCommand } from './commands/find.ts';
import { registerGen5Commands } from './commands/gen5.ts';
import { registerKeyCommands } from './commands/key.ts';
import { registerRenderCommands } from './commands/render.ts';
import { registerWorkerCommand } from './commands/worker.ts';
import { CliError } from './errors.ts';

/** Builds the `lob` program; each command group lives in its own module. */
export function buildProgram(): Command {
  const program = new Command('lob')
    .description('A Library of Babel for a diffusion model: every key names exactly one image.')
    .exitOverride()
    .showHelpAfterError();
  registerKeyCommands(program);
  registerGen5Commands(program);
  registerRenderCommands(program);
  registerFindCommand(program);
  registerBatchCommands(program);
  registerWorkerCommand(program);
  return program;
}

/** Runs the CLI and returns the process exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`lob: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lob: ${message}\n`);
    return 1;
  }
}

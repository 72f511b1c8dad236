import { type Command, InvalidArgumentError, Option } from 'commander';
import { KeyError } from '../../keyspace/index.ts';
import { ModelLoadError, RenderInputError } from '../../pipeline/errors.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { type ExecutionProvider, parseExecutionProvider } from '../../pipeline/onnx/providers.ts';
import { defaultModelDir } from '../../pipeline/project-root.ts';
import { CliError } from './errors.ts';
import { positiveInt } from './option-parsers.ts';

/**
 * What the commands that load a model share (render, search, random, walk, find): the model options, opening the
 * model, and the exit codes (docs/pipeline.md): 0 ok, 1 runtime failure, 2 usage or bad input, 3 model folder
 * missing or corrupt. Results go to stdout, progress and warnings to stderr.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, model: 3 } as const;

export interface ModelOpts {
  model?: string;
  threads?: number;
  ep?: ExecutionProvider;
}

export function modelOptions(cmd: Command): Command {
  return cmd
    .option('--model <dir>', 'model folder (default: $LOB_MODEL, else models/emoji)')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', positiveInt('--threads'))
    .addOption(
      new Option('--ep <provider>', 'execution provider: cpu, cuda, webgpu (default: $LOB_EP or cpu)').argParser(
        (v) => {
          try {
            return parseExecutionProvider(v);
          } catch (err) {
            throw new InvalidArgumentError((err as Error).message);
          }
        },
      ),
    );
}

/** Maps pipeline errors to the documented exit codes. */
export function toCliError(err: unknown): unknown {
  if (err instanceof ModelLoadError) return new CliError(`model: ${err.message}`, EXIT.model);
  if (err instanceof KeyError) return new CliError(`bad key: ${err.message}`, EXIT.usage);
  if (err instanceof RenderInputError) return new CliError(err.message, EXIT.usage);
  // by name: importing find's picture module here would load sharp for every command
  if ((err as Error | null)?.name === 'PictureError') return new CliError((err as Error).message, EXIT.usage);
  return err;
}

export async function openModel(opts: ModelOpts): Promise<Model> {
  // the pipeline (onnxruntime, sharp, transformers) loads only when a command needs a model, so the other lob
  // commands start quickly
  const { loadModel } = await import('../../pipeline/model/load.ts');
  const model = await loadModel(opts.model ?? defaultModelDir(), {
    intraOpNumThreads: opts.threads,
    executionProvider: opts.ep,
  });
  for (const w of model.warnings) process.stderr.write(`lob: warning: ${w}\n`);
  return model;
}

export function progress(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    process.stderr.write(`\r${label} step ${done}/${total}`);
    if (done === total) process.stderr.write('\n');
  };
}

export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toCliError(err);
  }
}

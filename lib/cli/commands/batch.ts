import { availableParallelism } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { guidanceScaleProblem } from '../../../keyspace/guidance.ts';
import { ModelLoadError } from '../../../pipeline/errors.ts';
import type { BatchDefaults } from '../../batch/rows.ts';
import { CliError } from '../errors.ts';
import { positiveInt, scaleArg, seedArg } from '../option-parsers.ts';

/**
 * `lob batch MANIFEST --out DIR` (docs/batch.md). Exit codes: 0 every row ok; 1 some row failed at run time (or the
 * run itself failed); 2 usage, an unreadable MANIFEST, or rows with bad input (and no run-time failure); 3 model
 * missing or corrupt; 130 stopped by Ctrl-C / SIGTERM (rerun the same command to resume).
 */
export const BATCH_EXIT = { ok: 0, failure: 1, input: 2, model: 3, interrupted: 130 } as const;

interface BatchOpts {
  out: string;
  model?: string;
  workers?: number;
  threadsPerWorker?: number;
  saveSteps?: boolean;
  gen5?: boolean;
  steps?: number;
  guidance?: number;
  seeds?: number;
  seed?: bigint;
  bestOf?: number;
  negative?: string;
}

const guidanceArg = (v: string) => {
  const n = scaleArg(v);
  const problem = guidanceScaleProblem(n);
  if (problem) throw new InvalidArgumentError(problem);
  return n;
};

/** Ctrl-C / SIGTERM abort the batch once; it stops cleanly and the process exits when it has. */
function stopOnSignals(controller: AbortController): () => void {
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nlob batch: ${signal}, stopping (finished rows are kept; rerun to resume)\n`);
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}

export function registerBatchCommands(program: Command): void {
  program
    .command('batch')
    .description('render every row of MANIFEST (JSONL or CSV: prompt, key or image per row) into DIR, resumably')
    .argument('<manifest>', 'the rows: .jsonl or .csv')
    .requiredOption('--out <dir>', 'output folder (images/, hidden/, manifest.jsonl, README.txt)')
    .option('--save-steps', "hidden/NAME.npy holds every step's latent, [steps+1, C, H, W]")
    .option('--gen5', 'also write gen5/NAME.gen5 per row')
    .option('--workers <n>', 'render worker threads (default: one per core)', positiveInt('--workers'))
    .option(
      '--threads-per-worker <n>',
      'onnxruntime threads per worker (default 1)',
      positiveInt('--threads-per-worker'),
    )
    .option('--model <dir>', 'model folder (default: $LOB_MODEL, else models/emoji)')
    .option('--steps <n>', 'steps of prompt rows that set none', positiveInt('--steps'))
    .option(
      '--guidance <x>',
      "guidance of prompt and key rows that set none, kept in the key (default: none, the model's)",
      guidanceArg,
    )
    .option('--seeds <n>', 'keys per prompt row: seed, seed+1, …', positiveInt('--seeds'))
    .option('--seed <n>', 'seed of prompt rows that set none (default 0)', seedArg)
    .option('--best-of <n>', 'rank N candidates per prompt row with the image encoder', positiveInt('--best-of'))
    .option('--negative <text>', 'negative prompt of prompt rows that set none (kept in the key)')
    .action(runBatchCommand);
}

async function runBatchCommand(manifest: string, opts: BatchOpts): Promise<void> {
  const { readBatchRows, manifestDir, runBatch, ManifestError, BatchProgress } = await import('../../batch/index.ts');
  const defaults: BatchDefaults = {
    seed: opts.seed,
    seeds: opts.seeds,
    bestOf: opts.bestOf,
    steps: opts.steps,
    guidance: opts.guidance,
    negative: opts.negative,
  };
  let rows: Awaited<ReturnType<typeof readBatchRows>>;
  try {
    rows = await readBatchRows(manifest, defaults);
  } catch (err) {
    const why = err instanceof ManifestError ? err.message : `cannot read: ${(err as Error).message}`;
    throw new CliError(`${manifest}: ${why}`, BATCH_EXIT.input);
  }
  const controller = new AbortController();
  const release = stopOnSignals(controller);
  const progress = new BatchProgress(rows.length, process.stderr);
  let runtimeFailure = false;
  try {
    for await (const result of runBatch(rows, {
      out: opts.out,
      modelDir: opts.model,
      workers: opts.workers ?? availableParallelism(),
      threadsPerWorker: opts.threadsPerWorker ?? 1,
      saveSteps: opts.saveSteps,
      gen5: opts.gen5,
      signal: controller.signal,
      baseDir: manifestDir(manifest),
    })) {
      progress.update(result);
      if (result.entry.error_kind === 'runtime') runtimeFailure = true;
    }
  } catch (err) {
    if (err instanceof ModelLoadError) throw new CliError(`model: ${err.message}`, BATCH_EXIT.model);
    throw err;
  } finally {
    progress.finish();
    release();
  }
  const { ok, failed, skipped } = progress.tally;
  process.stdout.write(`${ok} rendered, ${skipped} already done, ${failed} failed → ${opts.out}/manifest.jsonl\n`);
  if (controller.signal.aborted)
    throw new CliError('batch stopped before the end; rerun the same command to resume', BATCH_EXIT.interrupted);
  if (failed > 0) {
    const code = runtimeFailure ? BATCH_EXIT.failure : BATCH_EXIT.input;
    throw new CliError(`${failed} row(s) failed; manifest.jsonl says why`, code);
  }
}

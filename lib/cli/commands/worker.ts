import { type Command, InvalidArgumentError } from 'commander';
import { ModelLoadError } from '../../../pipeline/errors.ts';
import { defaultModelDir } from '../../../pipeline/project-root.ts';
import { CliError } from '../errors.ts';

/**
 * `lob worker`: a render worker for the Redis queue (docs/scaling.md). Runs until SIGINT or SIGTERM, then finishes
 * the jobs it holds and exits 0. Exit codes: 2 no or bad Redis URL, 3 model missing or corrupt.
 */
const positiveInt = (name: string) => (v: string) => {
  if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return Number(v);
};

interface WorkerOpts {
  model?: string;
  redis?: string;
  workers: number;
  threads: number;
  lockMs: number;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('render jobs from the Redis queue (LOB_REDIS_URL) until stopped')
    .option('--model <dir>', 'model folder (default: $LOB_MODEL, else models/emoji)')
    .option('--redis <url>', 'Redis URL (default: $LOB_REDIS_URL)')
    .option('--workers <n>', 'render threads, each taking one job at a time', positiveInt('--workers'), 1)
    .option('--threads <n>', 'onnxruntime intra-op threads per render thread', positiveInt('--threads'), 1)
    .option(
      '--lock-ms <ms>',
      "job lock: a dead worker's job is retried after about twice this",
      positiveInt('--lock-ms'),
      30_000,
    )
    .action(async (opts: WorkerOpts) => {
      const url = opts.redis ?? process.env.LOB_REDIS_URL;
      if (!url) throw new CliError('no Redis: pass --redis URL or set LOB_REDIS_URL', 2);
      // loaded on demand, like the other commands that need the pipeline
      const [{ startRenderWorker }, { checkRedisUrl }] = await Promise.all([
        import('../../queue/worker.ts'),
        import('../../queue/connection.ts'),
      ]);
      try {
        checkRedisUrl(url);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      const log = (line: string) => process.stderr.write(`lob worker: ${line}\n`);
      let running: Awaited<ReturnType<typeof startRenderWorker>>;
      try {
        running = await startRenderWorker({
          url,
          modelDir: opts.model ?? defaultModelDir(),
          workers: opts.workers,
          threadsPerWorker: opts.threads,
          lockMs: opts.lockMs,
          log,
        });
      } catch (err) {
        if (err instanceof ModelLoadError) throw new CliError(`model: ${err.message}`, 3);
        throw err;
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          log('stopping: finishing the jobs under way');
          running.close().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

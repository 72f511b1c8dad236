import { open, writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from '../errors.ts';
import { EXIT, guarded, type ModelOpts, modelOptions, openModel } from '../model-command.ts';
import { positiveInt } from '../option-parsers.ts';

interface FindOpts extends ModelOpts {
  prompt?: string;
  budget?: number;
  candidates?: number;
  coarse?: boolean;
  json?: boolean;
  output?: string;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('--budget takes seconds in (0, 3600]');
  return n;
}

/** The file's bytes, refusing a file over `limit` before reading it (a 1.5 GB file costs a stat, not 1.5 GB). */
async function readBounded(path: string, limit: number): Promise<Uint8Array> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, EXIT.usage);
  }
  try {
    const { size, isFile } = await file.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (!isFile) throw new CliError(`${path} is not a file`, EXIT.usage);
    if (size > limit)
      throw new CliError(`${path} is ${size} bytes, above find's limit of ${limit} (16 MiB)`, EXIT.usage);
    return new Uint8Array(await file.readFile());
  } finally {
    await file.close();
  }
}

export function registerFindCommand(program: Command): void {
  modelOptions(
    program
      .command('find')
      .description(
        'find the key whose image is most like a picture (PNG, JPEG, WebP or SVG); prints the similarity on stderr and the key as the last stdout line',
      )
      .argument('<image>', 'the picture file')
      .option('--prompt <text>', 'the key carries this prompt: the same picture, as something else')
      .option(
        '--budget <seconds>',
        'stop searching after this long, whatever the candidate cap (default 30; the first candidate always runs)',
        seconds,
      )
      .option('--candidates <n>', 'try at most N candidates (default 12)', positiveInt('--candidates'))
      .option('--coarse', "a key of the model's own profile (4-bit latent) instead of its fine variant")
      .option('--json', 'print the result as one JSON object')
      .option('-o, --output <file>', "also write the key's PNG"),
  ).action(async (image: string, opts: FindOpts) => {
    await guarded(async () => {
      const { loadPicture, PICTURE_LIMITS } = await import('../../../pipeline/find/picture.ts');
      const bytes = await readBounded(image, PICTURE_LIMITS.maxBytes);
      const model = await openModel(opts);
      try {
        const [height, width] = model.shapes.imageSize as [number, number];
        const rgb = await loadPicture(bytes, width, height).catch((err: Error) => {
          throw err.name === 'PictureError' ? new CliError(`${image}: ${err.message}`, EXIT.usage) : err;
        });
        const { findKey, DEFAULT_FIND_CANDIDATES } = await import('../../../pipeline/find/find.ts');
        const tty = process.stderr.isTTY;
        const found = await findKey(model, rgb, {
          prompt: opts.prompt,
          budgetMs: opts.budget === undefined ? undefined : opts.budget * 1000,
          maxCandidates: opts.candidates ?? DEFAULT_FIND_CANDIDATES,
          fine: !opts.coarse,
          onProgress: tty ? (done, total) => process.stderr.write(`\rfind: candidate ${done}/${total}`) : undefined,
        });
        if (tty) process.stderr.write('\n');
        if (opts.output) {
          const { renderKey } = await import('../../../pipeline/render/render.ts');
          await writeFile(opts.output, (await renderKey(model, found.key, { prompt: opts.prompt })).png);
        }
        const summary = {
          key: found.key,
          profileId: found.profileId,
          steps: found.steps,
          psnr: Number(found.psnr.toFixed(2)),
          ssim: Number(found.ssim.toFixed(4)),
          prompt: opts.prompt ?? '',
          candidates: { tried: found.tried, planned: found.planned },
          ms: Math.round(found.timings.totalMs),
        };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(summary)}\n`);
          return;
        }
        process.stderr.write(
          `find: PSNR ${summary.psnr.toFixed(1)} dB, SSIM ${summary.ssim.toFixed(3)} against the picture at ${width}×${height} ` +
            `(${found.tried} of ${found.planned} candidates, ${(summary.ms / 1000).toFixed(1)} s)\n`,
        );
        process.stdout.write(`${found.key}\n`);
      } finally {
        await model.release();
      }
    });
  });
}

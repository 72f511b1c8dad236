import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import {
  createProfileRegistry,
  loadProfile,
  MAX_WALK_FRAMES,
  type Profile,
  parseKey,
  randomKey,
  walkKeys,
  withVariants,
} from '../../../keyspace/index.ts';
import { ModelLoadError } from '../../../pipeline/errors.ts';
import { defaultModelDir } from '../../../pipeline/project-root.ts';
import type { RenderResult } from '../../../pipeline/render/render.ts';
import { animate, animationFormatOf } from '../../animation.ts';
import { loadKeyRegistry } from '../../profiles.ts';
import { CliError } from '../errors.ts';
import { longestKey, readKeyArg } from '../key-arg.ts';
import { EXIT, guarded, type ModelOpts, modelOptions, openModel, progress } from '../model-command.ts';
import { positiveInt, scaleArg, seedArg } from '../option-parsers.ts';

/**
 * The model's keyspace profile: straight from keyspace.json when the folder has one (no sessions needed), else
 * derived from a loaded model (SD exports).
 */
async function modelProfile(opts: ModelOpts): Promise<Profile> {
  const file = join(opts.model ?? defaultModelDir(), 'keyspace.json');
  if (existsSync(file)) {
    try {
      return loadProfile(JSON.parse(await readFile(file, 'utf8')));
    } catch (err) {
      throw new ModelLoadError(file, (err as Error).message);
    }
  }
  const model = await openModel(opts);
  await model.release();
  return model.profile;
}

export function registerRenderCommands(program: Command): void {
  registerWalkCommand(program);
  modelOptions(
    program
      .command('render')
      .description('render KEY to a PNG (prints the PNG SHA-256); KEY may be - (stdin) or @FILE')
      .argument('<key>', 'the key')
      .requiredOption('-o, --output <file>', 'PNG to write')
      .option('--gen5 <file>', 'also write a .gen5 provenance file'),
  ).action(async (keyArg: string, opts: ModelOpts & { output: string; gen5?: string }) => {
    const key = await readKeyArg(keyArg, longestKey(loadKeyRegistry().registry));
    await guarded(async () => {
      const model = await openModel(opts);
      const { renderKey } = await import('../../../pipeline/render/render.ts');
      try {
        const result = await renderKey(model, key, { onStep: progress('render') });
        await writeFile(opts.output, result.png);
        if (opts.gen5) await writeGen5(opts.gen5, result);
        process.stdout.write(`${result.pngSha256}\n`);
      } finally {
        await model.release();
      }
    });
  });

  modelOptions(
    program
      .command('search')
      .description('find a key for PROMPT (prints the seed on stderr, the key as the last stdout line)')
      .argument('<prompt>', 'text prompt')
      .option('--seed <n>', 'latent seed (default: fresh random)', seedArg)
      .option('--best-of <n>', 'rank N candidates with the image encoder, keep the best', positiveInt('--best-of'))
      .option('--negative <text>', "negative prompt, kept in the key (the profile's -neg variant)")
      .option(
        '--guidance <x>',
        "guidance scale, kept in the key (the profile's -cfg variant; 1 to 16.75 by 0.25)",
        scaleArg,
      ),
  ).action(
    async (
      prompt: string,
      opts: ModelOpts & { seed?: bigint; bestOf?: number; negative?: string; guidance?: number },
    ) => {
      await guarded(async () => {
        const model = await openModel(opts);
        const { searchKey } = await import('../../../pipeline/render/search.ts');
        try {
          const result = await searchKey(model, prompt, {
            seed: opts.seed,
            bestOf: opts.bestOf,
            negative: opts.negative,
            guidance: opts.guidance,
          });
          process.stderr.write(
            `seed ${result.seed}${result.score === null ? '' : `, score ${result.score.toFixed(4)}`}\n`,
          );
          process.stdout.write(`${result.key}\n`);
        } finally {
          await model.release();
        }
      });
    },
  );

  modelOptions(
    program
      .command('random')
      .description("print a uniformly random key of the model's keyspace")
      .option('--seed <n>', 'reproducible key from this seed (default: cryptographic randomness)', seedArg),
  ).action(async (opts: ModelOpts & { seed?: bigint }) => {
    await guarded(async () => {
      process.stdout.write(`${randomKey(await modelProfile(opts), opts.seed)}\n`);
    });
  });
}

async function writeGen5(path: string, result: RenderResult): Promise<void> {
  // loaded on demand: most renders do not write provenance, and startup time matters for a CLI
  const [{ encodeGen5 }, { currentEnvironment }, { buildGen5Input }] = await Promise.all([
    import('../../../gen5/index.ts'),
    import('../../environment.ts'),
    import('../../provenance.ts'),
  ]);
  const environment = await currentEnvironment({
    executionProvider: result.settings.session.executionProvider,
    modelFiles: result.model.files,
  });
  await writeFile(path, await encodeGen5(buildGen5Input(result, { environment })));
}

const walkFrames = (v: string) => {
  const n = positiveInt('--frames')(v);
  if (n < 2 || n > MAX_WALK_FRAMES) throw new InvalidArgumentError(`--frames must be 2..${MAX_WALK_FRAMES}`);
  return n;
};

/** `lob walk A B`: the keys between two keys (each a key of its own), rendered into an animated WebP or GIF. */
function registerWalkCommand(program: Command): void {
  modelOptions(
    program
      .command('walk')
      .description('walk from key A to key B: every frame is a key (--keys lists them); -o writes a .webp or .gif')
      .argument('<a>', 'the first key (- for stdin, @FILE)')
      .argument('<b>', 'the last key (- for stdin, @FILE)')
      .option('--frames <n>', `frames, both ends included (2..${MAX_WALK_FRAMES})`, walkFrames, 16)
      .option('-o, --output <file>', 'animation to write: .webp (lossless) or .gif')
      .option('--delay <ms>', 'milliseconds per frame', positiveInt('--delay'), 120)
      .option('--keys', "print the frames' keys, one per line"),
  ).action(
    async (
      aArg: string,
      bArg: string,
      opts: ModelOpts & { frames: number; output?: string; delay: number; keys?: boolean },
    ) => {
      const format = opts.output === undefined ? null : animationFormatOf(opts.output);
      if (opts.output !== undefined && format === null)
        throw new CliError(`-o ${opts.output}: the animation is written as .webp or .gif`, EXIT.usage);
      if (opts.output === undefined && !opts.keys)
        throw new CliError('give -o FILE.webp|.gif, --keys or both', EXIT.usage);
      const limit = longestKey(loadKeyRegistry().registry);
      const [a, b] = [await readKeyArg(aArg, limit), await readKeyArg(bArg, limit)];
      await guarded(async () => {
        const registry = createProfileRegistry(withVariants(await modelProfile(opts)));
        const keys = walkKeys(parseKey(a, registry), parseKey(b, registry), opts.frames);
        if (opts.keys) process.stdout.write(`${keys.join('\n')}\n`);
        if (opts.output === undefined || format === null) return;
        const model = await openModel(opts);
        const { renderKey } = await import('../../../pipeline/render/render.ts');
        try {
          const pngs: Uint8Array[] = [];
          for (const [i, key] of keys.entries()) {
            pngs.push((await renderKey(model, key)).png);
            progress('walk')?.(i + 1, keys.length);
          }
          await writeFile(opts.output, await animate(pngs, format, opts.delay));
        } finally {
          await model.release();
        }
      });
    },
  );
}

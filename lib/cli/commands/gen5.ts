import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_LIMITS,
  type DriftWarning,
  decodeGen5,
  type EnvComponent,
  encodeGen5,
  Gen5Error,
  type Gen5File,
  type LatentInput,
  type ModelInfoInput,
  PyFloat,
  type PyJson,
  parsePyJson,
  verifyGen5,
} from '../../../gen5/index.ts';
import { castF32BytesToF16 } from '../../../gen5/latent.ts';
import { currentEnvironment } from '../../environment.ts';
import { decodeNpy, encodeNpy, NpyError } from '../../npy.ts';
import { decodePngPixels } from '../../png-pixels.ts';
import { ProvenanceError, readProvenance } from '../../provenance.ts';
import { CliError } from '../errors.ts';

// `lob gen5 inspect|verify|extract|pack`. Exit codes: 0 ok, 1 a bad file or failed check, 2 usage.

// 255 bytes is the file-name limit of ext4, XFS, APFS and NTFS; `extract` writes NAME.npy.
const MAX_LATENT_NAME = 255 - '.npy'.length;

export function registerGen5Commands(program: Command): void {
  const gen5 = program.command('gen5').description('read, check and write .gen5 files (gen5 0.1.0 format)');

  gen5
    .command('inspect')
    .description('header, chunk table, metadata, provenance and environment drift of a .gen5 file')
    .argument('<file>', '.gen5 file')
    .option('--json', 'print one JSON object')
    .option('--model <dir>', "compare the file's model files with this model folder's")
    .action(async (path: string, opts: { json?: boolean; model?: string }) => {
      const modelFiles = opts.model ? await modelFilesOf(opts.model) : undefined;
      const file = withoutUncomparedModelFiles(
        await decode(await readInput(path), await currentEnvironment({ modelFiles })),
        modelFiles !== undefined,
      );
      const provenance = guardProvenance(file);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(inspectJson(file, provenance), null, 2)}\n`);
        return;
      }
      process.stdout.write(inspectText(file, provenance));
    });

  gen5
    .command('verify')
    .description(
      'check every chunk, hash, size, offset and the schema; with --model, regenerate the image from the key',
    )
    .argument('<file>', '.gen5 file')
    .option('--model <dir>', 'model folder to regenerate the image with')
    .action(async (path: string, opts: { model?: string }) => {
      const bytes = await readInput(path);
      const regen = opts.model ? await openRegenerator(opts.model) : undefined;
      try {
        const report = await verifyGen5(bytes, {
          currentEnvironment: regen?.environment ?? (await currentEnvironment()),
          regenerate: regen?.regenerate,
          decodePixels: decodePngPixels,
        });
        const lines = report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
        for (const n of report.notes) lines.push(`note ${n}`);
        if (report.regeneration) {
          const r = report.regeneration;
          lines.push(
            `regeneration: ${r.pngIdentical ? 'bit-identical PNG' : r.pixelsIdentical ? 'identical pixels' : `differs, PSNR ${r.psnr === null ? 'n/a' : `${r.psnr.toFixed(2)} dB`}`}`,
          );
        }
        for (const d of report.drift ?? []) lines.push(`drift ${d.message.replace(/\n/g, '\n      ')}`);
        process.stdout.write(`${lines.join('\n')}\n`);
        if (!report.ok) {
          throw new CliError(
            `${path}: ${report.failures.length} check(s) failed:\n${report.failures.map((f) => `  - ${f}`).join('\n')}`,
            1,
          );
        }
        process.stdout.write(`${path}: all ${report.checks.length} checks passed\n`);
      } finally {
        await regen?.release();
      }
    });

  gen5
    .command('extract')
    .description('write image.png, latents/NAME.npy, metadata.json and env.json')
    .argument('<file>', '.gen5 file')
    .requiredOption('--out <dir>', 'output folder')
    .action(async (path: string, opts: { out: string }) => {
      const file = await decode(await readInput(path));
      for (const l of file.latents) {
        // Names come from the file: never let one climb out of latents/, nor be longer than a file name may be.
        if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(l.name)) {
          throw new CliError(`latent name ${JSON.stringify(l.name)} is not a safe file name; nothing extracted`, 1);
        }
        if (l.name.length > MAX_LATENT_NAME) {
          throw new CliError(
            `latent name of ${l.name.length} characters is longer than ${MAX_LATENT_NAME}, which with ".npy" is the ` +
              'longest file name most file systems allow; nothing extracted',
            1,
          );
        }
      }
      await mkdir(join(opts.out, 'latents'), { recursive: true });
      if (file.image) await writeFile(join(opts.out, 'image.png'), file.image);
      for (const l of file.latents) {
        const { buffer, byteOffset, length } = l.data;
        const values =
          l.dtype === 'float16'
            ? new Uint16Array(buffer, byteOffset, length / 2)
            : new Float32Array(buffer, byteOffset, length / 4);
        await writeFile(join(opts.out, 'latents', `${l.name}.npy`), encodeNpy(values, l.shape));
      }
      await writeFile(join(opts.out, 'metadata.json'), file.metaText);
      if (file.envc) await writeFile(join(opts.out, 'env.json'), file.envc.text);
      const written = [
        file.image ? 'image.png' : null,
        ...file.latents.map((l) => `latents/${l.name}.npy`),
        'metadata.json',
        file.envc ? 'env.json' : null,
      ];
      process.stdout.write(`${written.filter(Boolean).join('\n')}\n`);
    });

  gen5
    .command('pack')
    .description('write a .gen5 file from model_info JSON, .npy latents and an optional PNG')
    .requiredOption('--meta <file>', "META.json: model_info's fields, or a whole extracted metadata.json")
    .option(
      '--latent <name=file.npy>',
      'a latent (repeatable, in chunk order)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--image <file.png>', 'the image (PNG)')
    .option('--float16', 'store float32 latents as float16')
    .option('--no-compress', 'store latents without zstd')
    .requiredOption('-o, --output <file>', 'output .gen5 file')
    .action(
      async (opts: {
        meta: string;
        latent: string[];
        image?: string;
        float16?: boolean;
        compress: boolean;
        output: string;
      }) => {
        if (opts.latent.length === 0) throw new CliError('at least one --latent NAME=FILE.npy is required', 2);
        const { modelInfo, extra } = readMetaJson(await readInput(opts.meta), opts.meta);
        const latents: LatentInput[] = [];
        for (const spec of opts.latent) latents.push(await readLatent(spec));
        try {
          const bytes = await encodeGen5({
            latents,
            image: opts.image ? await readInput(opts.image) : undefined,
            modelInfo,
            extra,
            environment: await currentEnvironment(),
            compress: opts.compress,
            float16: opts.float16,
          });
          await writeFile(opts.output, bytes);
          process.stdout.write(
            `${opts.output}: ${bytes.length} bytes, ${latents.length} latent(s)${opts.image ? ', image' : ''}\n`,
          );
        } catch (err) {
          throw asCliError(err);
        }
      },
    );
}

/**
 * Reads an input file whole, after checking its size: nothing the gen5 commands read may exceed the decoder's file
 * limit (1 GiB), and a sparse 1.5 GB file must be refused by its size, not after being read into memory.
 */
async function readInput(path: string): Promise<Uint8Array> {
  try {
    const { size } = await stat(path);
    if (size > DEFAULT_LIMITS.maxFileBytes) {
      throw new CliError(`${path} is ${size} bytes, above the limit of ${DEFAULT_LIMITS.maxFileBytes}`, 2);
    }
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, 1);
  }
}

async function modelFilesOf(dir: string): Promise<Record<string, string>> {
  const { readModelFolder } = await import('../../../pipeline/model/folder.ts');
  try {
    return (await readModelFolder(dir)).files;
  } catch (err) {
    throw new CliError(`cannot read model ${dir}: ${(err as Error).message}`, 3);
  }
}

/**
 * Without a model folder there is nothing to compare model files with: "missing in current system" for each would
 * be noise, so those warnings go and a note says how to compare them.
 */
function withoutUncomparedModelFiles(file: Gen5File, compared: boolean): Gen5File {
  if (compared || !file.drift) return file;
  const drift = file.drift.filter((d) => !(d.kind === 'missing-in-current' && d.componentId.startsWith('model_file:')));
  const skipped = file.drift.length - drift.length;
  if (skipped === 0) return file;
  const note = `${skipped} model file(s) not compared: give --model DIR to compare them with a model folder`;
  return { ...file, drift, notes: [...file.notes, note] };
}

async function decode(bytes: Uint8Array, env?: EnvComponent[]): Promise<Gen5File> {
  try {
    return await decodeGen5(bytes, { currentEnvironment: env });
  } catch (err) {
    throw asCliError(err);
  }
}

function asCliError(err: unknown): unknown {
  if (err instanceof Gen5Error) return new CliError(`${err.code}: ${err.message}`, 1);
  if (err instanceof NpyError || err instanceof ProvenanceError) return new CliError(err.message, 1);
  return err;
}

function guardProvenance(file: Gen5File) {
  try {
    return readProvenance(file);
  } catch (err) {
    throw asCliError(err);
  }
}

function inspectJson(file: Gen5File, provenance: ReturnType<typeof readProvenance>) {
  return {
    header: { ...file.header, reserved: file.header.reserved.toString() },
    chunks: file.records,
    metadata: file.meta,
    provenance: provenance ?? null,
    environment: file.envc?.components ?? [],
    drift: file.drift ?? [],
    notes: file.notes,
  };
}

function inspectText(file: Gen5File, provenance: ReturnType<typeof readProvenance>): string {
  const h = file.header;
  const out = [
    `GEN5 ${h.versionMajor}.${h.versionMinor}  ${h.fileSize} bytes  ${h.chunkCount} chunks  META at ${h.chunkTableOffset} (${h.chunkTableSize} bytes)`,
    '',
    'chunks:',
    ...file.records.map((r) => {
      const what = r.type === 'LATN' ? ` ${r.extra.key} ${r.extra.dtype} [${(r.extra.shape ?? []).join(', ')}]` : '';
      return `  ${r.index} ${r.type} ${r.flags.padEnd(4)} @${r.offset} ${r.compressed_size} B stored, ${r.uncompressed_size} B payload${r.compressed ? ' zstd' : ''}  sha256 ${r.hash.slice(0, 16)}…${what}`;
    }),
    '',
    'model_info:',
    ...JSON.stringify(file.meta.gen5_metadata.model_info, null, 2)
      .split('\n')
      .map((l) => `  ${l}`),
  ];
  if (provenance) {
    const p = provenance.pipeline;
    out.push(
      '',
      'provenance:',
      `  key (${provenance.key.profile}, ${provenance.key.text.length} chars): ${abbreviate(provenance.key.text)}`,
      `  model: ${provenance.model.name} ${provenance.model.version}, ${Object.keys(provenance.model.files).length} files`,
      `  pipeline: ${p.scheduler}, ${p.steps} steps, guidance ${p.guidance}, ${p.precision}, ${p.executionProvider}`,
      `  image sha256: ${provenance.image_sha256}`,
    );
  }
  out.push('', 'environment:', ...(file.envc?.components ?? []).map((c) => `  ${c.canonical}`));
  if (file.drift?.length)
    out.push('', 'drift:', ...file.drift.map((d: DriftWarning) => `  ${d.message.replace(/\n/g, '\n  ')}`));
  if (file.notes.length) out.push('', 'notes:', ...file.notes.map((n) => `  ${n}`));
  return `${out.join('\n')}\n`;
}

function abbreviate(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 40)}…${text.slice(-36)}`;
}

/** META.json is either model_info's fields or a whole stored META (from `extract`), whose extras are kept. */
function readMetaJson(bytes: Uint8Array, path: string): { modelInfo: ModelInfoInput; extra: { [k: string]: PyJson } } {
  let json: PyJson;
  try {
    json = parsePyJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new CliError(`${path}: ${(err as Error).message}`, 1);
  }
  const isObject = (v: PyJson | undefined): v is { [k: string]: PyJson } =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
  if (!isObject(json)) throw new CliError(`${path}: expected a JSON object`, 1);
  const whole = json.gen5_metadata;
  if (whole === undefined) return { modelInfo: json as unknown as ModelInfoInput, extra: {} };
  if (!isObject(whole) || !isObject(whole.model_info))
    throw new CliError(`${path}: gen5_metadata.model_info is missing`, 1);
  const { file_info: _f, model_info, chunks: _c, ...extra } = whole;
  return { modelInfo: model_info as unknown as ModelInfoInput, extra };
}

async function readLatent(spec: string): Promise<LatentInput> {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new CliError(`--latent ${spec}: expected NAME=FILE.npy`, 2);
  const [name, path] = [spec.slice(0, eq), spec.slice(eq + 1)];
  let npy: ReturnType<typeof decodeNpy>;
  try {
    npy = decodeNpy(await readInput(path));
  } catch (err) {
    throw err instanceof NpyError ? new CliError(`${path}: ${err.message}`, 1) : err;
  }
  const f32 = new Uint8Array(npy.data.buffer, npy.data.byteOffset, npy.data.byteLength);
  if (npy.dtype === '<f4') return { name, dtype: 'float32', shape: npy.shape, data: f32 };
  // float16 files arrive widened to float32, which holds every float16 exactly: narrowing restores the bits.
  if (npy.dtype === '<f2') return { name, dtype: 'float16', shape: npy.shape, data: castF32BytesToF16(f32) };
  throw new CliError(
    `${path}: ${npy.dtype} latents are not part of gen5 (float16 or float32 only); save as float32`,
    1,
  );
}

interface Regenerator {
  environment: EnvComponent[];
  regenerate: (keyText: string) => Promise<Uint8Array>;
  release: () => Promise<void>;
}

/** Loads the model folder in this process and renders keys with it (the pipeline's renderKey). */
async function openRegenerator(dir: string): Promise<Regenerator> {
  const { loadModel } = await import('../../../pipeline/model/load.ts');
  const { renderKey } = await import('../../../pipeline/render/render.ts');
  let model: Awaited<ReturnType<typeof loadModel>>;
  try {
    model = await loadModel(dir);
  } catch (err) {
    throw new CliError(`cannot load model ${dir}: ${(err as Error).message}`, 1);
  }
  return {
    environment: await currentEnvironment({
      executionProvider: model.settings.executionProvider,
      modelFiles: model.folder.files,
    }),
    regenerate: async (keyText) => (await renderKey(model, keyText)).png,
    release: () => model.release(),
  };
}

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type ArraySection,
  arraySections,
  type DecodedKey,
  decodeKey,
  distance,
  encodeKey,
  KeyError,
  offsetKey,
  type ParsedKey,
  type Profile,
  type ProfileRegistry,
  parseKey,
  randomKey,
  STRIDES,
  type Stride,
  toFloat16Array,
} from '../../../keyspace/index.ts';
import { decodeNpy, encodeNpy, NpyError } from '../../npy.ts';
import { loadKeyRegistry } from '../../profiles.ts';
import { CliError } from '../errors.ts';
import { longestKey, readKeyArg } from '../key-arg.ts';
import { scaleArg } from '../option-parsers.ts';

// `lob key decode|encode|next|prev|distance|random`. Exit codes: 0 ok, 1 unreadable input, 2 usage or bad key.
const EXIT_BAD_INPUT = 2;

const bigintArg = (v: string): bigint => {
  if (!/^-?[0-9]+$/.test(v)) throw new InvalidArgumentError('must be an integer');
  return BigInt(v);
};

const strideArg = (v: string): Stride => {
  if (!(STRIDES as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${STRIDES.join(', ')}`);
  return v as Stride;
};

const stepsArg = (v: string): number => {
  if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError('must be a positive integer');
  return Number(v);
};

/** Runs key work, turning keyspace and .npy errors into one-line CLI errors. */
async function guarded<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof KeyError) throw new CliError(`invalid key: ${err.message}`, EXIT_BAD_INPUT);
    if (err instanceof NpyError) throw new CliError(err.message, EXIT_BAD_INPUT);
    throw err;
  }
}

async function parseArg(arg: string, registry: ProfileRegistry): Promise<ParsedKey> {
  const text = await readKeyArg(arg, longestKey(registry));
  return guarded(() => parseKey(text, registry));
}

function pickProfile(registry: ProfileRegistry, name: string | undefined, fallback: Profile | undefined): Profile {
  if (name === undefined) {
    if (fallback === undefined) {
      throw new CliError(
        'no default keyspace profile: models/emoji/keyspace.json is missing; pass --profile (e.g. sd-lob)',
        EXIT_BAD_INPUT,
      );
    }
    return fallback;
  }
  const [id, version] = name.split('@');
  const profile = registry.get(id, version === undefined ? undefined : Number(version));
  if (profile === undefined) {
    const known = registry.profiles.map((p) => `${p.id}@${p.version}`).join(', ');
    throw new CliError(`unknown profile "${name}" (known: ${known})`, EXIT_BAD_INPUT);
  }
  return profile;
}

function stats(values: Float32Array): { min: number; max: number; mean: number; std: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(sq / values.length) };
}

function codingSummary(section: ArraySection): Record<string, unknown> {
  const spec = section.coding as unknown as {
    spec: { type: string; distribution?: { type: string } } & Record<string, unknown>;
  };
  const { type, distribution, ...rest } = spec.spec;
  return distribution
    ? { type, bits: section.coding.bits, distribution: distribution.type }
    : { type, bits: section.coding.bits, ...rest };
}

function describe(parsed: ParsedKey, decoded: DecodedKey): Record<string, unknown> {
  const { profile } = decoded;
  return {
    profile: profile.id,
    version: profile.version,
    model: profile.model,
    chars: parsed.text.length,
    bits: profile.bits,
    steps: decoded.steps,
    ...(decoded.guidance !== undefined && { guidance: decoded.guidance }),
    sections: arraySections(profile).map((s) => ({
      name: s.name,
      kind: s.kind,
      shape: s.shape,
      dtype: s.float16Exact ? 'float16' : 'float32',
      coding: codingSummary(s),
      stats: stats(decoded[s.kind] as Float32Array),
    })),
  };
}

function humanSummary(info: Record<string, unknown>): string {
  type Stats = { min: number; max: number; mean: number; std: number };
  const sections = info.sections as { name: string; shape: number[]; dtype: string; stats: Stats }[];
  const lines = [
    `profile  ${info.profile} v${info.version} (${info.chars} chars, ${info.bits} bits)`,
    `steps    ${info.steps}`,
    ...(info.guidance === undefined ? [] : [`guidance ${info.guidance}`]),
  ];
  for (const s of sections) {
    const f = (x: number) => x.toPrecision(5);
    const { min, max, mean, std } = s.stats;
    lines.push(
      `${s.name.padEnd(10)}${s.shape.join('×')} ${s.dtype}  min ${f(min)}  max ${f(max)}  mean ${f(mean)}  std ${f(std)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function readArray(path: string, section: ArraySection): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const array = await guarded(() => decodeNpy(bytes));
  // Leading 1-dimensions are layout, not data: [77, 768] and [1, 77, 768] hold the same values.
  const squeeze = (shape: readonly number[]) => shape.slice(shape.findIndex((d) => d !== 1)).join('×');
  if (squeeze(array.shape) !== squeeze(section.shape)) {
    throw new CliError(
      `${path}: shape ${array.shape.join('×')} does not match ${section.name} ${section.shape.join('×')}`,
      EXIT_BAD_INPUT,
    );
  }
  return array.data;
}

interface EncodeOpts {
  profile: string;
  steps: number;
  embedding: string;
  latent: string;
  negative?: string;
  guidance?: number;
}

export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description('read, write and walk keys (KEY may be - for stdin or @FILE)');

  key
    .command('decode')
    .description('print what a key stands for: profile, steps, sections with shapes and value statistics')
    .argument('<key>', 'the key, - (stdin) or @FILE')
    .option('--json', 'print JSON')
    .option('--npy <dir>', 'also write DIR/embedding.npy and DIR/latent.npy (implies --json)')
    .action(async (arg: string, opts: { json?: boolean; npy?: string }) => {
      const { registry } = loadKeyRegistry();
      const parsed = await parseArg(arg, registry);
      const decoded = decodeKey(parsed);
      const info = describe(parsed, decoded);
      if (opts.npy !== undefined) {
        await mkdir(opts.npy, { recursive: true });
        const files: Record<string, string> = {};
        for (const s of arraySections(decoded.profile)) {
          const values = decoded[s.kind] as Float32Array;
          const path = join(opts.npy, `${s.kind}.npy`);
          await writeFile(path, encodeNpy(s.float16Exact ? toFloat16Array(values) : values, s.shape));
          files[s.kind] = path;
        }
        info.files = files;
      }
      process.stdout.write(
        opts.json || opts.npy !== undefined ? `${JSON.stringify(info, null, 2)}\n` : humanSummary(info),
      );
    });

  key
    .command('encode')
    .description(
      'print the key of a step count and two .npy arrays (values round to the nearest code, clamped at the ends)',
    )
    .requiredOption('--profile <id>', 'profile id, optionally @version (e.g. sd-lob, emoji@1)')
    .requiredOption('--steps <n>', 'step count', stepsArg)
    .requiredOption('--embedding <file>', 'embedding .npy (float16/32/64)')
    .requiredOption('--latent <file>', 'latent .npy (float16/32/64)')
    .option('--negative <file>', 'negative-prompt states .npy, for a -neg profile (e.g. emoji-neg)')
    .option('--guidance <x>', 'guidance scale, for a -cfg profile (e.g. emoji-cfg)', scaleArg)
    .action(async (opts: EncodeOpts) => {
      const { registry } = loadKeyRegistry();
      const profile = pickProfile(registry, opts.profile, undefined);
      const embedding = await readArray(opts.embedding, profile.embedding);
      const latent = await readArray(opts.latent, profile.latent);
      const negative =
        opts.negative === undefined ? undefined : await readArray(opts.negative, profile.negative ?? profile.embedding);
      const { steps, guidance } = opts;
      const text = await guarded(() => encodeKey(profile, { steps, embedding, latent, negative, guidance }));
      process.stdout.write(`${text}\n`);
    });

  for (const [name, sign] of [
    ['next', 1n],
    ['prev', -1n],
  ] as const) {
    key
      .command(name)
      .description(`print the key ${name === 'next' ? 'after' : 'before'} KEY in the library's order (wraps around)`)
      .argument('<key>', 'the key, - (stdin) or @FILE')
      .option('--by <n>', 'how many steps (default 1; any integer)', bigintArg)
      .option('--stride <s>', `step size: ${STRIDES.join(', ')} (default page)`, strideArg, 'page' as Stride)
      .action(async (arg: string, opts: { by?: bigint; stride: Stride }) => {
        const { registry } = loadKeyRegistry();
        const parsed = await parseArg(arg, registry);
        const text = await guarded(() => offsetKey(parsed, sign * (opts.by ?? 1n), opts.stride));
        process.stdout.write(`${text}\n`);
      });
  }

  key
    .command('distance')
    .description('print how many pages after A key B is (0 ≤ d < library size)')
    .argument('<a>', 'first key, - or @FILE')
    .argument('<b>', 'second key, - or @FILE')
    .action(async (a: string, b: string) => {
      const { registry } = loadKeyRegistry();
      const pa = await parseArg(a, registry);
      const pb = await parseArg(b, registry);
      process.stdout.write(`${await guarded(() => distance(pa, pb))}\n`);
    });

  key
    .command('random')
    .description('print a uniformly random key (cryptographic RNG, or reproducible with --seed)')
    .option('--profile <id>', 'profile id, optionally @version (default: the model in models/emoji)')
    .option('--seed <n>', 'reproducible seed (any integer)', bigintArg)
    .action((opts: { profile?: string; seed?: bigint }) => {
      const { registry, defaultProfile } = loadKeyRegistry();
      const profile = pickProfile(registry, opts.profile, defaultProfile);
      process.stdout.write(`${randomKey(profile, opts.seed)}\n`);
    });
}

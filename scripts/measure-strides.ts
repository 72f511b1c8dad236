/**
 * What each stride does to the picture (issue 16; results in docs/strides.md). A script, not a test: it renders
 * random and searched keys and their next key at every stride through the real pipeline, and prints Markdown.
 *
 *   npx tsx scripts/measure-strides.ts [--model DIR] [--order tiles|nested|halves] [--random 200] [--searched 50]
 *                                      [--strips 3] [--out docs] [--threads 2]
 *
 * `--order` measures the model's weights under another key order (the profile as shipped, with its "order"
 * replaced), so a new order can be judged before a model ships with it. Measures per pair (a key, its next):
 * - mean abs diff: mean |a − b| over the 64×64×3 samples, 0..255;
 * - encoder cosine: cosine of the shipped image encoder's embeddings (the model's own, used by best-of search);
 * - judge: the evaluation-only CLIP pair (pipeline/train/judge.pt, via scripts/judge-images.py) names each image;
 *   "same name" is how often both images get the same best name, "same emoji (top 5)" how often the first image's
 *   best name is among the second's five best, "judge cosine" the cosine of its image embeddings.
 *   Skipped with a note when judge.pt is missing.
 * Writes `<out>/strides-<order>.json` and strips `<out>/strides-<order>-{pages,books}.png`: per key, the key and its
 * next 7 at that stride. Everything is seeded, so a rerun on the same weights gives the same numbers.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  availableStrides,
  createProfileRegistry,
  KEY_ORDERS,
  type KeyOrder,
  loadProfile,
  offsetKey,
  parseKey,
  randomKey,
  type Stride,
} from '../keyspace/index.ts';
import { defaultModelDir, loadModel, type Model, renderKey, searchKey } from '../pipeline/index.ts';
import { imageEmbedsBatch } from '../pipeline/model/image-encoder.ts';
import { cosine } from '../pipeline/render/search.ts';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    order: { type: 'string' },
    random: { type: 'string', default: '200' },
    searched: { type: 'string', default: '50' },
    strips: { type: 'string', default: '3' },
    out: { type: 'string', default: 'docs' },
    threads: { type: 'string', default: '2' },
  },
});

/** Prompts for searched keys: common emoji names across the groups (seed i for the i-th key). */
const PROMPTS = [
  'grinning face',
  'red heart',
  'thumbs up',
  'dog face',
  'cat face',
  'pizza',
  'rocket',
  'sun',
  'star',
  'fire',
  'ghost',
  'smiling face with sunglasses',
  'house',
  'automobile',
  'crying face',
  'face with tears of joy',
  'pile of poo',
  'birthday cake',
  'soccer ball',
  'christmas tree',
  'snowman',
  'rainbow',
  'alarm clock',
  'light bulb',
  'banana',
  'red apple',
  'hamburger',
  'frog',
  'penguin',
  'unicorn',
  'butterfly',
  'sunflower',
  'cactus',
  'moon',
  'cloud with rain',
  'umbrella',
  'airplane',
  'bicycle',
  'musical note',
  'guitar',
  'crown',
  'gem stone',
  'key',
  'locked',
  'envelope',
  'books',
  'check mark',
  'cross mark',
  'warning',
  'flag: japan',
];

interface Image {
  rgb: Uint8Array;
}
interface Pair {
  set: 'random' | 'searched';
  stride: Stride | 'unrelated';
  a: number; // image indices
  b: number;
  mad: number;
}

const model = await loadModel(args.model ?? defaultModelDir(), { intraOpNumThreads: Number(args.threads) });
const order = (args.order ?? model.profile.order) as KeyOrder;
if (!KEY_ORDERS.includes(order)) throw new Error(`--order must be one of ${KEY_ORDERS.join(', ')}`);
const profile = order === model.profile.order ? model.profile : loadProfile({ ...model.profile.json, order });
const m: Model = { ...model, profile, registry: createProfileRegistry([profile]) };
const strides = availableStrides(profile);
const t0 = performance.now();
const log = (s: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);

const images: Image[] = [];
const imageOf = new Map<string, number>();
async function render(key: string): Promise<number> {
  const hit = imageOf.get(key);
  if (hit !== undefined) return hit;
  const { data, info } = await sharp((await renderKey(m, key)).png)
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== 64 || info.height !== 64) throw new Error('expected 64×64 RGB renders');
  images.push({ rgb: new Uint8Array(data) });
  imageOf.set(key, images.length - 1);
  return images.length - 1;
}

function meanAbsDiff(a: Image, b: Image): number {
  let sum = 0;
  for (let i = 0; i < a.rgb.length; i++) sum += Math.abs(a.rgb[i] - b.rgb[i]);
  return sum / a.rgb.length;
}

async function keySet(): Promise<{ set: Pair['set']; key: string }[]> {
  const keys: { set: Pair['set']; key: string }[] = [];
  for (let i = 0; i < Number(args.random); i++) keys.push({ set: 'random', key: randomKey(profile, BigInt(i)) });
  for (let i = 0; i < Number(args.searched); i++) {
    const prompt = PROMPTS[i % PROMPTS.length];
    keys.push({ set: 'searched', key: (await searchKey(m, prompt, { seed: i })).key });
  }
  return keys;
}

const pairs: Pair[] = [];
const keys = await keySet();
for (const [n, { set, key }] of keys.entries()) {
  const a = await render(key);
  for (const stride of strides) {
    const b = await render(offsetKey(parseKey(key, m.registry), 1n, stride));
    pairs.push({ set, stride, a, b, mad: meanAbsDiff(images[a], images[b]) });
  }
  const other = keys[(n + 1) % keys.length];
  if (other.set === set) {
    const b = await render(other.key);
    pairs.push({ set, stride: 'unrelated', a, b, mad: meanAbsDiff(images[a], images[b]) });
  }
  if (n % 25 === 24) log(`${n + 1}/${keys.length} keys, ${images.length} renders`);
}

// strips: per key, the key and its next 7 at a stride
const stripKeys = [
  ...keys.filter((k) => k.set === 'random').slice(0, Number(args.strips)),
  ...keys.filter((k) => k.set === 'searched').slice(0, Number(args.strips)),
];
async function strip(stride: Stride, path: string): Promise<void> {
  const rows: Image[][] = [];
  for (const { key } of stripKeys) {
    const row: Image[] = [];
    for (let i = 0; i < 8; i++) row.push(images[await render(offsetKey(parseKey(key, m.registry), BigInt(i), stride))]);
    rows.push(row);
  }
  await grid(rows, 2, path);
}
mkdirSync(args.out, { recursive: true });
const prefix = join(args.out, `strides-${order}`);
await strip('page', `${prefix}-pages.png`);
await strip('book', `${prefix}-books.png`);
log(`${images.length} renders`);

/** Nearest-neighbour upscaled 64×64 images in a grid with white gaps, as PNG. */
async function grid(rows: Image[][], scale: number, path: string, gap = 4): Promise<void> {
  const cell = 64 * scale;
  const W = rows[0].length * (cell + gap) + gap;
  const H = rows.length * (cell + gap) + gap;
  const buf = new Uint8Array(W * H * 3).fill(255);
  rows.forEach((row, r) => {
    row.forEach((img, c) => {
      for (let y = 0; y < cell; y++)
        for (let x = 0; x < cell; x++) {
          const s = 3 * (Math.floor(y / scale) * 64 + Math.floor(x / scale));
          const d = 3 * ((gap + r * (cell + gap) + y) * W + gap + c * (cell + gap) + x);
          buf.set(img.rgb.subarray(s, s + 3), d);
        }
    });
  });
  await sharp(buf, { raw: { width: W, height: H, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toFile(path);
}

// the shipped image encoder, in batches
const encoderEmbeds: Float32Array[] = [];
for (let i = 0; i < images.length; i += 64) {
  const batch = images.slice(i, i + 64).map((img) => ({ rgb: img.rgb, height: 64, width: 64 }));
  encoderEmbeds.push(...(await imageEmbedsBatch(m, batch)));
}

/** The judge's names and embeddings, or null (with the reason on stderr) when it cannot run. */
function judge(): { names: string[]; top5: string[][]; embeds: Float32Array[] } | null {
  const dir = mkdtempSync(join(tmpdir(), 'lob-judge-'));
  try {
    const path = join(dir, 'images.u8');
    writeFileSync(path, Buffer.concat(images.map((img) => img.rgb)));
    const run = spawnSync('/usr/bin/python3', ['scripts/judge-images.py', path, String(images.length)], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    if (run.status !== 0) {
      log(`judge skipped: ${run.stderr.trim() || run.error?.message}`);
      return null;
    }
    const out = JSON.parse(run.stdout) as { names: string[]; top5: string[][]; embeds: number[][] };
    return { names: out.names, top5: out.top5, embeds: out.embeds.map((e) => Float32Array.from(e)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const judged = judge();

const quantile = (xs: number[], f: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.round(f * (s.length - 1)))];
};
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const f2 = (x: number) => x.toFixed(2);
const percent = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(0)} %`);

const results: Record<string, unknown> = {
  model: { name: model.name, version: model.version, profile: `${profile.id}-${profile.version}`, order },
  keys: { random: Number(args.random), searched: Number(args.searched) },
  renders: images.length,
  judge: judged !== null,
  rows: [] as unknown[],
};
const lines = [
  `Model ${model.name} ${model.version}, keys ${profile.id}-${profile.version} in the **${order}** order; ` +
    `${images.length} renders.`,
  '',
  '| keys | stride | mean abs diff: median [p10, p90] | encoder cosine (median) | judge: same name | judge: same emoji (top 5) | judge cosine (median) |',
  '|---|---|---:|---:|---:|---:|---:|',
];
for (const set of ['random', 'searched'] as const) {
  for (const stride of [...strides, 'unrelated' as const]) {
    const ps = pairs.filter((p) => p.set === set && p.stride === stride);
    if (ps.length === 0) continue;
    const mads = ps.map((p) => p.mad);
    const enc = ps.map((p) => cosine(encoderEmbeds[p.a], encoderEmbeds[p.b]));
    const same = judged ? ps.filter((p) => judged.names[p.a] === judged.names[p.b]).length / ps.length : null;
    const near = judged ? ps.filter((p) => judged.top5[p.b].includes(judged.names[p.a])).length / ps.length : null;
    const jcos = judged ? ps.map((p) => cosine(judged.embeds[p.a], judged.embeds[p.b])) : null;
    const row = {
      set,
      stride,
      pairs: ps.length,
      mad: { median: quantile(mads, 0.5), p10: quantile(mads, 0.1), p90: quantile(mads, 0.9), mean: mean(mads) },
      encoderCosine: quantile(enc, 0.5),
      judgeSameName: same,
      judgeSameEmojiTop5: near,
      judgeCosine: jcos ? quantile(jcos, 0.5) : null,
    };
    (results.rows as unknown[]).push(row);
    lines.push(
      `| ${set} (${ps.length}) | ${stride} | ${f2(row.mad.median)} [${f2(row.mad.p10)}, ${f2(row.mad.p90)}] | ` +
        `${f2(row.encoderCosine)} | ${percent(same)} | ${percent(near)} | ` +
        `${row.judgeCosine === null ? 'n/a' : f2(row.judgeCosine)} |`,
    );
  }
}
if (judged) {
  const examples = stripKeys.map(({ key }) => judged.names[imageOf.get(key) as number]);
  results.judgeNamesOfStripKeys = examples;
}
writeFileSync(`${prefix}.json`, `${JSON.stringify(results, null, 1)}\n`);
console.log(lines.join('\n'));
await model.release();

/**
 * The generated side of the model evaluation (pipeline/train/evaluate.py): every image goes through the real key
 * path, as `lob search PROMPT --seed S` then `lob render KEY` would (the same searchKey and renderKey, one process
 * so the model loads once), and the PNG the user would get is decoded back to pixels.
 *
 *   npx tsx scripts/eval-renders.ts --model DIR --prompts FILE.json --seeds 0,1 --random 64 --out DIR [--threads 2]
 *                                   [--best-of N]   (as `lob search --best-of N`; omitted: the model's own number)
 *
 * FILE.json is a list of prompts. Writes OUT/generated.rgb (N × 64 × 64 × 3 uint8, prompt-major then seed) with
 * OUT/generated.json ([{prompt, seed, key, ms}]), and OUT/random.rgb with OUT/random.json (keys of
 * `lob random --seed 0..R-1`). Prints the median milliseconds per generated image and the best-of used.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { randomKey } from '../keyspace/index.ts';
import { loadModel } from '../pipeline/model/load.ts';
import type { Model } from '../pipeline/model/types.ts';
import { renderKey } from '../pipeline/render/render.ts';
import { defaultBestOf, defaultPreview, type SearchPreview, searchKey } from '../pipeline/render/search.ts';

interface Rendered {
  key: string;
  ms: number;
  rgb: Buffer;
}

async function render(model: Model, key: string): Promise<Rendered> {
  const t = performance.now();
  const result = await renderKey(model, key);
  const ms = performance.now() - t;
  return { key, ms, rgb: await sharp(result.png).removeAlpha().raw().toBuffer() };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : Number.NaN;
}

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/emoji' },
    prompts: { type: 'string' },
    seeds: { type: 'string', default: '0,1' },
    random: { type: 'string', default: '0' },
    out: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'best-of': { type: 'string' },
    /** STEPS,KEEP: rank candidates after STEPS steps, finish KEEP; "none": finish every candidate. */
    preview: { type: 'string' },
  },
});
if (!values.prompts || !values.out) {
  process.stderr.write('usage: npx tsx scripts/eval-renders.ts --prompts FILE.json --out DIR [--model DIR] …\n');
  process.exit(2);
}
const prompts: string[] = JSON.parse(readFileSync(values.prompts, 'utf8'));
const seeds = values.seeds.split(',').map((s) => BigInt(s));
const model = await loadModel(values.model, { intraOpNumThreads: Number(values.threads) });
mkdirSync(values.out, { recursive: true });
const bestOf = values['best-of'] === undefined ? defaultBestOf(model) : Number(values['best-of']);
const preview = values.preview === undefined ? defaultPreview(model) : parsePreview(values.preview);
try {
  const generated: Rendered[] = [];
  const rows: { prompt: string; seed: string; key: string; ms: number; searchMs: number }[] = [];
  for (const prompt of prompts) {
    for (const seed of seeds) {
      const t = performance.now();
      const { key } = await searchKey(model, prompt, { seed, bestOf, preview });
      const searchMs = performance.now() - t;
      const r = await render(model, key);
      generated.push(r);
      rows.push({ prompt, seed: seed.toString(), key, ms: r.ms, searchMs });
    }
  }
  writeFileSync(join(values.out, 'generated.rgb'), Buffer.concat(generated.map((r) => r.rgb)));
  writeFileSync(join(values.out, 'generated.json'), JSON.stringify(rows));
  const random: Rendered[] = [];
  for (let i = 0; i < Number(values.random); i++) random.push(await render(model, randomKey(model.profile, i)));
  writeFileSync(join(values.out, 'random.rgb'), Buffer.concat(random.map((r) => r.rgb)));
  writeFileSync(join(values.out, 'random.json'), JSON.stringify(random.map((r) => ({ key: r.key, ms: r.ms }))));
  process.stdout.write(
    `${JSON.stringify({
      images: generated.length,
      medianMs: median(rows.map((r) => r.ms)),
      medianSearchMs: median(rows.map((r) => r.searchMs)),
      bestOf,
      preview,
    })}\n`,
  );
} finally {
  await model.release();
}

function parsePreview(text: string): SearchPreview | null {
  if (text === 'none') return null;
  const [afterSteps, keep] = text.split(',').map(Number);
  if (!(Number.isInteger(afterSteps) && afterSteps >= 1 && Number.isInteger(keep) && keep >= 1)) {
    process.stderr.write(`--preview takes STEPS,KEEP (two integers ≥ 1) or "none", got ${text}\n`);
    process.exit(2);
  }
  return { afterSteps, keep };
}

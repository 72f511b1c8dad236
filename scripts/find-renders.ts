/**
 * The TypeScript side of find's benchmark (pipeline/train/evaluate_find.py): each picture goes through the real
 * input path (loadPicture on the PNG bytes) and findKey, one process so the model loads once.
 *
 *   npx tsx scripts/find-renders.ts --pictures DIR --out DIR --mode fine|coarse|caption [--candidates 12]
 *     [--captions FILE.json] [--threads 2]
 *
 * DIR/pictures.json lists the PNG files. Writes OUT/<mode>.rgb (N × 64 × 64 × 3 uint8: what each found key renders)
 * and OUT/<mode>.json ([{file, key, psnr, ssim, ms, tried, history, prompt}]).
 * Mode caption: the key carries the caption the image encoder ranks best among FILE.json's names, and the sampler
 * is inverted under that caption (one candidate: 16 steps, 2 fixed-point iterations), to compare with the empty
 * prompt that find uses.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findKey } from '../pipeline/find/find.ts';
import { invertDdim } from '../pipeline/find/invert.ts';
import { encodePicture } from '../pipeline/find/latent-encoder.ts';
import { loadPicture } from '../pipeline/find/picture.ts';
import { psnr, ssim } from '../pipeline/find/similarity.ts';
import { imageEmbeds } from '../pipeline/model/image-encoder.ts';
import { loadModel } from '../pipeline/model/load.ts';
import { encodeText } from '../pipeline/model/text-encoder.ts';
import type { Model } from '../pipeline/model/types.ts';
import { generate } from '../pipeline/render/generate.ts';
import { decodeModelKey, encodeModelKey } from '../pipeline/render/keys.ts';
import { cosine } from '../pipeline/render/search.ts';

const { values } = parseArgs({
  options: {
    pictures: { type: 'string' },
    out: { type: 'string' },
    mode: { type: 'string', default: 'fine' },
    candidates: { type: 'string', default: '12' },
    captions: { type: 'string' },
    threads: { type: 'string', default: '2' },
  },
});
if (!values.pictures || !values.out || !['fine', 'coarse', 'caption'].includes(values.mode)) {
  process.stderr.write('usage: npx tsx scripts/find-renders.ts --pictures DIR --out DIR --mode fine|coarse|caption\n');
  process.exit(2);
}
const files: string[] = JSON.parse(readFileSync(join(values.pictures, 'pictures.json'), 'utf8'));
const model = await loadModel('models/emoji', { intraOpNumThreads: Number(values.threads) });
const [height, width] = model.shapes.imageSize as [number, number];

async function captionTable(m: Model, path: string) {
  const names: string[] = JSON.parse(readFileSync(path, 'utf8'));
  const table: { name: string; embeds: Float32Array }[] = [];
  for (const name of names) table.push({ name, embeds: (await encodeText(m, name)).textEmbeds as Float32Array });
  return table;
}

/** One candidate with the key and the inversion both under the caption the image encoder ranks best. */
async function findUnderCaption(m: Model, rgb: Uint8Array, table: Awaited<ReturnType<typeof captionTable>>) {
  const t0 = performance.now();
  const e = await imageEmbeds(m, rgb, height, width);
  let best = table[0];
  for (const c of table) if (cosine(e, c.embeds) > cosine(e, best.embeds)) best = c;
  const [c, h, w] = m.shapes.latent;
  const states = decodeModelKey(
    m,
    encodeModelKey(m, {
      steps: 16,
      embedding: (await encodeText(m, best.name)).hidden,
      latent: new Float32Array(c * h * w),
    }),
  ).embedding;
  const z0 = await encodePicture(m, rgb);
  const cond = { embedding: states, uncond: m.uncond, guidance: m.guidanceScale };
  const noise = (await invertDdim(m, z0, cond, { steps: 16, iterations: 2 })).latent;
  const key = encodeModelKey(m, { steps: 16, embedding: states, latent: noise }, { fine: true });
  const d = decodeModelKey(m, key);
  const out = await generate(m, {
    steps: 16,
    embedding: d.embedding,
    latent: d.latent,
    guidanceScale: m.guidanceScale,
  });
  const score = psnr(rgb, out.rgb);
  return {
    key,
    psnr: score,
    ssim: ssim(rgb, out.rgb, width, height),
    rgb: out.rgb,
    ms: performance.now() - t0,
    tried: 1,
    history: [],
    prompt: best.name,
  };
}

const table = values.mode === 'caption' ? await captionTable(model, values.captions as string) : null;
const rows: unknown[] = [];
const pixels: Uint8Array[] = [];
for (const [i, file] of files.entries()) {
  const rgb = await loadPicture(readFileSync(join(values.pictures, file)), width, height);
  const r = table
    ? await findUnderCaption(model, rgb, table)
    : await findKey(model, rgb, {
        fine: values.mode === 'fine',
        maxCandidates: Number(values.candidates),
        budgetMs: Number.POSITIVE_INFINITY,
      }).then((f) => ({ ...f, ms: f.timings.totalMs, history: f.history.map((h) => h.psnr), prompt: '' }));
  pixels.push(r.rgb);
  rows.push({
    file,
    key: r.key,
    psnr: r.psnr,
    ssim: r.ssim,
    ms: r.ms,
    tried: r.tried,
    history: r.history,
    prompt: r.prompt,
  });
  if ((i + 1) % 10 === 0) process.stderr.write(`${values.mode}: ${i + 1}/${files.length}\n`);
}
writeFileSync(join(values.out, `${values.mode}.rgb`), Buffer.concat(pixels));
writeFileSync(join(values.out, `${values.mode}.json`), JSON.stringify(rows));
await model.release();

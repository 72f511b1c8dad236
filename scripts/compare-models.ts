/**
 * How far two model folders with the same keyspace draw the same images (e.g. a re-export of the same weights):
 * searches N keys with the second model (prompts cycled, seeds 0…N−1), renders each with both at 1 thread, and
 * prints how many PNGs and how many 8-bit images are identical, the largest per-pixel difference and the largest
 * final-latent difference.
 *
 *   npx tsx scripts/compare-models.ts OLD_DIR NEW_DIR [--keys 60]
 *
 * emoji-ldm 2.0.0 → 2.0.1 (the UNet's token mean exported as a MatMul), with 2.0.0's unet/model.onnx and
 * model_index.json from commit 3f862d8 in a copy of models/emoji: 60 keys, 0 identical PNGs (their text holds the
 * UNet's hash), 60 identical 8-bit images, final latents identical.
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadModel } from '../pipeline/model/load.ts';
import { renderKey } from '../pipeline/render/render.ts';
import { searchKey } from '../pipeline/render/search.ts';

const PROMPTS = ['red heart', 'grinning face', 'cat face', 'thumbs up', 'rocket', 'pizza', 'star', 'ghost'];

const { values, positionals } = parseArgs({
  options: { keys: { type: 'string', default: '60' } },
  allowPositionals: true,
});
if (positionals.length !== 2) {
  process.stderr.write('usage: npx tsx scripts/compare-models.ts OLD_DIR NEW_DIR [--keys 60]\n');
  process.exit(2);
}
const [a, b] = await Promise.all(positionals.map((dir) => loadModel(dir, { intraOpNumThreads: 1 })));
const n = Number(values.keys);
let samePng = 0;
let sameImage = 0;
let maxLevel = 0;
let maxLatent = 0;
for (let i = 0; i < n; i++) {
  const { key } = await searchKey(b, PROMPTS[i % PROMPTS.length], { seed: BigInt(i) });
  const [ra, rb] = [await renderKey(a, key), await renderKey(b, key)];
  if (ra.pngSha256 === rb.pngSha256) samePng++;
  const [pa, pb] = await Promise.all([ra.png, rb.png].map((png) => sharp(png).raw().toBuffer()));
  let level = 0;
  for (let j = 0; j < pa.length; j++) level = Math.max(level, Math.abs(pa[j] - pb[j]));
  if (level === 0) sameImage++;
  maxLevel = Math.max(maxLevel, level);
  for (let j = 0; j < ra.finalLatent.length; j++)
    maxLatent = Math.max(maxLatent, Math.abs(ra.finalLatent[j] - rb.finalLatent[j]));
}
await Promise.all([a.release(), b.release()]);
process.stdout.write(
  `${n} keys: ${samePng} identical PNGs, ${sameImage} identical 8-bit images, ` +
    `largest pixel difference ${maxLevel} levels, largest final-latent difference ${maxLatent.toExponential(2)}\n`,
);

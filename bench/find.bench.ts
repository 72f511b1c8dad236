import sharp from 'sharp';
import { DEFAULT_FIND_CANDIDATES, findKey } from '../pipeline/find/find.ts';
import { loadPicture } from '../pipeline/find/picture.ts';
import { defaultModelDir, loadModel, renderKey, searchKey } from '../pipeline/index.ts';
import { median } from './stats.ts';

/**
 * find's speed on the default model against the target of 10 s per picture on 2 cores: pictures the model
 * drew for a few prompts and a few drawn as SVG, each through loadPicture and findKey as `lob find` runs them. The
 * quality benchmark over 200 held-out and training pictures is pipeline/train/evaluate_find.py (docs/find.md).
 */
const TARGET_S = 10;
const PROMPTS = ['red heart', 'pizza', 'rocket', 'green apple'];
const SVGS = [
  '<circle cx="32" cy="32" r="24" fill="#e02020"/>',
  '<rect x="10" y="16" width="44" height="32" rx="6" fill="#2060e0"/><circle cx="32" cy="32" r="9" fill="#fff"/>',
  '<path d="M32 6 L58 56 L6 56 Z" fill="#f0c020" stroke="#333" stroke-width="3"/>',
  '<circle cx="32" cy="32" r="26" fill="#ffd34d"/><circle cx="23" cy="26" r="4"/><circle cx="41" cy="26" r="4"/><path d="M20 40 Q32 52 44 40" stroke="#000" stroke-width="4" fill="none"/>',
];

export default async function bench(): Promise<{ title: string; markdown: string }> {
  const model = await loadModel(defaultModelDir(), { intraOpNumThreads: 2 });
  try {
    const [height, width] = model.shapes.imageSize as [number, number];
    const files: Uint8Array[] = [];
    for (const prompt of PROMPTS)
      files.push((await renderKey(model, (await searchKey(model, prompt, { seed: 1 })).key)).png);
    for (const body of SVGS) {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">${body}</svg>`;
      files.push(await sharp(Buffer.from(svg)).png().toBuffer());
    }
    const rows: string[] = [];
    for (const [label, fine] of [
      ['fine key (default)', true],
      ['--coarse (4-bit key)', false],
    ] as const) {
      const seconds: number[] = [];
      const psnrs: number[] = [];
      for (const bytes of files) {
        const t = performance.now();
        const found = await findKey(model, await loadPicture(bytes, width, height), {
          fine,
          maxCandidates: DEFAULT_FIND_CANDIDATES,
          budgetMs: Number.POSITIVE_INFINITY,
        });
        seconds.push((performance.now() - t) / 1000);
        psnrs.push(found.psnr);
      }
      const med = median(seconds);
      rows.push(
        `| ${label} | ${files.length} | ${med.toFixed(1)} | ${Math.max(...seconds).toFixed(1)} | ${(TARGET_S / med).toFixed(1)}× | ${median(psnrs).toFixed(1)} |`,
      );
      process.stdout.write(`${rows.at(-1)}\n`);
    }
    return {
      title: 'find: seconds per picture vs the 10 s target',
      markdown: [
        `\`lob find\`'s work (loadPicture + findKey, ${DEFAULT_FIND_CANDIDATES} candidates, the model loaded once) on ${PROMPTS.length} pictures the default model drew and ${SVGS.length} drawn as SVG; onnxruntime-node on 2 threads. "Under target" is 10 s over the median (above 1× meets it). Quality over 200 held-out and training pictures: docs/find.md.`,
        '',
        '| key | pictures | median s | max s | under target | median PSNR dB |',
        '|---|---:|---:|---:|---:|---:|',
        ...rows,
      ].join('\n'),
    };
  } finally {
    await model.release();
  }
}

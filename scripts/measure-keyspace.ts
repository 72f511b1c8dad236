/**
 * Model-dependent keyspace measurements (issue 2; results in docs/keyspace-measurements.md). A script, not a test:
 * it renders a few hundred keys through the real pipeline (loadModel + renderKey, PNG decoded back with sharp) and
 * prints Markdown tables plus a JSON dump.
 *
 *   npx tsx scripts/measure-keyspace.ts [--model DIR] [--keys 100] [--prompt-keys 30] [--score-keys 48]
 *                                       [--pairs 20] [--parts strides,codings,bits,probes] [--out docs] [--threads 1]
 *
 * 1. strides: mean pixel change between a key's image and its neighbour, per stride (next, by 1), for random keys
 *    and for keys found by prompt search (captions from data/emoji64.json).
 * 2. codings: random keys under the shipped (quantile) coding vs minifloat codings of the same sections; contact
 *    sheet and the best-caption cosine (image_embeds · text_embeds of the nearest canonical training caption).
 * 3. bits: for each bit width 2..6 of the latent / embedding section, pairs of keys that differ only in that
 *    section's lowest bit plane.
 * 4. probes: one bit plane of a group of values (one latent value … a 4×4×4 patch; one embedding value … a token)
 *    flipped, to choose what a page step should change.
 * Everything is seeded (randomKey(profile, seed)), so a rerun on the same model gives the same numbers.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import {
  type CodingSpec,
  createProfileRegistry,
  decodeKey,
  encodeKey,
  loadProfile,
  nextKey,
  offsetKey,
  type Profile,
  type ProfileJson,
  parseKey,
  randomKey,
  STRIDES,
  type Stride,
} from '../keyspace/index.ts';
import { defaultModelDir, encodeText, loadModel, type Model, renderKey, searchKey } from '../pipeline/index.ts';
import { imageEmbeds, imageEmbedsBatch } from '../pipeline/model/image-encoder.ts';
import { SeededRandom } from '../pipeline/render/prng.ts';
import { cosine, defaultSteps } from '../pipeline/render/search.ts';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    keys: { type: 'string', default: '100' },
    'score-keys': { type: 'string', default: '48' },
    pairs: { type: 'string', default: '20' },
    'prompt-keys': { type: 'string', default: '30' },
    'fidelity-keys': { type: 'string', default: '48' },
    parts: { type: 'string', default: 'strides,codings,bits,probes' },
    out: { type: 'string', default: 'docs' },
    threads: { type: 'string', default: '1' },
  },
});
const parts = new Set(args.parts.split(','));
const outDir = args.out;
mkdirSync(outDir, { recursive: true });

const modelDir = args.model ?? defaultModelDir();
const model = await loadModel(modelDir, { intraOpNumThreads: Number(args.threads) });
const t0 = performance.now();
let renders = 0;
const log = (s: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);
const results: Record<string, unknown> = {
  model: { dir: modelDir, name: model.name, version: model.version, unet: model.folder.files['unet/model.onnx'] },
  profile: {
    id: model.profile.id,
    version: model.profile.version,
    bits: model.profile.bits,
    chars: model.profile.chars,
  },
};

// ---------------------------------------------------------------------------------------------------------------
// rendering and image arithmetic

interface Image {
  rgb: Uint8Array; // HWC, 8-bit
  width: number;
  height: number;
}

/** The same model with another keyspace profile: renderKey decodes keys through model.profile/registry only. */
function withProfile(profile: Profile): Model {
  return profile === model.profile ? model : { ...model, profile, registry: createProfileRegistry([profile]) };
}

const cache = new Map<string, Image>();
async function render(m: Model, key: string): Promise<Image> {
  const hit = cache.get(key);
  if (hit) return hit;
  const result = await renderKey(m, key);
  renders++;
  const { data, info } = await sharp(result.png).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  const img = { rgb: new Uint8Array(data), width: info.width, height: info.height };
  cache.set(key, img);
  return img;
}

/** Mean |Δ| over all RGB samples (0..255), and the share of pixels whose largest channel change exceeds 8. */
function pixelChange(a: Image, b: Image): { mad: number; changed: number } {
  let sum = 0;
  let changed = 0;
  const n = a.width * a.height;
  for (let p = 0; p < n; p++) {
    let worst = 0;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a.rgb[3 * p + c] - b.rgb[3 * p + c]);
      sum += d;
      if (d > worst) worst = d;
    }
    if (worst > 8) changed++;
  }
  return { mad: sum / (3 * n), changed: changed / n };
}

const embedCache = new WeakMap<Image, Float32Array>();
async function embedImage(img: Image): Promise<Float32Array> {
  let e = embedCache.get(img);
  if (!e) {
    e = await imageEmbeds(model, img.rgb, img.height, img.width);
    embedCache.set(img, Float32Array.from(e));
  }
  return e as Float32Array;
}

interface Summary {
  mean: number;
  median: number;
  p10: number;
  p90: number;
}
function summary(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(f * (s.length - 1))))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, median: q(0.5), p10: q(0.1), p90: q(0.9) };
}

/** Nearest-neighbour upscaled images pasted into an RGB grid (white gaps), written as PNG. */
async function grid(cells: (Image | null)[][], scale: number, path: string, gap = 4): Promise<void> {
  const cw = cells.flat().find((c) => c)?.width ?? 64;
  const ch = cells.flat().find((c) => c)?.height ?? 64;
  const cols = Math.max(...cells.map((r) => r.length));
  const W = cols * (cw * scale + gap) + gap;
  const H = cells.length * (ch * scale + gap) + gap;
  const buf = new Uint8Array(W * H * 3).fill(255);
  cells.forEach((row, r) => {
    row.forEach((img, c) => {
      if (!img) return;
      const x0 = gap + c * (cw * scale + gap);
      const y0 = gap + r * (ch * scale + gap);
      for (let y = 0; y < ch * scale; y++) {
        for (let x = 0; x < cw * scale; x++) {
          const s = 3 * (Math.floor(y / scale) * cw + Math.floor(x / scale));
          const d = 3 * ((y0 + y) * W + x0 + x);
          buf[d] = img.rgb[s];
          buf[d + 1] = img.rgb[s + 1];
          buf[d + 2] = img.rgb[s + 2];
        }
      }
    });
  });
  await sharp(buf, { raw: { width: W, height: H, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toFile(path);
}

const f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

// ---------------------------------------------------------------------------------------------------------------
// profile variants (same model, same sections, other codings or widths)

type ArrayName = 'embedding' | 'latent';
function variant(id: string, change: Partial<Record<ArrayName, (c: CodingSpec) => CodingSpec>>): Profile {
  const json = structuredClone(model.profile.json) as ProfileJson;
  json.id = id;
  for (const s of json.sections) {
    if (s.kind === 'embedding' || s.kind === 'latent') {
      const f = change[s.kind];
      if (f) s.coding = f(s.coding);
    }
  }
  return loadProfile(json);
}
const withBits = (bits: number) => (c: CodingSpec) => {
  if (c.type !== 'quantile') throw new Error('bit-width variants need a quantile coding');
  return { ...c, bits };
};

/** Stored values of a section as decoded by a key, with stored value i's code coding. */
function codingOf(profile: Profile, name: ArrayName, i: number) {
  const s = profile[name];
  return i < s.widened.count ? s.widened.coding : s.coding;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. strides

/** Canonical training captions (data/emoji64.json, built by pipeline/train/data.py), or null when absent. */
function captionPool(): string[] | null {
  const path = join(process.cwd(), 'data', 'emoji64.json');
  if (!existsSync(path)) return null;
  const meta = JSON.parse(readFileSync(path, 'utf8')) as { canonical: string }[];
  return [...new Set(meta.map((m) => m.canonical))].sort();
}

/** Image change between each key and its next (by 1) per stride, plus the next key of the list as an unrelated pair. */
async function strideTable(label: string, keys: string[], stripPath: string) {
  const n = keys.length;
  const profile = model.profile;
  const strides = STRIDES.filter((s) => {
    try {
      offsetKey(parseKey(keys[0], model.registry), 1n, s);
      return true;
    } catch {
      return false;
    }
  });
  log(`strides: ${n} ${label} × (1 + ${strides.length} neighbours)`);
  const rows: Record<string, { mad: number[]; changed: number[]; cos: number[] }> = {};
  for (const s of [...strides, 'unrelated']) rows[s] = { mad: [], changed: [], cos: [] };
  for (let i = 0; i < n; i++) {
    const a = await render(model, keys[i]);
    const parsed = parseKey(keys[i], model.registry);
    const pairs: [string, string][] = strides.map((s) => [s, nextKey(parsed, s as Stride)]);
    pairs.push(['unrelated', keys[(i + 1) % n]]);
    for (const [s, k] of pairs) {
      const b = await render(model, k);
      const d = pixelChange(a, b);
      rows[s].mad.push(d.mad);
      rows[s].changed.push(d.changed);
      rows[s].cos.push(cosine(await embedImage(a), await embedImage(b)));
    }
    if (i % 10 === 9) log(`  ${i + 1}/${n} keys, ${renders} renders`);
  }
  const table = Object.fromEntries(
    Object.entries(rows).map(([s, r]) => [
      s,
      {
        mad: summary(r.mad),
        changed: summary(r.changed),
        cos: summary(r.cos),
        identical: r.mad.filter((x) => x === 0).length,
      },
    ]),
  );
  console.log(`\n### Strides (${n} ${label}, neighbour = next by 1; profile ${profile.id}-${profile.version})\n`);
  console.log(
    '| stride | mean abs diff (0..255) | median [p10, p90] | pixels changed > 8 | identical images | image-embedding cosine |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [s, t] of Object.entries(table)) {
    console.log(
      `| ${s} | ${f2(t.mad.mean)} | ${f2(t.mad.median)} [${f2(t.mad.p10)}, ${f2(t.mad.p90)}] | ${pct(t.changed.mean)} | ${t.identical}/${n} | ${t.cos.mean.toFixed(3)} |`,
    );
  }
  // strip: two keys, each a row per stride: the image and its next 7 neighbours
  const strip: Image[][] = [];
  for (const first of keys.slice(0, 2)) {
    for (const s of strides) {
      const row: Image[] = [];
      let k = first;
      for (let j = 0; j < 8; j++) {
        row.push(await render(model, k));
        k = nextKey(parseKey(k, model.registry), s as Stride);
      }
      strip.push(row);
    }
  }
  await grid(strip, 2, stripPath);
  return { keys: n, strides, table };
}

if (parts.has('strides')) {
  const n = Number(args.keys);
  const keys = Array.from({ length: n }, (_, i) => randomKey(model.profile, BigInt(i)));
  results.strides = await strideTable('random keys', keys, join(outDir, 'keyspace-strides.png'));
  const pool = captionPool();
  const nPrompt = Number(args['prompt-keys']);
  if (pool && nPrompt > 0) {
    // keys a person reaches by prompt search, then browses from
    const prompted: string[] = [];
    for (let i = 0; i < nPrompt; i++)
      prompted.push((await searchKey(model, pool[(i * 7919 + 13) % pool.length], { seed: i })).key);
    results.promptStrides = await strideTable('prompt keys', prompted, join(outDir, 'keyspace-strides-prompt.png'));
  }
  log(`strides done, ${renders} renders`);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. codings

/** Real training images (data/emoji64.npz: one deflated uint8 .npy [N, 64, 64, 3]), or null when absent. */
function realImages(): Image[] | null {
  const path = join(process.cwd(), 'data', 'emoji64.npz');
  if (!existsSync(path)) return null;
  const zip = readFileSync(path);
  // the first local file header: method at 8, compressed size at 18, name and extra lengths at 26 and 28
  if (zip.readUInt32LE(0) !== 0x04034b50) throw new Error(`${path}: not a zip file`);
  const method = zip.readUInt16LE(8);
  const size = zip.readUInt32LE(18);
  const start = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
  const raw = zip.subarray(start, start + size);
  const npy = method === 8 ? inflateRawSync(raw) : raw;
  const headerLen = npy[6] === 1 ? npy.readUInt16LE(8) : npy.readUInt32LE(8);
  const headerStart = npy[6] === 1 ? 10 : 12;
  const header = npy.subarray(headerStart, headerStart + headerLen).toString('latin1');
  const shape = /'shape': \((\d+), (\d+), (\d+), (\d+)\)/.exec(header);
  if (!header.includes("'|u1'") || !shape) throw new Error(`${path}: expected uint8 [N, H, W, 3], got ${header}`);
  const [n, h, w] = [Number(shape[1]), Number(shape[2]), Number(shape[3])];
  const data = npy.subarray(headerStart + headerLen);
  return Array.from({ length: n }, (_, i) => ({
    rgb: new Uint8Array(data.buffer, data.byteOffset + i * h * w * 3, h * w * 3),
    width: w,
    height: h,
  }));
}

/** image_embeds of many images, in batches of 64. */
async function embedBatch(images: Image[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let b = 0; b < images.length; b += 64) out.push(...(await imageEmbedsBatch(model, images.slice(b, b + 64))));
  return out;
}

/** Mean |Δ| between horizontally and vertically adjacent samples (0..255): noise is rough, emoji are flat. */
function roughness(img: Image): number {
  const { width: w, height: h, rgb } = img;
  let sum = 0;
  let count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = rgb[3 * (y * w + x) + c];
        if (x + 1 < w) {
          sum += Math.abs(v - rgb[3 * (y * w + x + 1) + c]);
          count++;
        }
        if (y + 1 < h) {
          sum += Math.abs(v - rgb[3 * ((y + 1) * w + x) + c]);
          count++;
        }
      }
    }
  }
  return sum / count;
}

const maxCosine = (e: Float32Array, pool: Float32Array[]) => pool.reduce((m, t) => Math.max(m, cosine(e, t)), -1);

/** Canonical captions with their text_embeds and text states, once. */
let captionSet: { pool: string[]; embeds: Float32Array[]; hidden: Map<number, Float32Array> } | null = null;
async function captions() {
  if (captionSet) return captionSet;
  const pool = captionPool();
  if (!pool) throw new Error('needs data/emoji64.json (pipeline/train/data.py builds it)');
  const embeds: Float32Array[] = [];
  for (const c of pool) embeds.push((await encodeText(model, c)).textEmbeds as Float32Array);
  captionSet = { pool, embeds, hidden: new Map() };
  return captionSet;
}

/**
 * How well keys of a profile carry a prompt: n captions' text states + seeded standard-normal latents encoded with
 * the profile (as prompt search does), rendered; the caption's own cosine with the image, and the share of images
 * whose caption ranks in the top 10 of all captions (the model card's R-precision rule).
 */
async function promptFidelity(profile: Profile, n: number): Promise<{ own: Summary; top10: number }> {
  const set = await captions();
  const m = withProfile(profile);
  const [c, h, w] = model.shapes.latent;
  const steps = defaultSteps(model);
  const own: number[] = [];
  let top10 = 0;
  for (let i = 0; i < n; i++) {
    const ci = (i * 7919 + 101) % set.pool.length;
    let hidden = set.hidden.get(ci);
    if (!hidden) {
      hidden = (await encodeText(model, set.pool[ci])).hidden;
      set.hidden.set(ci, hidden);
    }
    const latent = new SeededRandom(BigInt(i)).normals(c * h * w);
    const e = await embedImage(await render(m, encodeKey(profile, { steps, embedding: hidden, latent })));
    const sims = set.embeds.map((t) => cosine(e, t));
    const mine = sims[ci];
    own.push(mine);
    if (sims.filter((x) => x > mine).length < 10) top10++;
  }
  return { own: summary(own), top10: top10 / n };
}

/** Every 7th real training image (the reference set for "nearest real image") and its image_embeds, once. */
let referenceSet: { images: Image[]; embeds: Float32Array[] } | null = null;
async function reference(): Promise<{ images: Image[]; embeds: Float32Array[] } | null> {
  if (referenceSet) return referenceSet;
  const reals = realImages();
  if (!reals) return null;
  const images = reals.filter((_, i) => i % 7 === 0);
  referenceSet = { images, embeds: await embedBatch(images) };
  return referenceSet;
}

if (parts.has('codings')) {
  const nScore = Number(args['score-keys']);
  const pool = captionPool();
  const reals = realImages();
  if (!pool || !reals) throw new Error('codings needs data/emoji64.json and .npz (pipeline/train/data.py builds them)');
  log(`codings: text_embeds of ${pool.length} canonical captions, image_embeds of real images`);
  const captionEmbeds = (await captions()).embeds;
  // every 7th real image is the reference set, every 7th from offset 3 (first nScore) the real probe set
  const realProbe = reals.filter((_, i) => i % 7 === 3).slice(0, nScore);
  const referenceEmbeds = (await reference())?.embeds ?? [];

  /** The numbers of one set of images: caption match (the model card's measure), realism, roughness. */
  const score = async (imgs: Image[]) => {
    const embeds = await embedBatch(imgs);
    return {
      bestCaption: embeds.map((e) => maxCosine(e, captionEmbeds)),
      nearestReal: embeds.map((e) => maxCosine(e, referenceEmbeds)),
      roughness: imgs.map(roughness),
    };
  };
  const realScores = await score(realProbe);
  // the model card's emoji-likeness: the share of images whose best caption cosine reaches real images' 10th percentile
  const threshold = summary(realScores.bestCaption).p10;

  // Minifloats of the same width as the shipped quantiles (sign, 2 exponent bits, 1 mantissa bit, with zero and
  // subnormals: ±{0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3}, about the span of both sections' values), and the seed
  // project's own 15-bit minifloats (bias 4 for the prompt, 1 for the latent).
  const mf4: CodingSpec = {
    type: 'minifloat',
    sign: true,
    exponentBits: 2,
    mantissaBits: 1,
    bias: 13,
    subnormals: true,
  };
  const seedEmb: CodingSpec = { type: 'minifloat', sign: true, exponentBits: 4, mantissaBits: 10, bias: 4 };
  const seedLat: CodingSpec = { type: 'minifloat', sign: true, exponentBits: 4, mantissaBits: 10, bias: 1 };
  const codings: [string, Profile][] = [
    ['quantile (shipped)', model.profile],
    ['minifloat, same width', variant('emoji-mf', { embedding: () => mf4, latent: () => mf4 })],
    ["minifloat, seed's 15-bit", variant('emoji-seedmf', { embedding: () => seedEmb, latent: () => seedLat })],
    ['quantile latent + minifloat embedding (same width)', variant('emoji-mfemb', { embedding: () => mf4 })],
    ['minifloat latent (same width) + quantile embedding', variant('emoji-mflat', { latent: () => mf4 })],
  ];
  results.minifloatSameWidthValues = Array.from({ length: 16 }, (_, c) =>
    codingOf(codings[1][1], 'latent', 99).decode(c, 0),
  );
  const sheet: Image[][] = [];
  const rows: [string, number | null, Awaited<ReturnType<typeof score>>][] = [];
  for (const [name, profile] of codings) {
    const m = withProfile(profile);
    const imgs: Image[] = [];
    for (let i = 0; i < nScore; i++) imgs.push(await render(m, randomKey(profile, BigInt(1000 + i))));
    sheet.push(imgs.slice(0, 16));
    rows.push([name, profile.bits, await score(imgs)]);
    log(`  ${name}: ${renders} renders`);
  }
  // for reference: keys of real captions (prompt search, seeded latent), same renderer and scoring
  const prompted: Image[] = [];
  for (let i = 0; i < nScore; i++) {
    const { key } = await searchKey(model, pool[(i * 7919) % pool.length], { seed: i });
    prompted.push(await render(model, key));
  }
  sheet.push(prompted.slice(0, 16));
  rows.push(['prompt keys (reference)', null, await score(prompted)]);
  rows.push(['real training images (reference)', null, realScores]);

  // The coding must also carry a prompt (see promptFidelity).
  const fidelity: { name: string; own: Summary; top10: number }[] = [];
  const steps = defaultSteps(model);
  for (const [name, profile] of codings.slice(0, 4)) {
    fidelity.push({ name, ...(await promptFidelity(profile, Number(args['fidelity-keys']))) });
    log(`  prompt fidelity, ${name}: ${renders} renders`);
  }
  results.promptFidelity = { keys: Number(args['fidelity-keys']), steps, fidelity };
  // a 4×4 block per coding, three blocks side by side per band
  const rowsOut: (Image | null)[][] = [];
  for (let band = 0; band < sheet.length; band += 3) {
    if (band > 0) rowsOut.push([]);
    for (let r = 0; r < 4; r++) {
      const row: (Image | null)[] = [];
      sheet.slice(band, band + 3).forEach((imgs, b) => {
        if (b > 0) row.push(null);
        for (let c = 0; c < 4; c++) row.push(imgs[r * 4 + c] ?? null);
      });
      rowsOut.push(row);
    }
  }
  await grid(rowsOut, 2, join(outDir, 'keyspace-codings.png'));
  const table = rows.map(([name, bits, sc]) => ({
    name,
    bits,
    nearestReal: summary(sc.nearestReal),
    bestCaption: summary(sc.bestCaption),
    emojiLike: sc.bestCaption.filter((c) => c >= threshold).length / sc.bestCaption.length,
    roughness: summary(sc.roughness),
  }));
  results.codings = { keys: nScore, captions: pool.length, reference: referenceEmbeds.length, threshold, table };
  console.log(
    `\n### Codings (${nScore} random keys each; ${referenceEmbeds.length} real reference images, ${pool.length} captions)\n`,
  );
  console.log(`emoji-like: best caption cosine ≥ ${threshold.toFixed(3)}, the 10th percentile of the real images'\n`);
  console.log(
    '| images | key bits | nearest real image (cosine) | best caption (cosine) | emoji-like (≥ real p10) | roughness |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const t of table) {
    console.log(
      `| ${t.name} | ${t.bits ?? ''} | ${t.nearestReal.mean.toFixed(3)} [${t.nearestReal.p10.toFixed(3)}, ${t.nearestReal.p90.toFixed(3)}] | ${t.bestCaption.mean.toFixed(3)} | ${pct(t.emojiLike)} | ${f2(t.roughness.mean)} |`,
    );
  }
  console.log(
    `\n### Prompt keys under each coding (${args['fidelity-keys']} captions, seeded latents, ${steps} steps)\n`,
  );
  console.log('| coding | own-caption cosine | caption in top 10 of all |');
  console.log('|---|---:|---:|');
  for (const f of fidelity) console.log(`| ${f.name} | ${f.own.mean.toFixed(3)} | ${pct(f.top10)} |`);
}

// ---------------------------------------------------------------------------------------------------------------
// 3. bits per value

/** Pseudo-random bits for the lowest-plane re-draw (xorshift32; reproducible, independent of the key's RNG). */
function bitSource(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x & 1;
  };
}

if (parts.has('bits')) {
  const nPairs = Number(args.pairs);
  type Row = {
    mad: Summary;
    changed: Summary;
    bits: number;
    chars: number;
    nearestReal: number;
    roughness: number;
    own: number;
    top10: number;
  };
  const nFid = Number(args['fidelity-keys']);
  const table: Record<string, Record<number, Row>> = {};
  const ref = await reference();
  for (const section of ['latent', 'embedding'] as const) {
    table[section] = {};
    for (let bits = 2; bits <= 6; bits++) {
      const profile = variant(`emoji-${section.slice(0, 3)}${bits}`, { [section]: withBits(bits) });
      const m = withProfile(profile);
      const mad: number[] = [];
      const changed: number[] = [];
      const firsts: Image[] = [];
      for (let i = 0; i < nPairs; i++) {
        const a = randomKey(profile, BigInt(5000 + i));
        const d = decodeKey(parseKey(a, m.registry));
        // the same codes with the section's lowest bit plane re-drawn: each value's lowest bit flips with p = ½
        const values = d[section].slice();
        const flip = bitSource(i + 1);
        const sec = profile[section];
        for (let j = 0; j < sec.stored.length; j++) {
          if (!flip()) continue;
          const flat = sec.stored[j];
          const coding = codingOf(profile, section, j);
          values[flat] = coding.decode(coding.encode(values[flat], flat) ^ 1, flat);
        }
        const b = encodeKey(profile, { steps: d.steps, embedding: d.embedding, latent: d.latent, [section]: values });
        const first = await render(m, a);
        firsts.push(first);
        const diff = pixelChange(first, await render(m, b));
        mad.push(diff.mad);
        changed.push(diff.changed);
      }
      // are random keys of this width still good images? (nearest real image, roughness)
      const nearest = ref ? (await embedBatch(firsts)).map((e) => maxCosine(e, ref.embeds)) : [Number.NaN];
      table[section][bits] = {
        mad: summary(mad),
        changed: summary(changed),
        bits: profile.bits,
        chars: profile.chars,
        nearestReal: summary(nearest).mean,
        roughness: summary(firsts.map(roughness)).mean,
        ...(await promptFidelity(profile, nFid).then((f) => ({ own: f.own.mean, top10: f.top10 }))),
      };
      log(`  ${section} ${bits} bits: mad ${f2(summary(mad).mean)}, ${renders} renders`);
    }
  }
  results.bits = { pairs: nPairs, table };
  console.log(`\n### Lowest bit plane (${nPairs} key pairs per width; the other section as shipped)\n`);
  console.log(
    '| section | bits/value | key bits | payload chars | mean abs diff | median [p10, p90] | pixels changed > 8 | random keys: nearest real | roughness | prompt keys: own caption | in top 10 |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [section, rows] of Object.entries(table)) {
    for (const [bits, t] of Object.entries(rows)) {
      console.log(
        `| ${section} | ${bits} | ${t.bits} | ${t.chars} | ${f2(t.mad.mean)} | ${f2(t.mad.median)} [${f2(t.mad.p10)}, ${f2(t.mad.p90)}] | ${pct(t.changed.mean)} | ${t.nearestReal.toFixed(3)} | ${f2(t.roughness)} | ${t.own.toFixed(3)} | ${pct(t.top10)} |`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 4. probes: what flipping one bit plane of a group of values does (candidate designs for what a page step changes)

if (parts.has('probes')) {
  const n = Number(args.pairs);
  const profile = model.profile;
  const [C, H, W] = model.shapes.latent;
  const T = model.shapes.tokens;
  const D = model.shapes.hidden;
  type Probe = {
    name: string;
    section: ArrayName;
    plane: number;
    flats: (y: number, x: number, t: number) => number[];
  };
  const patch = (size: number, channels: number) => (y: number, x: number) => {
    const out: number[] = [];
    for (let c = 0; c < channels; c++)
      for (let dy = 0; dy < size; dy++)
        for (let dx = 0; dx < size; dx++) out.push(c * H * W + ((y + dy) % H) * W + ((x + dx) % W));
    return out;
  };
  const probes: Probe[] = [
    { name: 'latent: 1 value, plane 1', section: 'latent', plane: 1, flats: patch(1, 1) },
    { name: 'latent: 1 value, plane 0', section: 'latent', plane: 0, flats: patch(1, 1) },
    { name: 'latent: 1×1×4 channels, plane 0', section: 'latent', plane: 0, flats: patch(1, C) },
    { name: 'latent: 2×2×4, plane 1', section: 'latent', plane: 1, flats: patch(2, C) },
    { name: 'latent: 2×2×4, plane 0', section: 'latent', plane: 0, flats: patch(2, C) },
    { name: 'latent: 4×4×4, plane 1', section: 'latent', plane: 1, flats: patch(4, C) },
    { name: 'latent: 4×4×4, plane 0', section: 'latent', plane: 0, flats: patch(4, C) },
    { name: 'embedding: 1 value, plane 0', section: 'embedding', plane: 0, flats: (_y, _x, t) => [t * D + (D >> 1)] },
    {
      name: 'embedding: 1 token (all dims), plane 1',
      section: 'embedding',
      plane: 1,
      flats: (_y, _x, t) => Array.from({ length: D }, (_, d) => t * D + d),
    },
    {
      name: 'embedding: 1 token (all dims), plane 0',
      section: 'embedding',
      plane: 0,
      flats: (_y, _x, t) => Array.from({ length: D }, (_, d) => t * D + d),
    },
  ];
  const rows: Record<string, { mad: number[]; changed: number[]; cos: number[] }> = {};
  const strip: Image[][] = [];
  for (const p of probes) rows[p.name] = { mad: [], changed: [], cos: [] };
  for (let i = 0; i < n; i++) {
    const key = randomKey(profile, BigInt(7000 + i));
    const d = decodeKey(parseKey(key, model.registry));
    const a = await render(model, key);
    const rnd = bitSource(i + 99);
    const pick = (m: number) => {
      let v = 0;
      for (let b = 0; b < 8; b++) v = (v << 1) | rnd();
      return v % m;
    };
    const [y, x, t] = [pick(H), pick(W), 1 + pick(Math.max(1, Math.min(T - 1, 4)))];
    const row: Image[] = [a];
    for (const p of probes) {
      const sec = profile[p.section];
      const values = d[p.section].slice();
      for (const flat of p.flats(y, x, t)) {
        const j = sec.stored.indexOf(flat);
        if (j < 0) continue; // a constant
        const coding = codingOf(profile, p.section, j);
        values[flat] = coding.decode(coding.encode(values[flat], flat) ^ (1 << (coding.bits - 1 - p.plane)), flat);
      }
      const k = encodeKey(profile, { steps: d.steps, embedding: d.embedding, latent: d.latent, [p.section]: values });
      const b = await render(model, k);
      const diff = pixelChange(a, b);
      rows[p.name].mad.push(diff.mad);
      rows[p.name].changed.push(diff.changed);
      rows[p.name].cos.push(cosine(await embedImage(a), await embedImage(b)));
      row.push(b);
    }
    if (i < 3) strip.push(row);
  }
  await grid(strip, 2, join(outDir, 'keyspace-probes.png'));
  const table = Object.fromEntries(
    Object.entries(rows).map(([s, r]) => [
      s,
      { mad: summary(r.mad), changed: summary(r.changed), cos: summary(r.cos) },
    ]),
  );
  results.probes = { keys: n, table };
  console.log(`\n### Probes (${n} random keys; one bit plane of a group of values flipped)\n`);
  console.log('| change | mean abs diff | median [p10, p90] | pixels changed > 8 | image-embedding cosine |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [s, t] of Object.entries(table)) {
    console.log(
      `| ${s} | ${f2(t.mad.mean)} | ${f2(t.mad.median)} [${f2(t.mad.p10)}, ${f2(t.mad.p90)}] | ${pct(t.changed.mean)} | ${t.cos.mean.toFixed(3)} |`,
    );
  }
}

const seconds = (performance.now() - t0) / 1000;
results[`run ${args.parts}`] = { renders, seconds, threads: Number(args.threads) };
// parts run separately (e.g. two processes on two cores) add to the same file when they measured the same model
const jsonPath = join(outDir, 'keyspace-measurements.json');
const earlier = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, 'utf8')) : null;
const sameModel = earlier?.model?.unet === (results.model as { unet: string }).unet;
writeFileSync(jsonPath, `${JSON.stringify(sameModel ? { ...earlier, ...results } : results, null, 1)}\n`);
log(`done: ${renders} renders in ${seconds.toFixed(0)} s`);
await model.release();

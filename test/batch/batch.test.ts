import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { type BatchResult, parseManifest, readManifest, runBatch } from '../../lib/batch/index.ts';
import { decodeNpy } from '../../lib/npy.ts';
import { readProvenance } from '../../lib/provenance.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { Renderer } from '../../pipeline/renderer/renderer.ts';
import { keyFor, TINY_EMOJI } from '../pipeline/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lob-batch-'));
let model: Model;
let pool: Renderer;
let key: string;

const ROWS = [
  { prompt: 'a red heart', seed: 1 },
  { prompt: 'a cat', seeds: 2, negative_prompt: 'blue' },
  { key: '', name: 'given' }, // filled with a real key in beforeAll
  { key: 'tinyemoji-1.notakey' },
  { prompt: 'a dog', colour: 'brown' },
  { image: 'missing.png' },
  { prompt: 'a sun', steps: 5 },
  { prompt: 'a moon', best_of: 2, name: 'moon' },
];

function manifestText(): string {
  return ROWS.map((r) => JSON.stringify('key' in r && r.key === '' ? { ...r, key } : r)).join('\n');
}

async function collect(out: string, extra: Partial<Parameters<typeof runBatch>[1]> = {}): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for await (const r of runBatch(parseManifest(manifestText(), 'jsonl'), {
    out,
    renderer: pool,
    baseDir: tmp,
    ...extra,
  }))
    results.push(r);
  return results;
}

/** Every file of a batch folder; manifest lines without `seconds` (the one field two runs do not share). */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const rel = path.slice(dir.length + 1);
    const bytes = readFileSync(path);
    files[rel] =
      rel === 'manifest.jsonl' ? bytes.toString('utf8').replace(/"seconds":[0-9.e-]+,/g, '') : bytes.toString('base64');
  }
  return files;
}

beforeAll(async () => {
  model = await loadModel(TINY_EMOJI, { intraOpNumThreads: 1 });
  key = await keyFor(model, 'a blue circle', 3, model.profile.steps.values[0]);
  pool = await Renderer.create({ modelDir: TINY_EMOJI, workers: 2, threadsPerWorker: 1 });
});

afterAll(async () => {
  await pool?.close();
  await model?.release();
  rmSync(tmp, { recursive: true, force: true });
});

describe('runBatch (the async iterator behind lob batch)', () => {
  let results: BatchResult[];
  const out = join(tmp, 'full');
  beforeAll(async () => {
    results = await collect(out, { gen5: true });
  });

  it('yields one result per row in row order; bad rows fail with their reason and the batch goes on', () => {
    expect(results.map((r) => [r.entry.name, r.entry.status])).toEqual([
      ['000001', 'ok'],
      ['000002-0', 'ok'],
      ['000002-1', 'ok'],
      ['given', 'ok'],
      ['000004', 'failed'],
      ['000005', 'failed'],
      ['000006', 'failed'],
      ['000007', 'failed'],
      ['moon', 'ok'],
    ]);
    const reasons = results.filter((r) => r.entry.status === 'failed').map((r) => r.entry.error);
    expect(reasons[0]).toMatch(/^bad key: /);
    expect(reasons[1]).toMatch(/unknown field colour/);
    expect(reasons[2]).toMatch(/cannot read image .*missing\.png/);
    expect(reasons[3]).toMatch(/steps 5 is not one the keyspace stores/);
    expect(results.every((r) => !r.skipped)).toBe(true);
  });

  it('writes images byte-identical to a render of the key, and the final latent as float32 .npy', async () => {
    for (const r of results.filter((x) => x.entry.status === 'ok')) {
      const e = r.entry;
      const rendered = await renderKey(model, e.key as string);
      expect(readFileSync(join(out, e.image as string)).equals(rendered.png)).toBe(true);
      const npy = decodeNpy(readFileSync(join(out, e.hidden as string)));
      expect(npy.dtype).toBe('<f4');
      expect(npy.shape).toEqual(model.shapes.latent);
      expect(npy.data).toEqual(rendered.finalLatent);
      expect(e.sha256?.image).toBe(rendered.pngSha256);
    }
    expect(results[3].entry.key).toBe(key);
    expect(results[1].entry.key).toMatch(/^tinyemoji-neg-1\./);
    expect(results[1].entry.seed).toBe('0');
    expect(results[2].entry.seed).toBe('1');
  });

  it('writes a .gen5 per row whose provenance is the key, and a README', async () => {
    const e = results[1].entry;
    const file = await decodeGen5(readFileSync(join(out, e.gen5 as string)));
    expect(readProvenance(file)?.key.text).toBe(e.key);
    expect(readProvenance(file)?.pipeline.unconditional).toBe('key-negative');
    expect(file.latents.map((l) => l.name)).toContain('negative_embedding');
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toMatch(/np\.load/);
  });

  it('skips every finished row when run again, leaving the folder as it was', async () => {
    const before = snapshot(out);
    const again = await collect(out, { gen5: true });
    expect(again.filter((r) => r.skipped)).toHaveLength(5);
    expect(snapshot(out)).toEqual(before);
  });

  it('renders a row again when its file no longer has the recorded hash', async () => {
    writeFileSync(join(out, 'images', 'given.png'), 'damaged');
    const again = await collect(out, { gen5: true });
    expect(again.find((r) => r.entry.name === 'given')?.skipped).toBe(false);
    expect(again.filter((r) => r.skipped)).toHaveLength(4);
    expect(readFileSync(join(out, 'images', 'given.png')).equals((await renderKey(model, key)).png)).toBe(true);
  });

  it('ends byte-identical when interrupted and resumed, as when run at once', async () => {
    const whole = join(tmp, 'whole');
    const pieces = join(tmp, 'pieces');
    await collect(whole);
    const controller = new AbortController();
    const first: BatchResult[] = [];
    for await (const r of runBatch(parseManifest(manifestText(), 'jsonl'), {
      out: pieces,
      renderer: pool,
      baseDir: tmp,
      signal: controller.signal,
    })) {
      first.push(r);
      if (first.length === 2) controller.abort();
    }
    // rows already under way when the signal came may still finish; the rest never start
    expect(first.length).toBeLessThan(9);
    const kept = [...(await readManifest(pieces)).values()].filter((e) => e.status === 'ok');
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(5);
    const resumed = await collect(pieces);
    expect(resumed.filter((r) => r.skipped).length).toBe(kept.length);
    expect(snapshot(pieces)).toEqual(snapshot(whole));
  });

  it("with saveSteps keeps every step's latent, [steps+1, C, H, W], the last one the final latent", async () => {
    const dir = join(tmp, 'steps');
    const rows = parseManifest(JSON.stringify({ key, name: 'k' }), 'jsonl');
    for await (const r of runBatch(rows, { out: dir, renderer: pool, saveSteps: true }))
      expect(r.entry.status).toBe('ok');
    const npy = decodeNpy(readFileSync(join(dir, 'hidden', 'k.npy')));
    const rendered = await renderKey(model, key);
    const steps = rendered.settings.timesteps.length;
    expect(npy.shape).toEqual([steps + 1, ...model.shapes.latent]);
    const n = rendered.finalLatent.length;
    expect(npy.data.subarray(steps * n)).toEqual(rendered.finalLatent);
    expect(npy.data.subarray(0, n)).toEqual(rendered.initialNoise);
  });
});

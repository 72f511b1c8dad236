import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../pipeline/errors.ts';
import { imageEmbeds } from '../../pipeline/model/image-encoder.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { encodeText } from '../../pipeline/model/text-encoder.ts';
import { Sampling } from '../../pipeline/render/generate.ts';
import { decodeModelKey } from '../../pipeline/render/keys.ts';
import { thumbnail } from '../../pipeline/render/ranking.ts';
import { cosine, defaultBestOf, defaultPreview, searchKey } from '../../pipeline/render/search.ts';
import { TINY_EMOJI, TINY_SD15 } from './helpers.ts';

const dirs: string[] = [];
function copyFixture(from = TINY_SD15): string {
  const dir = mkdtempSync(join(tmpdir(), 'lob-model-'));
  dirs.push(dir);
  cpSync(from, dir, { recursive: true });
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function loadError(dir: string): Promise<ModelLoadError> {
  const err = await loadModel(dir, { intraOpNumThreads: 1 }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelLoadError);
  return err as ModelLoadError;
}

describe('loading a diffusers ONNX folder', () => {
  it('reads the SD 1.5 interface from the sessions: int32 ids, int64 [batch] timestep, 77×768, 4×64×64 → 512×512', async () => {
    const model = await loadModel(TINY_SD15, { intraOpNumThreads: 1 });
    try {
      expect(model.shapes).toMatchObject({
        tokens: 77,
        hidden: 768,
        textIdsType: 'int32',
        latent: [4, 64, 64],
        timestepType: 'int64',
        timestepRank: 1,
        unetBatches: true,
        textEmbedsOutput: 'pooler_output',
        imageSize: [512, 512],
      });
      expect(model.folder.latentScaling).toBe(0.18215);
      expect(model.schedulerName).toBe('PNDMScheduler');
      expect(model.profile.id).toBe('sd768-64x64');
      expect(model.profile.embedding.shape).toEqual([77, 768]);
      expect(model.profile.latent.shape).toEqual([1, 4, 64, 64]);
      expect(Object.keys(model.folder.files)).toContain('unet/model.onnx');
      expect(model.folder.files['unet/model.onnx']).toMatch(/^[0-9a-f]{64}$/);
      expect(model.settings).toMatchObject({
        executionProvider: 'cpu',
        executionMode: 'sequential',
        intraOpNumThreads: 1,
      });
    } finally {
      await model.release();
    }
  });

  it('falls back to CPU with a warning saying why when a requested GPU provider cannot start', async () => {
    const model = await loadModel(TINY_SD15, { intraOpNumThreads: 1, executionProvider: 'cuda' });
    try {
      if (model.settings.executionProvider === 'cuda') {
        // a CUDA machine: the provider really is in use and nothing was reported
        expect(model.warnings).toEqual([]);
      } else {
        expect(model.settings).toMatchObject({ executionProvider: 'cpu', requestedExecutionProvider: 'cuda' });
        expect(model.warnings).toHaveLength(1);
        expect(model.warnings[0]).toMatch(/^execution provider cuda unavailable, falling back to cpu: \S/);
      }
    } finally {
      await model.release();
    }
  });

  it('names the folder when it does not exist', async () => {
    const err = await loadError('/nonexistent/lob-model');
    expect(err.file).toBe('/nonexistent/lob-model');
    expect(err.message).toMatch(/does not exist/);
  });

  it('names a missing model_index.json, unet or tokenizer', async () => {
    for (const rel of [
      'model_index.json',
      'unet/model.onnx',
      'tokenizer/tokenizer.json',
      'scheduler/scheduler_config.json',
    ]) {
      const dir = copyFixture();
      rmSync(join(dir, rel));
      const err = await loadError(dir);
      expect(err.file).toBe(join(dir, rel));
      expect(err.problem).toMatch(/missing/);
    }
  });

  it('names a corrupt ONNX file and a broken JSON file', async () => {
    const dir = copyFixture();
    writeFileSync(join(dir, 'vae_decoder/model.onnx'), Buffer.from('this is not a protobuf'));
    const err = await loadError(dir);
    expect(err.file).toBe(join(dir, 'vae_decoder/model.onnx'));
    expect(err.problem).toMatch(/onnxruntime cannot load it/);

    const dir2 = copyFixture();
    writeFileSync(join(dir2, 'scheduler/scheduler_config.json'), '{"_class_name": ');
    expect((await loadError(dir2)).problem).toMatch(/not valid JSON/);
  });

  it('opens the image encoder on first use (renders never need it) and names it when it is corrupt', async () => {
    const dir = copyFixture(TINY_EMOJI);
    writeFileSync(join(dir, 'image_encoder/model.onnx'), Buffer.from('not onnx'));
    const model = await loadModel(dir, { intraOpNumThreads: 1 });
    try {
      await searchKey(model, 'red cat', { seed: 1 }); // no ranking: fine
      const err = await searchKey(model, 'red cat', { seed: 1, bestOf: 2 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelLoadError);
      expect((err as ModelLoadError).file).toBe(join(dir, 'image_encoder/model.onnx'));
    } finally {
      await model.release();
    }
  });

  it('refuses a scheduler it cannot run exactly, naming scheduler_config.json', async () => {
    const dir = copyFixture();
    writeFileSync(
      join(dir, 'scheduler/scheduler_config.json'),
      JSON.stringify({ _class_name: 'HeunDiscreteScheduler' }),
    );
    const err = await loadError(dir);
    expect(err.file).toBe(join(dir, 'scheduler/scheduler_config.json'));
    expect(err.problem).toMatch(/not supported/);
  });

  it('checks a keyspace.json against the session shapes', async () => {
    const dir = copyFixture();
    writeFileSync(
      join(dir, 'keyspace.json'),
      JSON.stringify({
        format: 'lob-keyspace-profile/1',
        id: 'wrong',
        version: 1,
        model: 'x',
        sections: [
          { name: 'steps', kind: 'steps', values: [4] },
          {
            name: 'embedding',
            kind: 'embedding',
            shape: [16, 64],
            coding: { type: 'quantile', bits: 4, distribution: { type: 'standard-normal' } },
          },
          {
            name: 'latent',
            kind: 'latent',
            shape: [1, 4, 64, 64],
            coding: { type: 'quantile', bits: 4, distribution: { type: 'standard-normal' } },
          },
        ],
      }),
    );
    const err = await loadError(dir);
    expect(err.file).toBe(join(dir, 'keyspace.json'));
    expect(err.problem).toMatch(/embedding shape \[16,64\]/);
  });
  it("searches rank the model's own number of candidates (lob.search_best_of) when the caller names none", async () => {
    const dir = copyFixture(TINY_EMOJI);
    setLob(dir, { search_best_of: 3 });
    const model = await loadModel(dir, { intraOpNumThreads: 1 });
    try {
      expect(defaultBestOf(model)).toBe(3);
      const plain = await searchKey(model, 'happy red cat', { seed: 5 });
      expect(plain.candidates).toHaveLength(3);
      expect(plain.key).toBe((await searchKey(model, 'happy red cat', { seed: 5, bestOf: 3 })).key);
      const one = await searchKey(model, 'happy red cat', { seed: 5, bestOf: 1 });
      expect(one.candidates).toHaveLength(1);
      expect(one.key).toBe(plain.candidates[0].key);
    } finally {
      await model.release();
    }
  });

  it('refuses a lob.search_best_of that is not 1..64, or above 1 without an image encoder', async () => {
    for (const bad of [0, 65, 2.5, '4']) {
      const dir = copyFixture(TINY_EMOJI);
      setLob(dir, { search_best_of: bad });
      const err = await loadError(dir);
      expect(err.file).toBe(join(dir, 'model_index.json'));
      expect(err.problem).toBe(`"lob.search_best_of" must be an integer from 1 to 64, got ${JSON.stringify(bad)}`);
    }
    const dir = copyFixture(TINY_EMOJI);
    setLob(dir, { search_best_of: 2 });
    rmSync(join(dir, 'image_encoder'), { recursive: true });
    expect((await loadError(dir)).problem).toMatch(/search_best_of" is 2, but ranking candidates needs image_encoder/);
  });
});

describe('early ranking of search candidates (lob.search_preview)', () => {
  it('ranks every candidate part-way, finishes only the best previews, and keeps the best finished one', async () => {
    const dir = copyFixture(TINY_EMOJI);
    setLob(dir, { search_best_of: 6, search_preview: { after_steps: 2, keep: 2 } });
    const model = await loadModel(dir, { intraOpNumThreads: 1 });
    try {
      expect(defaultPreview(model)).toEqual({ afterSteps: 2, keep: 2 });
      const early = await searchKey(model, 'happy red cat', { seed: 9 });
      const full = await searchKey(model, 'happy red cat', { seed: 9, preview: null });
      // the same six keys either way: the preview only decides which of them finish
      expect(early.candidates.map((c) => c.key)).toEqual(full.candidates.map((c) => c.key));
      const finished = early.candidates.filter((c) => c.score !== null);
      expect(finished).toHaveLength(2);
      const previews = early.candidates.map((c) => c.previewScore as number);
      expect(previews.every(Number.isFinite)).toBe(true);
      const cutoff = [...previews].sort((a, b) => b - a)[1];
      for (const c of finished) expect(c.previewScore).toBeGreaterThanOrEqual(cutoff);
      // a finished candidate scores what it scores when every candidate finishes, and the best of them wins
      for (const c of finished) expect(c.score).toBe(full.candidates.find((f) => f.key === c.key)?.score);
      const best = finished.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
      expect(early.key).toBe(best.key);
      expect(early.score).toBe(best.score);
      expect(full.candidates.every((c) => c.score !== null && c.previewScore === undefined)).toBe(true);
      // the estimate is the sampler's x0: after the last step (to alpha_cumprod[0] ≈ 0.99915) it is the finished
      // latent but for a sqrt(1 − 0.99915) share of noise
      const d = decodeModelKey(model, early.key);
      const input = { steps: d.steps, embedding: d.embedding, latent: d.latent, guidanceScale: model.guidanceScale };
      const run = Sampling.start(model, input);
      expect(run.preview()).toBeNull();
      await run.advance(run.total);
      const x0 = run.preview() as Float32Array;
      const done = await run.finish();
      const dist = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
      expect(dist(x0, done.finalLatent)).toBeGreaterThan(0);
      expect(dist(x0, done.finalLatent)).toBeLessThan(0.05 * dist(done.initialNoise, done.finalLatent));
      // reproducible, and a preview at or past the last step finishes every candidate
      expect((await searchKey(model, 'happy red cat', { seed: 9 })).key).toBe(early.key);
      const late = await searchKey(model, 'happy red cat', { seed: 9, preview: { afterSteps: 99, keep: 1 } });
      expect(late.candidates.every((c) => c.score !== null)).toBe(true);
      expect(late.key).toBe(full.key);
    } finally {
      await model.release();
    }
  });

  it('refuses a lob.search_preview that is not {after_steps ≥ 1, keep 1..64}', async () => {
    for (const bad of [4, { after_steps: 0, keep: 2 }, { after_steps: 4 }, { after_steps: 4, keep: 65 }, [4, 3]]) {
      const dir = copyFixture(TINY_EMOJI);
      setLob(dir, { search_preview: bad });
      const err = await loadError(dir);
      expect(err.file).toBe(join(dir, 'model_index.json'));
      expect(err.problem).toBe(
        `"lob.search_preview" must be {"after_steps": an integer ≥ 1, "keep": an integer from 1 to 64}, got ${JSON.stringify(bad)}`,
      );
    }
  });
});

function setLob(dir: string, fields: Record<string, unknown>): void {
  const path = join(dir, 'model_index.json');
  const index = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...index, lob: { ...index.lob, ...fields } }));
}

describe('ranking search candidates by p(prompt | image) (search_ranking/)', () => {
  const NAMES = ['grinning face', 'red heart', 'pizza', 'dog face', 'flag: france', 'rocket'];

  /**
   * Format 1 (the names' text embeddings), or format 2 with `byPictures`: prototypes and 4 × 4 thumbnails from a
   * picture of each name.
   */
  async function writeRanking(dir: string, scale = 30, byPictures = false): Promise<void> {
    const model = await loadModel(dir, { intraOpNumThreads: 1 });
    try {
      const rows = await Promise.all(NAMES.map(async (n) => (await encodeText(model, n)).textEmbeds as Float32Array));
      mkdirSync(join(dir, 'search_ranking'));
      writeFileSync(join(dir, 'search_ranking', 'embeds.f32'), flatBytes(rows));
      const config = { format: 'lob-search-ranking/1', scale, dim: rows[0].length, names: NAMES };
      if (byPictures) {
        const pictures = await namePictures(model);
        const thumbs = pictures.map((p) => thumbnail(p.rgb, p.height, p.width, 4));
        writeFileSync(join(dir, 'search_ranking', 'prototypes.f32'), flatBytes(pictures.map((p) => p.embeds)));
        writeFileSync(join(dir, 'search_ranking', 'thumbnails.f32'), flatBytes(thumbs));
        const thumbnails = { side: 4, temperature: 0.03 };
        Object.assign(config, { format: 'lob-search-ranking/2', target_temperature: 100, thumbnails });
      }
      writeFileSync(join(dir, 'search_ranking', 'config.json'), JSON.stringify(config));
    } finally {
      await model.release();
    }
  }

  type Model = Awaited<ReturnType<typeof loadModel>>;
  /** A key's finished picture and its image embedding. */
  async function picture(model: Model, key: string) {
    const d = decodeModelKey(model, key);
    const input = { steps: d.steps, embedding: d.embedding, latent: d.latent, guidanceScale: model.guidanceScale };
    const { rgb, height, width } = await Sampling.start(model, input).finish();
    return { embeds: await imageEmbeds(model, rgb, height, width), rgb, height, width };
  }

  /** Each name's stand-in training picture: its own search at seed 1. */
  async function namePictures(model: Model) {
    const out = [];
    for (const n of NAMES) out.push(await picture(model, (await searchKey(model, n, { seed: 1 })).key));
    return out;
  }

  it('keeps the candidate the image encoder names as the prompt most surely among every reference name', async () => {
    const dir = copyFixture(TINY_EMOJI);
    await writeRanking(dir);
    const model = await loadModel(dir, { intraOpNumThreads: 1 });
    try {
      const result = await searchKey(model, 'happy red cat', { seed: 3, bestOf: 5 });
      // recomputed here from the finished pictures: log of the prompt's softmax share among itself and the names
      const prompt = (await encodeText(model, 'happy red cat')).textEmbeds as Float32Array;
      const refs = await Promise.all(NAMES.map(async (n) => (await encodeText(model, n)).textEmbeds as Float32Array));
      const want: number[] = [];
      for (const c of result.candidates) {
        const img = (await picture(model, c.key)).embeds;
        const logits = [prompt, ...refs].map((e) => 30 * cosine(img, e));
        const max = Math.max(...logits);
        want.push(logits[0] - max - Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0)));
      }
      for (const [i, c] of result.candidates.entries()) expect(c.score).toBeCloseTo(want[i], 3);
      expect(result.candidates.every((c) => (c.score as number) < 0)).toBe(true);
      expect(result.key).toBe(result.candidates[want.indexOf(Math.max(...want))].key);
      // the same search without references ranks by cosine: scores in [-1, 1], the same keys
      rmSync(join(dir, 'search_ranking'), { recursive: true });
      const plain = await loadModel(dir, { intraOpNumThreads: 1 });
      try {
        const byCosine = await searchKey(plain, 'happy red cat', { seed: 3, bestOf: 5 });
        expect(byCosine.candidates.map((c) => c.key)).toEqual(result.candidates.map((c) => c.key));
        expect(byCosine.candidates.every((c) => Math.abs(c.score as number) <= 1)).toBe(true);
      } finally {
        await plain.release();
      }
    } finally {
      await model.release();
    }
  });

  it('with prototypes and thumbnails (format 2) keeps the candidate most surely a picture of its nearest names', async () => {
    const dir = copyFixture(TINY_EMOJI);
    await writeRanking(dir, 10, true);
    const model = await loadModel(dir, { intraOpNumThreads: 1 });
    try {
      const ranking = model.folder.searchRanking;
      expect(ranking?.prototypes?.length).toBe(NAMES.length * (ranking?.dim ?? 0));
      expect(ranking?.thumbnails?.rows.length).toBe(NAMES.length * 4 * 4 * 3);
      const result = await searchKey(model, 'happy red cat', { seed: 3, bestOf: 5 });
      // recomputed here: weights softmax(100 · text cosine to each name) mix the prototypes into the prompt's target
      // and average its names' pixel distances
      const prompt = (await encodeText(model, 'happy red cat')).textEmbeds as Float32Array;
      const texts = await Promise.all(NAMES.map(async (n) => (await encodeText(model, n)).textEmbeds as Float32Array));
      const names = await namePictures(model);
      const raw = texts.map((t) => Math.exp(100 * (cosine(prompt, t) - 1)));
      const weights = raw.map((w) => w / raw.reduce((a, b) => a + b, 0));
      const protos = names.map((p) => p.embeds);
      const target = Float32Array.from(prompt.map((_, i) => protos.reduce((s, p, r) => s + weights[r] * p[i], 0)));
      const thumbs = names.map((p) => thumbnail(p.rgb, p.height, p.width, 4));
      const want: number[] = [];
      for (const c of result.candidates) {
        const pic = await picture(model, c.key);
        const byEmbeds = logShare([target, ...protos].map((e) => 10 * cosine(pic.embeds, e)));
        const own = thumbnail(pic.rgb, pic.height, pic.width, 4);
        const pixels = thumbs.map((t) => -t.reduce((s, v, i) => s + (v - own[i]) ** 2, 0) / t.length / 0.03);
        const expected = pixels.reduce((s, l, r) => s + weights[r] * l, 0);
        want.push(byEmbeds + logShare([expected, ...pixels]));
      }
      for (const [i, c] of result.candidates.entries()) expect(c.score).toBeCloseTo(want[i], 3);
      expect(result.key).toBe(result.candidates[want.indexOf(Math.max(...want))].key);
    } finally {
      await model.release();
    }
  });

  it('names search_ranking/ files that are missing, the wrong size or malformed', async () => {
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['embeds.f32', (d) => rmSync(join(d, 'search_ranking', 'embeds.f32')), /missing/],
      [
        'embeds.f32',
        (d) => writeFileSync(join(d, 'search_ranking', 'embeds.f32'), new Uint8Array(12)),
        /12 bytes, but 6 names × \d+ float32 values need \d+/,
      ],
      [
        'embeds.f32',
        (d) =>
          writeFileSync(
            join(d, 'search_ranking', 'embeds.f32'),
            new Uint8Array(readFileSync(join(d, 'search_ranking', 'embeds.f32')).length).fill(0xff),
          ),
        /NaN or infinite/,
      ],
      ['config.json', (d) => writeFileSync(join(d, 'search_ranking', 'config.json'), '{"format":'), /not valid JSON/],
      ['config.json', (d) => patchConfig(d, { format: 'other/1' }), /"format" must be one of lob-search-ranking\/1, /],
      ['config.json', (d) => patchConfig(d, { scale: -1 }), /"scale" must be a number/],
      ['config.json', (d) => patchConfig(d, { dim: 0 }), /"dim" must be an integer/],
      ['config.json', (d) => patchConfig(d, { names: [1, 2, 3, 4, 5, 6] }), /"names" must hold strings only/],
      ['config.json', (d) => patchConfig(d, { names: [] }), /"names" must be an array of 1 to 100000 strings/],
    ];
    const good = copyFixture(TINY_EMOJI);
    await writeRanking(good);
    await checkSpoiled(good, cases);
  });

  it('names format 2 files that are missing or malformed: prototypes.f32 and target_temperature', async () => {
    const good = copyFixture(TINY_EMOJI);
    await writeRanking(good, 10, true);
    await checkSpoiled(good, [
      ['prototypes.f32', (d) => rmSync(join(d, 'search_ranking', 'prototypes.f32')), /missing/],
      [
        'prototypes.f32',
        (d) => writeFileSync(join(d, 'search_ranking', 'prototypes.f32'), new Uint8Array(8)),
        /8 bytes/,
      ],
      [
        'prototypes.f32',
        (d) =>
          writeFileSync(
            join(d, 'search_ranking', 'prototypes.f32'),
            new Uint8Array(readFileSync(join(d, 'search_ranking', 'prototypes.f32')).length),
          ),
        /row 0 is all zeros/,
      ],
      [
        'thumbnails.f32',
        (d) => writeFileSync(join(d, 'search_ranking', 'thumbnails.f32'), new Uint8Array(4)),
        /4 bytes/,
      ],
      ['thumbnails.f32', (d) => rmSync(join(d, 'search_ranking', 'thumbnails.f32')), /missing/],
      ['config.json', (d) => patchConfig(d, { thumbnails: { side: 0, temperature: 1 } }), /"thumbnails.side" must be/],
      [
        'config.json',
        (d) => patchConfig(d, { thumbnails: { side: 4, temperature: -1 } }),
        /"thumbnails.temperature" must be a number/,
      ],
      ['config.json', (d) => patchConfig(d, { thumbnails: [4] }), /"thumbnails" must be an object/],
      ['config.json', (d) => patchConfig(d, { target_temperature: 0 }), /"target_temperature" must be a number/],
      ['config.json', (d) => patchConfig(d, { target_temperature: 'hot' }), /"target_temperature" must be a number/],
    ]);
  });

  async function checkSpoiled(good: string, cases: [string, (dir: string) => void, RegExp][]): Promise<void> {
    for (const [file, spoil, problem] of cases) {
      const dir = copyFixture(good);
      spoil(dir);
      const err = await loadError(dir);
      expect(err.file).toBe(join(dir, 'search_ranking', file));
      expect(err.problem).toMatch(problem);
    }
  }
});

/** The rows as one little-endian float32 file's bytes. */
function flatBytes(rows: Float32Array[]): Uint8Array {
  const out = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => {
    out.set(r, i * r.length);
  });
  return new Uint8Array(out.buffer);
}

/** log of the first logit's softmax share among all of them. */
function logShare(logits: number[]): number {
  const max = Math.max(...logits);
  return logits[0] - max - Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
}

function patchConfig(dir: string, fields: Record<string, unknown>): void {
  const path = join(dir, 'search_ranking', 'config.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...fields }));
}

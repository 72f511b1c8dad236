import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { guidedKey, parseKey } from '../../keyspace/index.ts';
import { type BatchResult, parseManifest, runBatch } from '../../lib/batch/index.ts';
import { readProvenance } from '../../lib/provenance.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { searchKey } from '../../pipeline/render/search.ts';
import { Renderer } from '../../pipeline/renderer/renderer.ts';
import { TINY_EMOJI } from '../pipeline/helpers.ts';

// Batch rows with guidance (issue #13): the scale goes into the row's key, so the key stays the whole recipe. On the
// tiny emoji-shaped model, whose own scale is 3.
const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'lob-batch-guidance-'));
let model: Model;
let pool: Renderer;
let plain: string;
let carried: string;

const at = (key: string, scale: number) => guidedKey(parseKey(key, model.registry), scale, model.registry);

function rows() {
  return [
    { prompt: 'a red heart', seed: 1, guidance: 7.5, name: 'prompt' },
    { prompt: 'a cat', seed: 2, guidance: 2, negative_prompt: 'blue', name: 'negative' },
    { key: plain, guidance: 9, name: 'key' },
    { key: carried, name: 'carried' },
    { key: carried, guidance: 4, name: 'clash' },
    { image: 'x.png', guidance: 2, name: 'image' },
    { prompt: 'a moon', seed: 3, guidance: 3, name: 'own-scale' },
  ];
}

async function collect(out: string): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  const manifest = parseManifest(
    rows()
      .map((r) => JSON.stringify(r))
      .join('\n'),
    'jsonl',
  );
  for await (const r of runBatch(manifest, { out, renderer: pool, baseDir: tmp, gen5: true })) results.push(r);
  return results;
}

function lob(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'lob.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file of a folder except .gen5 (gen5 records the date it was written); manifest lines without `seconds`. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.gen5')) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = readFileSync(path);
    files[path.slice(dir.length + 1)] = entry.name.endsWith('.jsonl')
      ? bytes.toString('utf8').replace(/"seconds":[0-9.e-]+,/g, '')
      : bytes.toString('base64');
  }
  return files;
}

beforeAll(async () => {
  model = await loadModel(TINY_EMOJI, { intraOpNumThreads: 1 });
  plain = (await searchKey(model, 'a blue circle', { seed: 4 })).key;
  carried = (await searchKey(model, 'a green tree', { seed: 6, guidance: 2.5 })).key;
  pool = await Renderer.create({ modelDir: TINY_EMOJI, workers: 2, threadsPerWorker: 1 });
});

afterAll(async () => {
  await pool?.close();
  await model?.release();
  rmSync(tmp, { recursive: true, force: true });
});

describe('batch rows with guidance', () => {
  const out = join(tmp, 'api');
  let results: BatchResult[];
  const entry = (name: string) => results.find((r) => r.entry.name === name)?.entry;
  beforeAll(async () => {
    results = await collect(out);
  });

  it("renders a row whose guidance differs from the model's, with the scale in its key", async () => {
    expect(results.map((r) => [r.entry.name, r.entry.status])).toEqual([
      ['prompt', 'ok'],
      ['negative', 'ok'],
      ['key', 'ok'],
      ['carried', 'ok'],
      ['clash', 'failed'],
      ['image', 'failed'],
      ['own-scale', 'ok'],
    ]);
    expect(entry('prompt')?.key).toBe((await searchKey(model, 'a red heart', { seed: 1, guidance: 7.5 })).key);
    expect(entry('prompt')?.key).toMatch(/^tinyemoji-cfg-1\./);
    expect(entry('negative')?.key).toMatch(/^tinyemoji-neg-cfg-1\./);
    expect(entry('key')?.key).toBe(at(plain, 9));
    expect(entry('carried')?.key).toBe(carried);
    // a row that gives the model's own scale still keeps it in the key: the key says it, whatever the model's default
    expect(entry('own-scale')?.key).toMatch(/^tinyemoji-cfg-1\./);
    expect(['prompt', 'negative', 'key', 'carried', 'own-scale'].map((n) => entry(n)?.guidance)).toEqual([
      7.5, 2, 9, 2.5, 3,
    ]);
    expect(entry('clash')).toMatchObject({
      error_kind: 'input',
      error: 'bad key: the key already carries guidance 2.5, not 4',
    });
    expect(entry('image')).toMatchObject({ error_kind: 'input' });
    expect(entry('image')?.error).toMatch(/guidance does not apply to image rows/);
  });

  it('writes images byte-identical to a render of the key, and .gen5 files whose provenance has key and scale', async () => {
    for (const r of results.filter((x) => x.entry.status === 'ok')) {
      const e = r.entry;
      const rendered = await renderKey(model, e.key as string);
      expect(rendered.guidance).toBe(e.guidance);
      expect(readFileSync(join(out, e.image as string)).equals(rendered.png)).toBe(true);
      const provenance = readProvenance(await decodeGen5(readFileSync(join(out, e.gen5 as string))));
      expect(provenance?.key.text).toBe(e.key);
      expect(provenance?.pipeline.guidance).toBe(e.guidance);
    }
  });

  it('skips every finished row when run again, leaving the folder as it was', async () => {
    const before = snapshot(out);
    const again = await collect(out);
    expect(again.filter((r) => r.skipped).map((r) => r.entry.name)).toEqual([
      'prompt',
      'negative',
      'key',
      'carried',
      'own-scale',
    ]);
    expect(snapshot(out)).toEqual(before);
  });
});

describe('lob batch --guidance, lob search --guidance and lob render of the keys', () => {
  it('a batch at another guidance gives keys that lob render turns into the same bytes; search gives the same key', () => {
    const manifest = join(tmp, 'rows.jsonl');
    writeFileSync(
      manifest,
      `${JSON.stringify({ prompt: 'a red heart', seed: 1 })}\n${JSON.stringify({ key: plain })}\n`,
    );
    const dir = join(tmp, 'cli');
    const batch = lob(['batch', manifest, '--out', dir, '--guidance', '7.5', '--workers', '1', '--model', TINY_EMOJI]);
    expect(batch.stderr).not.toMatch(/failed/);
    expect(batch.code).toBe(0);
    const lines = readFileSync(join(dir, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.guidance)).toEqual([7.5, 7.5]);
    expect(lines[1].key).toBe(at(plain, 7.5));
    for (const [i, line] of lines.entries()) {
      const keyFile = join(tmp, `key-${i}.txt`);
      writeFileSync(keyFile, line.key);
      const png = join(tmp, `render-${i}.png`);
      expect(lob(['render', `@${keyFile}`, '-o', png, '--model', TINY_EMOJI]).code).toBe(0);
      expect(readFileSync(png).equals(readFileSync(join(dir, line.image)))).toBe(true);
    }
    const search = lob(['search', 'a red heart', '--seed', '1', '--guidance', '7.5', '--model', TINY_EMOJI]);
    expect(search.code).toBe(0);
    expect(search.stdout.trim().split('\n').at(-1)).toBe(lines[0].key);
  }, 180_000);

  it('refuses a scale no key can carry: exit 2, saying which scales there are', () => {
    const search = lob(['search', 'x', '--guidance', '7.3', '--model', TINY_EMOJI]);
    expect(search.code).toBe(2);
    expect(search.stderr).toMatch(/guidance 7\.3 is not one a key can carry \(1, 1\.25, 1\.5, …, 16\.75/);
    const batch = lob(['batch', join(tmp, 'rows.jsonl'), '--out', join(tmp, 'bad'), '--guidance', '0.5']);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/guidance 0\.5 is not one a key can carry/);
  }, 60_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The route handlers called in-process with real Requests, over the committed tiny SD-1.5-shaped model: its keys
// are ~159,000 characters and its images 512×512, the sizes the API must carry without trouble. (The browser
// tests run the default emoji model.)
const MODEL = resolve(import.meta.dirname, '../fixtures/tiny-sd15');
const cacheDir = mkdtempSync(join(tmpdir(), 'lob-api-cache-'));
process.env.LOB_MODEL = MODEL;
process.env.LOB_CACHE_DIR = cacheDir;
process.env.LOB_WORKERS = '1';

const routes = {
  model: await import('../../app/api/model/route.ts'),
  random: await import('../../app/api/random/route.ts'),
  search: await import('../../app/api/search/route.ts'),
  render: await import('../../app/api/render/route.ts'),
  neighbour: await import('../../app/api/neighbour/route.ts'),
  export: await import('../../app/api/export/route.ts'),
  import: await import('../../app/api/import/route.ts'),
  missing: await import('../../app/api/[...missing]/route.ts'),
  progress: await import('../../app/api/progress/route.ts'),
  walk: await import('../../app/api/walk/route.ts'),
};
const { errorResponse } = await import('../../lib/http.ts');
const { keyHash } = await import('../../lib/render-cache.ts');
const { getLibrary, Library, optionsFromEnv } = await import('../../lib/library.ts');
const { canonicalString, encodeGen5 } = await import('../../gen5/index.ts');
const { buildGen5Input } = await import('../../lib/provenance.ts');
const { currentEnvironment } = await import('../../lib/environment.ts');

function post(body: BodyInit, type = 'application/json'): Request {
  return new Request('http://localhost/api', { method: 'POST', headers: { 'content-type': type }, body });
}
const json = (value: unknown) => post(JSON.stringify(value));

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string; index?: number }> {
  const body = (await response.json()) as { error: { code: string; message: string; index?: number } };
  return { status: response.status, ...body.error };
}

let key: string;

describe('HTTP API', () => {
  beforeAll(async () => {
    const response = await routes.random.GET(new Request('http://localhost/api/random'));
    expect(response.status).toBe(200);
    key = ((await response.json()) as { key: string }).key;
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('describes the model, its key length and its strides', async () => {
    const info = await (await routes.model.GET(new Request('http://localhost/api/model'))).json();
    expect(info).toMatchObject({ name: 'tiny-sd15', profileId: 'sd768-64x64-1', keyLength: key.length });
    expect(info.strides.map((s: { name: string }) => s.name)).toEqual(['page', 'book', 'shelf', 'wall']);
  });

  it('gives a different random key each time', async () => {
    const again = (await (await routes.random.GET(new Request('http://localhost/api/random'))).json()).key;
    expect(again).toHaveLength(key.length);
    expect(again).not.toBe(key);
  });

  it('renders a key to a PNG, the same bytes every time', async () => {
    const first = await routes.render.POST(json({ key }));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await first.arrayBuffer());
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    const second = Buffer.from(await (await routes.render.POST(json({ key }))).arrayBuffer());
    expect(second.equals(bytes)).toBe(true);
  });

  it('answers a bad key with 400 bad_key naming the character index', async () => {
    const broken = `${key.slice(0, 40)}*${key.slice(41)}`;
    const error = await errorOf(await routes.render.POST(json({ key: broken })));
    expect(error).toMatchObject({ status: 400, code: 'bad_key', index: 40 });
    expect(error.message).toContain('40');
    const short = await errorOf(await routes.render.POST(json({ key: key.slice(0, -5) })));
    expect(short).toMatchObject({ status: 400, code: 'bad_key' });
  });

  it('reports a render under way step by step, then idle', async () => {
    // A searched key has the model's default step count (20 here), so there are steps to watch.
    const fresh = (await (await routes.search.POST(json({ prompt: 'a lantern', seed: 11 }))).json()).key as string;
    const url = `http://localhost/api/progress?key=${keyHash(fresh)}`;
    const seen: { state: string; done: number; total: number }[] = [];
    const rendering = routes.render.POST(json({ key: fresh }));
    let finished = false;
    void rendering.then(() => {
      finished = true;
    });
    while (!finished) {
      seen.push(await (await routes.progress.GET(new Request(url))).json());
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await rendering).status).toBe(200);
    const steps = seen.filter((p) => p.state === 'rendering');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((p) => p.done >= 1 && p.done <= p.total)).toBe(true);
    expect(await (await routes.progress.GET(new Request(url))).json()).toEqual({ state: 'idle', done: 0, total: 0 });
    const bad = await errorOf(await routes.progress.GET(new Request('http://localhost/api/progress?key=abc')));
    expect(bad).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('answers malformed requests with 400 and what was wrong', async () => {
    expect(await errorOf(await routes.render.POST(post('{not json')))).toMatchObject({ status: 400, code: 'bad_json' });
    expect(await errorOf(await routes.render.POST(json({ kee: key })))).toMatchObject({
      status: 400,
      code: 'bad_request',
      message: '"key" must be a non-empty string',
    });
    expect(await errorOf(await routes.render.POST(json([key])))).toMatchObject({ status: 400, code: 'bad_json' });
  });

  it('answers a wrong method with a JSON 405 naming the right one, and an unknown endpoint with a JSON 404', async () => {
    const wrong = routes.render.GET();
    expect(await errorOf(wrong)).toMatchObject({ status: 405, code: 'method_not_allowed' });
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(routes.random.POST().headers.get('allow')).toBe('GET');
    const missing = await errorOf(routes.missing.GET(new Request('http://localhost/api/renderr')));
    expect(missing).toMatchObject({ status: 404, code: 'not_found', message: 'no API endpoint /api/renderr' });
  });

  it('refuses a JSON body over the limit with 413', async () => {
    const huge = JSON.stringify({ key: 'A'.repeat(1024 * 1024 + 10) });
    expect(await errorOf(await routes.render.POST(post(huge)))).toMatchObject({ status: 413, code: 'too_large' });
  });

  it('steps to a neighbour and back', async () => {
    const next = (await (await routes.neighbour.POST(json({ key, by: 1, stride: 'page' }))).json()).key;
    expect(next).not.toBe(key);
    expect(next).toHaveLength(key.length);
    const back = (await (await routes.neighbour.POST(json({ key: next, by: -1, stride: 'page' }))).json()).key;
    expect(back).toBe(key);
    const far = (await (await routes.neighbour.POST(json({ key, by: 1, stride: 'shelf' }))).json()).key;
    expect(far).not.toBe(next);
    const bad = await errorOf(await routes.neighbour.POST(json({ key, by: 1, stride: 'galaxy' })));
    expect(bad).toMatchObject({ status: 400, code: 'bad_request' });
    expect(bad.message).toContain('galaxy');
  });

  it('searches a prompt: the same seed gives the same key, another seed another key', async () => {
    const a = (await (await routes.search.POST(json({ prompt: 'cat', seed: 7 }))).json()).key;
    const b = (await (await routes.search.POST(json({ prompt: 'cat', seed: 7 }))).json()).key;
    const c = (await (await routes.search.POST(json({ prompt: 'cat', seed: 8 }))).json()).key;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(await errorOf(await routes.search.POST(json({ prompt: '   ' })))).toMatchObject({ status: 400 });
    expect(await errorOf(await routes.search.POST(json({ prompt: 'cat', seed: 1.5 })))).toMatchObject({
      status: 400,
      message: expect.stringContaining('"seed" must be an integer from 0 to 2^64 − 1'),
    });
  });

  it('searches with "avoid" text: the key carries it (the -neg profile), renders, exports and imports back', async () => {
    const plain = (await (await routes.search.POST(json({ prompt: 'cat', seed: 7 }))).json()).key;
    const blank = (await (await routes.search.POST(json({ prompt: 'cat', seed: 7, negative: '  ' }))).json()).key;
    const avoid = (await (await routes.search.POST(json({ prompt: 'cat', seed: 7, negative: 'dog' }))).json()).key;
    expect(blank).toBe(plain);
    expect(avoid).toMatch(/^[a-z0-9-]+-neg-[0-9]+\./);
    const png = await routes.render.POST(json({ key: avoid }));
    expect(png.status).toBe(200);
    const exported = new Uint8Array(await (await routes.export.POST(json({ key: avoid }))).arrayBuffer());
    const imported = await routes.import.POST(post(exported, 'application/octet-stream'));
    expect(await imported.json()).toEqual({ key: avoid, verified: true, warnings: [] });
    expect(await errorOf(await routes.search.POST(json({ prompt: 'cat', negative: 3 })))).toMatchObject({
      status: 400,
      message: '"negative" must be a string',
    });
  });

  it('searches at a guidance scale: the key keeps it (the -cfg profile) and renders; other scales are refused', async () => {
    const plain = (await (await routes.search.POST(json({ prompt: 'cat', seed: 7 }))).json()).key as string;
    const guided = (await (await routes.search.POST(json({ prompt: 'cat', seed: 7, guidance: 9.5 }))).json())
      .key as string;
    expect(guided).toMatch(/^[a-z0-9-]+-cfg-[0-9]+\./);
    expect(guided).not.toBe(plain);
    const png = await routes.render.POST(json({ key: guided }));
    expect(png.status).toBe(200);
    expect(await errorOf(await routes.search.POST(json({ prompt: 'cat', guidance: 9.3 })))).toMatchObject({
      status: 400,
      message: expect.stringContaining('guidance 9.3 is not one a key can carry'),
    });
    expect(await errorOf(await routes.search.POST(json({ prompt: 'cat', guidance: '9' })))).toMatchObject({
      status: 400,
      message: '"guidance" must be a number',
    });
  });

  it('walks from one key to another: the ends are the two keys, every frame a key; frames are limited', async () => {
    const other = (await (await routes.random.GET(new Request('http://localhost/api/random'))).json()).key;
    const response = await routes.walk.POST(json({ from: key, to: other, frames: 4 }));
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: string[] };
    expect(keys).toHaveLength(4);
    expect([keys[0], keys[3]]).toEqual([key, other]);
    const mid = await routes.render.POST(json({ key: keys[1] }));
    expect(mid.status).toBe(200);
    expect(await errorOf(await routes.walk.POST(json({ from: key, to: other, frames: 33 })))).toMatchObject({
      status: 400,
      message: '"frames" must be an integer from 2 to 32, got 33',
    });
    expect(await errorOf(await routes.walk.POST(json({ from: key, to: 'nope', frames: 3 })))).toMatchObject({
      status: 400,
      code: 'bad_key',
    });
  });

  it('a best-of search is limited, and refused in words for a model that cannot score images', async () => {
    const info = await (await routes.model.GET(new Request('http://localhost/api/model'))).json();
    expect(info.bestOfMax).toBe(1); // tiny-sd15 has no image_encoder
    expect(info.bestOfDefault).toBe(1);
    const two = await errorOf(await routes.search.POST(json({ prompt: 'cat', seed: 7, bestOf: 2 })));
    expect(two).toMatchObject({ status: 400, code: 'bad_request' });
    expect(two.message).toMatch(/image_encoder/);
    const many = await errorOf(await routes.search.POST(json({ prompt: 'cat', bestOf: 17 })));
    expect(many).toMatchObject({ status: 400, message: '"bestOf" must be an integer from 1 to 16, got 17' });
    const one = await routes.search.POST(json({ prompt: 'cat', seed: 7, bestOf: 1 }));
    expect((await one.json()).key).toBe(
      (await (await routes.search.POST(json({ prompt: 'cat', seed: 7 }))).json()).key,
    );
  });

  it('exports a .gen5 that imports back to the same key, bit-identical', async () => {
    const exported = await routes.export.POST(json({ key }));
    expect(exported.status).toBe(200);
    const bytes = new Uint8Array(await exported.arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('GEN5');
    const imported = await routes.import.POST(post(bytes, 'application/octet-stream'));
    expect(imported.status).toBe(200);
    expect(await imported.json()).toEqual({ key, verified: true, warnings: [] });
  });

  it('says "not bit-identical" with the PSNR and the drift warnings when the file holds another image', async () => {
    const renderer = await getLibrary().renderer();
    const result = await renderer.render(key);
    const other = await renderer.render((await (await routes.random.GET(new Request('http://x/'))).json()).key);
    // The file claims it was made under another Node version and stores another key's image.
    const environment = (await currentEnvironment({ modelFiles: result.model.files })).map((c) =>
      c.id === 'node' ? { id: 'node', canonical: canonicalString('node', { version: '0.0.1' }) } : c,
    );
    const tampered = { ...result, png: other.png, pngSha256: other.pngSha256 };
    const file = await encodeGen5(buildGen5Input(tampered, { environment }));
    const response = await routes.import.POST(post(new Uint8Array(file), 'application/octet-stream'));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { key: string; verified: boolean; warnings: string[] };
    expect(body.key).toBe(key);
    expect(body.verified).toBe(false);
    expect(body.warnings.some((w) => /PSNR \d+\.\d\d dB/.test(w))).toBe(true);
    expect(body.warnings.some((w) => w.includes("Environment component 'node' differs"))).toBe(true);
  });

  it('explains that a PNG of an SD-sized key names its key only by hash', async () => {
    const png = new Uint8Array(await (await routes.render.POST(json({ key }))).arrayBuffer());
    const error = await errorOf(await routes.import.POST(post(png, 'image/png')));
    expect(error).toMatchObject({ status: 400, code: 'key_not_embedded' });
  });

  it('rejects uploads that are empty, not gen5, or too large', async () => {
    const upload = (bytes: Uint8Array<ArrayBuffer>) => post(bytes, 'application/octet-stream');
    expect(await errorOf(await routes.import.POST(upload(new Uint8Array(0))))).toMatchObject({ status: 400 });
    const junk = await errorOf(await routes.import.POST(upload(new TextEncoder().encode('GEN5 but not really'))));
    expect(junk).toMatchObject({ status: 400, code: 'bad_gen5' });
    const big = await errorOf(await routes.import.POST(upload(new Uint8Array(33 * 1024 * 1024))));
    expect(big).toMatchObject({ status: 413, code: 'too_large' });
  });

  it('maps a full render queue to 429 and a missing model to 503', async () => {
    const busy = new Library({ ...optionsFromEnv(), workers: 1, maxQueue: 0, cacheDir: join(cacheDir, 'busy') });
    const keys = await Promise.all([busy.random(), busy.random(), busy.random()]);
    const outcomes = await Promise.allSettled(keys.map((k) => busy.render(k)));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
    expect(refused.length).toBeGreaterThan(0);
    const response = errorResponse(refused[0]);
    expect(await errorOf(response)).toMatchObject({ status: 429, code: 'queue_full' });
    expect(response.headers.get('retry-after')).toBe('1');
    await (await busy.renderer()).close();

    const missing = new Library({ ...optionsFromEnv(), modelDir: join(cacheDir, 'no-model-here') });
    const failure = await missing.modelInfo().catch((err) => err);
    expect(await errorOf(errorResponse(failure))).toMatchObject({ status: 503, code: 'model_not_loaded' });
  });
});

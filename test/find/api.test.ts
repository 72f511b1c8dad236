import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { craftPng, zeroImageStream } from '../hardening/png-craft.ts';

// POST /api/find and /api/rekey called in-process with real Requests, over the committed tiny SD-1.5-shaped model
// (it has a VAE encoder; its pictures are 512×512).
const cacheDir = mkdtempSync(join(tmpdir(), 'lob-find-api-'));
process.env.LOB_MODEL = resolve(import.meta.dirname, '../fixtures/tiny-sd15');
process.env.LOB_CACHE_DIR = cacheDir;
process.env.LOB_WORKERS = '1';

const find = await import('../../app/api/find/route.ts');
const rekey = await import('../../app/api/rekey/route.ts');
const { getLibrary } = await import('../../lib/library.ts');

afterAll(async () => {
  await getLibrary().close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const post = (body: BodyInit, type: string, query = '', accept = 'application/json') =>
  new Request(`http://localhost/api/find${query}`, {
    method: 'POST',
    headers: { 'content-type': type, accept },
    body,
  });

async function error(response: Response) {
  return {
    status: response.status,
    ...((await response.json()) as { error: { code: string; message: string } }).error,
  };
}

const picture = () =>
  sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 200, g: 40, b: 40, alpha: 0.8 } } })
    .png()
    .toBuffer()
    .then((b) => new Uint8Array(b));

describe('POST /api/find', () => {
  it('answers with the key and its similarity; the key is an ordinary key of the fine variant', async () => {
    const response = await find.POST(post(await picture(), 'image/png', '?candidates=1'));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.key).toMatch(/^sd768-64x64-fine-1\./);
    expect(body.psnr).toBeGreaterThan(10);
    expect(body.ssim).toBeGreaterThan(0);
    expect(body.candidates).toEqual({ tried: 1, planned: 1 });
    // the library renders it like any key
    expect((await getLibrary().render(body.key)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('streams a progress line per candidate, then the result, when asked for NDJSON', async () => {
    const response = await find.POST(post(await picture(), 'image/png', '?candidates=2', 'application/x-ndjson'));
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, -1)).toEqual([{ progress: { done: 1, total: 2 } }, { progress: { done: 2, total: 2 } }]);
    expect(lines.at(-1).result.key).toMatch(/^sd768-64x64-fine-1\./);
  });

  it('refuses what is not a picture, with a clear 4xx and nothing decoded', async () => {
    expect(await error(await find.POST(post('<form>', 'text/plain')))).toMatchObject({ status: 415 });
    expect(await error(await find.POST(post(new Uint8Array(0), 'image/png')))).toMatchObject({
      status: 400,
      code: 'bad_image',
    });
    const junk = await error(await find.POST(post('GIF89a not really', 'application/octet-stream')));
    expect(junk).toMatchObject({ status: 415, code: 'bad_image' });
    expect(junk.message).toContain('not a PNG, JPEG, WebP or SVG');
    const bomb = craftPng(16000, 16000, await zeroImageStream(16000, 16000), 'x');
    const refused = await error(await find.POST(post(new Uint8Array(bomb), 'image/png')));
    expect(refused).toMatchObject({ status: 400, code: 'bad_image' });
    expect(refused.message).toContain('16000×16000');
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><image href="http://example.com/x.png"/></svg>';
    expect(await error(await find.POST(post(svg, 'image/svg+xml')))).toMatchObject({ status: 400, code: 'bad_image' });
    expect(await error(await find.POST(post(new Uint8Array(17 * 1024 * 1024), 'image/png')))).toMatchObject({
      status: 413,
    });
    expect(await error(await find.POST(post(await picture(), 'image/png', '?candidates=0')))).toMatchObject({
      status: 400,
    });
  });
});

describe('POST /api/rekey', () => {
  it('gives the same latent under another prompt, as a key of the same profile', async () => {
    const found = await (await find.POST(post(await picture(), 'image/png', '?candidates=1'))).json();
    const request = (body: unknown) =>
      new Request('http://localhost/api/rekey', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const response = await rekey.POST(request({ key: found.key, prompt: 'a blue cat' }));
    expect(response.status).toBe(200);
    const { key } = await response.json();
    expect(key).toMatch(/^sd768-64x64-fine-1\./);
    expect(key).not.toBe(found.key);
    expect((await rekey.POST(request({ key: 'nonsense', prompt: 'x' }))).status).toBe(400);
    expect((await rekey.POST(request({ key: found.key }))).status).toBe(400);
  });
});

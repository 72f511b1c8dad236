import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGen5, verifyGen5 } from '../../gen5/index.ts';
import { currentEnvironment } from '../../lib/environment.ts';
import { errorResponse } from '../../lib/http.ts';
import { Library, optionsFromEnv } from '../../lib/library.ts';
import { decodePngPixels } from '../../lib/png-pixels.ts';
import { buildGen5Input } from '../../lib/provenance.ts';
import { readTextChunks } from '../../pipeline/png/text-chunks.ts';
import type { RenderResult } from '../../pipeline/render/render.ts';
import { TINY_EMOJI } from '../pipeline/helpers.ts';
import { chunk, craftPng, zeroImageStream } from './png-craft.ts';

// Pictures that cannot be decoded, and pictures that would decode into far more memory than they take, sent to
// import and to `lob gen5 verify`: the sender's problem (a 4xx or verified:false with the reason), never a 500.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lob-images-'));
const library = new Library({
  ...optionsFromEnv({} as NodeJS.ProcessEnv),
  modelDir: TINY_EMOJI,
  workers: 1,
  cacheDir: join(dir, 'cache'),
});
let key: string;
let rendered: RenderResult;
let bombStream: Promise<Uint8Array> | undefined;
async function bomb(): Promise<Buffer> {
  bombStream ??= zeroImageStream(16000, 16000);
  return craftPng(16000, 16000, await bombStream, key);
}

beforeAll(async () => {
  key = await library.random();
  rendered = await (await library.renderer()).render(key);
});
afterAll(async () => {
  await (await library.renderer()).close();
  rmSync(dir, { recursive: true, force: true });
});

async function importAnswer(bytes: Uint8Array): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    return { status: 200, body: { ...(await library.importFile(bytes)) } };
  } catch (err) {
    const response = errorResponse(err);
    return { status: response.status, body: (await response.json()).error };
  }
}

/** A .gen5 of the key whose DATA chunk holds `image` instead of the rendered PNG. */
async function gen5With(image: Uint8Array): Promise<Uint8Array> {
  const environment = await currentEnvironment({ modelFiles: rendered.model.files });
  const pngSha256 = createHash('sha256').update(image).digest('hex');
  return encodeGen5(buildGen5Input({ ...rendered, png: Buffer.from(image), pngSha256 }, { environment }));
}

/** The rendered PNG with every IDAT byte after the zlib header inverted (CRCs fixed, so only the pixels are bad). */
function brokenPixelStream(png: Buffer): Buffer {
  const parts: Buffer[] = [png.subarray(0, 8)];
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = Buffer.from(png.subarray(off + 8, off + 8 + len));
    if (type === 'IDAT') for (let i = 2; i < data.length; i++) data[i] ^= 0xff;
    parts.push(chunk(type, data));
    off += 12 + len;
  }
  return Buffer.concat(parts);
}

const NOT_A_PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('GIF89a and then nothing a PNG decoder could use, long enough to look like a header'),
]);

describe('import of pictures that cannot be decoded', () => {
  it('says a PNG with a broken pixel stream is not verified, and why', async () => {
    const answer = await importAnswer(brokenPixelStream(rendered.png));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ key, verified: false });
    expect(String(answer.body.warnings)).toMatch(/pixels cannot be decoded/);
  });

  it('says a .gen5 whose image chunk is not a PNG is not verified, and why', async () => {
    const answer = await importAnswer(await gen5With(NOT_A_PNG));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ key, verified: false });
    expect(String(answer.body.warnings)).toMatch(/DATA\): IMAGE: the image is not a PNG/);
  });

  it('says a .gen5 whose PNG has a broken pixel stream is not verified, and why', async () => {
    const answer = await importAnswer(await gen5With(brokenPixelStream(rendered.png)));
    expect(answer.body).toMatchObject({ key, verified: false });
    expect(String(answer.body.warnings)).toMatch(/the stored image cannot be decoded/);
  });

  it("refuses a PNG declaring dimensions beyond the decoder's limits with 400 bad_image", async () => {
    const answer = await importAnswer(craftPng(300_000, 300_000, new Uint8Array(16), key));
    expect(answer).toMatchObject({ status: 400, body: { code: 'bad_image' } });
    expect(answer.body.message).toMatch(/declares 300000×300000 pixels, above the limit/);
  });
});

describe('decompression bombs', () => {
  it('refuses a 16000×16000 all-zero PNG carrying a valid key by its header, without growing the process', async () => {
    const file = await bomb();
    expect(file.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 3; i++) {
      const answer = await importAnswer(file);
      expect(answer).toMatchObject({ status: 400, body: { code: 'bad_image' } });
    }
    // Decoded, each import would allocate 768 MB of pixels.
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('compares a .gen5 carrying the bomb as its image by declared size, never decoding it', async () => {
    const file = await gen5With(await bomb());
    const decoded: number[] = [];
    const report = await verifyGen5(file, {
      regenerate: async () => rendered.png,
      decodePixels: async (png) => {
        decoded.push(png.length);
        return decodePngPixels(png);
      },
    });
    expect(decoded).toEqual([]);
    expect(report.regeneration).toMatchObject({ pngIdentical: false, pixelsIdentical: null, psnr: null });
    expect(await importAnswer(file)).toMatchObject({ status: 200, body: { key, verified: false } });
  });
});

describe('lob gen5 verify without --model', () => {
  it('prints its check report with the image check failed when the image chunk is not a PNG', async () => {
    const file = join(dir, 'not-png.gen5');
    writeFileSync(file, await gen5With(NOT_A_PNG));
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lob.mjs'), 'gen5', 'verify', file], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^ok {3}header fields: flags 0, reserved 0$/m);
    expect(r.stdout).toMatch(/^FAIL chunk \d \(DATA\): IMAGE: the image is not a PNG/m);
  });

  it('fails the header fields check when flags or reserved bytes are set', async () => {
    const bytes = await gen5With(rendered.png);
    bytes[6] = 1; // flags
    bytes[31] = 7; // the last reserved byte
    const file = join(dir, 'flags.gen5');
    writeFileSync(file, bytes);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lob.mjs'), 'gen5', 'verify', file], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL header fields: flags 0x1 and reserved \d+: both must be 0$/m);
    expect(r.stdout).toMatch(/^ok {3}chunk \d \(DATA\): \d+ bytes, SHA-256 matches, a 64×64 PNG$/m);
  });
});

it('keeps the lob-key chunk readable in the crafted PNGs (the tests above depend on it)', () => {
  expect(readTextChunks(craftPng(2, 2, new Uint8Array(4), key)).get('lob-key')).toBe(key);
});

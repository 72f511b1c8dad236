import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type FoundPicture, findPicture } from '../../app/ui/api.ts';
import { dropTarget, pngCarriesKey } from '../../app/ui/dropped-file.ts';
import { KEY_CHUNK } from '../../pipeline/index.ts';

// The browser side of find, without a browser: where a dropped file goes, and reading /api/find's NDJSON stream.

const result: FoundPicture = {
  key: 'emoji-fine-2.abc',
  profileId: 'emoji-fine-2',
  steps: 20,
  psnr: 23.4,
  ssim: 0.8,
  prompt: '',
  candidates: { tried: 12, planned: 12 },
  ms: 5000,
};

async function plainPng(): Promise<Buffer> {
  return sharp({ create: { width: 4, height: 4, channels: 3, background: '#c33' } })
    .png()
    .toBuffer();
}

/** The PNG with one more chunk right after IHDR (8 bytes of signature, then 25 of IHDR). */
function withChunk(png: Buffer, type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([png.subarray(0, 33), length, body, crc, png.subarray(33)]);
}

describe('a dropped file goes to import when it names its key, else to find', () => {
  it('our PNG (key in a lob-key text chunk) → import; another PNG, a JPEG, text → find', async () => {
    const plain = await plainPng();
    const ours = withChunk(plain, 'tEXt', Buffer.from(`${KEY_CHUNK}\0emoji-2.abc`, 'latin1'));
    expect(pngCarriesKey(ours)).toBe(true);
    expect(dropTarget(ours, 'lob-0123456789.png')).toBe('import');
    // also when the key travels in iTXt or zTXt (the keyword comes first in every text chunk)
    expect(pngCarriesKey(withChunk(plain, 'iTXt', Buffer.from(`${KEY_CHUNK}\0\0\0\0\0emoji-2.abc`)))).toBe(true);
    const z = Buffer.concat([Buffer.from(`${KEY_CHUNK}\0\0`), deflateSync('emoji-2.abc')]);
    expect(pngCarriesKey(withChunk(plain, 'zTXt', z))).toBe(true);

    expect(dropTarget(plain, 'cat.png')).toBe('find');
    // another program's text chunk is not our key
    expect(dropTarget(withChunk(plain, 'tEXt', Buffer.from('parameters\0a cat')), 'cat.png')).toBe('find');
    const jpeg = await sharp(plain).jpeg().toBuffer();
    expect(dropTarget(jpeg, 'cat.jpg')).toBe('find');
    expect(dropTarget(new TextEncoder().encode('just some notes'), 'notes.txt')).toBe('find');
  });

  it('a .gen5 → import, by its magic or (a damaged one, so import says what is wrong) by its name', () => {
    expect(dropTarget(new TextEncoder().encode('GEN5\u0001\u0000rest'), 'book')).toBe('import');
    expect(dropTarget(new TextEncoder().encode('junk'), 'junk.GEN5')).toBe('import');
  });

  it('a truncated PNG or a chunk length past the end is read as far as it goes, without throwing', async () => {
    const plain = await plainPng();
    expect(pngCarriesKey(plain.subarray(0, 20))).toBe(false);
    const bogus = Buffer.concat([plain.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('tEXt')]);
    expect(pngCarriesKey(bogus)).toBe(false);
  });
});

describe('findPicture reads the NDJSON stream', () => {
  afterEach(() => vi.unstubAllGlobals());

  /** A fetch that answers with these pieces of body, one after another, as a stream. */
  function answer(pieces: string[], status = 200): void {
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      expect(new Headers(init.headers).get('accept')).toBe('application/x-ndjson');
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
          controller.close();
        },
      });
      return new Response(body, { status, headers: { 'content-type': 'application/x-ndjson' } });
    });
  }

  it('reports each candidate, even with lines split across chunks, then answers the result', async () => {
    const lines = [
      JSON.stringify({ progress: { done: 1, total: 12 } }),
      JSON.stringify({ progress: { done: 2, total: 12 } }),
      JSON.stringify({ result }),
    ].join('\n');
    answer([lines.slice(0, 10), lines.slice(10, 45), `${lines.slice(45)}\n`]);
    const progress: number[] = [];
    expect(await findPicture(new Blob(['x']), (p) => progress.push(p.done))).toEqual(result);
    expect(progress).toEqual([1, 2]);
  });

  it('an error line becomes an ApiError with the status and message the server gave', async () => {
    const error = { code: 'bad_image', message: 'this is not a PNG, JPEG, WebP or SVG picture' };
    answer([`${JSON.stringify({ error, status: 415 })}\n`]);
    const failure = await findPicture(new Blob(['x']), () => {}).catch((err) => err);
    expect(failure).toBeInstanceOf(ApiError);
    expect([failure.status, failure.code, failure.message]).toEqual([415, error.code, error.message]);
  });

  it('a stream that ends before the result says the server stopped answering', async () => {
    answer([`${JSON.stringify({ progress: { done: 1, total: 12 } })}\n`]);
    await expect(findPicture(new Blob(['x']), () => {})).rejects.toThrow(/stopped answering/);
  });

  it('a refusal before the stream (413, 415) is the usual JSON error', async () => {
    answer([JSON.stringify({ error: { code: 'too_large', message: 'request body is larger than the limit' } })], 413);
    await expect(findPicture(new Blob(['x']), () => {})).rejects.toMatchObject({ status: 413, code: 'too_large' });
  });
});

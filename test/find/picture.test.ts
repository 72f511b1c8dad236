import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadPicture, PICTURE_LIMITS, type PictureError } from '../../pipeline/find/picture.ts';
import { craftPng, zeroImageStream } from '../hardening/png-craft.ts';

// find's input: any PNG, JPEG, WebP or SVG becomes 64×64 RGB prepared as the training pictures were; anything
// else is a PictureError naming what is wrong, decided from headers before anything large is decoded.

async function problem(bytes: Uint8Array): Promise<{ code: string; message: string }> {
  try {
    await loadPicture(bytes, 64, 64);
  } catch (err) {
    expect((err as Error).name).toBe('PictureError');
    return { code: (err as PictureError).code, message: (err as Error).message };
  }
  throw new Error('the picture was accepted');
}

const svg = (body: string, size = 'width="32" height="32"') =>
  new TextEncoder().encode(`<svg xmlns="http://www.w3.org/2000/svg" ${size}>${body}</svg>`);

describe('loadPicture', () => {
  it('composites transparency on white and scales to cover the square', async () => {
    // a 200×100 picture: transparent left half, opaque red right half → the centre-crop is half white, half red
    const raw = Buffer.alloc(200 * 100 * 4);
    for (let y = 0; y < 100; y++) for (let x = 100; x < 200; x++) raw.set([255, 0, 0, 255], (y * 200 + x) * 4);
    const png = await sharp(raw, { raw: { width: 200, height: 100, channels: 4 } })
      .png()
      .toBuffer();
    const rgb = await loadPicture(png, 64, 64);
    expect(rgb.length).toBe(64 * 64 * 3);
    const at = (x: number, y: number) => [...rgb.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    expect(at(5, 32)).toEqual([255, 255, 255]);
    expect(at(58, 32)).toEqual([255, 0, 0]);
  });

  it('reads JPEG, WebP and SVG as well as PNG, to the same picture within codec error', async () => {
    const raw = Buffer.alloc(64 * 64 * 3, 255);
    for (let p = 0; p < 32 * 64; p++) raw.set([0, 0, 255], p * 3); // top half blue
    const input = sharp(raw, { raw: { width: 64, height: 64, channels: 3 } });
    const png = await loadPicture(await input.clone().png().toBuffer(), 64, 64);
    const jpeg = await loadPicture(await input.clone().jpeg({ quality: 95 }).toBuffer(), 64, 64);
    const webp = await loadPicture(await input.clone().webp({ lossless: true }).toBuffer(), 64, 64);
    const vector = await loadPicture(
      svg('<rect width="32" height="16" fill="#0000ff"/><rect y="16" width="32" height="16" fill="#fff"/>'),
      64,
      64,
    );
    const meanDiff = (a: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - png[i]), 0) / a.length;
    expect(meanDiff(webp)).toBe(0);
    expect(meanDiff(jpeg)).toBeLessThan(3);
    expect(meanDiff(vector)).toBeLessThan(3);
  });

  it('refuses empty files, other formats and files over the byte limit', async () => {
    expect(await problem(new Uint8Array(0))).toMatchObject({ code: 'empty' });
    expect(await problem(new TextEncoder().encode('hello, not a picture'))).toMatchObject({ code: 'format' });
    const huge = new Uint8Array(PICTURE_LIMITS.maxBytes + 1);
    huge.set([0x89, 0x50, 0x4e, 0x47]);
    expect(await problem(huge)).toMatchObject({ code: 'too-large' });
  });

  it('refuses a decompression bomb from its header, without decoding it', async () => {
    const bomb = craftPng(16000, 16000, await zeroImageStream(16000, 16000), 'x');
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    const p = await problem(bomb);
    expect(p.code).toBe('dimensions');
    expect(p.message).toContain('16000×16000');
    // decoding would have taken 768 MB
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('refuses a 1×100000 strip and a huge SVG canvas', async () => {
    const strip = await sharp({ create: { width: 1, height: 100000, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect(await problem(strip)).toMatchObject({ code: 'dimensions' });
    const canvas = await problem(svg('<rect width="10" height="10"/>', 'width="100000" height="100000"'));
    expect(canvas.code).toBe('dimensions');
    expect(canvas.message).toContain('SVG canvas');
  });

  it('refuses SVGs that refer outside themselves, define entities or embed rasters', async () => {
    for (const body of [
      '<image href="file:///etc/passwd" width="10" height="10"/>',
      '<image xlink:href="http://example.com/a.png" width="10" height="10"/>',
      '<rect width="10" height="10" fill="url(http://example.com/p.svg#g)"/>',
      '<style>@import url(#x);</style>',
      '<image href="data:image/png;base64,iVBORw0KGgo=" width="10" height="10"/>',
    ]) {
      expect(await problem(svg(body))).toMatchObject({ code: 'unsafe-svg' });
    }
    const xxe = new TextEncoder().encode(
      '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><text>&x;</text></svg>',
    );
    expect(await problem(xxe)).toMatchObject({ code: 'unsafe-svg' });
    // an internal reference is fine
    const ok = svg('<defs><linearGradient id="g"/></defs><rect width="10" height="10" fill="url(#g)"/>');
    expect((await loadPicture(ok, 64, 64)).length).toBe(64 * 64 * 3);
  });

  it('calls a PNG whose pixel stream is broken undecodable', async () => {
    const good = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const idat = good.indexOf('IDAT');
    const broken = Buffer.from(good);
    broken.fill(0xff, idat + 8, idat + 40);
    expect(await problem(broken)).toMatchObject({ code: 'undecodable' });
  });
});

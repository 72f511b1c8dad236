import { compress } from '@bokuweb/zstd-wasm';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { compressFrame, decompressFrame, ensureZstd, isIncompressible, readFrameInfo } from '../../gen5/zstd.ts';
import { f32Bytes } from './helpers.ts';

function noise(n: number, seed: number): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  });
}

describe('zstd frames', () => {
  it('writes what zstd level 3 writes, byte for byte, for incompressible data (raw-block shortcut) and the rest', async () => {
    await ensureZstd();
    const photo = new Uint8Array(
      await sharp(noise(256 * 256 * 3, 9), { raw: { width: 256, height: 256, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const shortcut = [noise(65_600, 1), noise(70_000, 2), noise(755_766, 3), noise(3_000_000, 4), photo];
    const normals = new Float32Array(32_768).map(
      (_, i) => Math.sqrt(-2 * Math.log((i + 0.5) / 32_768)) * Math.cos(i * 2.399),
    );
    const compressible = [
      f32Bytes(16_384),
      new Uint8Array(new Float32Array(normals).buffer),
      new Uint8Array(200_000),
      noise(1000, 5),
    ];
    expect(shortcut.map((d) => isIncompressible(d.subarray(12)))).toEqual([true, true, true, true, true]);
    expect(compressible.map((d) => isIncompressible(d.subarray(12)))).toEqual([false, false, false, false]);
    for (const data of [...shortcut, ...compressible]) {
      // As the encoder calls it: the 12-byte chunk header, then the payload.
      const ours = await compressFrame(data.subarray(0, 12), data.subarray(12));
      expect({
        size: data.length,
        same: Buffer.compare(Buffer.from(ours), Buffer.from(compress(data, 3))) === 0,
      }).toEqual({ size: data.length, same: true });
      expect(Buffer.compare(Buffer.from(await decompressFrame(ours, 1 << 23, 't')), Buffer.from(data))).toBe(0);
    }
  });

  it('decodes raw and RLE blocks itself, exactly to the declared size', async () => {
    const head = new TextEncoder().encode('DATA0000');
    // Raw block with the 12-byte inner header, then an RLE block of 100 × 0x07: 112 bytes declared.
    const u24 = (v: number) => [v & 0xff, (v >> 8) & 0xff, v >> 16];
    const magic = [0x28, 0xb5, 0x2f, 0xfd];
    // Single segment, 1-byte content size 112; raw block (type 0) of 12 bytes; last RLE block (type 1) of 100.
    const frame = new Uint8Array([
      ...magic,
      0x20,
      112,
      ...u24(12 << 3),
      ...head,
      100,
      0,
      0,
      0,
      ...u24((100 << 3) | 0b011),
      7,
    ]);
    const out = await decompressFrame(frame, 1000, 't');
    expect(Array.from(out.subarray(0, 8))).toEqual(Array.from(head));
    expect(out.length).toBe(112);
    expect(out.subarray(12).every((b) => b === 7)).toBe(true);
    frame[5] = 111; // declare one byte less than the blocks hold
    await expect(decompressFrame(frame, 1000, 't')).rejects.toThrow(/expand past the declared 111 bytes/);
    // One byte more than the blocks hold: the output buffer is not zeroed first, so a short frame must never be
    // returned (its last byte would be whatever the memory held).
    frame[5] = 113;
    await expect(decompressFrame(frame, 1000, 't')).rejects.toThrow(/zstd produced 112 bytes, frame declared 113/);
    const big = new Uint8Array([
      ...magic,
      0xa0,
      ...[0x40, 0x0d, 0x03, 0],
      ...u24((200_000 << 3) | 1),
      ...new Uint8Array(200_000),
    ]);
    expect(() => readFrameInfo(big)).toThrow(/block of 200000 bytes, above the 128 KiB maximum/);
  });

  it('declares the content size and no checksum', async () => {
    for (const data of [noise(100, 1), noise(300_000, 2)]) {
      const info = readFrameInfo(await compressFrame(data));
      expect(info).toMatchObject({ contentSize: data.length, hasChecksum: false });
    }
  });
});

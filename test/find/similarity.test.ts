import { describe, expect, it } from 'vitest';
import { psnr, ssim } from '../../pipeline/find/similarity.ts';

const W = 16;
const H = 16;
function picture(f: (x: number, y: number, c: number) => number): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) out[(y * W + x) * 3 + c] = f(x, y, c);
  return out;
}

describe('psnr', () => {
  it('is infinite for identical pictures and 10·log10(255²/MSE) otherwise', () => {
    const a = picture((x, y) => (x * 13 + y * 7) % 256);
    expect(psnr(a, a)).toBe(Number.POSITIVE_INFINITY);
    const b = a.map((v) => (v < 250 ? v + 5 : v - 5)); // every value off by 5: MSE 25
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / 25), 10);
  });
});

describe('ssim', () => {
  const a = picture((x, y) => (((x >> 2) + (y >> 2)) % 2 ? 220 : 30));
  it('is 1 for identical pictures', () => {
    expect(ssim(a, a, W, H)).toBeCloseTo(1, 12);
  });
  it('falls as structure is lost, and is blind to a small brightness shift', () => {
    const flat = picture(() => 125);
    const shifted = a.map((v) => v + 3);
    const noisy = a.map((v, i) => Math.max(0, Math.min(255, v + ((i * 7919) % 121) - 60)));
    expect(ssim(a, shifted, W, H)).toBeGreaterThan(0.99);
    expect(ssim(a, noisy, W, H)).toBeLessThan(0.99);
    expect(ssim(a, noisy, W, H)).toBeGreaterThan(ssim(a, flat, W, H));
    expect(ssim(a, flat, W, H)).toBeLessThan(0.05);
  });
});

/** How alike two 8-bit RGB pictures of one size are (row-major HWC, as renders and decoded inputs are). */

/** Peak signal-to-noise ratio in dB over all channels (Infinity for identical pictures). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`psnr of pictures of ${a.length} and ${b.length} values`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  const mse = sum / a.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

/**
 * Structural similarity (Wang et al. 2004) on luma (BT.601), with the usual 8×8 sliding windows at stride 1 and
 * uniform weights, K1 = 0.01, K2 = 0.03. 1 for identical pictures.
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number, window = 8): number {
  if (a.length !== b.length || a.length !== width * height * 3)
    throw new RangeError(`ssim needs two ${width}×${height} RGB pictures`);
  const ya = luma(a);
  const yb = luma(b);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const n = window * window;
  let total = 0;
  let count = 0;
  for (let y0 = 0; y0 + window <= height; y0++) {
    for (let x0 = 0; x0 + window <= width; x0++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = y0; y < y0 + window; y++) {
        for (let x = x0; x < x0 + window; x++) {
          const p = ya[y * width + x];
          const q = yb[y * width + x];
          sa += p;
          sb += q;
          saa += p * p;
          sbb += q * q;
          sab += p * q;
        }
      }
      const ma = sa / n;
      const mb = sb / n;
      // sample (n − 1) covariances, as scikit-image's structural_similarity
      const va = (saa - n * ma * ma) / (n - 1);
      const vb = (sbb - n * mb * mb) / (n - 1);
      const cov = (sab - n * ma * mb) / (n - 1);
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return total / count;
}

function luma(rgb: Uint8Array): Float64Array {
  const out = new Float64Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) out[p] = 0.299 * rgb[p * 3] + 0.587 * rgb[p * 3 + 1] + 0.114 * rgb[p * 3 + 2];
  return out;
}

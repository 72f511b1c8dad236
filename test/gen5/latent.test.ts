import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { f32ToF16Bits } from '../../gen5/latent.ts';
import { FIXTURE_DIR } from './helpers.ts';

describe('float32 → float16 cast', () => {
  it("matches numpy's astype(np.float16) bit for bit (random values, ties, subnormals, overflow)", () => {
    // Made with numpy: x.astype(np.float16).view(np.uint16) for the float32 bit patterns in f32_bits.
    const { f32_bits, f16_bits } = JSON.parse(readFileSync(`${FIXTURE_DIR}f16-cast-numpy.json`, 'utf8'));
    const f = new Float32Array(new Uint32Array(f32_bits).buffer);
    expect(Array.from(f, (v) => f32ToF16Bits(v))).toEqual(f16_bits);
  });
});

import { createHash } from 'node:crypto';

/**
 * A small seeded PRNG (SplitMix64, statistically fine for noise) and a
 * Box–Muller normal sampler. Used where the pipeline needs noise that must be reproducible from a number or a key:
 * search seeds and LCM's re-noising. Never Math.random.
 */
export class SeededRandom {
  private state: bigint;

  constructor(seed: bigint | number) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }

  /** From the first 8 bytes of SHA-256(parts…): lets a key or a label pick a stream. */
  static fromHash(...parts: (string | Uint8Array)[]): SeededRandom {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return new SeededRandom(h.digest().readBigUInt64LE(0));
  }

  nextU64(): bigint {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  /** Uniform in (0, 1): 53 random bits, never exactly 0. */
  nextUniform(): number {
    return (Number(this.nextU64() >> 11n) + 0.5) / 2 ** 53;
  }

  /** `n` standard-normal samples (Box–Muller, both outputs used). */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(this.nextUniform()));
      const th = 2 * Math.PI * this.nextUniform();
      out[i] = r * Math.cos(th);
      if (i + 1 < n) out[i + 1] = r * Math.sin(th);
    }
    return out;
  }
}

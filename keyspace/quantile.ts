import type { ValueCoding } from './coding.ts';
import { normalQuantile } from './normal.ts';

export type QuantileDistribution =
  | { type: 'standard-normal' }
  | { type: 'empirical'; probabilities: number[]; quantiles: number[][] };

export interface QuantileSpec {
  type: 'quantile';
  bits: number;
  distribution: QuantileDistribution;
}

/** Linear interpolation of a quantile table in probability, clamped to the table's ends. */
function interpolate(probabilities: number[], quantiles: number[], p: number): number {
  const last = probabilities.length - 1;
  if (p <= probabilities[0]) return quantiles[0];
  if (p >= probabilities[last]) return quantiles[last];
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (probabilities[mid] <= p) lo = mid;
    else hi = mid;
  }
  const t = (p - probabilities[lo]) / (probabilities[hi] - probabilities[lo]);
  return quantiles[lo] + t * (quantiles[hi] - quantiles[lo]);
}

/**
 * Distribution-matched coding: code c decodes to Q((c + 0.5) / 2^b), so a uniformly random code is a draw from the
 * distribution. Encoding picks the nearest decoded value (the lowest code on ties, so flat stretches of an empirical
 * table re-encode canonically). Decode tables are float32 and built lazily per coordinate.
 */
export class QuantileCoding implements ValueCoding {
  readonly float16Exact = false;
  private readonly size: number;
  private readonly shared: Float32Array | null = null;
  private readonly perCoord: (Float32Array | undefined)[] = [];

  constructor(readonly spec: QuantileSpec) {
    this.bits = spec.bits;
    this.size = 2 ** spec.bits;
    if (spec.distribution.type === 'standard-normal') {
      const table = new Float32Array(this.size);
      for (let c = 0; c < this.size; c++) table[c] = normalQuantile((c + 0.5) / this.size);
      this.shared = table;
    }
  }

  readonly bits: number;

  /** The sorted decode table of one coordinate. */
  table(coord: number): Float32Array {
    if (this.shared !== null) return this.shared;
    let table = this.perCoord[coord];
    if (table === undefined) {
      const dist = this.spec.distribution as Extract<QuantileDistribution, { type: 'empirical' }>;
      const quantiles = dist.quantiles[coord];
      table = new Float32Array(this.size);
      for (let c = 0; c < this.size; c++) table[c] = interpolate(dist.probabilities, quantiles, (c + 0.5) / this.size);
      this.perCoord[coord] = table;
    }
    return table;
  }

  decode(code: number, coord: number): number {
    return this.table(coord)[code];
  }

  encode(value: number, coord: number): number {
    if (Number.isNaN(value)) throw new RangeError('NaN cannot be encoded');
    if (!Number.isFinite(value)) throw new RangeError(`${value} cannot be encoded`);
    const table = this.table(coord);
    // First index whose value is >= value; the nearest is it or its predecessor.
    let lo = 0;
    let hi = table.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (table[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    if (lo === table.length) return lowestWithValue(table, table.length - 1);
    if (lo === 0) return 0;
    const below = table[lo - 1];
    const above = table[lo];
    return value - below <= above - value ? lowestWithValue(table, lo - 1) : lo;
  }
}

function lowestWithValue(table: Float32Array, index: number): number {
  let i = index;
  while (i > 0 && table[i - 1] === table[index]) i--;
  return i;
}

import { decodeKey, encodeKey } from './codec.ts';
import { KeyError } from './errors.ts';
import type { ParsedKey } from './parse.ts';

/** Frames a walk may have: each is a key and a render, so this bounds the work one request can ask for. */
export const MAX_WALK_FRAMES = 256;

/**
 * Keys on the way from `a` to `b`, both included: frame i of n sits at t = i / (n − 1). The prompt embedding moves
 * in a straight line (and so do a negative-prompt key's negative states); the seed latent along the great circle
 * between the two (spherical interpolation), so every frame's noise keeps the size of real noise instead of shrinking
 * mid-way as a straight line would. The step count (and a guidance key's scale) is a's for the first half and b's
 * after. Each frame is quantised to a key of its own (encodeKey), so any frame can be opened and shared; the ends are
 * `a` and `b` exactly.
 */
export function walkKeys(a: ParsedKey, b: ParsedKey, frames: number): string[] {
  if (a.profile !== b.profile) {
    const name = (k: ParsedKey) => `${k.profile.id}-${k.profile.version}`;
    throw new KeyError('profile', 0, `a walk needs two keys of one profile, got ${name(a)} and ${name(b)}`);
  }
  if (!Number.isSafeInteger(frames) || frames < 2 || frames > MAX_WALK_FRAMES)
    throw new RangeError(`a walk has 2 to ${MAX_WALK_FRAMES} frames, got ${frames}`);
  const [from, to] = [decodeKey(a), decodeKey(b)];
  const keys: string[] = [];
  for (let i = 0; i < frames; i++) {
    const t = i / (frames - 1);
    if (i === 0 || i === frames - 1) {
      keys.push(i === 0 ? a.text : b.text);
      continue;
    }
    const near = t < 0.5 ? from : to;
    keys.push(
      encodeKey(a.profile, {
        steps: near.steps,
        embedding: lerp(from.embedding, to.embedding, t),
        latent: slerp(from.latent, to.latent, t),
        ...(from.negative && to.negative && { negative: lerp(from.negative, to.negative, t) }),
        ...(near.guidance !== undefined && { guidance: near.guidance }),
      }),
    );
  }
  return keys;
}

function lerp(x: Float32Array, y: Float32Array, t: number): Float64Array {
  return Float64Array.from(x, (v, i) => v + (y[i] - v) * t);
}

/** Spherical interpolation of two vectors (a straight line when they are nearly parallel). */
export function slerp(x: Float32Array, y: Float32Array, t: number): Float64Array {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i] * y[i];
    xx += x[i] * x[i];
    yy += y[i] * y[i];
  }
  const cos = xy / Math.sqrt(xx * yy || 1);
  const angle = Math.acos(Math.min(1, Math.max(-1, cos)));
  if (angle < 1e-4) return lerp(x, y, t);
  const [p, q] = [Math.sin((1 - t) * angle) / Math.sin(angle), Math.sin(t * angle) / Math.sin(angle)];
  return Float64Array.from(x, (v, i) => p * v + q * y[i]);
}

import type { ArraySection, Profile } from './profile.ts';
import { widthOf } from './values.ts';

/** Named strides, finest first. `page` is what next/prev step by. */
export const STRIDES = ['page', 'book', 'shelf', 'wall'] as const;
export type Stride = (typeof STRIDES)[number];

/**
 * Where each code bit of a prefixed profile sits in the key's order index (the payload read as one base-64 number,
 * last character least significant). Index bits, least significant first:
 *   page  region: the latent's lower bit planes (plane 1 = second most significant bit of every value, then plane 2…)
 *   book  region: the latent's top bit plane
 *   shelf region: the embedding's bit planes, most significant first
 *   wall  region: the step code, least significant bit first
 * So +1 (next) flips the second bit of one latent value (a local, visible change; the carry reaches a second value
 * only every other step), `book` moves flip a latent top bit, `shelf` moves nudge the prompt embedding with the
 * noise unchanged, and `wall` moves change the step count only. Within a plane, values are visited in a spread
 * order (see spreadOrder), so the latent value that changes most often is mid-image.
 */
export interface PrefixedLayout {
  /** For each section, the index position of each stored value's code bit: positions[offset(i) + bit]. */
  readonly positions: { steps: Int32Array; embedding: Int32Array; latent: Int32Array };
  /** Index bit position where each stride's region starts (absent when the region is empty). */
  readonly strides: Partial<Record<Stride, number>>;
}

const layouts = new WeakMap<Profile, PrefixedLayout>();

export function prefixedLayout(profile: Profile): PrefixedLayout {
  let layout = layouts.get(profile);
  if (layout === undefined) {
    layout = buildLayout(profile);
    layouts.set(profile, layout);
  }
  return layout;
}

/** Start of stored value i's bits in a section's position array. */
export function bitOffset(section: ArraySection, i: number): number {
  return i * section.coding.bits + Math.min(i, section.widened.count);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * A bijection on stored ordinals 0..n-1 that jumps far between consecutive entries and starts where a change shows
 * most: the latent's spatial centre (first channel), or the embedding's first token after BOS (its middle dimension;
 * later tokens are often padding).
 */
export function spreadOrder(section: ArraySection): Int32Array {
  const n = section.stored.length;
  const order = new Int32Array(n);
  if (n === 0) return order;
  const shape = section.shape;
  const w = shape[shape.length - 1];
  const h = shape.length > 1 ? shape[shape.length - 2] : 1;
  const centreFlat =
    section.kind === 'embedding'
      ? Math.min(1, h - 1) * w + (w >> 1)
      : shape.length > 1
        ? (h >> 1) * w + (w >> 1)
        : w >> 1;
  let centre = 0;
  while (centre < n && section.stored[centre] < centreFlat) centre++;
  centre %= n;
  let step = Math.max(1, Math.round(n * 0.6180339887));
  while (gcd(step, n) !== 1) step++;
  for (let k = 0; k < n; k++) order[k] = (centre + k * step) % n;
  return order;
}

function buildLayout(profile: Profile): PrefixedLayout {
  const { latent, embedding, steps } = profile;
  const positions = {
    steps: new Int32Array(steps.bits),
    embedding: new Int32Array(bitOffset(embedding, embedding.stored.length)),
    latent: new Int32Array(bitOffset(latent, latent.stored.length)),
  };
  const strides: Partial<Record<Stride, number>> = { page: 0 };
  let next = 0;
  const place = (section: ArraySection, target: Int32Array, firstPlane: number, lastPlane: number): void => {
    const order = spreadOrder(section);
    for (let plane = firstPlane; plane <= lastPlane; plane++) {
      for (let k = 0; k < order.length; k++) {
        const i = order[k];
        const width = widthOf(section, i);
        if (plane < width) target[bitOffset(section, i) + (width - 1 - plane)] = next++;
      }
    }
  };
  const maxWidth = (s: ArraySection) => (s.widened.count > 0 ? s.widened.coding.bits : s.coding.bits);
  place(latent, positions.latent, 1, maxWidth(latent) - 1);
  if (latent.stored.length > 0) strides.book = next;
  place(latent, positions.latent, 0, 0);
  if (embedding.stored.length > 0) strides.shelf = next;
  place(embedding, positions.embedding, 0, maxWidth(embedding) - 1);
  if (steps.bits > 0) strides.wall = next;
  for (let b = 0; b < steps.bits; b++) positions.steps[b] = next++;
  return { positions, strides };
}

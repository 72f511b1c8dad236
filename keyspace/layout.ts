import type { ArraySection, Profile } from './profile.ts';
import { widthOf } from './values.ts';

/** Named strides, finest first. `page` is what next/prev step by. */
export const STRIDES = ['page', 'book', 'shelf', 'wall'] as const;
export type Stride = (typeof STRIDES)[number];

/**
 * How a prefixed profile's key (its order index: the payload read as one base-64 number, last character least
 * significant) maps to codes. Two parts:
 *
 * Ties. Each array section's stored values are split into groups — the latent into tiles of g×g positions × all
 * channels, the embedding into tokens (all dimensions of one token) — and each group has a lead. The key holds the
 * lead's code as is and every other member's code XOR the lead's. So flipping one stored bit of a lead flips that
 * bit plane in every value of its group (a patch of noise, or a whole token, moves together), while random keys still
 * decode to independent uniform codes (XOR with an independent uniform code is uniform), and the map stays a
 * bijection (XOR with the untouched lead undoes itself). Values whose code is one bit wider (the widened values that
 * round the payload to whole characters) are their own singleton groups.
 *
 * Positions. Index bits, least significant first:
 *   page  region: the latent leads' lower bit planes (plane 1 = second most significant, then plane 2 …)
 *   book  region: the latent leads' top plane, then the latent members' planes (top first)
 *   shelf region: the embedding leads' lower planes, their top plane, then the members' planes (top first)
 *                 and then, in a negative-prompt variant, the same for the negative section
 *   wall  region: the step code, least significant bit first, then in a guidance variant the guidance code
 *                 (most significant of all: wall still steps to the next step count, as in the base profile, and
 *                 from the last step count carries into the next guidance scale)
 * So next (+1 page) moves one latent tile by a quarter of the distribution in every value (plane 1), book moves a
 * tile by half (its top plane), shelf moves one token's whole state by a quarter, wall changes the step count; the
 * measurements behind this choice are in docs/keyspace-measurements.md (a single value's bit, the earlier design,
 * changed nothing a person could see).
 * Within a plane, groups (and members) are visited in a spread order (see spreadOrder), starting mid-image / at the
 * first token after BOS.
 */
export interface PrefixedLayout {
  /** For each section, the index position of each stored value's code bit: positions[offset(i) + bit]. */
  readonly positions: {
    steps: Int32Array;
    guidance: Int32Array;
    embedding: Int32Array;
    latent: Int32Array;
    negative: Int32Array;
  };
  /**
   * For each array section and stored ordinal: the ordinal of its parent (its group's lead; in the nested order the
   * lead of the smallest region around it that it does not lead), or -1. Parents have lower ordinals.
   */
  readonly ties: { embedding: Int32Array; latent: Int32Array; negative: Int32Array };
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

/**
 * Key codes → value codes, in place: each tied value's code XOR its parent's value code. A parent always has a
 * lower ordinal than its children, so ascending order reads every parent already converted.
 */
export function untieCodes(codes: Uint32Array, ties: Int32Array): void {
  for (let i = 0; i < ties.length; i++) if (ties[i] >= 0) codes[i] ^= codes[ties[i]];
}

/** Value codes → key codes, in place (the inverse of untieCodes: descending, so parents are still value codes). */
export function tieCodes(codes: Uint32Array, ties: Int32Array): void {
  for (let i = ties.length - 1; i >= 0; i--) if (ties[i] >= 0) codes[i] ^= codes[ties[i]];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A bijection on 0..n-1 that starts at `start` and jumps far between consecutive entries (golden-ratio step). */
function spread(n: number, start: number): Int32Array {
  const order = new Int32Array(n);
  if (n === 0) return order;
  let step = Math.max(1, Math.round(n * 0.6180339887));
  while (gcd(step, n) !== 1) step++;
  for (let k = 0; k < n; k++) order[k] = (start + k * step) % n;
  return order;
}

/** Flat index where a change shows most: the latent's spatial centre (first channel), the embedding's token 1. */
function centreFlat(section: ArraySection): number {
  const shape = section.shape;
  const w = shape[shape.length - 1];
  const h = shape.length > 1 ? shape[shape.length - 2] : 1;
  if (section.kind !== 'latent') return Math.min(1, h - 1) * w + (w >> 1);
  return shape.length > 1 ? (h >> 1) * w + (w >> 1) : w >> 1;
}

/** Ordinal (index into `stored`) of the first stored value at or after a flat index, wrapping to 0. */
function ordinalAt(section: ArraySection, flat: number): number {
  let i = 0;
  while (i < section.stored.length && section.stored[i] < flat) i++;
  return i % Math.max(1, section.stored.length);
}

/**
 * A bijection on stored ordinals 0..n-1 that jumps far between consecutive entries and starts where a change shows
 * most: the latent's spatial centre (first channel), or the embedding's first token after BOS (its middle dimension;
 * later tokens are often padding).
 */
export function spreadOrder(section: ArraySection): Int32Array {
  return spread(section.stored.length, ordinalAt(section, centreFlat(section)));
}

/** Side of a latent tile: about an eighth of the latent's smaller side (2 for 16×16, 8 for SD's 64×64), at least 1. */
export function latentTile(section: ArraySection): number {
  const s = section.shape;
  const h = s.length > 1 ? s[s.length - 2] : 1;
  const w = s[s.length - 1];
  return Math.max(1, Math.round(Math.min(h, w) / 8));
}

/** Group key of a flat index: latent tiles of g×g positions across all channels, embedding tokens (rows). */
function groupOfFlat(section: ArraySection): (flat: number) => number {
  const s = section.shape;
  const w = s[s.length - 1];
  if (section.kind !== 'latent') return (flat) => Math.floor(flat / w);
  const h = s.length > 1 ? s[s.length - 2] : 1;
  const g = latentTile(section);
  const tilesX = Math.ceil(w / g);
  // leading dimensions (batch, channels) are folded in: a tile spans them all
  return (flat) => {
    const p = flat % (h * w);
    return Math.floor(Math.floor(p / w) / g) * tilesX + Math.floor((p % w) / g);
  };
}

export interface Groups {
  /** Lead ordinal of each group, groups in visiting (spread) order. */
  leads: Int32Array;
  /** Non-lead ordinals, visited in spread order of their groups, then by position within the group. */
  members: Int32Array;
  /** Per stored ordinal, its lead's ordinal, or -1. */
  ties: Int32Array;
}

/** The section's groups: widened values are singletons; a group's lead is its first stored value (lowest flat). */
export function groupsOf(section: ArraySection): Groups {
  const n = section.stored.length;
  const groupOf = groupOfFlat(section);
  const byGroup = new Map<number, number[]>();
  const singles: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i < section.widened.count) singles.push(i);
    else {
      const g = groupOf(section.stored[i]);
      const list = byGroup.get(g);
      if (list) list.push(i);
      else byGroup.set(g, [i]);
    }
  }
  // groups (singletons first, in flat order) visited in a spread order starting at the group of the centre value
  const groups: number[][] = [
    ...singles.map((i) => [i]),
    ...[...byGroup.keys()].sort((a, b) => a - b).map((g) => byGroup.get(g) as number[]),
  ];
  const centre = ordinalAt(section, centreFlat(section));
  const startGroup = Math.max(
    0,
    groups.findIndex((list) => list.includes(centre)),
  );
  const order = spread(groups.length, startGroup);
  const leads = new Int32Array(groups.length);
  const members: number[] = [];
  const ties = new Int32Array(n).fill(-1);
  order.forEach((gi, k) => {
    const [lead, ...rest] = groups[gi];
    leads[k] = lead;
    for (const m of rest) {
      ties[m] = lead;
      members.push(m);
    }
  });
  return { leads, members: Int32Array.from(members), ties };
}

/** A bit position per stored bit of every section, filled in by the order. */
function emptyPositions({ steps, guidance, embedding, latent, negative }: Profile): PrefixedLayout['positions'] {
  const size = (s: ArraySection) => bitOffset(s, s.stored.length);
  return {
    steps: new Int32Array(steps.bits),
    guidance: new Int32Array(guidance?.bits ?? 0),
    embedding: new Int32Array(size(embedding)),
    latent: new Int32Array(size(latent)),
    negative: new Int32Array(negative ? size(negative) : 0),
  };
}

/**
 * The wall region, the index's most significant bits in both orders: the step code, then a guidance variant's
 * guidance code. Placed last, so a variant's other bits sit where the base profile has them; with a whole
 * character of guidance bits (variant.ts) a guidance key is its base key with one more character in front.
 */
function placeWall(
  { steps, guidance }: Profile,
  positions: PrefixedLayout['positions'],
  strides: Partial<Record<Stride, number>>,
  from: number,
): void {
  let next = from;
  if (steps.bits + (guidance?.bits ?? 0) > 0) strides.wall = next;
  for (let b = 0; b < steps.bits; b++) positions.steps[b] = next++;
  for (let b = 0; b < positions.guidance.length; b++) positions.guidance[b] = next++;
}

function buildLayout(profile: Profile): PrefixedLayout {
  return profile.order === 'tiles' ? buildTilesLayout(profile) : buildNestedLayout(profile);
}

function buildTilesLayout(profile: Profile): PrefixedLayout {
  const { latent, embedding, negative } = profile;
  const positions = emptyPositions(profile);
  const lat = groupsOf(latent);
  const emb = groupsOf(embedding);
  const neg = negative ? groupsOf(negative) : null;
  const strides: Partial<Record<Stride, number>> = { page: 0 };
  let next = 0;
  /** Gives the next index bits to plane `plane` (0 = most significant) of each listed value that has it. */
  const place = (section: ArraySection, target: Int32Array, values: Int32Array, plane: number): void => {
    for (const i of values) {
      const width = widthOf(section, i);
      if (plane < width) target[bitOffset(section, i) + (width - 1 - plane)] = next++;
    }
  };
  const maxWidth = (s: ArraySection) => (s.widened.count > 0 ? s.widened.coding.bits : s.coding.bits);
  /** A section's region: its leads' lower planes, the leads' top plane, then the members' planes (top first). */
  const region = (section: ArraySection, target: Int32Array, groups: Groups, after?: () => void): void => {
    for (let plane = 1; plane < maxWidth(section); plane++) place(section, target, groups.leads, plane);
    after?.();
    place(section, target, groups.leads, 0);
    for (let plane = 0; plane < maxWidth(section); plane++) place(section, target, groups.members, plane);
  };
  region(latent, positions.latent, lat, () => {
    if (latent.stored.length > 0) strides.book = next;
  });
  if (embedding.stored.length > 0) strides.shelf = next;
  region(embedding, positions.embedding, emb);
  if (negative && neg) {
    if (strides.shelf === undefined && negative.stored.length > 0) strides.shelf = next;
    region(negative, positions.negative, neg);
  }
  placeWall(profile, positions, strides, next);
  const ties = { embedding: emb.ties, latent: lat.ties, negative: neg?.ties ?? new Int32Array(0) };
  return { positions, ties, strides };
}

/**
 * The latent's nested regions: squares of g, 2g, 4g … positions (g = latentTile) across all channels, up to one
 * region holding the whole latent; with `halves`, a level of left and right halves between the quadrants and the
 * whole latent. Each region's lead is its lowest stored ordinal (widened values stand alone).
 * A value's code is its own key code XOR its parent's value code, where the parent is the lead of the smallest
 * region around the value that the value does not lead; so one bit of a region's lead flips that bit plane in every
 * value of the region, and random keys still decode to independent uniform codes.
 */
export interface NestedRegions {
  /** Leads of each level, whole latent first (one lead), then (halves,) quadrants, … down to the g×g tiles. */
  levels: Int32Array[];
  /** Values that lead no region (tile members) and widened values, in ordinal order. */
  members: Int32Array;
  ties: Int32Array;
}

export function nestedRegions(section: ArraySection, halves = false): NestedRegions {
  const s = section.shape;
  const w = s[s.length - 1];
  const h = s.length > 1 ? s[s.length - 2] : 1;
  // region shapes [rows, columns], smallest first
  const shapes: [number, number][] = [[latentTile(section), latentTile(section)]];
  while (shapes[shapes.length - 1][0] < Math.max(h, w)) {
    const side = shapes[shapes.length - 1][0] * 2;
    if (halves && side >= Math.max(h, w) && w > 1) shapes.push([side, Math.ceil(w / 2)]);
    shapes.push([side, side]);
  }
  const n = section.stored.length;
  const regionOf = (i: number, [rows, cols]: [number, number]) => {
    const p = section.stored[i] % (h * w);
    return Math.floor(Math.floor(p / w) / rows) * Math.ceil(w / cols) + Math.floor((p % w) / cols);
  };
  // lead (lowest ordinal) of every region at every size
  const leadAt = shapes.map(() => new Map<number, number>());
  for (let i = section.widened.count; i < n; i++)
    shapes.forEach((shape, l) => {
      const r = regionOf(i, shape);
      if (!leadAt[l].has(r)) leadAt[l].set(r, i);
    });
  const ties = new Int32Array(n).fill(-1);
  const levelOf = new Int32Array(n).fill(-1); // index into shapes of the largest region a value leads
  for (let i = section.widened.count; i < n; i++) {
    for (let l = 0; l < shapes.length; l++) {
      const lead = leadAt[l].get(regionOf(i, shapes[l])) as number;
      if (lead !== i) {
        if (ties[i] < 0) ties[i] = lead;
      } else levelOf[i] = l;
    }
  }
  const levels: Int32Array[] = [];
  for (let l = shapes.length - 1; l >= 0; l--) {
    const leads = [...levelOf.keys()].filter((i) => levelOf[i] === l);
    levels.push(Int32Array.from(spread(leads.length, 0), (k) => leads[k]));
  }
  const members = Int32Array.from([...levelOf.keys()].filter((i) => levelOf[i] < 0));
  return { levels, members, ties };
}

/**
 * The nested order (profile "order": "nested"). Index bits, least significant first:
 *   page  region: the latent's lower planes (all but the top two; for 4-bit codes planes 3 then 2), level by level:
 *                 the quadrants, the whole latent, the squares below the quadrants … the g×g tiles, then the values
 *                 that lead nothing
 *   book  region: the top two planes (the top plane, then plane 1), level by level: the whole latent, its quadrants, …
 *   shelf region: as in the tiles order (the embedding by token)
 *   wall  region: as in the tiles order (the step code, then a guidance variant's guidance code)
 * So next moves one quadrant of the latent by one code level (a sixteenth of its distribution; with the carry, every
 * second step another quadrant too): the picture stays, visibly varied. Book flips every value's top plane (for normal
 * quantiles its sign: another picture of the same prompt). The measurements behind this are in docs/strides.md.
 *
 * The halves order (profile "order": "halves", emoji-7) is the same with a level of left and right halves between
 * the whole latent and the quadrants, and the page's first level is the halves: next moves half the latent by one
 * code level (every second step by plane 2 as well). A quadrant moved searched keys' pictures by a median 10.95/255
 * on emoji-6's weights, a half by 15.3/255, with the judge still naming the same emoji in 60 % of steps.
 */
function buildNestedLayout(profile: Profile): PrefixedLayout {
  const { latent, embedding, negative } = profile;
  const positions = emptyPositions(profile);
  const regions = nestedRegions(latent, profile.order === 'halves');
  const emb = groupsOf(embedding);
  const strides: Partial<Record<Stride, number>> = { page: 0 };
  let next = 0;
  const place = (section: ArraySection, target: Int32Array, values: ArrayLike<number>, plane: number): void => {
    for (let k = 0; k < values.length; k++) {
      const i = values[k];
      const width = widthOf(section, i);
      if (plane < width) target[bitOffset(section, i) + (width - 1 - plane)] = next++;
    }
  };
  const maxWidth = (s: ArraySection) => (s.widened.count > 0 ? s.widened.coding.bits : s.coding.bits);
  // the top two planes are book's (a 1- or 2-bit coding keeps its lowest plane for page)
  const firstPagePlane = Math.min(2, latent.coding.bits - 1);
  // page: lowest plane first, the quadrants before the whole latent (measured on emoji-3, docs/strides.md: one code
  // level over the whole latent changed a median 24.5/255 and the judge's name in 85 % of pairs; over a quadrant
  // 13.9/255 and 69 %)
  const [whole, ...smaller] = regions.levels;
  const pageLevels = smaller.length > 0 ? [smaller[0], whole, ...smaller.slice(1)] : regions.levels;
  for (const values of [...pageLevels, regions.members])
    for (let plane = maxWidth(latent) - 1; plane >= firstPagePlane; plane--)
      place(latent, positions.latent, values, plane);
  if (firstPagePlane > 0) strides.book = next;
  for (const values of [...regions.levels, regions.members])
    for (let plane = 0; plane < firstPagePlane; plane++) place(latent, positions.latent, values, plane);
  if (embedding.stored.length > 0) strides.shelf = next;
  // the prompt sections (the embedding, then a variant's negative) as the tiles order places them: leads' upper planes
  const promptSection = (section: ArraySection, target: Int32Array, groups: Groups) => {
    for (let plane = 1; plane < maxWidth(section); plane++) place(section, target, groups.leads, plane);
    place(section, target, groups.leads, 0);
    for (let plane = 0; plane < maxWidth(section); plane++) place(section, target, groups.members, plane);
  };
  promptSection(embedding, positions.embedding, emb);
  const neg = negative ? groupsOf(negative) : null;
  if (negative && neg) {
    if (strides.shelf === undefined && negative.stored.length > 0) strides.shelf = next;
    promptSection(negative, positions.negative, neg);
  }
  placeWall(profile, positions, strides, next);
  return {
    positions,
    ties: { embedding: emb.ties, latent: regions.ties, negative: neg?.ties ?? new Int32Array(0) },
    strides,
  };
}

import type { ValueCoding } from './coding.ts';
import { ProfileError } from './errors.ts';
import { isFloat16Exact } from './float16.ts';
import { Minifloat, type MinifloatSpec } from './minifloat.ts';
import { QuantileCoding, type QuantileSpec } from './quantile.ts';

export const PROFILE_FORMAT = 'lob-keyspace-profile/1';

export type CodingSpec = MinifloatSpec | QuantileSpec;
/**
 * 'negative': optional text states for guidance's unconditional branch (a negative prompt), shaped like 'embedding'.
 * 'guidance': optional classifier-free guidance scale, one of a list (like 'steps').
 */
export type SectionKind = 'steps' | 'embedding' | 'latent' | 'negative' | 'guidance';
/** Sections that hold one value chosen from a list: its code is the value's index. */
export type DiscreteKind = 'steps' | 'guidance';
export type ArrayKind = Exclude<SectionKind, DiscreteKind>;
export const KEY_ORDERS = ['tiles', 'nested', 'halves'] as const;
export type KeyOrder = (typeof KEY_ORDERS)[number];

export type SectionJson =
  | { name: string; kind: 'steps'; values: number[] }
  | { name: string; kind: 'guidance'; values: number[] }
  | { name: string; kind: ArrayKind; shape: number[]; coding: CodingSpec };

/** The profile JSON of docs/contracts.md. `text` is optional and defaults to 'prefixed'. */
export interface ProfileJson {
  format: typeof PROFILE_FORMAT;
  id: string;
  version: number;
  model: string;
  /**
   * 'prefixed': our text form `<id>-<version>.<base64url payload>` whose payload is the order index.
   * 'bare-base64': the seed project's form, unprefixed standard base64 of the LSB-first bit stream (sd-lob).
   */
  text?: 'prefixed' | 'bare-base64';
  /**
   * How a prefixed key's index bits map to codes (docs/keyspace.md "Order"). 'tiles' (the default, emoji-1 and
   * emoji-2): next moves one 2×2 latent tile. 'nested' (emoji-3 to emoji-6): next moves a quadrant by one code level,
   * book every sign. 'halves' (emoji-7): the same with a level of left and right halves above the quadrants, and next
   * moves a half.
   */
  order?: KeyOrder;
  sections: SectionJson[];
  constants?: { section: string; index: number; value: number }[];
  /** Earlier versions of this profile's keys and the model edition (a git tag of this repository) that draws them. */
  editions?: EditionJson[];
}

/**
 * An earlier key version: its keys name images of `model` (e.g. "emoji-ldm 2.0.1"), tagged `tag` in git at `commit`
 * (a clone or mirror may carry the branch without its tags; the commit still opens the edition).
 */
export interface EditionJson {
  version: number;
  model: string;
  tag: string;
  commit?: string;
}

/** A value from a list whose length is a power of two: the code is the value's index, `bits` = log2(length). */
interface ListSection<K extends DiscreteKind> {
  readonly name: string;
  readonly kind: K;
  readonly values: readonly number[];
  readonly bits: number;
}
export type StepsSection = ListSection<'steps'>;
export type GuidanceSection = ListSection<'guidance'>;
export type DiscreteSection = StepsSection | GuidanceSection;

export interface ArraySection {
  readonly name: string;
  readonly kind: ArrayKind;
  readonly shape: readonly number[];
  /** Number of values including constants. */
  readonly size: number;
  readonly coding: ValueCoding;
  /** Flat indices of the stored (non-constant) values, ascending. */
  readonly stored: Int32Array;
  /** Flat index → fixed value, for values the key does not store. */
  readonly constants: ReadonlyMap<number, number>;
  /** The first `widened.count` stored values use `widened.coding` (one bit more) to make the payload a whole number of characters. */
  readonly widened: { count: number; coding: ValueCoding };
  /** Every value this section can decode to is a float16. */
  readonly float16Exact: boolean;
}

export interface Profile {
  readonly id: string;
  readonly version: number;
  readonly model: string;
  readonly text: 'prefixed' | 'bare-base64';
  readonly order: KeyOrder;
  readonly json: ProfileJson;
  /** Sections in the JSON's order (the bit-stream order of a bare profile). */
  readonly sections: readonly (DiscreteSection | ArraySection)[];
  readonly steps: StepsSection;
  readonly embedding: ArraySection;
  readonly latent: ArraySection;
  /** The negative prompt's text states, in a negative-prompt variant (keyspace/variant.ts); null otherwise. */
  readonly negative: ArraySection | null;
  /** The guidance scale, in a guidance variant (keyspace/variant.ts); null otherwise (the model's scale is used). */
  readonly guidance: GuidanceSection | null;
  /** Payload bits and characters (6 bits each; the prefix is not counted). */
  readonly bits: number;
  readonly chars: number;
  /** `<id>-<version>.` for prefixed profiles, '' for bare ones. */
  readonly prefix: string;
  /** Earlier key versions and the editions that draw them, oldest first. */
  readonly editions: readonly EditionJson[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function need(cond: boolean, path: string, message: string): asserts cond {
  if (!cond) throw new ProfileError(path, message);
}

function checkCoding(raw: unknown, path: string, size: number): CodingSpec {
  need(isObject(raw), path, 'coding must be an object');
  if (raw.type === 'minifloat') {
    const { sign, exponentBits, mantissaBits, bias, subnormals } = raw;
    need(typeof sign === 'boolean', `${path}/sign`, 'must be a boolean');
    need(
      isInt(exponentBits) && exponentBits >= 1 && exponentBits <= 8,
      `${path}/exponentBits`,
      'must be an integer in 1..8',
    );
    need(
      isInt(mantissaBits) && mantissaBits >= 0 && mantissaBits <= 22,
      `${path}/mantissaBits`,
      'must be an integer in 0..22',
    );
    need(isInt(bias), `${path}/bias`, 'must be an integer');
    // Codes stay within 24 bits (also after widening by one), so codecs can shift them in 32-bit integers.
    need(
      (sign ? 1 : 0) + exponentBits + mantissaBits <= 23,
      path,
      'sign + exponent + mantissa bits must be at most 23',
    );
    need(subnormals === undefined || typeof subnormals === 'boolean', `${path}/subnormals`, 'must be a boolean');
    const spec: MinifloatSpec = { type: 'minifloat', sign, exponentBits, mantissaBits, bias, subnormals };
    const lowest = (subnormals ? bias - 14 : bias - 15) - mantissaBits;
    const highest = bias - 15 + 2 ** exponentBits - 1;
    need(lowest >= -149 && highest <= 127, `${path}/bias`, `range 2^${lowest}..2^${highest} is not exact in float32`);
    return spec;
  }
  if (raw.type === 'quantile') {
    need(isInt(raw.bits) && raw.bits >= 1 && raw.bits <= 16, `${path}/bits`, 'must be an integer in 1..16');
    const dist = raw.distribution;
    need(isObject(dist), `${path}/distribution`, 'must be an object');
    if (dist.type === 'standard-normal')
      return { type: 'quantile', bits: raw.bits, distribution: { type: 'standard-normal' } };
    need(dist.type === 'empirical', `${path}/distribution/type`, "must be 'standard-normal' or 'empirical'");
    const { probabilities, quantiles } = dist;
    need(
      Array.isArray(probabilities) && probabilities.length >= 2,
      `${path}/distribution/probabilities`,
      'must be an array of at least 2 probabilities',
    );
    probabilities.forEach((p, i) => {
      const prev = i === 0 ? 0 : (probabilities[i - 1] as number);
      need(
        typeof p === 'number' && p > prev && p < 1,
        `${path}/distribution/probabilities/${i}`,
        'probabilities must increase strictly inside (0, 1)',
      );
    });
    need(
      Array.isArray(quantiles) && quantiles.length === size,
      `${path}/distribution/quantiles`,
      `must hold one table per value (${size})`,
    );
    quantiles.forEach((row, i) => {
      const at = `${path}/distribution/quantiles/${i}`;
      need(
        Array.isArray(row) && row.length === probabilities.length,
        at,
        `must hold ${probabilities.length} quantiles`,
      );
      row.forEach((q, j) => {
        need(typeof q === 'number' && Number.isFinite(q), `${at}/${j}`, 'must be a finite number');
        need(j === 0 || q >= (row[j - 1] as number), `${at}/${j}`, 'quantiles must not decrease');
      });
    });
    return {
      type: 'quantile',
      bits: raw.bits,
      distribution: { type: 'empirical', probabilities: probabilities as number[], quantiles: quantiles as number[][] },
    };
  }
  throw new ProfileError(`${path}/type`, "must be 'minifloat' or 'quantile'");
}

function makeCoding(spec: CodingSpec): ValueCoding {
  return spec.type === 'minifloat' ? new Minifloat(spec) : new QuantileCoding(spec);
}

/** The same coding with one more bit of precision (null when it cannot grow). */
function widen(spec: CodingSpec): ValueCoding | null {
  if (spec.type === 'quantile') return spec.bits < 16 ? new QuantileCoding({ ...spec, bits: spec.bits + 1 }) : null;
  return spec.mantissaBits < 22 ? new Minifloat({ ...spec, mantissaBits: spec.mantissaBits + 1 }) : null;
}

/** Validates parsed profile JSON and builds the profile; throws `ProfileError` naming the first problem. */
export function loadProfile(raw: unknown): Profile {
  need(isObject(raw), '', 'a profile must be a JSON object');
  need(raw.format === PROFILE_FORMAT, '/format', `must be "${PROFILE_FORMAT}"`);
  need(
    typeof raw.id === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(raw.id),
    '/id',
    'must be [a-z0-9]+ words joined by single hyphens',
  );
  need(isInt(raw.version) && raw.version >= 0, '/version', 'must be a non-negative integer');
  need(typeof raw.model === 'string', '/model', 'must be a string');
  const text = raw.text ?? 'prefixed';
  need(text === 'prefixed' || text === 'bare-base64', '/text', "must be 'prefixed' or 'bare-base64'");
  const order = (raw.order ?? 'tiles') as KeyOrder;
  need(KEY_ORDERS.includes(order), '/order', `must be one of ${KEY_ORDERS.map((o) => `'${o}'`).join(', ')}`);
  need(order === 'tiles' || text === 'prefixed', '/order', 'only prefixed profiles have an order other than tiles');
  need(Array.isArray(raw.sections), '/sections', 'must be an array');

  const constantsRaw = raw.constants ?? [];
  need(Array.isArray(constantsRaw), '/constants', 'must be an array');
  const editions = checkEditions(raw.editions ?? [], raw.version);

  const sectionsJson: SectionJson[] = [];
  const byKind = new Map<SectionKind, number>();
  raw.sections.forEach((s: unknown, i: number) => {
    const path = `/sections/${i}`;
    need(isObject(s), path, 'must be an object');
    need(typeof s.name === 'string' && s.name.length > 0, `${path}/name`, 'must be a non-empty string');
    need(!sectionsJson.some((o) => o.name === s.name), `${path}/name`, `duplicate section name "${s.name}"`);
    need(
      s.kind === 'steps' ||
        s.kind === 'embedding' ||
        s.kind === 'latent' ||
        s.kind === 'negative' ||
        s.kind === 'guidance',
      `${path}/kind`,
      "must be 'steps', 'embedding', 'latent', 'negative' or 'guidance'",
    );
    need(!byKind.has(s.kind), `${path}/kind`, `a second ${s.kind} section`);
    byKind.set(s.kind, i);
    if (s.kind === 'steps' || s.kind === 'guidance') {
      const values = s.values;
      need(Array.isArray(values) && values.length > 0, `${path}/values`, 'must be a non-empty array');
      if (s.kind === 'steps') {
        for (const [j, v] of values.entries())
          need(isInt(v) && v >= 1, `${path}/values/${j}`, 'must be a positive integer');
        need(new Set(values).size === values.length, `${path}/values`, 'step counts must be distinct');
      } else {
        // Every scale ≤ 1 renders unguided (the conditional branch alone), so two of them would be two keys of one
        // image: 1 stands for them all. Increasing, so the order's wall steps to the next larger scale.
        for (const [j, v] of values.entries()) {
          need(typeof v === 'number' && Number.isFinite(v) && v >= 1, `${path}/values/${j}`, 'must be a number ≥ 1');
          need(j === 0 || v > values[j - 1], `${path}/values/${j}`, 'guidance scales must increase strictly');
        }
      }
      need(
        Number.isInteger(Math.log2(values.length)),
        `${path}/values`,
        `count must be a power of 2, got ${values.length}`,
      );
      sectionsJson.push({ name: s.name, kind: s.kind as DiscreteKind, values: values as number[] });
    } else {
      const shape = s.shape;
      need(Array.isArray(shape) && shape.length > 0, `${path}/shape`, 'must be a non-empty array');
      for (const [j, d] of shape.entries())
        need(isInt(d) && d >= 1, `${path}/shape/${j}`, 'must be a positive integer');
      const size = (shape as number[]).reduce((a, b) => a * b, 1);
      sectionsJson.push({
        name: s.name,
        kind: s.kind,
        shape: shape as number[],
        coding: checkCoding(s.coding, `${path}/coding`, size),
      });
    }
  });
  for (const kind of ['steps', 'embedding', 'latent'] as const)
    need(byKind.has(kind), '/sections', `needs a ${kind} section`);
  const negativeAt = byKind.get('negative');
  if (negativeAt !== undefined) {
    const neg = sectionsJson[negativeAt] as Extract<SectionJson, { shape: number[] }>;
    const emb = sectionsJson[byKind.get('embedding') as number] as Extract<SectionJson, { shape: number[] }>;
    need(
      neg.shape.join() === emb.shape.join(),
      `/sections/${negativeAt}/shape`,
      `a negative section must have the embedding's shape [${emb.shape.join(', ')}]`,
    );
  }

  const constantsBySection = new Map<string, Map<number, number>>();
  constantsRaw.forEach((c: unknown, i: number) => {
    const path = `/constants/${i}`;
    need(isObject(c), path, 'must be an object');
    const section = sectionsJson.find((s) => s.name === c.section);
    need(
      section !== undefined && section.kind !== 'steps' && section.kind !== 'guidance',
      `${path}/section`,
      'must name an embedding or latent section',
    );
    const size = section.shape.reduce((a, b) => a * b, 1);
    need(isInt(c.index) && c.index >= 0 && c.index < size, `${path}/index`, `must be an integer in 0..${size - 1}`);
    need(typeof c.value === 'number' && Number.isFinite(c.value), `${path}/value`, 'must be a finite number');
    const map = constantsBySection.get(section.name) ?? new Map<number, number>();
    need(!map.has(c.index), `${path}/index`, `index ${c.index} is already a constant`);
    map.set(c.index, c.value);
    constantsBySection.set(section.name, map);
  });

  const sections = sectionsJson.map((s) => buildSection(s, constantsBySection.get(s.name) ?? new Map()));
  const steps = sections[byKind.get('steps') as number] as StepsSection;
  let embedding = sections[byKind.get('embedding') as number] as ArraySection;
  let latent = sections[byKind.get('latent') as number] as ArraySection;
  const negative = negativeAt === undefined ? null : (sections[negativeAt] as ArraySection);
  const guidanceAt = byKind.get('guidance');
  const guidance = guidanceAt === undefined ? null : (sections[guidanceAt] as GuidanceSection);
  const baseBits =
    steps.bits +
    (guidance?.bits ?? 0) +
    sectionBits(embedding) +
    sectionBits(latent) +
    (negative ? sectionBits(negative) : 0);
  let bits = baseBits;
  if (text === 'bare-base64') {
    need(baseBits % 24 === 0, '/sections', `a bare-base64 profile needs a multiple of 24 bits, got ${baseBits}`);
  } else {
    // Give the missing bits (0..5) to the first stored values as extra precision, so every payload string is a
    // distinct valid key: no padding bits that would either be ignored or forbidden.
    const extra = (6 - (baseBits % 6)) % 6;
    if (extra > 0) {
      const target = [latent, embedding].find(
        (s) => s.stored.length >= extra && widen(specOf(sectionsJson, s)) !== null,
      );
      need(
        target !== undefined,
        '/sections',
        `${baseBits} bits is not a multiple of 6 and no section can take ${extra} more`,
      );
      const wide = widen(specOf(sectionsJson, target)) as ValueCoding;
      const grown = {
        ...target,
        widened: { count: extra, coding: wide },
        float16Exact: target.float16Exact && wide.float16Exact,
      };
      if (target === latent) latent = grown;
      else embedding = grown;
      bits += extra;
    }
  }
  const finalSections = sections.map((s) => (s.kind === 'latent' ? latent : s.kind === 'embedding' ? embedding : s));
  // the widening above never targets the negative section, so it is final as built
  const json = raw as unknown as ProfileJson;
  return {
    id: json.id,
    version: json.version,
    model: json.model,
    text,
    order,
    json,
    sections: finalSections,
    steps,
    embedding,
    latent,
    negative,
    guidance,
    bits,
    chars: bits / 6,
    prefix: text === 'bare-base64' ? '' : `${json.id}-${json.version}.`,
    editions,
  };
}

function checkEditions(raw: unknown, version: number): EditionJson[] {
  need(Array.isArray(raw), '/editions', 'must be an array');
  return raw.map((e: unknown, i: number) => {
    const path = `/editions/${i}`;
    need(isObject(e), path, 'must be an object');
    need(
      isInt(e.version) && e.version >= 0 && e.version < version,
      `${path}/version`,
      `must be an integer below ${version}`,
    );
    need(typeof e.model === 'string' && e.model.length > 0, `${path}/model`, 'must be a non-empty string');
    need(typeof e.tag === 'string' && /^[A-Za-z0-9._-]+$/.test(e.tag), `${path}/tag`, 'must be a git tag name');
    need(
      e.commit === undefined || (typeof e.commit === 'string' && /^[0-9a-f]{7,40}$/.test(e.commit)),
      `${path}/commit`,
      'must be a git commit hash (7 to 40 lower-case hex digits)',
    );
    return { version: e.version, model: e.model, tag: e.tag, ...(e.commit === undefined ? {} : { commit: e.commit }) };
  });
}

/** The profile's array sections: embedding, latent, and the negative section when it has one. */
export function arraySections(profile: Profile): ArraySection[] {
  return profile.negative ? [profile.embedding, profile.latent, profile.negative] : [profile.embedding, profile.latent];
}

function specOf(sections: SectionJson[], s: ArraySection): CodingSpec {
  const json = sections.find((j) => j.name === s.name);
  return (json as Extract<SectionJson, { coding: CodingSpec }>).coding;
}

function sectionBits(s: ArraySection): number {
  return s.stored.length * s.coding.bits + s.widened.count * (s.widened.coding.bits - s.coding.bits);
}

function buildSection(s: SectionJson, constants: Map<number, number>): DiscreteSection | ArraySection {
  if (s.kind === 'steps' || s.kind === 'guidance')
    return { name: s.name, kind: s.kind, values: s.values, bits: Math.log2(s.values.length) };
  const size = s.shape.reduce((a, b) => a * b, 1);
  const stored = new Int32Array(size - constants.size);
  for (let flat = 0, i = 0; flat < size; flat++) if (!constants.has(flat)) stored[i++] = flat;
  const coding = makeCoding(s.coding);
  return {
    name: s.name,
    kind: s.kind,
    shape: s.shape,
    size,
    coding,
    stored,
    constants,
    widened: { count: 0, coding },
    float16Exact: coding.float16Exact && [...constants.values()].every(isFloat16Exact),
  };
}

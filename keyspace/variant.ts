import { ProfileError } from './errors.ts';
import { loadProfile, type Profile, type ProfileJson, type SectionJson } from './profile.ts';

/** Appended to a profile's id to name its negative-prompt variant (`emoji-2.` keys → `emoji-neg-2.` keys). */
export const NEGATIVE_SUFFIX = 'neg';

/**
 * The negative-prompt variant of a prefixed profile: the same sections, plus a `negative` section with the
 * embedding's shape, coding and constants, holding the text states guidance uses for its unconditional branch (by
 * default the empty prompt's). Derived from whatever profile a model ships, so a retrained model's variant follows
 * it; keys of the base profile are untouched (the variant is a separate id). Same version as the base: a variant
 * key names an image of the same weights.
 */
export function negativeVariantJson(base: ProfileJson): ProfileJson {
  if ((base.text ?? 'prefixed') !== 'prefixed')
    throw new ProfileError('/text', `profile ${base.id} writes bare keys; only prefixed profiles have a variant`);
  if (base.sections.some((s) => s.kind === 'negative'))
    throw new ProfileError('/sections', `profile ${base.id} already has a negative section`);
  refuseGuided(base);
  const embedding = base.sections.find((s) => s.kind === 'embedding') as Extract<SectionJson, { shape: number[] }>;
  if (embedding === undefined) throw new ProfileError('/sections', 'needs an embedding section');
  const name = uniqueName(base.sections, 'negative');
  const constants = base.constants ?? [];
  return {
    ...base,
    id: `${base.id}-${NEGATIVE_SUFFIX}`,
    sections: [...base.sections, { ...embedding, name, kind: 'negative' }],
    constants: [
      ...constants,
      ...constants.filter((c) => c.section === embedding.name).map((c) => ({ ...c, section: name })),
    ],
  };
}

/** The loaded variant of a profile, or null for a bare profile or one that has a negative or guidance section. */
export function negativeVariant(profile: Profile): Profile | null {
  if (profile.text !== 'prefixed' || profile.negative || profile.guidance) return null;
  return loadProfile(negativeVariantJson(profile.json));
}

/** Appended to a profile's id to name its fine-latent variant (`emoji-2.` keys → `emoji-fine-2.` keys). */
export const FINE_SUFFIX = 'fine';

/** Bits per latent value in a fine variant. */
export const FINE_LATENT_BITS = 8;

/**
 * The fine-latent variant of a prefixed profile: the same sections, with the latent's quantile coding at
 * FINE_LATENT_BITS. Random and searched keys draw noise, for which 4 bits are plenty; a picture found by inverting
 * the sampler (`lob find`) needs its latent to 8 bits to render close to the picture (docs/find.md has the
 * measurement). Same version as the base: a fine key names an image of the same weights.
 */
export function fineVariantJson(base: ProfileJson): ProfileJson {
  if ((base.text ?? 'prefixed') !== 'prefixed')
    throw new ProfileError('/text', `profile ${base.id} writes bare keys; only prefixed profiles have a variant`);
  refuseGuided(base);
  const i = base.sections.findIndex((s) => s.kind === 'latent');
  const latent = base.sections[i];
  if (latent === undefined || !('coding' in latent)) throw new ProfileError('/sections', 'needs a latent section');
  if (latent.coding.type !== 'quantile' || latent.coding.bits >= FINE_LATENT_BITS) {
    throw new ProfileError(
      `/sections/${i}/coding`,
      `profile ${base.id}'s latent is not a quantile coding of fewer than ${FINE_LATENT_BITS} bits`,
    );
  }
  const sections = base.sections.map((s, k) =>
    k === i && 'coding' in s ? { ...s, coding: { ...s.coding, bits: FINE_LATENT_BITS } } : s,
  );
  return { ...base, id: `${base.id}-${FINE_SUFFIX}`, sections };
}

/** The loaded fine variant of a profile, or null when it has none (bare, negative, guided, or a latent not coarse). */
export function fineVariant(profile: Profile): Profile | null {
  if (profile.text !== 'prefixed' || profile.negative || profile.guidance) return null;
  const latent = profile.json.sections.find((s) => s.kind === 'latent');
  if (!latent || !('coding' in latent) || latent.coding.type !== 'quantile') return null;
  if (latent.coding.bits >= FINE_LATENT_BITS) return null;
  return loadProfile(fineVariantJson(profile.json));
}

/**
 * Appended to a profile's id to name its guidance variant, for classifier-free guidance (`emoji-2.` → `emoji-cfg-2.`,
 * `emoji-neg-2.` → `emoji-neg-cfg-2.`).
 */
export const GUIDANCE_SUFFIX = 'cfg';

/**
 * The scales a guidance variant's key can carry: 1 to 16.75 in steps of 0.25. 1 is "no guidance" (any scale ≤ 1
 * runs the conditional branch alone, so 1 stands for all of them); 0.25 steps cover the usual sweeps and the models'
 * own scales (emoji-ldm 6, SD 1.5 7.5). 64 scales are 6 bits, one payload character: the other sections keep the
 * base profile's widths (the padding to whole characters is the same), so a guidance key holds exactly the base
 * key's steps, prompt and noise.
 */
export const GUIDANCE_SCALES: readonly number[] = Array.from({ length: 64 }, (_, k) => 1 + k / 4);

/**
 * The guidance variant of a prefixed profile: the same sections plus a `guidance` section holding the classifier-free
 * guidance scale (one of GUIDANCE_SCALES) that the key renders at, instead of the model's. Same version: a guidance
 * key names an image of the same weights. Derived from a base or negative-prompt profile (`emoji-neg-cfg`), never the
 * other way round, so each combination has one name.
 */
export function guidanceVariantJson(base: ProfileJson): ProfileJson {
  if ((base.text ?? 'prefixed') !== 'prefixed')
    throw new ProfileError('/text', `profile ${base.id} writes bare keys; only prefixed profiles have a variant`);
  refuseGuided(base);
  return {
    ...base,
    id: `${base.id}-${GUIDANCE_SUFFIX}`,
    sections: [
      ...base.sections,
      { name: uniqueName(base.sections, 'guidance'), kind: 'guidance', values: [...GUIDANCE_SCALES] },
    ],
  };
}

/** The loaded guidance variant of a profile, or null for a bare profile or one that already carries guidance. */
export function guidanceVariant(profile: Profile): Profile | null {
  if (profile.text !== 'prefixed' || profile.guidance) return null;
  return loadProfile(guidanceVariantJson(profile.json));
}

/** A model profile's variants; null where it has none. Fine keys (found pictures) carry no negative or guidance. */
export interface ProfileVariants {
  negative: Profile | null;
  fine: Profile | null;
  guidance: Profile | null;
  negativeGuidance: Profile | null;
}

export function profileVariants(profile: Profile): ProfileVariants {
  const negative = negativeVariant(profile);
  return {
    negative,
    fine: fineVariant(profile),
    guidance: guidanceVariant(profile),
    negativeGuidance: negative && guidanceVariant(negative),
  };
}

/** A profile and its variants (negative-prompt, fine-latent, guidance, both): what a model's key registry holds. */
export function withVariants(profile: Profile): Profile[] {
  const { negative, fine, guidance, negativeGuidance } = profileVariants(profile);
  return [profile, negative, fine, guidance, negativeGuidance].filter((p): p is Profile => p !== null);
}

/** Variants derive guidance last: a guided profile has no negative or fine variant of its own. */
function refuseGuided(base: ProfileJson): void {
  if (base.sections.some((s) => s.kind === 'guidance'))
    throw new ProfileError(
      '/sections',
      `profile ${base.id} carries guidance; derive its variants before the guidance one`,
    );
}

function uniqueName(sections: readonly SectionJson[], wanted: string): string {
  let name = wanted;
  for (let i = 2; sections.some((s) => s.name === name); i++) name = `${wanted}${i}`;
  return name;
}

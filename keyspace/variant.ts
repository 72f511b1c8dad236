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

/** The loaded variant of a profile, or null for a bare profile or one that already has a negative section. */
export function negativeVariant(profile: Profile): Profile | null {
  if (profile.text !== 'prefixed' || profile.negative) return null;
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
  const i = base.sections.findIndex((s) => s.kind === 'latent');
  const latent = base.sections[i];
  if (latent === undefined || latent.kind === 'steps') throw new ProfileError('/sections', 'needs a latent section');
  if (latent.coding.type !== 'quantile' || latent.coding.bits >= FINE_LATENT_BITS) {
    throw new ProfileError(
      `/sections/${i}/coding`,
      `profile ${base.id}'s latent is not a quantile coding of fewer than ${FINE_LATENT_BITS} bits`,
    );
  }
  const sections = base.sections.map((s, k) =>
    k === i && s.kind !== 'steps' ? { ...s, coding: { ...s.coding, bits: FINE_LATENT_BITS } } : s,
  );
  return { ...base, id: `${base.id}-${FINE_SUFFIX}`, sections };
}

/** The loaded fine variant of a profile, or null when it has none (bare, negative, or its latent is not coarse). */
export function fineVariant(profile: Profile): Profile | null {
  if (profile.text !== 'prefixed' || profile.negative) return null;
  const latent = profile.json.sections.find((s) => s.kind === 'latent');
  if (!latent || latent.kind === 'steps' || latent.coding.type !== 'quantile') return null;
  if (latent.coding.bits >= FINE_LATENT_BITS) return null;
  return loadProfile(fineVariantJson(profile.json));
}

/** A profile and its variants (negative-prompt, fine-latent) when it has them: what a model's key registry holds. */
export function withVariants(profile: Profile): Profile[] {
  return [profile, negativeVariant(profile), fineVariant(profile)].filter((p): p is Profile => p !== null);
}

function uniqueName(sections: readonly SectionJson[], wanted: string): string {
  let name = wanted;
  for (let i = 2; sections.some((s) => s.name === name); i++) name = `${wanted}${i}`;
  return name;
}

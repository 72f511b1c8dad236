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

/** A profile and its negative-prompt variant when it has one: what a model's key registry holds. */
export function withVariant(profile: Profile): Profile[] {
  const variant = negativeVariant(profile);
  return variant ? [profile, variant] : [profile];
}

function uniqueName(sections: readonly SectionJson[], wanted: string): string {
  let name = wanted;
  for (let i = 2; sections.some((s) => s.name === name); i++) name = `${wanted}${i}`;
  return name;
}

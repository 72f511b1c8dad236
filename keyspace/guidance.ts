import { decodeKey, encodeKey } from './codec.ts';
import { KeyError } from './errors.ts';
import type { ParsedKey } from './parse.ts';
import type { ProfileRegistry } from './registry.ts';
import { GUIDANCE_SCALES, GUIDANCE_SUFFIX } from './variant.ts';

/** Why `scale` is not one a guidance key can carry (one of `scales`), in words for a person; null when it is. */
export function guidanceScaleProblem(scale: number, scales: readonly number[] = GUIDANCE_SCALES): string | null {
  if (scales.includes(scale)) return null;
  const list = scales.length <= 8 ? scales.join(', ') : `${scales.slice(0, 3).join(', ')}, …, ${scales.at(-1)}`;
  const none = `${scales[0]} runs without guidance, as any scale ≤ 1 does`;
  return `guidance ${scale} is not one a key can carry (${list}; ${none})`;
}

/**
 * The key of the same recipe at guidance `scale`: the key's steps, prompt states (and negative states) and noise in
 * its profile's guidance variant, which the registry must hold. The variant keeps the base profile's codings, so the
 * new key decodes to exactly the same values plus the scale. A key that already carries guidance is returned as is
 * at its own scale and refused at another: a key is its whole recipe, and this would silently change it.
 */
export function guidedKey(parsed: ParsedKey, scale: number, registry: ProfileRegistry): string {
  const { profile } = parsed;
  const values = decodeKey(parsed);
  if (profile.guidance) {
    if (values.guidance === scale) return parsed.text;
    throw new KeyError('guidance', -1, `the key already carries guidance ${values.guidance}, not ${scale}`);
  }
  const variant = registry.get(`${profile.id}-${GUIDANCE_SUFFIX}`, profile.version);
  if (variant === undefined)
    throw new KeyError('profile', 0, `profile ${profile.id}-${profile.version} has no guidance variant`);
  return encodeKey(variant, { ...values, guidance: scale });
}

import { decodeKey, encodeKey, KeyError, type Profile, parseKey } from '../../keyspace/index.ts';
import type { Model } from '../model/types.ts';

export interface ModelKey {
  key: string;
  profileId: string;
  steps: number;
  embedding: Float32Array;
  latent: Float32Array;
  /** Text states for guidance's unconditional branch, when the key carries a negative prompt. */
  negative?: Float32Array;
  /** The guidance scale the key renders at, when it carries one (else the model's). */
  guidance?: number;
}

/** The model's profile and its variants: the keys this model renders. */
function modelProfiles(model: Model): Profile[] {
  const { profile, negativeProfile, fineProfile, guidanceProfile, negativeGuidanceProfile } = model;
  return [profile, negativeProfile, fineProfile, guidanceProfile, negativeGuidanceProfile].filter(
    (p): p is Profile => p !== null,
  );
}

/**
 * Parses and decodes a key for this model (its profile or one of that profile's variants: negative prompt, fine,
 * guidance). A well-formed key of another profile (another model's, or a seed sd-lob key) is a KeyError with code
 * 'profile': rendering it here would silently give a different image.
 */
export function decodeModelKey(model: Model, text: string): ModelKey {
  const parsed = parseKey(text, model.registry);
  const p = parsed.profile;
  if (!modelProfiles(model).includes(p)) {
    throw new KeyError(
      'profile',
      0,
      `key is for profile ${p.id}-${p.version}, the loaded model ${model.name} uses ${model.profile.id}-${model.profile.version}`,
    );
  }
  const d = decodeKey(parsed);
  return {
    key: parsed.text,
    profileId: `${p.id}-${p.version}`,
    steps: d.steps,
    embedding: d.embedding,
    latent: d.latent,
    ...(d.negative && { negative: d.negative }),
    ...(d.guidance !== undefined && { guidance: d.guidance }),
  };
}

/**
 * The key of these values: in the fine-latent variant when `fine` is set, else in the variant that carries what is
 * given (`negative`, `guidance`, both), else in the model's profile.
 */
export function encodeModelKey(
  model: Model,
  values: { steps: number; embedding: Float32Array; latent: Float32Array; negative?: Float32Array; guidance?: number },
  options: { fine?: boolean } = {},
): string {
  const negative = values.negative !== undefined;
  const guided = values.guidance !== undefined;
  if (options.fine) {
    if (negative || guided) throw new KeyError('profile', 0, 'a fine-latent key has no negative prompt or guidance');
    return encodeKey(variant(model.fineProfile, model, 'fine-latent'), values);
  }
  if (negative && guided)
    return encodeKey(variant(model.negativeGuidanceProfile, model, 'negative-prompt guidance'), values);
  if (guided) return encodeKey(variant(model.guidanceProfile, model, 'guidance'), values);
  if (negative) return encodeKey(variant(model.negativeProfile, model, 'negative-prompt'), values);
  return encodeKey(model.profile, values);
}

function variant(profile: Profile | null, model: Model, what: string): Profile {
  if (!profile) throw new KeyError('profile', 0, `profile ${model.profile.id} has no ${what} variant`);
  return profile;
}

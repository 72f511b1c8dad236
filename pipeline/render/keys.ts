import { decodeKey, encodeKey, KeyError, parseKey } from '../../keyspace/index.ts';
import type { Model } from '../model/types.ts';

export interface ModelKey {
  key: string;
  profileId: string;
  steps: number;
  embedding: Float32Array;
  latent: Float32Array;
  /** Text states for guidance's unconditional branch, when the key carries a negative prompt. */
  negative?: Float32Array;
}

/**
 * Parses and decodes a key for this model (its profile or one of that profile's variants: negative prompt, fine). A well-formed
 * key of another profile (another model's, or a seed sd-lob key) is a KeyError with code 'profile': rendering it
 * here would silently give a different image.
 */
export function decodeModelKey(model: Model, text: string): ModelKey {
  const parsed = parseKey(text, model.registry);
  const p = parsed.profile;
  if (p !== model.profile && p !== model.negativeProfile && p !== model.fineProfile) {
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
  };
}

/**
 * The key of these values: in the negative-prompt variant when `negative` is given, in the fine-latent variant when
 * `fine` is set, else in the model's profile.
 */
export function encodeModelKey(
  model: Model,
  values: { steps: number; embedding: Float32Array; latent: Float32Array; negative?: Float32Array },
  options: { fine?: boolean } = {},
): string {
  if (options.fine) {
    if (values.negative !== undefined) throw new KeyError('profile', 0, 'a fine-latent key has no negative prompt');
    if (!model.fineProfile) throw new KeyError('profile', 0, `profile ${model.profile.id} has no fine-latent variant`);
    return encodeKey(model.fineProfile, values);
  }
  if (values.negative === undefined) return encodeKey(model.profile, values);
  if (!model.negativeProfile)
    throw new KeyError('profile', 0, `profile ${model.profile.id} has no negative-prompt variant`);
  return encodeKey(model.negativeProfile, values);
}

import { decodeKey, encodeKey, parseKey } from '../../keyspace/index.ts';
import type { ProfileRegistry } from '../../keyspace/registry.ts';

/**
 * "This picture, but …": the same steps and latent (the found picture's noise) under other text states, as a key of
 * the same profile. The states are the new prompt's, from the model's text encoder.
 */
export function rekeyPrompt(key: string, registry: ProfileRegistry, embedding: Float32Array): string {
  const parsed = parseKey(key, registry);
  const values = decodeKey(parsed);
  return encodeKey(parsed.profile, { ...values, embedding });
}

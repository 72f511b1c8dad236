import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  createProfileRegistry,
  loadProfile,
  type Profile,
  type ProfileRegistry,
  withVariants,
} from '../keyspace/index.ts';
import { defaultModelDir } from '../pipeline/project-root.ts';

/** Loads and validates one keyspace profile file; errors name the file. */
export function loadProfileFile(path: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read keyspace profile ${path}: ${(err as Error).message}`);
  }
  try {
    return loadProfile(raw);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/**
 * The profiles the key commands know without loading a model: sd-lob (built in), the default model's
 * keyspace.json when it exists, and any profile files listed in $LOB_PROFILES (path-list separated).
 */
export function loadKeyRegistry(): { registry: ProfileRegistry; defaultProfile: Profile | undefined } {
  const profiles: Profile[] = [];
  const modelProfile = join(defaultModelDir(), 'keyspace.json');
  const model = existsSync(modelProfile) ? loadProfileFile(modelProfile) : undefined;
  if (model) profiles.push(...withVariants(model));
  for (const path of (process.env.LOB_PROFILES ?? '').split(delimiter).filter((p) => p.length > 0)) {
    profiles.push(loadProfileFile(path));
  }
  return { registry: createProfileRegistry(profiles), defaultProfile: model };
}

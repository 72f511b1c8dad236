import { loadProfile, type Profile } from './profile.ts';
import { SD_LOB_PROFILE } from './profiles/sd-lob.ts';

export interface ProfileRegistry {
  readonly profiles: readonly Profile[];
  /** The profile with this id (and version, when given; else the highest version). */
  get(id: string, version?: number): Profile | undefined;
  /** The profile that reads unprefixed keys (sd-lob), if any. */
  readonly bare: Profile | undefined;
}

let sdLob: Profile | undefined;

/** The built-in seed-compatible profile (built once: its decode tables are shared). */
export function sdLobProfile(): Profile {
  sdLob ??= loadProfile(SD_LOB_PROFILE);
  return sdLob;
}

/** A registry of the given profiles plus the built-in sd-lob. Duplicate id+version or two bare profiles are errors. */
export function createProfileRegistry(profiles: readonly Profile[] = []): ProfileRegistry {
  const all = profiles.some((p) => p.id === 'sd-lob') ? [...profiles] : [sdLobProfile(), ...profiles];
  const seen = new Set<string>();
  for (const p of all) {
    const key = `${p.id}-${p.version}`;
    if (seen.has(key)) throw new Error(`profile ${key} is registered twice`);
    seen.add(key);
  }
  const bares = all.filter((p) => p.text === 'bare-base64');
  if (bares.length > 1)
    throw new Error(`only one bare profile can be registered, got ${bares.map((p) => p.id).join(', ')}`);
  return {
    profiles: all,
    bare: bares[0],
    get(id, version) {
      const matches = all.filter((p) => p.id === id && (version === undefined || p.version === version));
      return matches.sort((a, b) => b.version - a.version)[0];
    },
  };
}

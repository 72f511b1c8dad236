import { BASE64_DIGITS, BASE64URL, BASE64URL_DIGITS, firstInvalid } from './alphabet.ts';
import { KeyError } from './errors.ts';
import type { EditionJson, Profile } from './profile.ts';
import type { ProfileRegistry } from './registry.ts';

/** A key whose text is known to be well formed for its profile. */
export interface ParsedKey {
  readonly profile: Profile;
  readonly text: string;
  /** The payload characters (the text without its prefix). */
  readonly payload: string;
  /** A bare key's bytes as a binary string (one char per byte), kept from validation so decoding need not redo it. */
  readonly binary?: string;
}

/** Digit lookup table of a profile's payload alphabet. */
export function digitTable(profile: Profile): Int8Array {
  return profile.text === 'bare-base64' ? BASE64_DIGITS : BASE64URL_DIGITS;
}

/**
 * Parses key text: `<id>-<version>.<payload>` for our profiles, a bare payload for the registry's bare profile
 * (sd-lob). Nothing is repaired: any problem is a `KeyError` naming it and its character index.
 */
export function parseKey(text: string, registry: ProfileRegistry): ParsedKey {
  const dot = text.indexOf('.');
  if (dot < 0) {
    const bare = registry.bare;
    // Text far shorter than a bare key was not meant as one (a word, a typo'd prefixed key): say what keys look like
    // rather than how the seed's format differs. A cut or over-long paste of a bare key still gets its length error.
    if (bare === undefined || text.length < bare.chars / 2) throw notAKey(text, registry, 'prefix', 0);
    const binary = bareBytes(text, bare);
    if (binary === null) checkPayload(text, 0, bare, `a bare ${bare.id} key`);
    return { profile: bare, text, payload: text, binary: binary ?? undefined };
  }
  const prefix = text.slice(0, dot);
  const bad = prefix.search(/[^a-z0-9-]/);
  if (bad >= 0) throw notAKey(text, registry, 'prefix', bad);
  const hyphen = prefix.lastIndexOf('-');
  if (hyphen <= 0) throw notAKey(text, registry, 'prefix', hyphen < 0 ? dot : 0);
  const id = prefix.slice(0, hyphen);
  const versionText = prefix.slice(hyphen + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(versionText)) {
    throw new KeyError('prefix', hyphen + 1, `key version "${versionText}" at index ${hyphen + 1} is not a number`);
  }
  const any = registry.get(id);
  if (any === undefined) throw notAKey(text, registry, 'profile', 0);
  if (any.text !== 'prefixed')
    throw new KeyError('profile', 0, `${id} keys are written bare, without the "${prefix}." in front`);
  const profile = registry.get(id, Number(versionText));
  if (profile === undefined) {
    const edition = any.editions.find((e) => e.version === Number(versionText));
    if (edition) throw editionError(id, edition, any, hyphen + 1);
    const versions = registry.profiles.filter((p) => p.id === id).map((p) => p.version);
    throw new KeyError(
      'version',
      hyphen + 1,
      `profile "${id}" has no version ${versionText} at index ${hyphen + 1} (known: ${versions.join(', ')}; ` +
        'keys of another version name images of other model weights)',
    );
  }
  const payload = text.slice(dot + 1);
  checkPayload(payload, dot + 1, profile, `a key of profile ${id}-${profile.version}`);
  return { profile, text, payload };
}

/** Text that is no key of any profile the registry knows, said in plain words with what keys do look like. */
function notAKey(text: string, registry: ProfileRegistry, code: 'prefix' | 'profile', index: number): KeyError {
  const shown = text.length <= 40 ? `"${text}"` : `This text (${text.length.toLocaleString('en')} characters)`;
  // prefixed profiles (ours) first; the seed's bare form last
  const profiles = [...registry.profiles].sort((x, y) => Number(x.text !== 'prefixed') - Number(y.text !== 'prefixed'));
  const forms = profiles.map((p) =>
    p.text === 'prefixed'
      ? `"${p.prefix}" and ${p.chars.toLocaleString('en')} more characters`
      : `${p.chars.toLocaleString('en')} characters with no prefix (${p.id})`,
  );
  const looks = forms.length > 0 ? `: a key is ${forms.join(', or ')}` : '';
  return new KeyError(code, index, `${shown} is not a key of any known profile${looks}.`);
}

/** A key of an earlier edition: which model draws it and how to run that edition. */
function editionError(id: string, edition: EditionJson, current: Profile, index: number): KeyError {
  return new KeyError(
    'version',
    index,
    `this is ${/^[aeiou]/i.test(id) ? 'an' : 'a'} ${id}-${edition.version} key: it names an image drawn by ${edition.model}, ` +
      `and this library's model draws ${id}-${current.version} keys. Open it with that edition: in a clone of this ` +
      `repository, \`git checkout ${edition.tag} && ONNXRUNTIME_NODE_INSTALL=skip npm ci\`, then ` +
      '`npx lob render KEY -o out.png`' +
      (edition.commit ? ` (a clone without the tag: \`git checkout ${edition.commit}\`, the tagged commit)` : ''),
  );
}

/**
 * The platform's native base64 decoder validates and decodes a 189,436-character key several times faster than a
 * JavaScript loop. atob also skips whitespace and accepts '=' padding, but either would shorten its output, so an
 * output of exactly chars × 3/4 bytes means every character was a base64 digit. Null: let checkPayload say why.
 */
function bareBytes(payload: string, profile: Profile): string | null {
  if (payload.length !== profile.chars) return null;
  try {
    const binary = atob(payload);
    return binary.length * 4 === payload.length * 3 ? binary : null;
  } catch {
    return null;
  }
}

function checkPayload(payload: string, offset: number, profile: Profile, what: string): void {
  const bad = firstInvalid(payload, digitTable(profile));
  if (bad >= 0) {
    const alphabet =
      profile.text === 'bare-base64' ? 'A-Z a-z 0-9 + /' : `A-Z a-z 0-9 - _ (${BASE64URL.length} digits)`;
    throw new KeyError(
      'alphabet',
      offset + bad,
      `character ${JSON.stringify(payload[bad])} at index ${offset + bad} is not in the payload alphabet ${alphabet}`,
    );
  }
  if (payload.length !== profile.chars) {
    const at = offset + Math.min(payload.length, profile.chars);
    throw new KeyError(
      'length',
      at,
      `${what} needs ${profile.chars} payload characters, got ${payload.length} (${payload.length < profile.chars ? 'missing' : 'extra'} from index ${at})`,
    );
  }
}
